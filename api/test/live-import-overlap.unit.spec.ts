// The live fold over the same calls from two sources: the live AMI adapter's events and the same
// period's queue_log imported (ingest/src/import), in either order of arrival and in time order.
// Given each asterisk22 capture and its queue_log, today's board counts every queue entry once —
// as many offered as the PBX's own queue_log has ENTERQUEUE lines — and every answer once per
// agent, whichever source came first (docs/import.md "Ids and overlap"). Needs ../shared.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_QUEUE_SETTINGS, createLogger } from '@callboard/platform';
import type { CanonicalEvent } from '@callboard/schemas';
import { translateAmiFile } from '@callboard/ingest/ami/offline';
import { importAsterisk } from '@callboard/ingest/import/asterisk';
import { IngestPipeline, nothingSettled, settle } from '@callboard/ingest/pipeline';
import { LiveStore } from '../src/live.ts';
import { ev } from './events.ts';

const FIXTURES = join(import.meta.dirname, '../../../shared/fixtures/ami/asterisk22');
const present = existsSync(FIXTURES);
if (!present) console.warn(`live-import-overlap.unit.spec.ts skipped: ${FIXTURES} (../shared) is absent`);

async function live(s: string): Promise<CanonicalEvent[]> {
  const out: CanonicalEvent[] = [];
  for (const file of ['capture.ami', 'capture.after.ami'].map((f) => join(FIXTURES, s, f)).filter(existsSync)) {
    for await (const o of translateAmiFile(file, { cfg: { queues: [] }, tenant_id: 'acme', pbx_id: 'pbx1', warn: () => {} })) out.push(...settle(nothingSettled(), o, { source: 'ami' }, { original: '', ref: null }).events);
  }
  return out;
}

async function imported(s: string): Promise<CanonicalEvent[]> {
  const out: CanonicalEvent[] = [];
  const sink = { raw: async () => [], canonical: async (e: CanonicalEvent[]) => void out.push(...e), dlq: async () => {} };
  const pipeline = new IngestPipeline({ source: 'ami', tenant_id: 'acme', pbx_id: 'pbx1', sink, log: createLogger('test', 'warn') });
  await importAsterisk({ queueLog: join(FIXTURES, s, 'queue_log'), cdr: join(FIXTURES, s, 'cdr.csv'), tenant_id: 'acme', pbx_id: 'pbx1', pipeline, received_at: 0 });
  return out;
}

/** Today's board after folding `events` in this order: per queue [offered, answered, abandoned]; per agent handled. */
function board(events: CanonicalEvent[], nowMs: number) {
  const store = new LiveStore({ zoneOf: () => 'UTC', settingsOf: () => DEFAULT_QUEUE_SETTINGS, formulaOf: () => DEFAULT_QUEUE_SETTINGS.sl_formula });
  for (const e of events) store.apply(e, nowMs);
  const snap = store.snapshot('acme', nowMs);
  return {
    queues: Object.fromEntries(snap.queues.map((q) => [q.queue, [q.today.offered, q.today.answered, q.today.abandoned]])),
    handled: Object.fromEntries(snap.agents.map((a) => [a.agent_id, a.handled_today])),
  };
}

describe.skipIf(!present)('the live board over live and imported events of the same calls', () => {
  it.each(['a_answered', 'b_abandon', 'c_ringnoanswer', 'f_hold_transfer', 'h_attended_transfer'])('%s: each entry and each answer once, in any order', async (s) => {
    const [l, i] = [await live(s), await imported(s)];
    const nowMs = Math.max(...[...l, ...i].map((e) => Date.parse(e.occurred_at))) + 1000;
    const enterqueue: Record<string, number> = {};
    for (const line of readFileSync(join(FIXTURES, s, 'queue_log'), 'utf8').split('\n')) {
      const f = line.split('|');
      if (f[4] === 'ENTERQUEUE') enterqueue[f[2]!] = (enterqueue[f[2]!] ?? 0) + 1;
    }
    const alone = board(l, nowMs);
    expect(Object.fromEntries(Object.entries(alone.queues).map(([q, c]) => [q, c[0]]))).toEqual(enterqueue);
    const orders = {
      'live, then the import': [...l, ...i],
      'the import, then live': [...i, ...l],
      'time order': [...l, ...i].sort((a, b) => (a.occurred_at < b.occurred_at ? -1 : a.occurred_at > b.occurred_at ? 1 : 0)),
    };
    for (const [order, events] of Object.entries(orders)) expect(board(events, nowMs), order).toEqual(alone);
  });
});

describe('a second entry of a call into a queue it left', () => {
  it('is another leg more than 2 s after the first, and the same entry within 2 s', () => {
    const c = { call_id: 'c9' };
    const entry = (at: string, leg: string) => ev('call.queued', at, c, { queue: 'sales', leg_id: leg, position: 1 });
    const abandon = (at: string, leg: string) => ev('call.abandoned', at, c, { queue: 'sales', leg_id: leg, wait_ms: 1500, position: 1 });
    const nowMs = Date.parse('2026-05-03T09:10:00Z');
    // Abandoned after 1.5 s, back in the queue 3 s after the first entry: two entries, two offered.
    const again = board([entry('2026-05-03T09:00:00.000Z', 'l1'), abandon('2026-05-03T09:00:01.500Z', 'l1'), entry('2026-05-03T09:00:03.000Z', 'l2')], nowMs);
    expect(again.queues).toEqual({ sales: [2, 0, 1] });
    // The same entry from another source, 0.9 s earlier (a truncated second), after the leg closed: one.
    const copy = board([entry('2026-05-03T09:00:00.900Z', 'live'), abandon('2026-05-03T09:00:02.400Z', 'live'), entry('2026-05-03T09:00:00.000Z', 'imported'), abandon('2026-05-03T09:00:02.000Z', 'imported')], nowMs);
    expect(copy.queues).toEqual({ sales: [1, 0, 1] });
  });
});

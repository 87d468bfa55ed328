// The live fold over the same calls from two sources: the live AMI adapter's events and the same
// period's queue_log imported (ingest/src/import), in either order of arrival and in time order.
// Given each asterisk22 capture and its queue_log, today's board counts every queue entry once —
// as many offered as the PBX's own queue_log has ENTERQUEUE lines — and every answer once per
// agent, whichever source came first (docs/import.md "Ids and overlap"). Needs ../shared.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_QUEUE_SETTINGS } from '@callboard/platform';
import type { CanonicalEvent } from '@callboard/schemas';
import { LiveStore } from '../src/live.ts';
import { ev } from './events.ts';
import { ASTERISK22 as FIXTURES, importedEvents, liveEvents, present } from '../../test/asterisk22.ts';

if (!present) console.warn(`live-import-overlap.unit.spec.ts skipped: ${FIXTURES} (../shared) is absent`);

const live = (s: string) => liveEvents(s, 'acme');
const imported = (s: string) => importedEvents(s, 'acme');

/**
 * Today's board after folding `events` in this order: per queue the counts [offered, answered,
 * abandoned, exited, waiting] and, with `times`, [answered within SL, transferred, talk, hold,
 * ASA]; per agent handled today.
 */
function board(events: CanonicalEvent[], nowMs: number, times = true) {
  const store = new LiveStore({ zoneOf: () => 'UTC', settingsOf: () => DEFAULT_QUEUE_SETTINGS, formulaOf: () => DEFAULT_QUEUE_SETTINGS.sl_formula });
  for (const e of events) store.apply(e, nowMs);
  const snap = store.snapshot('acme', nowMs);
  return {
    queues: Object.fromEntries(
      snap.queues.map((q) => {
        const d = q.today;
        return [q.queue, [d.offered, d.answered, d.abandoned, d.exited, d.waiting, ...(times ? [d.answered_within_sl, d.transferred, d.talk_time, d.hold_time, d.asa] : [])]];
      }),
    ),
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
    // The usual order (the import of a period after the live adapter covered it): the live board,
    // every figure (the leg is the live one: its times and hold).
    expect(board([...l, ...i], nowMs), 'live, then the import').toEqual(alone);
    // The import first (a replay of the live feed after it), or time order (the queue_log's
    // truncated entry comes first): each entry and answer once; the leg's times are the
    // queue_log's (docs/import.md "Ids and overlap").
    const counts = board(l, nowMs, false);
    expect(board([...i, ...l], nowMs, false), 'the import, then live').toEqual(counts);
    expect(board([...l, ...i].sort((a, b) => (a.occurred_at < b.occurred_at ? -1 : a.occurred_at > b.occurred_at ? 1 : 0)), nowMs, false), 'time order').toEqual(counts);
  });
});

describe('two entries of a call into one queue, close together', () => {
  const c = { call_id: 'c9' };
  const nowMs = Date.parse('2026-05-03T09:10:00Z');
  /** As the queue_log importer makes them: raw_ref names the file's line. */
  const fromLog = (e: CanonicalEvent): CanonicalEvent => ({ ...e, raw_ref: { topic: 'queue_log', line: 7 } }) as CanonicalEvent;
  const entry = (at: string, leg: string) => ev('call.queued', at, c, { queue: 'sales', leg_id: leg, position: 1 });
  const abandon = (at: string, leg: string) => ev('call.abandoned', at, c, { queue: 'sales', leg_id: leg, wait_ms: 500, position: 1 });
  const answer = (at: string, leg: string) => ev('call.answered', at, c, { agent_id: 'a1', queue: 'sales', leg_id: leg, wait_ms: 500 });

  it('are two legs from one source, however close: a caller back in the queue at once is offered again', () => {
    const b = board([entry('2026-05-03T09:00:00.000Z', 'l1'), abandon('2026-05-03T09:00:00.500Z', 'l1'), entry('2026-05-03T09:00:01.500Z', 'l2'), answer('2026-05-03T09:00:02.000Z', 'l2')], nowMs, false);
    expect(b.queues).toEqual({ sales: [2, 1, 1, 0, 0] });
  });

  it('are one leg when the other source has the same entry within 2 s, whichever came first, each copy paired once', () => {
    const live = [entry('2026-05-03T09:00:00.900Z', 'live'), abandon('2026-05-03T09:00:01.400Z', 'live')];
    const imported = [fromLog(entry('2026-05-03T09:00:00.000Z', 'imported')), fromLog(abandon('2026-05-03T09:00:01.000Z', 'imported'))];
    expect(board([...live, ...imported], nowMs, false).queues).toEqual({ sales: [1, 0, 1, 0, 0] });
    expect(board([...imported, ...live], nowMs, false).queues).toEqual({ sales: [1, 0, 1, 0, 0] });
    // A second imported entry at the same second: the live entry is already paired, so it is another leg.
    const again = fromLog(entry('2026-05-03T09:00:01.000Z', 'imported-2'));
    expect(board([...live, ...imported, again], nowMs, false).queues).toEqual({ sales: [2, 0, 1, 0, 1] });
  });

  it('are two legs 3 s apart, from any source', () => {
    const b = board([entry('2026-05-03T09:00:00.000Z', 'live'), abandon('2026-05-03T09:00:00.500Z', 'live'), fromLog(entry('2026-05-03T09:00:03.000Z', 'imported'))], nowMs, false);
    expect(b.queues).toEqual({ sales: [2, 0, 1, 0, 1] });
  });
});

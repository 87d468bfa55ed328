// When a derivation can name other rows than the one before it (`reordersHistory`), and the
// premise the store's check rests on: folded in time order, the keys of a call's rows only grow.
// Checked on the live AMI translator's output for the asterisk22 captures (needs ../shared), every
// prefix of every call, and on the import of the same period's queue_log after it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@callboard/platform';
import type { CallEvent, CanonicalEvent } from '@callboard/schemas';
import { translateAmiFile } from '@callboard/ingest/ami/offline';
import { importAsterisk } from '@callboard/ingest/import/asterisk';
import { IngestPipeline, nothingSettled, settle } from '@callboard/ingest/pipeline';
import { foldCall, orderEvents, reordersHistory } from '../src/fold.ts';
import { ev, queuedCall, utc } from './given.ts';

const FIXTURES = join(import.meta.dirname, '../../../shared/fixtures/ami/asterisk22');
const SCENARIOS = ['a_answered', 'b_abandon', 'c_ringnoanswer', 'f_hold_transfer', 'h_attended_transfer', 'i_membership_midcall', 'j_restart'];
const present = existsSync(FIXTURES);
if (!present) console.warn(`late-events.unit.spec.ts: the capture tests are skipped: ${FIXTURES} (../shared) is absent`);

/** Every key a derivation writes rows under (queue_legs, agent_calls, calls). */
function keys(events: readonly CallEvent[]): Set<string> {
  const f = foldCall(events);
  return new Set([
    ...f.legs.map((l) => `leg ${l.bucket} ${l.queue} ${l.leg_id}`),
    ...f.agentCalls.map((a) => `agent_call ${a.agent_id} ${a.at} ${a.event_id}`),
    ...(f.call ? [`call ${f.call.started_at}`] : []),
  ]);
}

function byCall(events: readonly CanonicalEvent[]): Map<string, CallEvent[]> {
  const m = new Map<string, CallEvent[]>();
  for (const e of events) if ('call_id' in e) m.set(e.call_id, [...(m.get(e.call_id) ?? []), e as CallEvent]);
  return m;
}

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

describe('reordersHistory', () => {
  const call = queuedCall({ call_id: 'c1', at: utc('2026-05-03T09:15:00.400Z'), outcome: 'answered', wait_s: 5, agent: 'a1' }) as CallEvent[];
  const late = ev('call.queued', 'acme', utc('2026-05-03T08:59:59Z'), { call_id: 'c1' }, { queue: 'sales', leg_id: 'c1:sales:imported', position: 1 }) as CallEvent;

  it('is false for a call seen for the first time, and for events after everything it had', () => {
    expect(reordersHistory(call, call)).toBe(false);
    expect(reordersHistory(call, call.slice(3))).toBe(false);
    expect(reordersHistory(call, [])).toBe(false);
  });

  it('is true when an added event sorts before one the call had, by time, then causal rank, then id', () => {
    expect(reordersHistory([...call, late], [late])).toBe(true);
    // Same millisecond as the last event it had: a start ranks before an end.
    const last = orderEvents(call).at(-1)!;
    const sameMs = ev('call.started', 'acme', Date.parse(last.occurred_at), { call_id: 'c1' }, { direction: 'inbound', caller_number: '1', called_number: '2' }) as CallEvent;
    expect(reordersHistory([...call, sameMs], [sameMs])).toBe(true);
  });

  it('is not fooled by a redelivered event the call already had', () => {
    // A batch delivered again holds events already stored: they are "added" and old alike.
    expect(reordersHistory(call, [call[call.length - 1]!])).toBe(false);
  });
});

describe.skipIf(!present)('row keys on the real captures', () => {
  it.each(SCENARIOS)('%s: folded in time order, every prefix of a call names only rows of the whole', async (s) => {
    const calls = byCall(orderEvents(await live(s)));
    expect(calls.size).toBeGreaterThan(0);
    for (const [id, evs] of calls) {
      const whole = keys(evs);
      for (let k = 1; k < evs.length; k++) {
        for (const key of keys(evs.slice(0, k))) expect(whole.has(key), `${s} call ${id}, first ${k} of ${evs.length} events: ${key}`).toBe(true);
        expect(reordersHistory(evs.slice(0, k + 1), [evs[k]!]), `${s} call ${id}, event ${k}`).toBe(false);
      }
    }
  });

  it.each(['a_answered', 'b_abandon', 'c_ringnoanswer', 'f_hold_transfer'])('%s: the queue_log imported after the live events re-keys rows, and is seen to', async (s) => {
    const liveCalls = byCall(await live(s));
    const importedCalls = byCall(await imported(s));
    let rekeyed = 0;
    for (const [id, liveEvents] of liveCalls) {
      const added = importedCalls.get(id) ?? [];
      const all = [...liveEvents, ...added];
      const before = keys(liveEvents);
      const after = keys(all);
      const gone = [...before].filter((k) => !after.has(k));
      // Whenever a key is gone, the store's check must have said so.
      if (gone.length > 0) expect(reordersHistory(all, added), `${s} call ${id}: ${gone.join(', ')}`).toBe(true);
      rekeyed += gone.length;
    }
    expect(rekeyed).toBeGreaterThan(0);
  });
});

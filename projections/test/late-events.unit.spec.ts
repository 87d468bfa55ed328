// When a derivation can name other rows than the one before it (`reordersHistory`), and the
// premise the store's check rests on: folded in time order, the keys of a call's rows only grow.
// Checked on the live AMI translator's output for the asterisk22 captures (needs ../shared), every
// prefix of every call, and on the import of the same period's queue_log after it.
import { describe, expect, it } from 'vitest';
import type { CallEvent, CanonicalEvent } from '@callboard/schemas';
import { foldCall, goneRows, orderEvents, reordersHistory } from '../src/fold.ts';
import { ev, queuedCall, utc } from './given.ts';
import { ASTERISK22 as FIXTURES, importedEvents, liveEvents, present } from '../../test/asterisk22.ts';

const SCENARIOS = ['a_answered', 'b_abandon', 'c_ringnoanswer', 'f_hold_transfer', 'h_attended_transfer', 'i_membership_midcall', 'j_restart'];
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

const live = (s: string) => liveEvents(s, 'acme');
const imported = (s: string) => importedEvents(s, 'acme');

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

  it('takes a batch delivered again for what it is: its events are added and old alike', () => {
    // The last event again: nothing sorts before the rest, nothing to do.
    expect(reordersHistory(call, [call[call.length - 1]!])).toBe(false);
    // An earlier one again: it sorts before the rest, so the rows are looked at (and none gone).
    const again = call[1]!;
    expect(reordersHistory(call, [again])).toBe(true);
    const ids = new Set([again.event_id]);
    expect(goneRows(foldCall(call.filter((e) => !ids.has(e.event_id))), foldCall(call)).legs).toEqual([]);
  });

  it("is true when a call's start comes after other events of it, wherever it sorts", () => {
    const ended = call.filter((e) => e.type === 'call.ended');
    const start = call.find((e) => e.type === 'call.started')!;
    // Only the end known: the call starts at its end minus its duration.
    const late = ev('call.started', 'acme', Date.parse(ended[0]!.occurred_at) + 1, { call_id: 'c1' }, { direction: 'inbound', caller_number: '1', called_number: '2' }) as CallEvent;
    expect(reordersHistory([...ended, late], [late])).toBe(true);
    expect(reordersHistory([start, ...ended], [ended[0]!])).toBe(false);
  });
});

describe('goneRows', () => {
  const call = queuedCall({ call_id: 'c1', at: utc('2026-05-03T09:15:00.400Z'), outcome: 'answered', wait_s: 5, agent: 'a1' }) as CallEvent[];

  it('names the leg a late entry re-keyed, in its old bucket, and keeps the agent call whose key held', () => {
    const late = ev('call.queued', 'acme', utc('2026-05-03T08:59:59Z'), { call_id: 'c1' }, { queue: 'sales', leg_id: 'c1:sales:imported', position: 1 }) as CallEvent;
    const g = goneRows(foldCall(call), foldCall([...call, late]));
    expect(g.legs.map((l) => [new Date(l.bucket).toISOString(), l.leg_id])).toEqual([['2026-05-03T09:15:00.000Z', 'c1:sales:1']]);
    expect(g.agentCalls).toEqual([]);
    expect(g.calls).toEqual([]);
  });

  it('names the call row whose start moved, and nothing when nothing did', () => {
    // The PBX's duration is whole seconds: its end minus its duration is not the start event's time.
    const rounded = call.map((e) => (e.type === 'call.ended' ? { ...e, payload: { ...e.payload, duration_ms: Math.floor(e.payload.duration_ms / 1000) * 1000 } } : e)) as CallEvent[];
    const noStart = rounded.filter((e) => e.type !== 'call.started');
    const g = goneRows(foldCall(noStart), foldCall(rounded));
    expect(g.calls.map((c) => c.call_id)).toEqual(['c1']);
    expect(goneRows(foldCall(call), foldCall(call))).toEqual({ legs: [], agentCalls: [], calls: [] });
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
      // Whenever a key is gone, the store's check must have said so, and goneRows name it.
      if (gone.length > 0) {
        expect(reordersHistory(all, added), `${s} call ${id}: ${gone.join(', ')}`).toBe(true);
        const g = goneRows(foldCall(liveEvents), foldCall(all));
        expect(g.legs.length + g.agentCalls.length + g.calls.length, `${s} call ${id}`).toBe(gone.length);
      }
      rekeyed += gone.length;
    }
    expect(rekeyed).toBeGreaterThan(0);
  });
});

// Live and imported events of one call (docs/import.md "Ids and overlap"): a ring-no-answer the
// live adapter saw and the same RINGNOANSWER line read from queue_log have different ids, and are
// one METRICS.md `missed`. Given these events, then these agent_calls rows.
import { describe, expect, it } from 'vitest';
import type { CanonicalEvent } from '@callboard/schemas';
import { foldCall } from '../src/fold.ts';
import { ev } from './given.ts';

const T0 = Date.parse('2026-11-20T09:00:00.000Z');
const c = { call_id: 'rna1' };
const queued = (legId: string, at: number, imported: boolean) => origin(ev('call.queued', 'acme', at, c, { queue: 'support', leg_id: legId, position: 1 }), imported);
const rna = (agent: string, at: number, imported: boolean, legId: string) =>
  origin(ev('call.ring_no_answer', 'acme', at, c, { agent_id: agent, queue: 'support', leg_id: legId, ring_ms: 10_000 }), imported);
/** An imported event carries its queue_log line as its raw_ref; a live one the raw record's (an offline capture's line). */
function origin(e: CanonicalEvent, imported: boolean): CanonicalEvent {
  return { ...e, raw_ref: imported ? { topic: 'queue_log', line: 7 } : { topic: 'file', line: 42 } } as CanonicalEvent;
}
const missed = (events: CanonicalEvent[]) => foldCall(events as never).agentCalls.filter((a) => a.kind === 'missed');

describe('ring-no-answers of live and imported events', () => {
  // queue_log logs 09:00:10 for the AMI event of 09:00:10.651
  const live = [queued('rna1.live:support', T0 + 651, false), rna('2001', T0 + 10_651, false, 'rna1.live:support'), rna('2001', T0 + 25_651, false, 'rna1.live:support')];
  const imported = [queued('rna1:support:1', T0, true), rna('2001', T0 + 10_000, true, 'rna1:support:1'), rna('2001', T0 + 25_000, true, 'rna1:support:1')];

  it('the same ring seen by both sides counts once, every ring of each side is kept', () => {
    expect(missed(live)).toHaveLength(2);
    expect(missed(imported)).toHaveLength(2);
    expect(missed([...live, ...imported])).toHaveLength(2);
    const [leg] = foldCall([...imported, ...live] as never).legs;
    expect(leg!.missed).toBe(2);
  });

  it('one side seeing a ring the other did not see adds it; rings of other agents are their own', () => {
    expect(missed([...live, ...imported.slice(0, 2)])).toHaveLength(2);
    expect(missed([...live, ...imported, rna('2002', T0 + 10_000, true, 'rna1:support:1')]).map((m) => m.agent_id).sort()).toEqual(['2001', '2001', '2002']);
  });

  it('two rings of one origin within 2 s stay two; a ring of the other origin 3 s off is another ring', () => {
    expect(missed([queued('rna1:support:1', T0, true), rna('2001', T0 + 10_000, true, 'rna1:support:1'), rna('2001', T0 + 11_000, true, 'rna1:support:1')])).toHaveLength(2);
    expect(missed([...imported.slice(0, 2), ...live.slice(0, 1), rna('2001', T0 + 13_100, false, 'rna1.live:support')])).toHaveLength(2);
  });
});

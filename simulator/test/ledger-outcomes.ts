// The ledger's queue outcomes, missed rings, transfers and calls, and what a translator made of a
// rendering: a Yeastar rendering through ingest's translator must give the ledger's figures.
import type { CanonicalEvent } from '@callboard/schemas';
import type { Ledger } from '../src/ledger.ts';

export function ledgerOutcomes(ledger: Ledger) {
  const legs = (k: string) => ledger.legs.filter((l) => l.outcome === k).length;
  return {
    queued: ledger.legs.length,
    abandoned: legs('abandoned'),
    left_queue: legs('exited'),
    ring_no_answer: ledger.legs.reduce((s, l) => s + l.rings.filter((x) => x.outcome === 'no_answer').length, 0),
    transferred: ledger.legs.filter((l) => l.transfer).length,
    started: ledger.calls.length,
    ended: ledger.calls.length,
    /** Waits of the answered legs, sorted. */
    waits: ledger.legs.filter((l) => l.outcome === 'answered').map((l) => l.wait_ms).sort((a, b) => a - b),
  };
}

export function eventOutcomes(events: readonly CanonicalEvent[]): ReturnType<typeof ledgerOutcomes> {
  const count = (type: string) => events.filter((e) => e.type === type).length;
  return {
    queued: count('call.queued'),
    abandoned: count('call.abandoned'),
    left_queue: count('call.left_queue'),
    ring_no_answer: count('call.ring_no_answer'),
    transferred: count('call.transferred'),
    started: count('call.started'),
    ended: count('call.ended'),
    waits: events
      .filter((e) => e.type === 'call.answered' && 'leg_id' in e.payload && e.payload.leg_id)
      .map((e) => (e.payload as { wait_ms: number }).wait_ms)
      .sort((a, b) => a - b),
  };
}

// Canonical events of realistic queue calls (5 outcomes, waits, talk, hold) and agent state
// changes, for the benchmarks that feed the projections or the engine the same load.
import type { CanonicalEvent } from '@callboard/schemas';
import { agentState, queuedCall } from '../projections/test/given.ts';

/** At least `target` events of calls 2 s apart from 1 Mar 2026 06:00 UTC, 12 queues, 150 agents. */
export function syntheticEvents(target: number): CanonicalEvent[] {
  const events: CanonicalEvent[] = [];
  const base = Date.parse('2026-03-01T06:00:00Z');
  const outcomes = ['answered', 'answered', 'answered', 'abandoned', 'exited'] as const;
  for (let i = 0; events.length < target; i++) {
    events.push(
      ...queuedCall({ tenant: 'bench', call_id: `b${i}`, queue: `q${i % 12}`, agent: `a${i % 150}`, at: base + i * 2000, outcome: outcomes[i % 5]!, wait_s: i % 97, talk_s: 30 + (i % 300), hold_s: i % 5 ? 0 : 10 }),
    );
    if (i % 10 === 0) events.push(agentState('bench', `a${i % 150}`, base + i * 2000, (['available', 'on_call', 'paused'] as const)[i % 3]!, 'Break'));
  }
  return events;
}

// Agent state time per `agent|state`, from the ledger and from translated events, for the tests
// that check ingest's AMI translator against a simulated day.
import type { CanonicalEvent, EventOf } from '@callboard/schemas';
import type { Ledger } from '../src/ledger.ts';

export function ledgerStateTime(ledger: Ledger): Map<string, number> {
  const truth = new Map<string, number>();
  for (const i of ledger.agent_intervals) truth.set(`${i.agent}|${i.state}`, (truth.get(`${i.agent}|${i.state}`) ?? 0) + (i.to_ms - i.from_ms));
  return truth;
}

/** From each agent.state_changed to the agent's next one; the last state of each agent is open, so not counted. */
export function eventStateTime(events: CanonicalEvent[]): Map<string, number> {
  const got = new Map<string, number>();
  const last = new Map<string, { state: string; at: number }>();
  for (const e of events.filter((x) => x.type === 'agent.state_changed') as unknown as EventOf<'agent.state_changed'>[]) {
    const at = Date.parse(e.occurred_at);
    const prev = last.get(e.agent_id);
    if (prev) got.set(`${e.agent_id}|${prev.state}`, (got.get(`${e.agent_id}|${prev.state}`) ?? 0) + (at - prev.at));
    last.set(e.agent_id, { state: e.payload.state, at });
  }
  return got;
}

/** Keys of either map except offline, which is open-ended before the first and after the last event. */
export function comparedStates(truth: Map<string, number>, got: Map<string, number>): string[] {
  return [...new Set([...truth.keys(), ...got.keys()])].filter((k) => !k.endsWith('|offline'));
}

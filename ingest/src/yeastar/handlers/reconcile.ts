// After a reconnect: the PBX's current calls and agents (messages.ts LiveCall, AgentSnapshot)
// replace what the live state believed, and the outage becomes one source.gap.
import { makeEvent } from '@callboard/schemas';
import type { AgentSnapshot, LiveCall } from '../messages.ts';
import { eventCtx, type Cx, type TranslatorState } from '../state.ts';
import { agent, agentEvent, membership, trackAgent } from '../ops/agents.ts';
import { snapshot } from '../ops/snapshot.ts';

export interface ReconcileInput {
  calls?: LiveCall[];
  agents?: AgentSnapshot[];
  gap?: { from: string; to: string; reason: string };
}

/**
 * Calls still in progress are applied as snapshots (their transitions during the gap become
 * events); calls we held that the PBX no longer has are closed without inventing facts (their
 * CDR, pushed or back-filled, ends them). Agent rows are per queue: they set queue membership
 * (logged in or not) and, merged per agent, the pause and call state. Then one source.gap
 * event spans the outage (none for the first synchronisation after start-up).
 */
export function reconcile(st: TranslatorState, input: ReconcileInput, cx: Cx): void {
  const { t, meta } = cx;
  if (input.calls) {
    const live = new Set(input.calls.map((c) => c.call_id));
    for (const c of input.calls) snapshot(st, cx, c.call_id, c.members, t, false);
    for (const [id, c] of Object.entries(st.calls)) {
      if (live.has(id)) continue;
      for (const [k, s] of Object.entries(c.members)) if (s.role === 'extension') trackAgent(st, cx, s.number, `${id}|${k}`, 'gone', t);
      delete st.calls[id];
    }
  }
  const key = `reconcile|${meta.received_at}`;
  const byAgent = new Map<string, AgentSnapshot[]>();
  for (const s of input.agents ?? []) if (s.agent) byAgent.set(s.agent, [...(byAgent.get(s.agent) ?? []), s]);
  const busy: Record<AgentSnapshot['call'], number> = { unknown: 0, idle: 1, ringing: 2, in_call: 3, held: 4 };
  for (const [agentId, rows] of byAgent) {
    for (const r of rows) if (r.queue) membership(st, cx, agentId, r.queue, r.logged_in, t, key);
    const a = agent(st, agentId);
    // In several queues: paused or busy anywhere wins.
    const paused = rows.find((r) => r.paused);
    a.paused = paused !== undefined;
    a.pause_reason = paused ? paused.pause_reason || undefined : undefined;
    const call = rows.map((r) => r.call).reduce((x, y) => (busy[y] > busy[x] ? y : x), 'unknown');
    if (call === 'idle') {
      a.ext = 'idle';
      a.active = {};
    } else if (call === 'ringing') a.ext = 'ringing';
    else if (call === 'in_call' || call === 'held') a.ext = 'busy';
    agentEvent(st, cx, agentId, t, key);
  }
  if (input.gap) cx.out.push(makeEvent('source.gap', eventCtx(cx, t, `gap|${input.gap.from}|${input.gap.to}`), {} as Record<string, never>, input.gap));
}

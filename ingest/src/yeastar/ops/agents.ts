// Agents: their state derived from what the PBX said (extension status, pause, wrap-up, queue
// membership) and from the call members they are, and the events when it changes. The lowest
// operations layer: calls and snapshots (ops/calls.ts, ops/snapshot.ts) build on it.
import { CALL_STATES, makeEvent, type AgentState } from '@callboard/schemas';
import { dict, eventCtx, type AgentStateRec, type Cx, type MemberPhase, type TranslatorState } from '../state.ts';

export function agent(st: TranslatorState, id: string): AgentStateRec {
  let a = st.agents[id];
  if (!a) {
    a = { ext: 'idle', registered: true, paused: false, wrap_up: false, active: dict<MemberPhase>(), queues: [], membership_known: false };
    st.agents[id] = a;
  }
  return a;
}

function derive(a: AgentStateRec): { state: AgentState; reason?: string } {
  const phases = Object.values(a.active);
  if (phases.includes('held')) return { state: 'on_hold' };
  if (phases.includes('connected') || a.ext === 'busy') return { state: 'on_call' };
  if (phases.includes('ringing') || a.ext === 'ringing') return { state: 'ringing' };
  if (!a.registered) return { state: 'offline' };
  // Logged out of every queue: offline as an agent, as on the AMI path.
  if (a.membership_known && a.queues.length === 0) return { state: 'offline' };
  if (a.wrap_up) return { state: 'wrap_up' };
  if (a.paused) return { state: 'paused', reason: a.pause_reason };
  return { state: 'available' };
}

/** Emits agent.state_changed when the derived state differs from the last one emitted. */
export function agentEvent(st: TranslatorState, cx: Cx, agentId: string, t: number, cause: string, callId?: string): void {
  const a = agent(st, agentId);
  const d = derive(a);
  // METRICS.md pause_time_by_reason: a pause runs on under a call, until unpause or logoff.
  const pause = a.paused && d.state !== 'offline' ? (a.pause_reason ?? '') : undefined;
  if (a.state === d.state && a.reason === d.reason && a.pause === pause) return;
  a.state = d.state;
  a.reason = d.reason;
  a.pause = pause;
  a.call_id = CALL_STATES.has(d.state) ? (callId ?? a.call_id) : undefined;
  cx.out.push(
    makeEvent(
      'agent.state_changed',
      eventCtx(cx, t, `agent|${agentId}|${cause}|${d.state}`),
      { agent_id: agentId },
      { state: d.state, reason: d.reason, call_id: a.call_id, pause_reason: pause },
    ),
  );
}

/** An agent's call member `key` (`${call_id}|${channel}`) is now in `phase`. */
export function trackAgent(st: TranslatorState, cx: Cx, agentId: string, key: string, phase: MemberPhase, t: number): void {
  if (!agentId) return;
  // A member first seen already gone tells nothing about its agent's state now.
  if (phase === 'gone' && st.agents[agentId]?.active[key] === undefined) return;
  const a = agent(st, agentId);
  if (phase === 'gone') {
    delete a.active[key];
    // The extension is free once its last call member is gone, whether or not 30008 says so.
    if (Object.keys(a.active).length === 0) a.ext = 'idle';
  } else if (phase !== 'other') a.active[key] = phase;
  // The time is part of the key: a member returns to a phase (connected after a hold), and two
  // changes with one event_id are a single event downstream (the projections keep either copy).
  agentEvent(st, cx, agentId, t, `${key}|${phase}|${t}`, key.split('|')[0]);
}

/** Queue membership change; an event only when it changes what we knew. */
export function membership(st: TranslatorState, cx: Cx, agentId: string, queue: string, member: boolean, t: number, key: string): void {
  const a = agent(st, agentId);
  a.membership_known = true;
  const has = a.queues.includes(queue);
  if (member && !has) {
    a.queues = [...a.queues, queue].sort();
    cx.out.push(makeEvent('agent.queue_joined', eventCtx(cx, t, `agent|${agentId}|joined|${queue}|${key}`), { agent_id: agentId }, { queue }));
  } else if (!member && has) {
    a.queues = a.queues.filter((q) => q !== queue);
    cx.out.push(makeEvent('agent.queue_left', eventCtx(cx, t, `agent|${agentId}|left|${queue}|${key}`), { agent_id: agentId }, { queue }));
  }
}

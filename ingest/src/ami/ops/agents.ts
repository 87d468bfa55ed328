// Operations on agents shared by the handlers: finding or creating an agent, its devices, its
// queue memberships, the state derived from everything known about it, and the end of its
// wrap-up. The lowest operations layer: every other ops module and every handler may use it.
import { CALL_STATES, makeEvent, isoMs, type AgentState, type EventContext } from '@callboard/schemas';
import { agentIdFromInterface } from '../agent-id.ts';
import { DEVICE_BUSY, DEVICE_GONE, DEVICE_RINGING, type TranslatorState, partyOf, type Agent, type FrameMeta } from '../state.ts';
import type { Cx } from './context.ts';

export function memberOf(st: TranslatorState, cx: Cx, h: Record<string, string>): { iface: string; agentId: string; name: string | undefined } | undefined {
  const iface = h.Interface ?? h.Member ?? h.Location ?? h.AgentCalled;
  if (!iface) return undefined;
  return { iface, agentId: agentIdFromInterface(iface), name: h.MemberName ?? h.Name ?? h.AgentName };
}

export function agent(st: TranslatorState, cx: Cx, agentId: string, name?: string): Agent {
  let a = st.agents.get(agentId);
  if (!a) {
    a = { id: agentId, name, queues: new Map(), status: 0, inCall: false, rings: 0, segments: new Set(), directRings: 0, direct: new Set(), wrapUntil: 0, wrapKey: '', statusAt: 0, queueAt: 0, state: null, reason: undefined, pause: undefined, callId: undefined, lastAt: '', lastId: '' };
    st.agents.set(agentId, a);
  } else if (name) a.name = name;
  return a;
}

export function learnDevices(st: TranslatorState, cx: Cx, agentId: string, iface: string, stateInterface: string | undefined): void {
  // Local members (`Local/1003@agents`) too: an Atxfer to a member dials that Local channel.
  if (iface.includes('/')) st.agentDevices.set(iface, agentId);
  if (stateInterface && stateInterface.includes('/')) st.agentDevices.set(stateInterface, agentId);
}

/**
 * The agent whose phone a channel is: `PJSIP/1001-0000002a` → device `PJSIP/1001`,
 * `Local/1003@agents-00000002;1` → member `Local/1003@agents`.
 */
export function agentOfChannel(st: TranslatorState, cx: Cx, name: string): string | undefined {
  if (st.agentDevices.size === 0) return undefined;
  const base = partyOf(name);
  const dash = base.lastIndexOf('-');
  return st.agentDevices.get(dash > base.indexOf('/') ? base.slice(0, dash) : base);
}

export function isAgentExtension(st: TranslatorState, cx: Cx, exten: string): boolean {
  for (const id of st.agentDevices.values()) if (id === exten) return true;
  return false;
}

export function removeMembership(st: TranslatorState, cx: Cx, a: Agent, queue: string, ctx: EventContext): void {
  if (!a.queues.delete(queue)) return;
  cx.emit(makeEvent('agent.queue_left', ctx, { agent_id: a.id }, { queue, agent_name: a.name }));
  updateAgent(st, cx, a, undefined, ctx);
}

/** The agent's pause in force in any of its queues (METRICS.md pause_time_by_reason), or undefined. */
function pauseIn(a: Agent): string | undefined {
  for (const r of a.queues.values()) if (r !== null) return r;
  return undefined;
}

/** The agent's state from everything known about it; emits a change. */
export function deriveState(st: TranslatorState, cx: Cx, a: Agent): { state: AgentState; reason?: string } {
  // METRICS.md membership: removed from its last queue while on a call, the agent stays on
  // the call until it ends; so the call comes before membership.
  let held = false;
  for (const s of a.segments) if (s.holdStart > 0) held = true;
  for (const d of a.direct) if (d.holdStart > 0) held = true;
  if (a.segments.size > 0 || a.direct.size > 0) return { state: held ? 'on_hold' : 'on_call' };
  if (a.queues.size === 0) return { state: 'offline' };
  if (a.directRings > 0) return { state: 'ringing' };
  if (a.rings > 0) return { state: 'ringing' };
  if (a.status === 8) return { state: 'on_hold' };
  // Device in use without a queue call: a direct call (this ignores the brief INUSE that
  // Local-channel members report while they ring, which `rings` already covers).
  // The device status counts only when newer than the last queue-driven change: Asterisk
  // reports a Local-channel member INUSE from the moment it is rung until its channel is
  // gone, so after a ring or a queue call ends that status is stale until the next one.
  const fresh = a.statusAt > a.queueAt;
  if (fresh && (a.inCall || DEVICE_BUSY.has(a.status))) return { state: 'on_call' };
  if (fresh && DEVICE_RINGING.has(a.status)) return { state: 'ringing' };
  const pause = pauseIn(a);
  if (pause !== undefined) return { state: 'paused', reason: pause };
  if (a.wrapUntil > 0) return { state: 'wrap_up' };
  if (DEVICE_GONE.has(a.status)) return { state: 'offline' };
  return { state: 'available' };
}

export function updateAgent(st: TranslatorState, cx: Cx, a: Agent, callId: string | undefined, ctx = cx.ctx): void {
  const next = deriveState(st, cx, a);
  // A pause taken or ended on a call leaves the state as it is but is a change all the same:
  // pause_time_by_reason runs from the pause to the unpause, whatever the agent did meanwhile.
  const pause = pauseIn(a);
  if (next.state === a.state && next.reason === a.reason && pause === a.pause) return;
  a.state = next.state;
  a.reason = next.reason;
  a.pause = pause;
  // A change that is not about the call (a pause on it) still names the call the agent is on.
  a.callId = CALL_STATES.has(next.state) ? (callId ?? a.callId) : undefined;
  const payload = { state: next.state, reason: next.reason, agent_name: a.name, call_id: a.callId, pause_reason: pause };
  let e = makeEvent('agent.state_changed', cx.ctxPart(a.id, ctx), { agent_id: a.id }, payload);
  // Consumers order one agent's changes of one millisecond by event id (projections
  // orderEvents), and a ring that ends as the next one starts, or a pause at the moment a
  // wrap-up ends, gives two. The later change must sort last: a deterministic suffix of the
  // part is chosen so that it does (the same history still gives the same ids).
  if (e.occurred_at === a.lastAt) {
    for (let n = 1; e.event_id <= a.lastId; n++) e = makeEvent('agent.state_changed', cx.ctxPart(`${a.id}|${n}`, ctx), { agent_id: a.id }, payload);
  }
  a.lastAt = e.occurred_at;
  a.lastId = e.event_id;
  cx.emit(e);
}

export function expireWrapUps(st: TranslatorState, cx: Cx, now: number, meta: FrameMeta): void {
  // A wrap-up ends only once time has moved past its end: a frame at the very millisecond it
  // ends (a pause, a logout, the next ring) is then folded into the state first, so the
  // agent's last state change at that millisecond is the one the PBX caused. Two changes of
  // one agent at one millisecond would be ordered by event id downstream, not causally.
  // After a gap, one still running at the gap's start waits for the resync (`wrapHeld`): if the
  // member is gone, it ended at the gap's start with the member (offline there), and ending it
  // in the gap first would put `available` after that, out of time order.
  for (const a of [...st.wrapping]) {
    if (a.wrapUntil >= now) continue;
    if (st.wrapHeld && st.gapFrom !== null && a.wrapUntil > st.gapFrom) continue;
    endWrapUp(st, cx, a, meta);
  }
}

/** The agent's wrap-up ends at its due time, keyed by the frame that began it. */
export function endWrapUp(st: TranslatorState, cx: Cx, a: Agent, meta: FrameMeta): void {
  const at = a.wrapUntil;
  a.wrapUntil = 0;
  st.wrapping.delete(a);
  const ctx: EventContext = {
    tenant_id: cx.opts.tenant_id,
    pbx_id: cx.opts.pbx_id,
    source: cx.source,
    occurred_at: isoMs(at),
    received_at: isoMs(meta.received_at),
    raw_ref: meta.raw_ref,
    vendor_key: `${a.wrapKey}|wrap-up-end`,
  };
  updateAgent(st, cx, a, undefined, ctx);
}

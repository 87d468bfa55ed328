// Queue members and the agent state derived from everything known about an agent.
import { makeEvent, type AgentState, type EventContext } from '@callboard/schemas';
import type { TranslateOutcome } from '../../pipeline.ts';
import { DEVICE_BUSY, DEVICE_GONE, DEVICE_RINGING, type TranslatorState, int, type Agent } from '../state.ts';
import type { Cx } from './context.ts';
import { learnDevices } from './direct.ts';
import { memberOf, agent } from './queue-calls.ts';
import { resyncSet } from './resync.ts';

export function member(st: TranslatorState, cx: Cx, name: string, h: Record<string, string>): TranslateOutcome | undefined {
  const m = memberOf(st, cx, h);
  if (!m) return cx.missing(name, 'Interface');
  if (!h.Queue) return cx.missing(name, 'Queue');
  const a = agent(st, cx, m.agentId, m.name);
  learnDevices(st, cx, m.agentId, m.iface, h.StateInterface);
  if (!a.queues.has(h.Queue)) {
    a.queues.set(h.Queue, null);
    cx.emit(
      makeEvent('agent.queue_joined', cx.ctx, { agent_id: m.agentId }, {
        queue: h.Queue,
        agent_name: m.name,
        interface: m.iface,
        penalty: h.Penalty !== undefined ? Math.max(0, int(h.Penalty)) : undefined,
      }),
    );
  }
  if (h.Status !== undefined || h.InCall !== undefined) {
    if (h.Status !== undefined) a.status = int(h.Status);
    a.inCall = h.InCall === '1';
    a.statusAt = st.frameNo;
  }
  if (h.Paused !== undefined) a.queues.set(h.Queue, h.Paused === '1' ? (h.PausedReason ?? h.Reason ?? '') : null);
  resyncSet(st, cx, h)?.members.add(`${m.agentId}|${h.Queue}`);
  updateAgent(st, cx, a, undefined);
  return undefined;
}

export function memberRemoved(st: TranslatorState, cx: Cx, h: Record<string, string>): TranslateOutcome | undefined {
  const m = memberOf(st, cx, h);
  if (!m) return cx.missing('QueueMemberRemoved', 'Interface');
  if (!h.Queue) return cx.missing('QueueMemberRemoved', 'Queue');
  removeMembership(st, cx, agent(st, cx, m.agentId, m.name), h.Queue, cx.ctx);
  return undefined;
}

export function removeMembership(st: TranslatorState, cx: Cx, a: Agent, queue: string, ctx: EventContext): void {
  if (!a.queues.delete(queue)) return;
  cx.emit(makeEvent('agent.queue_left', ctx, { agent_id: a.id }, { queue, agent_name: a.name }));
  updateAgent(st, cx, a, undefined, ctx);
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
  for (const r of a.queues.values()) if (r !== null) return { state: 'paused', reason: r };
  if (a.wrapUntil > 0) return { state: 'wrap_up' };
  if (DEVICE_GONE.has(a.status)) return { state: 'offline' };
  return { state: 'available' };
}

export function updateAgent(st: TranslatorState, cx: Cx, a: Agent, callId: string | undefined, ctx = cx.ctx): void {
  const next = deriveState(st, cx, a);
  if (next.state === a.state && next.reason === a.reason) return;
  a.state = next.state;
  a.reason = next.reason;
  const payload = { state: next.state, reason: next.reason, agent_name: a.name, call_id: callId };
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

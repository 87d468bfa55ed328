// Agents' phones and calls outside a queue: a dialled agent, and the target of an attended
// transfer (AMI Atxfer), credited once the transfer completes (METRICS.md handled).
import { makeEvent } from '@callboard/schemas';
import { type TranslatorState, partyOf, type Channel, type DirectSegment } from '../state.ts';
import type { Cx } from './context.ts';
import { agent } from './queue-calls.ts';
import { updateAgent } from './agents.ts';

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

/** A known agent's phone dialled other than by a queue (a queue rings it through AgentCalled). */
export function dialBegin(st: TranslatorState, cx: Cx, h: Record<string, string>): void {
  const dest = h.DestUniqueid;
  if (dest === undefined || st.ringsByDest.has(dest) || st.segByDest.has(dest)) return;
  const agentId = agentOfChannel(st, cx, h.DestChannel ?? '');
  if (agentId === undefined) return;
  // A queue calling a member that is a phone itself (Interface PJSIP/1001): the dialling
  // channel is a caller waiting in a queue, and the answer comes as AgentConnect.
  if (h.Uniqueid !== undefined) {
    for (const leg of st.legs.values()) if (leg.caller === h.Uniqueid) return;
  }
  startDial(st, cx, dest, agentId, false);
}

export function consultRinging(st: TranslatorState, cx: Cx, h: Record<string, string>): void {
  const dest = h.DestUniqueid;
  if (dest === undefined || st.dialled.has(dest) || st.ringsByDest.has(dest) || st.segByDest.has(dest) || st.direct.has(dest)) return;
  const agentId = agentOfChannel(st, cx, h.DestChannel ?? '');
  if (agentId !== undefined) startDial(st, cx, dest, agentId, true);
}

export function startDial(st: TranslatorState, cx: Cx, dest: string, agentId: string, consult: boolean): void {
  st.dialled.set(dest, { agentId, at: cx.now, ts: cx.hasTs, consult });
  const a = agent(st, cx, agentId);
  a.directRings++;
  updateAgent(st, cx, a, st.channels.get(dest)?.callId);
}

/** A channel rung outside a queue stopped ringing: answered, refused or gone. */
export function endDial(st: TranslatorState, cx: Cx, dest: string, update = true): void {
  const d = st.dialled.get(dest);
  if (!d) return;
  st.dialled.delete(dest);
  const a = agent(st, cx, d.agentId);
  if (a.directRings > 0) a.directRings--;
  a.queueAt = st.frameNo;
  if (update) updateAgent(st, cx, a, st.channels.get(dest)?.callId);
}

/** Once a transfer target is credited, the first side to ask for the hang-up ended its call. */
export function firstToHangUp(st: TranslatorState, cx: Cx, ch: Channel): void {
  for (const d of st.direct.values()) {
    if (d.callId === ch.callId && d.credited && d.endBy === undefined) d.endBy = partyOf(ch.name) === d.party ? 'agent' : 'caller';
  }
}

export function directAnswered(st: TranslatorState, cx: Cx, h: Record<string, string>): void {
  const u = h.Uniqueid;
  if (u === undefined) return;
  const d = st.dialled.get(u);
  const ch = st.channels.get(u);
  if (!d || !ch || st.direct.has(u)) return;
  endDial(st, cx, u, false);
  const call = st.calls.get(ch.callId);
  const a = agent(st, cx, d.agentId);
  const seg: DirectSegment = { agentId: d.agentId, callId: ch.callId, party: partyOf(ch.name), rungAt: d.at, answeredAt: cx.now, ts: cx.hasTs, holdStart: 0, holdMs: 0, credited: !d.consult, endBy: undefined };
  st.direct.set(u, seg);
  a.direct.add(seg);
  updateAgent(st, cx, a, ch.callId);
  if (d.consult) return; // credited when the transfer completes (attendedTransfer)
  if (call && call.extension === undefined) call.extension = d.agentId;
  cx.emit(
    makeEvent('call.answered', cx.ctx, { call_id: ch.callId }, {
      agent_id: d.agentId,
      agent_name: a.name,
      wait_ms: Math.max(0, cx.now - (call?.startedAt ?? cx.now)),
      ring_ms: Math.max(0, cx.now - d.at),
    }),
  );
}

export function directCompleted(st: TranslatorState, cx: Cx, u: string, d: DirectSegment, reason: 'caller' | 'agent', at = cx.now, ctx = cx.ctx): void {
  st.direct.delete(u);
  const a = agent(st, cx, d.agentId);
  a.direct.delete(d);
  a.queueAt = st.frameNo;
  // A consultation that never became the call (cancelled, or the transferer took the caller
  // back) was work, not a handled call: its time shows in the agent's state only.
  if (!d.credited) {
    updateAgent(st, cx, a, undefined, ctx);
    return;
  }
  if (d.holdStart > 0) {
    d.holdMs += at - d.holdStart;
    d.holdStart = 0;
  }
  const talkMs = Math.max(0, at - d.answeredAt);
  cx.emit(
    makeEvent('call.agent_completed', ctx, { call_id: d.callId }, {
      agent_id: d.agentId,
      agent_name: st.agents.get(d.agentId)?.name,
      reason,
      talk_ms: talkMs,
      hold_ms: Math.min(talkMs, d.holdMs),
    }),
  );
  updateAgent(st, cx, a, d.callId, ctx);
}

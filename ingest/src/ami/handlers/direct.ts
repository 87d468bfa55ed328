// Agents' phones and calls outside a queue: a dialled agent, and the target of an attended
// transfer (AMI Atxfer), credited once the transfer completes (METRICS.md handled).
import { makeEvent } from '@callboard/schemas';
import { type TranslatorState, partyOf, type Channel, type DirectSegment } from '../state.ts';
import type { Cx } from '../ops/context.ts';
import { agent, agentOfChannel, updateAgent } from '../ops/agents.ts';
import { endDial } from '../ops/direct.ts';

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

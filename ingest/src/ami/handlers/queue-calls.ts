// Agents rung, connected and completed on queue legs; wrap-up.
import { makeEvent } from '@callboard/schemas';
import { dlq, type TranslateOutcome } from '../../pipeline.ts';
import { type TranslatorState, int, type Ring, type Segment } from '../state.ts';
import type { Cx } from '../ops/context.ts';
import { agent, memberOf, updateAgent } from '../ops/agents.ts';
import { callIdOf, trackChannel } from '../ops/calls.ts';
import { clearRings, dropRing } from '../ops/rings.ts';

export function agentCalled(st: TranslatorState, cx: Cx, h: Record<string, string>): TranslateOutcome | undefined {
  const m = memberOf(st, cx, h);
  if (!m) return cx.missing('AgentCalled', 'Interface');
  const leg = st.legs.get(`${h.Uniqueid}|${h.Queue}`);
  if (!leg) return undefined;
  const a = agent(st, cx, m.agentId, m.name);
  const ring: Ring = { leg, agentId: m.agentId, at: cx.now, ts: cx.hasTs, dest: h.DestUniqueid };
  const prev = leg.rings.get(m.agentId);
  if (prev) dropRing(st, cx, leg, prev);
  leg.rings.set(m.agentId, ring);
  if (ring.dest) st.ringsByDest.set(ring.dest, ring);
  a.rings++;
  cx.emit(makeEvent('call.ringing', cx.ctx, { call_id: leg.callId }, { agent_id: m.agentId, agent_name: m.name, queue: leg.queue, leg_id: leg.id }));
  updateAgent(st, cx, a, leg.callId);
  return undefined;
}

export function ringNoAnswer(st: TranslatorState, cx: Cx, h: Record<string, string>): TranslateOutcome | undefined {
  const m = memberOf(st, cx, h);
  if (!m) return cx.missing('AgentRingNoAnswer', 'Interface');
  const leg = st.legs.get(`${h.Uniqueid}|${h.Queue}`);
  const callId = leg?.callId ?? callIdOf(st, cx, h);
  if (!callId) return cx.missing('AgentRingNoAnswer', 'Uniqueid');
  const ring = leg?.rings.get(m.agentId);
  // RingTime on this event is in milliseconds (every other AMI duration is in seconds).
  const ringMs = h.RingTime !== undefined ? int(h.RingTime) : ring ? cx.now - ring.at : 0;
  cx.emit(
    makeEvent('call.ring_no_answer', cx.ctx, { call_id: callId }, {
      agent_id: m.agentId,
      agent_name: m.name,
      queue: h.Queue || undefined,
      leg_id: leg?.id,
      ring_ms: Math.max(0, ringMs),
    }),
  );
  if (leg && ring) {
    dropRing(st, cx, leg, ring);
    updateAgent(st, cx, agent(st, cx, m.agentId, m.name), callId);
  }
  return undefined;
}

export function connect(st: TranslatorState, cx: Cx, h: Record<string, string>): TranslateOutcome | undefined {
  const m = memberOf(st, cx, h);
  if (!m) return cx.missing('AgentConnect', 'Interface');
  if (h.Uniqueid === undefined) return cx.missing('AgentConnect', 'Uniqueid');
  if (!h.Queue) return cx.missing('AgentConnect', 'Queue');
  const legKey = `${h.Uniqueid}|${h.Queue}`;
  let leg = st.legs.get(legKey);
  const holdS = int(h.HoldTime);
  if (!leg) {
    // Connected on a leg we never saw join (we were not connected then): HoldTime places it.
    const callId = callIdOf(st, cx, h)!;
    trackChannel(st, cx, h, callId, cx.now);
    leg = { id: `${h.Uniqueid}:${h.Queue}:${h.Timestamp ?? cx.ctx.vendor_key}`, queue: h.Queue, callId, caller: h.Uniqueid, joinedAt: cx.now - holdS * 1000, ts: false, rings: new Map(), abandon: null, pendingExit: null };
  }
  st.legs.delete(legKey);
  st.pending.delete(leg.caller);
  const ring = leg.rings.get(m.agentId);
  clearRings(st, cx, leg, m.agentId);
  if (ring) dropRing(st, cx, leg, ring); // its state goes from ringing straight to on_call below
  const waitMs = leg.ts && cx.hasTs ? cx.now - leg.joinedAt : holdS * 1000;
  const ringMs = ring && ring.ts && cx.hasTs ? cx.now - ring.at : h.RingTime !== undefined ? int(h.RingTime) * 1000 : undefined;
  cx.emit(
    makeEvent('call.answered', cx.ctx, { call_id: leg.callId }, {
      agent_id: m.agentId,
      agent_name: m.name,
      queue: leg.queue,
      leg_id: leg.id,
      wait_ms: Math.max(0, waitMs),
      ring_ms: ringMs === undefined ? undefined : Math.max(0, ringMs),
    }),
  );
  const seg: Segment = { leg, agentId: m.agentId, agentName: m.name, iface: m.iface, connectedAt: cx.now, ts: cx.hasTs, dest: h.DestUniqueid, holdStart: 0, holdMs: 0 };
  st.segments.add(seg);
  if (seg.dest) st.segByDest.set(seg.dest, seg);
  st.segByCaller.set(leg.caller, seg);
  const call = st.calls.get(leg.callId);
  if (call) call.extension = m.agentId;
  const a = agent(st, cx, m.agentId, m.name);
  a.segments.add(seg);
  a.queueAt = st.frameNo;
  a.wrapUntil = 0;
  st.wrapping.delete(a);
  updateAgent(st, cx, a, leg.callId);
  return undefined;
}

export function findSegment(st: TranslatorState, cx: Cx, h: Record<string, string>, iface: string): Segment | undefined {
  if (h.DestUniqueid !== undefined) {
    const s = st.segByDest.get(h.DestUniqueid);
    if (s) return s;
  }
  // AgentComplete may lack the channel snapshots (caller gone first): match queue + member.
  let best: Segment | undefined;
  for (const s of st.segments) {
    if (s.leg.queue !== h.Queue || s.iface !== iface) continue;
    if (h.Uniqueid !== undefined && s.leg.caller === h.Uniqueid) return s;
    if (!best || s.connectedAt < best.connectedAt) best = s;
  }
  return best;
}

export function complete(st: TranslatorState, cx: Cx, h: Record<string, string>): TranslateOutcome | undefined {
  const m = memberOf(st, cx, h);
  if (!m) return cx.missing('AgentComplete', 'Interface');
  const seg = findSegment(st, cx, h, m.iface);
  const callId = seg?.leg.callId ?? callIdOf(st, cx, h);
  if (!callId) return dlq('UNMATCHED', `AgentComplete for ${m.iface} in queue ${h.Queue ?? '?'} matches no connected call and carries no Uniqueid (pbx ${cx.opts.pbx_id})`);
  const queue = seg?.leg.queue ?? h.Queue;
  if (seg && seg.holdStart > 0) {
    seg.holdMs += cx.now - seg.holdStart;
    seg.holdStart = 0;
  }
  const talkMs = seg && seg.ts && cx.hasTs ? cx.now - seg.connectedAt : int(h.TalkTime) * 1000;
  const reason = h.Reason === 'caller' || h.Reason === 'transfer' ? h.Reason : 'agent';
  const wrapMs = queue ? cx.wrapUpMs(queue) : 0;
  cx.emit(
    makeEvent('call.agent_completed', cx.ctx, { call_id: callId }, {
      agent_id: m.agentId,
      agent_name: m.name,
      queue: queue || undefined,
      leg_id: seg?.leg.id,
      reason,
      talk_ms: Math.max(0, talkMs),
      hold_ms: seg ? seg.holdMs : undefined,
      wrap_ms: wrapMs > 0 ? wrapMs : undefined,
    }),
  );
  const a = agent(st, cx, m.agentId, m.name);
  if (seg) {
    st.segments.delete(seg);
    if (seg.dest) st.segByDest.delete(seg.dest);
    if (st.segByCaller.get(seg.leg.caller) === seg) st.segByCaller.delete(seg.leg.caller);
    a.segments.delete(seg);
  }
  a.queueAt = st.frameNo;
  if (wrapMs > 0) {
    a.wrapUntil = cx.now + wrapMs;
    a.wrapKey = cx.ctx.vendor_key;
    st.wrapping.add(a);
  }
  updateAgent(st, cx, a, callId);
  return undefined;
}

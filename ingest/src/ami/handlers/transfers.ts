// Hold and transfers.
import { makeEvent } from '@callboard/schemas';
import type { TranslateOutcome } from '../../pipeline.ts';
import { type TranslatorState, unknownToEmpty, type DirectSegment, type Segment } from '../state.ts';
import type { Cx } from '../ops/context.ts';
import { agent, agentOfChannel, updateAgent } from '../ops/agents.ts';
import { callIdOf } from '../ops/calls.ts';

export function hold(st: TranslatorState, cx: Cx, h: Record<string, string>, on: boolean): TranslateOutcome | undefined {
  const u = h.Uniqueid;
  if (u === undefined) return cx.missing(on ? 'Hold' : 'Unhold', 'Uniqueid');
  const seg = st.segByDest.get(u) ?? st.segByCaller.get(u);
  if (seg) {
    if (on === seg.holdStart > 0) return undefined; // Unhold without Hold (e.g. at a transfer)
    if (on) seg.holdStart = cx.now;
    else {
      seg.holdMs += cx.now - seg.holdStart;
      seg.holdStart = 0;
    }
    const p = { agent_id: seg.agentId, leg_id: seg.leg.id };
    cx.emit(on ? makeEvent('call.held', cx.ctx, { call_id: seg.leg.callId }, p) : makeEvent('call.resumed', cx.ctx, { call_id: seg.leg.callId }, p));
    updateAgent(st, cx, agent(st, cx, seg.agentId), seg.leg.callId);
    return undefined;
  }
  // A call that is not a queue leg (direct call): hold without an agent.
  const ch = st.channels.get(u);
  if (!ch) return undefined;
  if (on === st.heldChannels.has(u)) return undefined;
  if (on) st.heldChannels.set(u, cx.now);
  else st.heldChannels.delete(u);
  const d = st.direct.get(u);
  if (d) {
    if (on) d.holdStart = cx.now;
    else if (d.holdStart > 0) {
      d.holdMs += cx.now - d.holdStart;
      d.holdStart = 0;
    }
  }
  const p = d ? { agent_id: d.agentId } : {};
  cx.emit(on ? makeEvent('call.held', cx.ctx, { call_id: ch.callId }, p) : makeEvent('call.resumed', cx.ctx, { call_id: ch.callId }, p));
  if (d) updateAgent(st, cx, agent(st, cx, d.agentId), ch.callId);
  return undefined;
}

export function blindTransfer(st: TranslatorState, cx: Cx, h: Record<string, string>): TranslateOutcome | undefined {
  if (h.Result !== 'Success') return undefined;
  const seg = segmentOfAny(st, cx, h, ['Transferer', 'Transferee']);
  const callId = seg?.leg.callId ?? callIdOf(st, cx, h, 'Transferee') ?? callIdOf(st, cx, h, 'Transferer');
  if (!callId) return cx.missing('BlindTransfer', 'TransfereeUniqueid');
  cx.emit(
    makeEvent('call.transferred', cx.ctx, { call_id: callId }, {
      kind: 'blind',
      from_agent_id: seg?.agentId,
      to: h.Extension ?? '',
      queue: seg?.leg.queue,
      leg_id: seg?.leg.id,
    }),
  );
  return undefined;
}

export function attendedTransfer(st: TranslatorState, cx: Cx, h: Record<string, string>): TranslateOutcome | undefined {
  if (h.Result !== 'Success') return undefined;
  const seg = segmentOfAny(st, cx, h, ['OrigTransferer', 'SecondTransferer', 'Transferee']);
  const callId = seg?.leg.callId ?? callIdOf(st, cx, h, 'OrigTransferer') ?? callIdOf(st, cx, h, 'Transferee');
  if (!callId) return cx.missing('AttendedTransfer', 'OrigTransfererUniqueid');
  // METRICS.md handled: `transferred.to` names the agent when the target is one.
  const consult = h.TransferTargetUniqueid !== undefined ? st.direct.get(h.TransferTargetUniqueid) : undefined;
  const targetAgent = consult?.agentId ?? agentOfChannel(st, cx, h.TransferTargetChannel ?? '');
  const target = targetAgent ?? (unknownToEmpty(h.TransferTargetCallerIDNum) || h.TransferTargetChannel || unknownToEmpty(h.SecondTransfererConnectedLineNum) || h.DestType || '');
  cx.emit(
    makeEvent('call.transferred', cx.ctx, { call_id: callId }, {
      kind: 'attended',
      from_agent_id: seg?.agentId,
      to: target,
      queue: seg?.leg.queue,
      leg_id: seg?.leg.id,
    }),
  );
  if (consult && !consult.credited) creditTarget(st, cx, consult);
  return undefined;
}

/**
 * The target of an attended transfer receives the call now: it is credited with it and its
 * talk time from here (METRICS.md handled). Asterisk gives it no AgentConnect, so this is the
 * answer; its ring is the consultation's ring, and the call waited that long for this agent.
 */
export function creditTarget(st: TranslatorState, cx: Cx, d: DirectSegment): void {
  const ringMs = Math.max(0, d.answeredAt - d.rungAt);
  d.credited = true;
  d.answeredAt = cx.now;
  d.ts = cx.hasTs;
  d.holdMs = 0;
  if (d.holdStart > 0) d.holdStart = cx.now;
  const call = st.calls.get(d.callId);
  if (call) call.extension = d.agentId;
  cx.emit(makeEvent('call.answered', cx.ctx, { call_id: d.callId }, { agent_id: d.agentId, agent_name: st.agents.get(d.agentId)?.name, wait_ms: ringMs, ring_ms: ringMs }));
}

export function segmentOfAny(st: TranslatorState, cx: Cx, h: Record<string, string>, prefixes: string[]): Segment | undefined {
  for (const p of prefixes) {
    const u = h[`${p}Uniqueid`];
    if (u === undefined) continue;
    const s = st.segByDest.get(u) ?? st.segByCaller.get(u);
    if (s) return s;
  }
  return undefined;
}

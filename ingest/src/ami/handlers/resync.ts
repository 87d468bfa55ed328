// Resynchronisation (QueueStatus / CoreShowChannels replies after a login) and what a gap of the
// feed ended (METRICS.md "Gaps of the feed").
import { makeEvent, isoMs, type EventContext } from '@callboard/schemas';
import type { TranslateOutcome } from '../../pipeline.ts';
import { RESYNC_ACTION_PREFIX, type TranslatorState, int, unknownToEmpty, type Call, type Leg, type Segment } from '../state.ts';
import type { Cx } from '../ops/context.ts';
import { expireWrapUps, removeMembership, updateAgent } from '../ops/agents.ts';
import { endCall, trackChannel } from '../ops/calls.ts';
import { directCompleted, endDial } from '../ops/direct.ts';
import { resolveExit } from '../ops/legs.ts';
import { clearRings } from '../ops/rings.ts';
import { resyncSet } from '../ops/resync.ts';

export function queueEntry(st: TranslatorState, cx: Cx, h: Record<string, string>): TranslateOutcome | undefined {
  const u = h.Uniqueid;
  if (u === undefined || !h.Queue) return undefined;
  resyncSet(st, cx, h)?.legs.add(`${u}|${h.Queue}`);
  if (st.legs.has(`${u}|${h.Queue}`)) return undefined;
  // A caller who joined while we were away: open the leg, placed in time by its Wait.
  const joinedAt = cx.now - int(h.Wait) * 1000;
  const callId = st.channels.get(u)?.callId ?? u;
  const ctx = { ...cx.ctx, occurred_at: isoMs(joinedAt), vendor_key: `resync|${u}|${h.Queue}` };
  trackChannel(st, cx, h, callId, joinedAt, ctx);
  const leg: Leg = { id: `${u}:${h.Queue}:resync`, queue: h.Queue, callId, caller: u, joinedAt, ts: false, rings: new Map(), abandon: null, pendingExit: null };
  st.legs.set(`${u}|${h.Queue}`, leg);
  cx.emit(makeEvent('call.queued', ctx, { call_id: callId }, { queue: h.Queue, leg_id: leg.id, position: Math.max(1, int(h.Position, 1)), caller_number: unknownToEmpty(h.CallerIDNum) || undefined }));
  return undefined;
}

export function coreShowChannel(st: TranslatorState, cx: Cx, h: Record<string, string>): TranslateOutcome | undefined {
  const u = h.Uniqueid;
  if (u === undefined) return undefined;
  const rs = resyncSet(st, cx, h);
  rs?.channels.add(u);
  if (st.channels.has(u)) return undefined;
  const [hh, mm, ss] = (h.Duration ?? '0:0:0').split(':').map((x) => int(x));
  const startedAt = cx.now - ((hh ?? 0) * 3600 + (mm ?? 0) * 60 + (ss ?? 0)) * 1000;
  const callId = h.Linkedid || u;
  const ch = trackChannel(st, cx, h, callId, startedAt, { ...cx.ctx, occurred_at: isoMs(startedAt), vendor_key: `resync|${callId}` });
  if (h.ChannelState === '6') {
    const call = st.calls.get(ch.callId);
    if (call && call.answeredAt === 0) call.answeredAt = startedAt;
  }
  return undefined;
}

export function resyncComplete(st: TranslatorState, cx: Cx, name: string, h: Record<string, string>): TranslateOutcome | undefined {
  const id = h.ActionID;
  if (id === undefined || !id.startsWith(RESYNC_ACTION_PREFIX)) return undefined;
  const rs = st.resync.get(id) ?? { members: new Set<string>(), channels: new Set<string>(), legs: new Set<string>() };
  st.resync.delete(id);
  // What the resync finds gone ended in the gap, at its start (the last moment it was known
  // alive), not now (METRICS.md "Gaps of the feed"). Without a gap (first login) it is now.
  const at = st.gapFrom ?? cx.now;
  const gapCtx = (part: string): EventContext => ({ ...cx.ctxPart(part), occurred_at: isoMs(at) });
  if (name === 'QueueStatusComplete') {
    // Members we believe in that the PBX no longer lists left while we were away.
    for (const a of st.agents.values()) {
      for (const q of [...a.queues.keys()]) if (!rs.members.has(`${a.id}|${q}`)) removeMembership(st, cx, a, q, gapCtx(`resync-left|${q}`));
    }
    // Legs we believe are waiting but the PBX does not list: they ended unseen.
    for (const leg of [...st.legs.values()]) {
      if (!rs.legs.has(`${leg.caller}|${leg.queue}`)) resolveGone(st, cx, leg, at);
    }
    // The members are known again: wrap-ups held since the gap end now if due (those of
    // members just removed change nothing, the agent being offline from the gap's start).
    st.wrapHeld = false;
    if (st.wrapping.size > 0) expireWrapUps(st, cx, cx.now, cx.curMeta);
    return undefined;
  }
  // Channels that hung up while we were away; calls left with none have ended.
  const ended: Call[] = [];
  for (const [u, ch] of [...st.channels]) {
    if (rs.channels.has(u)) continue;
    st.channels.delete(u);
    endDial(st, cx, u, false);
    const call = st.calls.get(ch.callId);
    if (!call) continue;
    call.channels.delete(u);
    if (call.channels.size === 0) ended.push(call);
  }
  for (const call of ended) {
    // In the order they happened: the caller left the queue, the agent's talk ended, the call
    // ended (a leg's exit must never come after its call's end).
    for (const leg of [...st.legs.values()]) if (leg.callId === call.id) resolveGone(st, cx, leg, at);
    st.calls.delete(call.id);
  }
  // Agents talking on calls that ended unseen: their talk lasted until the gap began.
  for (const seg of [...st.segments]) {
    if (st.calls.has(seg.leg.callId)) continue;
    cutSegment(st, cx, seg, at, gapCtx(`resync-free|${seg.leg.id}`));
  }
  for (const [u, d] of [...st.direct]) {
    if (!st.calls.has(d.callId)) directCompleted(st, cx, u, d, 'agent', Math.max(at, d.answeredAt), gapCtx(`resync-free|${u}`));
  }
  for (const call of ended) endCall(st, cx, call, gapCtx(`resync-ended|${call.id}`), st.gapFrom !== null);
  return undefined;
}

/** A queue agent's segment of a call that ended unseen in a gap: its talk runs to `at`. */
export function cutSegment(st: TranslatorState, cx: Cx, seg: Segment, at: number, ctx: EventContext): void {
  st.segments.delete(seg);
  if (seg.dest) st.segByDest.delete(seg.dest);
  if (st.segByCaller.get(seg.leg.caller) === seg) st.segByCaller.delete(seg.leg.caller);
  const end = Math.max(at, seg.connectedAt);
  if (seg.holdStart > 0) {
    seg.holdMs += Math.max(0, end - seg.holdStart);
    seg.holdStart = 0;
  }
  const wrapMs = cx.wrapUpMs(seg.leg.queue);
  cx.emit(
    makeEvent('call.agent_completed', ctx, { call_id: seg.leg.callId }, {
      agent_id: seg.agentId,
      agent_name: seg.agentName,
      queue: seg.leg.queue,
      leg_id: seg.leg.id,
      // Who hung up is unknown; Asterisk itself reports a restart's cut as the agent's.
      reason: 'agent',
      talk_ms: end - seg.connectedAt,
      hold_ms: seg.holdMs,
      wrap_ms: wrapMs > 0 ? wrapMs : undefined,
    }),
  );
  const a = st.agents.get(seg.agentId);
  if (!a) return;
  a.segments.delete(seg);
  a.queueAt = st.frameNo;
  updateAgent(st, cx, a, seg.leg.callId, ctx);
}

export function resolveGone(st: TranslatorState, cx: Cx, leg: Leg, at: number): void {
  const ctx = { ...cx.ctxPart(`resync-gone|${leg.id}`), occurred_at: isoMs(at) };
  // Its rings were cut with it: they end at the gap's start too, not at the resync frame, or
  // the member would ring through the outage and then go offline back at the gap's start.
  clearRings(st, cx, leg, undefined, ctx);
  leg.pendingExit = { ctx, at, ts: false };
  resolveExit(st, cx, leg, 'other');
}

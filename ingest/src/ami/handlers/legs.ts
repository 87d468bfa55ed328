// Queue legs: join, and the exit that is abandoned or left (decided by what the caller channel
// does next).
import { makeEvent, type LeaveReason } from '@callboard/schemas';
import type { TranslateOutcome } from '../../pipeline.ts';
import { QUEUESTATUS_REASON, type TranslatorState, int, unknownToEmpty, type Leg } from '../state.ts';
import type { Cx } from './context.ts';
import { callIdOf, trackChannel } from './calls.ts';
import { clearRings } from './queue-calls.ts';

export function join(st: TranslatorState, cx: Cx, h: Record<string, string>): TranslateOutcome | undefined {
  const u = h.Uniqueid;
  if (u === undefined) return cx.missing('QueueCallerJoin', 'Uniqueid');
  if (!h.Queue) return cx.missing('QueueCallerJoin', 'Queue');
  const callId = callIdOf(st, cx, h)!;
  trackChannel(st, cx, h, callId, cx.now);
  const legKey = `${u}|${h.Queue}`;
  const old = st.legs.get(legKey);
  // A caller cannot wait in one queue twice at once: a second join is a repeated frame.
  if (old && !old.pendingExit) return undefined;
  if (old) resolveExit(st, cx, old, old.abandon ? 'timeout' : 'key');
  const leg: Leg = {
    id: `${u}:${h.Queue}:${h.Timestamp ?? cx.ctx.vendor_key}`,
    queue: h.Queue,
    callId,
    caller: u,
    joinedAt: cx.now,
    ts: cx.hasTs,
    rings: new Map(),
    abandon: null,
    pendingExit: null,
  };
  st.legs.set(legKey, leg);
  cx.emit(
    makeEvent('call.queued', cx.ctx, { call_id: callId }, {
      queue: h.Queue,
      leg_id: leg.id,
      position: Math.max(1, int(h.Position, 1)),
      caller_number: unknownToEmpty(h.CallerIDNum) || undefined,
    }),
  );
  return undefined;
}

export function abandon(st: TranslatorState, cx: Cx, h: Record<string, string>): TranslateOutcome | undefined {
  const leg = st.legs.get(`${h.Uniqueid}|${h.Queue}`);
  if (!leg) return undefined; // a leg from before we connected: resync reported it or it is gone
  leg.abandon = {
    ctx: cx.ctx,
    position: Math.max(1, int(h.Position, 1)),
    original: h.OriginalPosition ? Math.max(1, int(h.OriginalPosition, 1)) : undefined,
    holdS: int(h.HoldTime),
    at: cx.now,
    ts: cx.hasTs,
  };
  return undefined;
}

export function leave(st: TranslatorState, cx: Cx, h: Record<string, string>): TranslateOutcome | undefined {
  const leg = st.legs.get(`${h.Uniqueid}|${h.Queue}`);
  if (!leg) return undefined;
  const ch = st.channels.get(leg.caller);
  if (leg.abandon && ch?.hangupRequested) {
    resolveExitNow(st, cx, leg, 'abandoned');
    return undefined;
  }
  // QueueCallerAbandon also fires on timeout and leave-when-empty, and the caller's own
  // hang-up request is often published just after QueueCallerLeave: the next thing the
  // caller channel does decides (decidePending).
  leg.pendingExit = { ctx: cx.ctx, at: cx.now, ts: cx.hasTs, position: h.Position ? Math.max(1, int(h.Position, 1)) : undefined };
  st.pending.set(leg.caller, leg);
  return undefined;
}

export function decidePending(st: TranslatorState, cx: Cx, leg: Leg, name: string, h: Record<string, string>): void {
  switch (name) {
    case 'AgentConnect':
      return; // connect() takes the leg
    case 'SoftHangupRequest':
    case 'HangupRequest':
    case 'Hangup':
      resolveExit(st, cx, leg, leg.abandon ? 'abandoned' : 'key');
      return;
    case 'VarSet': {
      if (h.Variable !== 'QUEUESTATUS') return;
      resolveExit(st, cx, leg, QUEUESTATUS_REASON[h.Value ?? ''] ?? (leg.abandon ? 'timeout' : 'key'));
      return;
    }
    case 'Newexten':
    case 'QueueCallerJoin':
    case 'Newstate':
      resolveExit(st, cx, leg, leg.abandon ? 'timeout' : 'key');
      return;
    default:
      return;
  }
}

export function resolveExitNow(st: TranslatorState, cx: Cx, leg: Leg, outcome: 'abandoned'): void {
  leg.pendingExit = { ctx: cx.ctx, at: cx.now, ts: cx.hasTs };
  resolveExit(st, cx, leg, outcome);
}

/** Closes an unanswered leg as abandoned (caller hung up) or left (any other way out). */
export function resolveExit(st: TranslatorState, cx: Cx, leg: Leg, outcome: 'abandoned' | LeaveReason): void {
  st.pending.delete(leg.caller);
  st.legs.delete(`${leg.caller}|${leg.queue}`);
  clearRings(st, cx, leg);
  const ab = leg.abandon;
  const exit = leg.pendingExit ?? { ctx: cx.ctx, at: cx.now, ts: cx.hasTs };
  const ctx = ab?.ctx ?? exit.ctx;
  const at = ab?.at ?? exit.at;
  const endTs = ab ? ab.ts : exit.ts;
  const waitMs = Math.max(0, leg.ts && endTs ? at - leg.joinedAt : ab ? ab.holdS * 1000 : at - leg.joinedAt);
  if (outcome === 'abandoned') {
    cx.emit(
      makeEvent('call.abandoned', ctx, { call_id: leg.callId }, {
        queue: leg.queue,
        leg_id: leg.id,
        wait_ms: waitMs,
        position: ab?.position ?? exit.position ?? 1,
        original_position: ab?.original,
      }),
    );
  } else {
    cx.emit(
      makeEvent('call.left_queue', ctx, { call_id: leg.callId }, {
        queue: leg.queue,
        leg_id: leg.id,
        reason: outcome,
        wait_ms: waitMs,
        position: ab?.position ?? exit.position,
      }),
    );
  }
}

// Queue legs: join, and the exit that is abandoned or left (decided by what the caller channel
// does next).
import { makeEvent } from '@callboard/schemas';
import type { TranslateOutcome } from '../../pipeline.ts';
import { QUEUESTATUS_REASON, type TranslatorState, int, unknownToEmpty, type Leg } from '../state.ts';
import type { Cx } from '../ops/context.ts';
import { callIdOf, trackChannel } from '../ops/calls.ts';
import { resolveExit, resolveExitNow } from '../ops/legs.ts';

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

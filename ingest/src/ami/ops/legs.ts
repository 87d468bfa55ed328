// How an unanswered queue leg ends (abandoned or left), shared by the leg handler, the resync
// handler and the facade (end of input).
import { makeEvent, type LeaveReason } from '@callboard/schemas';
import type { TranslatorState, Leg } from '../state.ts';
import type { Cx } from './context.ts';
import { clearRings } from './rings.ts';

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

// Channels and calls: a call per Linkedid, its start, its end and its CDR view (METRICS.md
// extension and call metrics: the caller side's disposition).
import { makeEvent } from '@callboard/schemas';
import type { TranslateOutcome } from '../../pipeline.ts';
import { type TranslatorState, int, mapDisposition, unknownToEmpty } from '../state.ts';
import type { Cx } from '../ops/context.ts';
import { endCall, trackChannel } from '../ops/calls.ts';
import { directCompleted, endDial } from '../ops/direct.ts';
import { endRing } from '../ops/rings.ts';

export function newChannel(st: TranslatorState, cx: Cx, h: Record<string, string>): TranslateOutcome | undefined {
  if (h.Uniqueid === undefined) return cx.missing('Newchannel', 'Uniqueid');
  trackChannel(st, cx, h, h.Linkedid || h.Uniqueid, cx.now);
  return undefined;
}

/**
 * The dialplan sets the caller id after the call's first channel exists (`Newchannel` says
 * `<unknown>`, a `NewCallerid` on the same channel follows): the caller's side tells the call's
 * caller number. Once an agent is on the call, Asterisk rewrites the caller's Local channel on a
 * transfer (back to `<unknown>`, or to another party), which identifies no caller.
 */
export function newCallerid(st: TranslatorState, cx: Cx, h: Record<string, string>): TranslateOutcome | undefined {
  if (h.Uniqueid === undefined) return cx.missing('NewCallerid', 'Uniqueid');
  const call = st.calls.get(st.channels.get(h.Uniqueid)?.callId ?? '');
  const number = unknownToEmpty(h.CallerIDNum);
  if (!call || call.origin !== h.Uniqueid || number === '' || number === call.caller || agentOnCall(st, call.id)) return undefined;
  call.caller = number;
  cx.emit(makeEvent('call.caller_identified', cx.ctx, { call_id: call.id }, { caller_number: number, caller_name: unknownToEmpty(h.CallerIDName) || undefined }));
  return undefined;
}

function agentOnCall(st: TranslatorState, callId: string): boolean {
  for (const s of st.segments) if (s.leg.callId === callId) return true;
  for (const d of st.direct.values()) if (d.callId === callId) return true;
  return false;
}

export function answered(st: TranslatorState, cx: Cx, uniqueid: string | undefined): void {
  if (uniqueid === undefined) return;
  const ch = st.channels.get(uniqueid);
  if (!ch) return;
  const call = st.calls.get(ch.callId);
  if (call && call.answeredAt === 0) call.answeredAt = cx.now;
}

export function hangup(st: TranslatorState, cx: Cx, h: Record<string, string>): TranslateOutcome | undefined {
  const u = h.Uniqueid;
  if (u === undefined) return cx.missing('Hangup', 'Uniqueid');
  endRing(st, cx, u);
  const ch = st.channels.get(u);
  if (!ch) return undefined;
  st.channels.delete(u);
  st.heldChannels.delete(u);
  endDial(st, cx, u);
  const seg = st.direct.get(u);
  if (seg) directCompleted(st, cx, u, seg, seg.endBy ?? (ch.hangupRequested ? 'agent' : 'caller'));
  const call = st.calls.get(ch.callId);
  if (!call) return undefined;
  const cause = int(h.Cause, -1);
  // The caller's side gives the call's cause; another leg's only until the caller's is known.
  if (cause >= 0 && (u === call.origin || !call.cause || call.causeFromOther)) {
    call.cause = { code: cause, text: h['Cause-txt'] ?? '' };
    call.causeFromOther = u !== call.origin;
  }
  call.channels.delete(u);
  if (call.channels.size === 0) endCall(st, cx, call, cx.ctx);
  return undefined;
}

export function cdr(st: TranslatorState, cx: Cx, h: Record<string, string>): TranslateOutcome | undefined {
  const raw = h.Disposition;
  if (raw === undefined) return cx.missing('Cdr', 'Disposition');
  const u = h.UniqueID ?? h.Uniqueid;
  if (u === undefined) return undefined;
  // The caller's channel has usually hung up already; it started the call, so its Uniqueid is
  // the call's id (Linkedid).
  const ch = st.channels.get(u);
  const call = st.calls.get(ch ? ch.callId : u);
  if (!call) return undefined; // the call already ended: its disposition was decided then
  // METRICS.md: a call's disposition is its caller side's. The other legs' rows (ring-all
  // losers say NO ANSWER or FAILED) never decide it, whatever order Asterisk sends them in;
  // Asterisk 22 usually sends the caller's own Cdr after its Hangup, and then the disposition
  // comes from the call's answer and the caller's hang-up cause instead.
  if (u !== call.origin) return undefined;
  call.cdr = { disposition: mapDisposition(raw), raw };
  return undefined;
}

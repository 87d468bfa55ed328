// Calls and their channels: the call a frame belongs to, its start (with its direction) when its
// first channel is seen, and its end; shared by the call, leg, queue-call, resync and transfer
// handlers.
import { makeEvent, isoMs, type EventContext } from '@callboard/schemas';
import { type TranslatorState, dispositionFromCause, unknownToEmpty, type Call, type Channel } from '../state.ts';
import type { Cx } from './context.ts';
import { agentOfChannel, isAgentExtension } from './agents.ts';

export function callIdOf(st: TranslatorState, cx: Cx, h: Record<string, string>, prefix = ''): string | undefined {
  const linked = h[`${prefix}Linkedid`];
  if (linked) return linked;
  const u = h[`${prefix}Uniqueid`];
  if (u === undefined) return undefined;
  return st.channels.get(u)?.callId ?? u;
}

export function ensureCall(st: TranslatorState, cx: Cx, callId: string, h: Record<string, string>, at: number, ctx = cx.ctx): Call {
  let call = st.calls.get(callId);
  if (call) return call;
  const state = h.ChannelState;
  const chan = h.Channel ?? '';
  // Direction from the call's first channel (ingest/README.md "Call direction"):
  // - a Local channel: an Originate into the dialplan, how dialers and test rigs inject callers;
  // - a known agent's phone (a queue member's StateInterface or device): the agent placed the
  //   call, internal when it dials another agent's extension, otherwise outbound. A phone
  //   calling in also starts in Ring (4), so the channel state alone cannot tell;
  // - otherwise a channel that starts ringing in (4) is an incoming call from a trunk and a
  //   channel created down (0) is dialled out (an Originate to a device).
  const placedBy = chan.startsWith('Local/') ? undefined : agentOfChannel(st, cx, chan);
  const direction: Call['direction'] = chan.startsWith('Local/')
    ? 'inbound'
    : placedBy !== undefined
      ? h.Exten !== undefined && h.Exten !== placedBy && isAgentExtension(st, cx, h.Exten)
        ? 'internal'
        : 'outbound'
      : state === '4'
        ? 'inbound'
        : 'outbound';
  const caller = unknownToEmpty(h.CallerIDNum);
  call = { id: callId, origin: h.Uniqueid ?? callId, channels: new Set(), startedAt: at, answeredAt: 0, direction, cdr: null, cause: null, causeFromOther: false, extension: placedBy, caller };
  st.calls.set(callId, call);
  cx.emit(
    makeEvent('call.started', { ...ctx, occurred_at: isoMs(at) }, { call_id: callId }, {
      direction,
      caller_number: caller,
      caller_name: unknownToEmpty(h.CallerIDName) || undefined,
      called_number: h.Exten ?? '',
      extension: placedBy,
    }),
  );
  return call;
}

export function trackChannel(st: TranslatorState, cx: Cx, h: Record<string, string>, callId: string, at: number, ctx = cx.ctx): Channel {
  const u = h.Uniqueid!;
  let ch = st.channels.get(u);
  if (!ch) {
    const call = ensureCall(st, cx, callId, h, at, ctx);
    ch = { uniqueid: u, callId, name: h.Channel ?? '', hangupRequested: false };
    st.channels.set(u, ch);
    call.channels.add(u);
  }
  return ch;
}

export function endCall(st: TranslatorState, cx: Cx, call: Call, ctx: EventContext, inGap = false): void {
  st.calls.delete(call.id);
  const end = Date.parse(ctx.occurred_at);
  const answered = call.answeredAt > 0;
  const disposition = call.cdr?.disposition ?? dispositionFromCause(call.cause?.code ?? 0, answered);
  const raw = call.cdr?.raw ?? (call.cause ? call.cause.text || `cause ${call.cause.code}` : 'unknown');
  cx.emit(
    makeEvent('call.ended', ctx, { call_id: call.id }, {
      disposition,
      raw_disposition: raw,
      hangup_cause: call.cause?.code,
      hangup_cause_text: call.cause?.text || undefined,
      duration_ms: Math.max(0, end - call.startedAt),
      billsec_ms: answered ? Math.max(0, end - call.answeredAt) : 0,
      direction: call.direction,
      extension: call.extension,
      ended_in: inGap ? 'gap' : undefined,
    }),
  );
}

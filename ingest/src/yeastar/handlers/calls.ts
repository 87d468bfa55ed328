// Call-status reports (P 30011, S CallStatus), inbound invites, forwards and failed calls.
import { makeEvent } from '@callboard/schemas';
import { drop, ok } from '../../pipeline.ts';
import { eventCtx, failedDisposition, type Handler } from '../state.ts';
import { call, start } from '../ops/calls.ts';
import { snapshot } from '../ops/snapshot.ts';

export const callStatus: Handler<'call_status'> = (st, msg, cx) => {
  snapshot(st, cx, msg.call_id, msg.members, cx.t, false);
  return ok(cx.out);
};

export const inboundInvite: Handler<'inbound_invite'> = (st, msg, cx) => {
  start(cx, call(st, msg.call_id, cx.t), msg.members, cx.t);
  return ok(cx.out);
};

// A forward report lists only the forwarding party, not the whole call, so it is not a
// snapshot; the following call-status reports carry the resulting legs.
export const forward: Handler<'forward'> = (_st, msg) =>
  drop(`call ${msg.call_id} forwarded: no canonical fact of its own (following call status reports carry the legs)`);

export const callFailed: Handler<'call_failed'> = (st, msg, cx) => {
  const { t } = cx;
  const callId = msg.call_id;
  const c = call(st, callId, t);
  start(cx, c, msg.members, t);
  cx.out.push(
    makeEvent(
      'call.ended',
      eventCtx(cx, t, `${callId}|ended`),
      { call_id: callId },
      {
        disposition: failedDisposition(msg.reason),
        raw_disposition: msg.reason || 'CallFailed',
        duration_ms: Math.max(0, t - c.started_at),
        billsec_ms: 0,
        direction: c.direction,
        extension: msg.members.find((m) => m.role === 'extension')?.number || undefined,
      },
    ),
  );
  c.cdr_seen = true;
  for (const s of Object.values(c.members)) s.done = true;
  delete st.calls[callId];
  return ok(cx.out);
};

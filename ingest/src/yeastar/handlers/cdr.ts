// The CDR (P 30012, S NewCdr): the authoritative end of a call (call.ended), with PBX-local times
// converted with the PBX zone (time.ts); it starts the call too when no status report did.
import { makeEvent, type Direction } from '@callboard/schemas';
import { dlq, ok } from '../../pipeline.ts';
import { MAX_CALL_MS, eventCtx, mapDisposition, type Handler } from '../state.ts';
import { callIdEpochMs, yeastarLocalToUtc } from '../time.ts';

export const cdr: Handler<'cdr'> = (st, m, cx) => {
  // An unknown status still ends the call: FAILED with the raw value kept, as the AMI path does.
  const disposition = mapDisposition(m.status) ?? 'FAILED';
  const hint = callIdEpochMs(m.call_id);
  let startMs: number;
  if (m.start_utc_ms !== undefined) startMs = m.start_utc_ms;
  else {
    const r = yeastarLocalToUtc(m.time_start, cx.opts.timezone, hint);
    if (!r)
      return dlq(
        'BAD_TIMESTAMP',
        `CDR of call ${m.call_id}: time_start "${m.time_start}" is not a Yeastar local time (PBX ${cx.opts.pbx_id}, zone ${cx.opts.timezone})`,
        '/time_start',
      );
    startMs = r.ms;
  }
  const type = m.type.trim().toLowerCase();
  const direction: Direction =
    type === 'inbound' || type === 'outbound' || type === 'internal' ? type : m.src_trunk ? 'inbound' : m.dst_trunk ? 'outbound' : 'internal';
  const extension = direction === 'inbound' ? m.call_to : m.call_from;
  const out = cx.out;
  const c = st.calls[m.call_id];
  if (!c?.started) {
    out.push(
      makeEvent(
        'call.started',
        eventCtx(cx, startMs, `${m.call_id}|started`),
        { call_id: m.call_id },
        {
          direction,
          caller_number: m.call_from,
          called_number: m.call_to,
          extension: direction === 'inbound' ? undefined : m.call_from || undefined,
          trunk: (direction === 'inbound' ? m.src_trunk : m.dst_trunk) || undefined,
        },
      ),
    );
  }
  const durationMs = Math.round(m.duration_s * 1000);
  if (!(durationMs >= 0 && durationMs <= MAX_CALL_MS))
    return dlq(
      'INVALID_FIELD',
      `CDR of call ${m.call_id}: duration ${m.duration_s} s is not a call duration (0 to ${MAX_CALL_MS / 86_400_000} days)`,
      '/call_duration',
    );
  out.push(
    makeEvent(
      'call.ended',
      eventCtx(cx, startMs + durationMs, `${m.call_id}|ended`),
      { call_id: m.call_id },
      {
        disposition,
        raw_disposition: m.status,
        duration_ms: durationMs,
        // The PBX's own talk time, whatever the disposition (a voicemail talks too), as the AMI
        // path keeps Asterisk's billsec.
        billsec_ms: Math.round(Math.max(0, Math.min(m.talk_s, m.duration_s)) * 1000),
        direction,
        extension: extension || undefined,
      },
    ),
  );
  if (c) {
    c.cdr_seen = true;
    if (Object.values(c.members).every((s) => s.done)) delete st.calls[m.call_id];
  }
  return ok(out);
};

// Test helper: canonical events for one tenant built through the real makeEvent, so the fold
// and the API see exactly what ingest produces.
import { makeEvent, type CanonicalEvent, type EventOf, type EventType } from '@callboard/schemas';

let n = 0;
export function ev<T extends EventType>(
  type: T,
  at: string,
  subject: { call_id: string } | { agent_id: string },
  payload: EventOf<T>['payload'],
  tenant = 'acme',
): CanonicalEvent {
  n++;
  return makeEvent(
    type,
    { tenant_id: tenant, pbx_id: `${tenant}-pbx`, source: 'simulator', occurred_at: at, received_at: at, raw_ref: { topic: 'pbx.raw.v1', partition: 0, offset: String(n) }, vendor_key: `k${n}|${Math.random()}` },
    subject as never,
    payload,
  ) as CanonicalEvent;
}

/** A queue call: queued at `at`, then answered after `waitS` or abandoned/exited. */
export function queueCall(opts: { tenant?: string; call: string; queue: string; at: string; waitS: number; outcome: 'answered' | 'abandoned' | 'exited' | 'waiting'; agent?: string; talkS?: number; holdS?: number }): CanonicalEvent[] {
  const t = opts.tenant ?? 'acme';
  const leg = `${opts.call}:${opts.queue}:1`;
  const start = Date.parse(opts.at);
  const iso = (s: number) => new Date(start + s * 1000).toISOString();
  const c = { call_id: opts.call };
  const out: CanonicalEvent[] = [
    ev('call.started', opts.at, c, { direction: 'inbound', caller_number: `+2547${opts.call.replace(/\D/g, '').padStart(8, '0').slice(-8)}`, called_number: '0800' }, t),
    ev('call.queued', opts.at, c, { queue: opts.queue, leg_id: leg, position: 1, caller_number: '+254700000001' }, t),
  ];
  const w = opts.waitS * 1000;
  if (opts.outcome === 'answered') {
    const agent = opts.agent ?? '1001';
    const talk = (opts.talkS ?? 60) * 1000;
    const hold = (opts.holdS ?? 0) * 1000;
    out.push(ev('call.answered', iso(opts.waitS), c, { agent_id: agent, queue: opts.queue, leg_id: leg, wait_ms: w }, t));
    out.push(ev('call.agent_completed', iso(opts.waitS + talk / 1000), c, { agent_id: agent, queue: opts.queue, leg_id: leg, reason: 'caller', talk_ms: talk, hold_ms: hold, wrap_ms: 0 }, t));
    out.push(ev('call.ended', iso(opts.waitS + talk / 1000), c, { disposition: 'ANSWERED', raw_disposition: 'ANSWERED', duration_ms: w + talk, billsec_ms: talk, direction: 'inbound' }, t));
  } else if (opts.outcome === 'abandoned') {
    out.push(ev('call.abandoned', iso(opts.waitS), c, { queue: opts.queue, leg_id: leg, wait_ms: w, position: 1 }, t));
    out.push(ev('call.ended', iso(opts.waitS), c, { disposition: 'NO ANSWER', raw_disposition: 'NO ANSWER', duration_ms: w, billsec_ms: 0, direction: 'inbound' }, t));
  } else if (opts.outcome === 'exited') {
    out.push(ev('call.left_queue', iso(opts.waitS), c, { queue: opts.queue, leg_id: leg, reason: 'timeout', wait_ms: w }, t));
    out.push(ev('call.ended', iso(opts.waitS), c, { disposition: 'NO ANSWER', raw_disposition: 'NO ANSWER', duration_ms: w, billsec_ms: 0, direction: 'inbound' }, t));
  }
  return out;
}

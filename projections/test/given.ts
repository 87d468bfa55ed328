// Given/when/then helpers (STYLE 4): build realistic canonical events for one call or agent with
// the schemas' own makeEvent, so tests never hand-roll an envelope.
import { makeEvent, type CanonicalEvent, type EventType, type EventOf } from '@callboard/schemas';

let n = 0;
const iso = (t: number) => new Date(t).toISOString();

export function ev<T extends EventType>(type: T, tenant: string, at: number, subject: { call_id: string } | { agent_id: string }, payload: EventOf<T>['payload'], key?: string): EventOf<T> {
  return makeEvent(
    type,
    {
      tenant_id: tenant,
      pbx_id: 'pbx-1',
      source: 'simulator',
      occurred_at: iso(at),
      received_at: iso(at + 5),
      raw_ref: null,
      vendor_key: key ?? `${JSON.stringify(subject)}|${type}|${at}|${n++}`,
    },
    subject as never,
    payload,
  );
}

export interface CallSpec {
  tenant?: string;
  call_id: string;
  /** When the call entered the queue (ms). */
  at: number;
  queue?: string;
  outcome: 'answered' | 'abandoned' | 'exited' | 'waiting';
  wait_s: number;
  agent?: string;
  talk_s?: number;
  hold_s?: number;
  /** Hold reported as held/resumed events instead of in agent_completed. */
  hold_events?: boolean;
  wrap_s?: number;
  transfer?: boolean;
  /** Raw CDR disposition to report on call.ended. */
  raw_disposition?: string;
  direction?: 'inbound' | 'outbound' | 'internal';
  extension?: string;
}

/** The canonical events of one queued call, deterministic in its spec. */
export function queuedCall(s: CallSpec): CanonicalEvent[] {
  const t = s.tenant ?? 'acme';
  const c = { call_id: s.call_id };
  const q = s.queue ?? 'sales';
  const leg = `${s.call_id}:${q}:1`;
  const k = (x: string) => `${s.call_id}|${x}`;
  const start = s.at - 2000;
  const out: CanonicalEvent[] = [
    ev('call.started', t, start, c, { direction: s.direction ?? 'inbound', caller_number: '+254700000001', called_number: '0800', ...(s.extension ? { extension: s.extension } : {}) }, k('start')),
    ev('call.queued', t, s.at, c, { queue: q, leg_id: leg, position: 1 }, k('queued')),
  ];
  const waitMs = Math.round(s.wait_s * 1000);
  const endWait = s.at + waitMs;
  let end = endWait + 100;
  let billsec = 0;
  if (s.outcome === 'answered') {
    const agent = s.agent ?? '1001';
    const talkMs = Math.round((s.talk_s ?? 60) * 1000);
    const holdMs = Math.round((s.hold_s ?? 0) * 1000);
    out.push(ev('call.answered', t, endWait, c, { agent_id: agent, queue: q, leg_id: leg, wait_ms: waitMs }, k('answered')));
    if (s.hold_events && holdMs > 0) {
      out.push(ev('call.held', t, endWait + 1000, c, { agent_id: agent, leg_id: leg }, k('held')));
      out.push(ev('call.resumed', t, endWait + 1000 + holdMs, c, { agent_id: agent, leg_id: leg }, k('resumed')));
    }
    if (s.transfer) out.push(ev('call.transferred', t, endWait + talkMs - 10, c, { kind: 'blind', from_agent_id: agent, to: '2000', queue: q, leg_id: leg }, k('xfer')));
    out.push(
      ev(
        'call.agent_completed',
        t,
        endWait + talkMs,
        c,
        {
          agent_id: agent,
          queue: q,
          leg_id: leg,
          reason: s.transfer ? 'transfer' : 'caller',
          talk_ms: talkMs,
          ...(s.hold_events ? {} : holdMs ? { hold_ms: holdMs } : {}),
          ...(s.wrap_s !== undefined ? { wrap_ms: Math.round(s.wrap_s * 1000) } : {}),
        },
        k('completed'),
      ),
    );
    end = endWait + talkMs + 50;
    billsec = talkMs + 50;
  } else if (s.outcome === 'abandoned') {
    out.push(ev('call.abandoned', t, endWait, c, { queue: q, leg_id: leg, wait_ms: waitMs, position: 1 }, k('abandoned')));
  } else if (s.outcome === 'exited') {
    out.push(ev('call.left_queue', t, endWait, c, { queue: q, leg_id: leg, reason: 'timeout', wait_ms: waitMs }, k('left')));
  }
  if (s.outcome !== 'waiting') {
    const disp = s.outcome === 'answered' ? 'ANSWERED' : 'NO ANSWER';
    out.push(
      ev(
        'call.ended',
        t,
        end,
        c,
        { disposition: disp, raw_disposition: s.raw_disposition ?? disp, duration_ms: end - start, billsec_ms: billsec, direction: s.direction ?? 'inbound', ...(s.extension ? { extension: s.extension } : {}) },
        k('ended'),
      ),
    );
  }
  return out;
}

export function agentState(tenant: string, agent: string, at: number, state: EventOf<'agent.state_changed'>['payload']['state'], reason?: string): CanonicalEvent {
  return ev('agent.state_changed', tenant, at, { agent_id: agent }, { state, ...(reason ? { reason } : {}) }, `${agent}|state|${at}|${state}`);
}

export const utc = (s: string) => Date.parse(s);

/** A gap of the tenant's feed from `from` to `to` (ms), as the ingest adapters report it. */
export function feedGap(tenant: string, from: number, to: number, reason = 'connection lost', pbx = 'pbx-1'): CanonicalEvent {
  const e = ev('source.gap', tenant, to, {} as never, { from: iso(from), to: iso(to), reason }, `gap|${pbx}|${from}|${to}`);
  return { ...e, pbx_id: pbx };
}

/** The shape of a busy queue day: which calls, queues and agents, and how far apart. */
export interface BusyDaySpec {
  tenant: string;
  calls: number;
  /** call ids are `${prefix}${i}` */
  prefix: string;
  /** call i goes to queues[i % queues.length] */
  queues: readonly string[];
  /** agent ids are `${agentPrefix}${i % agents}` */
  agentPrefix: string;
  agents: number;
  start: number;
  callEveryMs: number;
  stateChanges: number;
  stateEveryMs: number;
}

/**
 * A busy queue day for crash, fault and scale-out runs: every outcome, holds (some with hold
 * events), transfers, waits across the SL threshold, and agent state changes cycling through
 * available, on call, paused (Break) and offline.
 */
export function busyQueueDay(d: BusyDaySpec): CanonicalEvent[] {
  const outcomes = ['answered', 'abandoned', 'exited', 'answered', 'answered'] as const;
  const states = ['available', 'on_call', 'paused', 'available', 'offline'] as const;
  const events: CanonicalEvent[] = [];
  for (let i = 0; i < d.calls; i++) {
    events.push(
      ...queuedCall({
        tenant: d.tenant,
        call_id: `${d.prefix}${i}`,
        queue: d.queues[i % d.queues.length]!,
        agent: `${d.agentPrefix}${i % d.agents}`,
        at: d.start + i * d.callEveryMs,
        outcome: outcomes[i % 5]!,
        wait_s: (i * 7) % 90,
        talk_s: 30 + (i % 200),
        hold_s: i % 4 ? 0 : 12,
        hold_events: i % 8 === 0,
        transfer: i % 11 === 0,
      }),
    );
  }
  for (let i = 0; i < d.stateChanges; i++) events.push(agentState(d.tenant, `${d.agentPrefix}${i % d.agents}`, d.start + i * d.stateEveryMs, states[i % 5]!, 'Break'));
  return events;
}

// queue_log lines (and the CDR rows of the calls they name) → canonical events. Pure and
// deterministic: the same lines give the same events with the same ids, so an import run twice
// changes nothing (docs/import.md "Ids and overlap").
//
// Event ids: vendor_key `queue_log|<the line>#<n>`, n counting identical lines within the run of
// lines of that second (an agent paused, unpaused and paused again within a second logs two
// identical PAUSE lines). The line, not its number, is the identity, so a file imported again,
// or two files that overlap (even concatenated into one input), give the same ids. Counting
// within the second, not the file, also keeps memory flat on a year of lines. CDR rows:
// `cdr|<the row>`.
// Agents are named as agents.ts says.
import { QUEUE_LOG_REF_TOPIC, isoMs, makeEvent, type AgentState, type CanonicalEvent, type EventContext, type LeaveReason } from '@callboard/schemas';
import { dlq, drop, ok, type TranslateOutcome } from '../pipeline.ts';
import { AgentNames } from './agents.ts';
import { CallIds, cdrTime, type CdrRow } from './cdr.ts';
import { VERBS, intField, leaveWaitMs, secondsField, type QueueLogLine } from './queue-log.ts';

export interface QueueLogTranslatorOptions {
  tenant_id: string;
  pbx_id: string;
  /** Call ids and CDR rows from Master.csv; absent: queue_log call ids are used as they are. */
  cdr?: CallIds;
  /** CDR local time → epoch ms (`usegmtime=yes`: UTC). */
  cdrToUtc?: (local: string) => number;
  /** Receive time stamped on the events (the import's start), so a re-import gives equal events. */
  received_at?: number;
  /**
   * Epoch ms from which the live adapter saw the PBX: lines at or after it are skipped, except
   * those of calls that entered a queue before it (docs/import.md "Ids and overlap").
   */
  until?: number;
}

interface Leg {
  id: string;
  callId: string;
  queue: string;
  enteredAt: number;
}

interface Agent {
  id: string;
  name: string | undefined;
  queues: Set<string>;
  loggedIn: boolean;
  pausedReason: string | null;
  calls: Set<string>;
  state: AgentState | null;
  reason: string | undefined;
  /** The pause last reported (`pause_reason`), undefined when none. */
  pause: string | undefined;
  /** The call last reported while on one, so a pause taken on it still names it. */
  callId: string | undefined;
  lastAt: string;
  lastId: string;
}

const LEAVE: Record<string, LeaveReason> = { EXITWITHTIMEOUT: 'timeout', EXITWITHKEY: 'key', EXITEMPTY: 'empty' };

export class QueueLogTranslator {
  /** Lines per unknown verb, for the summary. */
  readonly unknownVerbs = new Map<string, number>();
  /** Lines skipped as at or after `until`. */
  skipped = 0;
  private readonly callsBefore = new Set<string>();
  private readonly legs = new Map<string, Leg>();
  private readonly agents = new Map<string, Agent>();
  private readonly names = new AgentNames();
  /** Identical lines seen in the current second (see the ids above). */
  private readonly seenLines = new Map<string, number>();
  private seenAt = NaN;
  private readonly callsWithCdr = new Set<string>();
  private readonly receivedAt: string;

  constructor(readonly o: QueueLogTranslatorOptions) {
    this.receivedAt = isoMs(o.received_at ?? 0);
  }

  translate(l: QueueLogLine): TranslateOutcome {
    if (l.at !== this.seenAt) {
      this.seenLines.clear();
      this.seenAt = l.at;
    }
    const n = (this.seenLines.get(l.text) ?? 0) + 1;
    this.seenLines.set(l.text, n);
    const ctx: EventContext = {
      tenant_id: this.o.tenant_id,
      pbx_id: this.o.pbx_id,
      source: 'ami',
      occurred_at: isoMs(l.at),
      received_at: this.receivedAt,
      raw_ref: { topic: QUEUE_LOG_REF_TOPIC, line: l.line },
      vendor_key: `queue_log|${l.text}#${n}`,
    };
    if (this.o.until !== undefined) {
      if (l.at < this.o.until) {
        if (l.verb === 'ENTERQUEUE') this.callsBefore.add(l.callid);
      } else if (!this.callsBefore.has(l.callid)) {
        this.skipped++;
        return drop('after --until: the live adapter has it');
      }
    }
    if (!VERBS[l.verb]) {
      this.unknownVerbs.set(l.verb, (this.unknownVerbs.get(l.verb) ?? 0) + 1);
      return dlq('UNKNOWN_EVENT_TYPE', `line ${l.line}: unknown queue_log verb ${l.verb}`, 'verb');
    }
    const out: CanonicalEvent[] = [];
    switch (l.verb) {
      case 'ENTERQUEUE':
        return ok(this.enter(l, ctx));
      case 'CONNECT':
      case 'RINGNOANSWER':
      case 'COMPLETEAGENT':
      case 'COMPLETECALLER':
      case 'BLINDTRANSFER':
      case 'ATTENDEDTRANSFER':
      case 'ABANDON':
      case 'EXITWITHTIMEOUT':
      case 'EXITWITHKEY':
      case 'EXITEMPTY':
        return this.onLeg(l, ctx);
      case 'PAUSE':
      case 'PAUSEALL':
      case 'UNPAUSE':
      case 'UNPAUSEALL': {
        const a = this.agentByName(l.agent);
        a.pausedReason = l.verb.startsWith('PAUSE') ? (l.data[0] ?? '') : null;
        this.update(a, ctx, out);
        return ok(out);
      }
      case 'ADDMEMBER':
      case 'REMOVEMEMBER': {
        if (!l.agent.includes('/'))
          return dlq('INVALID_FIELD', `line ${l.line}: ${l.verb} agent ${JSON.stringify(l.agent)} is not a member interface`, 'agent');
        const a = this.agentByInterface(l.agent);
        const joined = l.verb === 'ADDMEMBER';
        if (joined) a.queues.add(l.queue);
        else a.queues.delete(l.queue);
        out.push(
          joined
            ? makeEvent('agent.queue_joined', ctx, { agent_id: a.id }, { queue: l.queue, agent_name: a.name, interface: l.agent, penalty: intField(l, 0) })
            : makeEvent('agent.queue_left', ctx, { agent_id: a.id }, { queue: l.queue, agent_name: a.name }),
        );
        this.update(a, ctx, out);
        return ok(out);
      }
      case 'AGENTLOGIN':
      case 'AGENTCALLBACKLOGIN':
      case 'AGENTLOGOFF':
      case 'AGENTCALLBACKLOGOFF': {
        const a = l.agent.includes('/') ? this.agentByInterface(l.agent) : this.agentByName(l.agent);
        a.loggedIn = l.verb.endsWith('LOGIN');
        if (!a.loggedIn) a.queues.clear();
        this.update(a, ctx, out);
        return ok(out);
      }
      default:
        return drop(`${l.verb}: nothing to count`);
    }
  }

  private callOf(callid: string): string {
    return this.o.cdr ? this.o.cdr.callOf(callid) : callid;
  }

  private enter(l: QueueLogLine, ctx: EventContext): CanonicalEvent[] {
    const callId = this.callOf(l.callid);
    const leg: Leg = { id: `${l.callid}:${l.queue}:${l.at / 1000}`, callId, queue: l.queue, enteredAt: l.at };
    this.legs.set(`${l.callid}|${l.queue}`, leg);
    const out: CanonicalEvent[] = [];
    this.cdrView(callId, out);
    const position = intField(l, 2);
    out.push(
      makeEvent(
        'call.queued',
        ctx,
        { call_id: callId },
        { queue: l.queue, leg_id: leg.id, position: position && position > 0 ? position : 1, caller_number: l.data[1] || undefined },
      ),
    );
    return out;
  }

  /** call.started and call.ended of a call from its first channel's CDR row, once per call. */
  private cdrView(callId: string, out: CanonicalEvent[]): void {
    const row = this.o.cdr?.rows.get(callId);
    if (!row || this.callsWithCdr.has(callId)) return;
    const toUtc = this.o.cdrToUtc ?? ((s: string) => Date.parse(`${s.replace(' ', 'T')}Z`));
    const start = cdrTime(row.start, toUtc);
    const end = cdrTime(row.end, toUtc);
    if (!Number.isFinite(start) || !Number.isFinite(end)) return;
    this.callsWithCdr.add(callId);
    const ctx = (at: number): EventContext => ({
      tenant_id: this.o.tenant_id,
      pbx_id: this.o.pbx_id,
      source: 'ami',
      occurred_at: isoMs(at),
      received_at: this.receivedAt,
      raw_ref: { topic: 'cdr', line: row.line },
      vendor_key: `cdr|${row.text}`,
    });
    out.push(
      makeEvent(
        'call.started',
        ctx(start),
        { call_id: callId },
        {
          direction: 'inbound',
          caller_number: row.src,
          caller_name: callerName(row) || undefined,
          called_number: row.dst,
        },
      ),
      makeEvent(
        'call.ended',
        ctx(end),
        { call_id: callId },
        {
          disposition: disposition(row.disposition),
          raw_disposition: row.disposition,
          duration_ms: row.duration * 1000,
          billsec_ms: row.billsec * 1000,
          direction: 'inbound',
        },
      ),
    );
  }

  private onLeg(l: QueueLogLine, ctx: EventContext): TranslateOutcome {
    const leg = this.legs.get(`${l.callid}|${l.queue}`);
    const callId = leg?.callId ?? this.callOf(l.callid);
    if (l.callid === 'NONE' || l.callid === '') return dlq('MISSING_FIELD', `line ${l.line}: ${l.verb} without a call id`, 'callid');
    const out: CanonicalEvent[] = [];
    const call = { call_id: callId };
    const legRef = { queue: l.queue, leg_id: leg?.id };
    switch (l.verb) {
      case 'RINGNOANSWER': {
        const a = this.agentByName(l.agent);
        out.push(makeEvent('call.ring_no_answer', ctx, call, { agent_id: a.id, agent_name: a.name, ...legRef, ring_ms: Number(l.data[0]) }));
        break;
      }
      case 'CONNECT': {
        const a = this.agentByName(l.agent);
        const ring = intField(l, 2);
        out.push(
          makeEvent('call.answered', ctx, call, {
            agent_id: a.id,
            agent_name: a.name,
            ...legRef,
            wait_ms: secondsField(l, 0),
            ring_ms: ring !== undefined ? ring * 1000 : undefined,
          }),
        );
        a.calls.add(callId);
        this.update(a, ctx, out, callId);
        break;
      }
      case 'COMPLETEAGENT':
      case 'COMPLETECALLER':
      case 'BLINDTRANSFER':
      case 'ATTENDEDTRANSFER': {
        const a = this.agentByName(l.agent);
        const transfer = l.verb.endsWith('TRANSFER');
        if (transfer) {
          out.push(
            makeEvent('call.transferred', ctx, call, {
              kind: l.verb === 'BLINDTRANSFER' ? 'blind' : 'attended',
              from_agent_id: a.id,
              to: l.verb === 'BLINDTRANSFER' ? `${l.data[0]}@${l.data[1]}` : `${l.data[0]}:${l.data[1]}`,
              ...legRef,
            }),
          );
        }
        out.push(
          makeEvent('call.agent_completed', ctx, call, {
            agent_id: a.id,
            agent_name: a.name,
            ...legRef,
            reason: transfer ? 'transfer' : l.verb === 'COMPLETEAGENT' ? 'agent' : 'caller',
            talk_ms: secondsField(l, transfer ? 3 : 1),
          }),
        );
        a.calls.delete(callId);
        this.update(a, ctx, out, callId);
        this.legs.delete(`${l.callid}|${l.queue}`);
        break;
      }
      case 'ABANDON': {
        if (!leg) return dlq('UNMATCHED', `line ${l.line}: ABANDON of call ${l.callid} in ${l.queue} without its ENTERQUEUE`);
        out.push(
          makeEvent('call.abandoned', ctx, call, {
            queue: l.queue,
            leg_id: leg.id,
            wait_ms: leaveWaitMs(l, leg.enteredAt),
            position: Math.max(1, intField(l, 0) ?? 1),
            original_position: positive(intField(l, 1)),
          }),
        );
        this.legs.delete(`${l.callid}|${l.queue}`);
        break;
      }
      default: {
        if (!leg) return dlq('UNMATCHED', `line ${l.line}: ${l.verb} of call ${l.callid} in ${l.queue} without its ENTERQUEUE`);
        out.push(
          makeEvent('call.left_queue', ctx, call, {
            queue: l.queue,
            leg_id: leg.id,
            reason: LEAVE[l.verb] ?? 'other',
            wait_ms: leaveWaitMs(l, leg.enteredAt),
            position: positive(intField(l, l.verb === 'EXITWITHKEY' ? 1 : 0)),
          }),
        );
        this.legs.delete(`${l.callid}|${l.queue}`);
      }
    }
    return ok(out);
  }

  private newAgent(id: string, name: string | undefined): Agent {
    const a: Agent = {
      id,
      name,
      queues: new Set(),
      loggedIn: false,
      pausedReason: null,
      calls: new Set(),
      state: null,
      reason: undefined,
      pause: undefined,
      callId: undefined,
      lastAt: '',
      lastId: '',
    };
    this.agents.set(id, a);
    return a;
  }

  private agentByInterface(iface: string): Agent {
    const id = this.names.idOf(iface);
    return this.agents.get(id) ?? this.newAgent(id, undefined);
  }

  private agentByName(name: string): Agent {
    const id = this.names.idOf(name);
    const a = this.agents.get(id) ?? this.newAgent(id, name);
    a.name ??= name;
    return a;
  }

  /** Emits agent.state_changed when the agent's derived state or pause reason changed. */
  private update(a: Agent, ctx: EventContext, out: CanonicalEvent[], callId?: string): void {
    const member = a.queues.size > 0 || a.loggedIn;
    const state: AgentState = a.calls.size > 0 ? 'on_call' : !member ? 'offline' : a.pausedReason !== null ? 'paused' : 'available';
    const reason = state === 'paused' ? a.pausedReason || undefined : undefined;
    // A pause taken or ended on a call leaves the state on_call but is a change all the same:
    // pause_time_by_reason runs from the pause to the unpause (or logoff), whatever the agent
    // did meanwhile (METRICS.md), as the AMI translator reports it.
    const pause = state !== 'offline' ? (a.pausedReason ?? undefined) : undefined;
    if (state === a.state && reason === a.reason && pause === a.pause) return;
    a.state = state;
    a.reason = reason;
    a.pause = pause;
    a.callId = state === 'on_call' ? (callId ?? a.callId) : undefined;
    const payload = { state, reason, agent_name: a.name, call_id: a.callId, pause_reason: pause };
    let e = makeEvent('agent.state_changed', ctx, { agent_id: a.id }, payload);
    // Whole-second times make two changes of one agent in one second common (a call completes
    // and the next connects); projections order a millisecond's changes by event id, so the
    // later change gets a part that sorts last, as the AMI translator does.
    for (let n = 1; e.occurred_at === a.lastAt && e.event_id <= a.lastId; n++)
      e = makeEvent('agent.state_changed', { ...ctx, part: n }, { agent_id: a.id }, payload);
    a.lastAt = e.occurred_at;
    a.lastId = e.event_id;
    out.push(e);
  }
}

function positive(n: number | undefined): number | undefined {
  return n !== undefined && n > 0 ? n : undefined;
}

function callerName(r: CdrRow): string {
  const m = /^"(.*)" <.*>$/.exec(r.clid);
  return m ? m[1]! : '';
}

function disposition(raw: string) {
  const d = raw.trim().toUpperCase();
  if (d === 'ANSWERED' || d === 'NORMAL') return 'ANSWERED' as const;
  if (d === 'BUSY') return 'BUSY' as const;
  if (d === 'FAILED') return 'FAILED' as const;
  if (d === 'CONGESTION') return 'CONGESTION' as const;
  return 'NO ANSWER' as const;
}

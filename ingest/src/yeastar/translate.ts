// Yeastar → canonical events. Pure and deterministic: the translator folds normalised vendor
// messages (messages.ts) into its state and returns the canonical facts each one reveals, with
// `makeEvent`. Same input sequence and receive times → same events, byte for byte.
//
// Shape of the facts matches the AMI path (schemas/src/events.ts, schemas/src/examples.ts):
// call_id = the Yeastar call id (the linked id of the whole call), agent_id = extension number,
// leg_id = `${call_id}:${queue}:${n}` (n-th entry of this call into that queue).
//
// Yeastar call-status events (P 30011, S CallStatus) are snapshots of the whole call's member
// list with no timestamp; per-member transitions come from diffing consecutive snapshots and
// are stamped with the receive time. The CDR (P 30012, S NewCdr) is the authoritative end of the
// call (call.ended) and carries PBX-local times, converted with the PBX zone (time.ts).
//
// Event ids: every fact has a vendor key naming the fact, not the message (`${call_id}|${channel}|answer`),
// so the same fact revealed twice (a re-sent report, a snapshot repeated after a reconnect, the
// CDR and the call-status path both starting a call) gets the same event id and is deduplicated.
import {
  CALL_STATES,
  makeEvent,
  type AgentState,
  type CanonicalEvent,
  type Direction,
  type Disposition,
  type EventContext,
  type RawRef,
  type Source,
} from '@callboard/schemas';
import { dlq, drop, ok, translating, type TranslateOutcome } from '../pipeline.ts';
import type { AgentSnapshot, CdrMessage, LiveCall, Member, YeastarMessage } from './messages.ts';
import { callIdEpochMs, yeastarLocalToUtc } from './time.ts';

export interface TranslatorOptions {
  tenant_id: string;
  pbx_id: string;
  source: Extract<Source, 'yeastar-p' | 'yeastar-s'>;
  /** IANA zone of the PBX's local timestamps (PbxConfig.timezone). */
  timezone: string;
  /**
   * Numbers of the PBX's queues. `call_path` names whatever object the call passed (IVR, queue,
   * ring group …); only these numbers open queue legs. Empty: every non-empty call_path is taken
   * as a queue (documented assumption; configure the queues to avoid counting IVRs).
   */
  queues?: readonly string[];
}

export interface MessageMeta {
  /** When the adapter received the vendor message (UTC ISO with ms). */
  received_at: string;
  raw_ref: RawRef | null;
}

type MemberPhase = 'ringing' | 'connected' | 'held' | 'gone' | 'other';

interface MemberState {
  role: Member['role'];
  number: string;
  status: string;
  call_path: string;
  caller_side: boolean;
  ring_at?: number;
  answer_at?: number;
  hold_at?: number;
  hold_ms: number;
  holds: number;
  done: boolean;
  queue?: string;
  leg_id?: string;
  /**
   * Answered while another agent of the call held it: an attended transfer's consultation. The
   * agent is on the call but credited with it only from the transfer (METRICS.md handled);
   * `consult_ring_ms` is the consultation's ring, reported as the answer's ring and wait.
   */
  consult?: boolean;
  consult_ring_ms?: number;
}

interface LegState {
  queue: string;
  leg_id: string;
  queued_at: number;
  position: number;
  status: 'waiting' | 'answered' | 'abandoned' | 'exited';
}

interface CallState {
  call_id: string;
  started: boolean;
  started_at: number;
  direction: Direction;
  members: Record<string, MemberState>;
  legs: LegState[];
  caller_gone: boolean;
  answered: boolean;
  cdr_seen: boolean;
  last_seen: number;
}

interface AgentStateRec {
  /** Extension status from 30008 / ExtensionStatus: ringing | busy | idle. */
  ext: 'ringing' | 'busy' | 'idle';
  registered: boolean;
  paused: boolean;
  pause_reason?: string;
  wrap_up: boolean;
  /** Live call members of this agent: `${call_id}|${channel}` → phase. */
  active: Record<string, MemberPhase>;
  /** Queues the agent is logged in to, once the PBX has told us (queue/agent_status, 30029). */
  queues: string[];
  membership_known: boolean;
  state?: AgentState;
  reason?: string;
  /** The pause in force when the last change was emitted, and the call that change named. */
  pause?: string;
  call_id?: string;
}

export interface TranslatorState {
  calls: Record<string, CallState>;
  agents: Record<string, AgentStateRec>;
  /** Latest receive time seen (epoch ms). */
  now: number;
}

const STALE_CALL_MS = 6 * 3_600_000;

export function emptyState(): TranslatorState {
  return { calls: {}, agents: {}, now: 0 };
}

function phaseOf(status: string): MemberPhase {
  switch (status) {
    case 'RING':
    case 'ALERT':
    case 'EARLYMEDIA':
      return 'ringing';
    case 'ANSWER':
    case 'ANSWERED':
      return 'connected';
    case 'HOLD':
      return 'held';
    case 'BYE':
      return 'gone';
    default:
      return 'other';
  }
}

/** Canonical disposition of a Yeastar CDR status (reference §2.5, §3.6); undefined when unknown. */
export function mapDisposition(raw: string): Disposition | undefined {
  const s = raw.trim().toUpperCase().replace(/\s+/g, ' ');
  switch (s) {
    case 'ANSWERED':
    case 'ANSWERD': // (sic) P-Series doc and zh-cn S-Series doc
    case 'ANSWER':
      return 'ANSWERED';
    case 'NO ANSWER':
    case 'NO ANSWERED': // (sic) S-Series v2 en doc
    case 'NOANSWER':
    case 'VOICEMAIL': // the called party did not answer; the PBX's voicemail did
    case 'ABANDONED':
      return 'NO ANSWER';
    case 'BUSY':
      return 'BUSY';
    case 'FAILED':
      return 'FAILED';
    case 'CONGESTION':
      return 'CONGESTION';
    default:
      return undefined;
  }
}

/** Canonical disposition of a call-failed reason (a SIP reason line or a PBX message). */
export function failedDisposition(reason: string): Disposition {
  if (/\b486\b|\b600\b|busy/i.test(reason)) return 'BUSY';
  if (/\b503\b|congest/i.test(reason)) return 'CONGESTION';
  if (/\b480\b|\b408\b|no answer|timeout/i.test(reason)) return 'NO ANSWER';
  return 'FAILED';
}

/** Longest call a CDR may report; anything longer is a corrupt value, not a call. */
const MAX_CALL_MS = 7 * 86_400_000;

export class YeastarTranslator {
  readonly state: TranslatorState;

  constructor(
    readonly opts: TranslatorOptions,
    state?: TranslatorState,
  ) {
    this.state = state ?? emptyState();
  }

  private ctx(meta: MessageMeta, at: number, vendor_key: string, part?: string | number): EventContext {
    return {
      tenant_id: this.opts.tenant_id,
      pbx_id: this.opts.pbx_id,
      source: this.opts.source,
      occurred_at: new Date(at).toISOString(),
      received_at: meta.received_at,
      raw_ref: meta.raw_ref,
      vendor_key: `${this.opts.pbx_id}|${vendor_key}`,
      ...(part !== undefined ? { part } : {}),
    };
  }

  private isQueue(path: string): boolean {
    if (!path) return false;
    const qs = this.opts.queues;
    return !qs || qs.length === 0 || qs.includes(path);
  }

  /** Translates one normalised vendor message received at meta.received_at. */
  translate(msg: YeastarMessage, meta: MessageMeta): TranslateOutcome {
    const t = Date.parse(meta.received_at);
    if (!Number.isFinite(t)) return dlq('BAD_TIMESTAMP', `received_at "${meta.received_at}" is not a time`);
    this.state.now = Math.max(this.state.now, t);
    this.sweep(t);
    const out: CanonicalEvent[] = [];
    switch (msg.kind) {
      case 'call_status':
        this.snapshot(msg.call_id, msg.members, t, meta, out, false);
        return ok(out);
      case 'transfer':
        this.transfer(msg.call_id, msg.members, t, meta, out);
        return ok(out);
      case 'forward':
        // A forward report lists only the forwarding party, not the whole call, so it is not a
        // snapshot; the following call-status reports carry the resulting legs.
        return drop(`call ${msg.call_id} forwarded: no canonical fact of its own (following call status reports carry the legs)`);
      case 'inbound_invite':
        this.start(this.call(msg.call_id, t), msg.members, t, meta, out);
        return ok(out);
      case 'call_failed':
        this.failed(msg.call_id, msg.reason, msg.members, t, meta, out);
        return ok(out);
      case 'cdr':
        return this.cdr(msg, meta);
      case 'extension_status':
        return this.extensionStatus(msg.extension, msg.status, t, meta);
      case 'agent_status':
        return this.agentStatus(msg.agent, msg.queue, msg.status, msg.reason, t, meta);
      case 'agent_auto_pause': {
        const a = this.agent(msg.agent);
        a.paused = true;
        a.pause_reason = 'auto-pause (missed calls)';
        this.agentEvent(msg.agent, t, meta, `autopause|${msg.queue}|${msg.calls.map((c) => c.call_id).join(',')}`, out);
        return ok(out);
      }
      case 'info':
        return drop(`${msg.name}: no call-centre fact (raw event kept)`);
    }
  }

  // ---- calls ----------------------------------------------------------------------------------

  private call(callId: string, t: number): CallState {
    let c = this.state.calls[callId];
    if (!c) {
      c = {
        call_id: callId,
        started: false,
        started_at: t,
        direction: 'internal',
        members: {},
        legs: [],
        caller_gone: false,
        answered: false,
        cdr_seen: false,
        last_seen: t,
      };
      this.state.calls[callId] = c;
    }
    c.last_seen = Math.max(c.last_seen, t);
    return c;
  }

  private start(c: CallState, members: Member[], t: number, meta: MessageMeta, out: CanonicalEvent[]): void {
    if (c.started) return;
    c.started = true;
    c.started_at = t;
    const inbound = members.find((m) => m.role === 'inbound');
    const outbound = members.find((m) => m.role === 'outbound');
    const exts = members.filter((m) => m.role === 'extension');
    const callerExt = exts.find((m) => m.status === 'ALERT' || m.status === 'ANSWERED') ?? exts[0];
    let payload: { direction: Direction; caller_number: string; called_number: string; extension?: string; trunk?: string };
    if (inbound) {
      payload = { direction: 'inbound', caller_number: inbound.from, called_number: inbound.to, trunk: inbound.trunk || undefined };
    } else if (outbound) {
      const ext = callerExt?.number || outbound.from;
      payload = {
        direction: 'outbound',
        caller_number: outbound.from || ext,
        called_number: outbound.to,
        extension: ext || undefined,
        trunk: outbound.trunk || undefined,
      };
    } else {
      const called = exts.find((m) => m !== callerExt);
      payload = {
        direction: 'internal',
        caller_number: callerExt?.number ?? '',
        called_number: called?.number ?? '',
        extension: callerExt?.number || undefined,
      };
    }
    c.direction = payload.direction;
    out.push(makeEvent('call.started', this.ctx(meta, t, `${c.call_id}|started`), { call_id: c.call_id }, payload));
  }

  private memberKey(m: Member): string {
    return m.channel_id || `${m.role}:${m.number || m.from || m.to}`;
  }

  /** The queue the caller currently sits in, from the caller-side member's call_path. */
  private openLeg(c: CallState, queue: string, t: number, callerNumber: string, meta: MessageMeta, out: CanonicalEvent[]): LegState {
    const current = c.legs.at(-1);
    if (current && current.queue === queue && (current.status === 'waiting' || current.status === 'answered')) return current;
    if (current && current.status === 'waiting') this.leaveLeg(c, current, 'other', t, meta, out);
    const n = c.legs.filter((l) => l.queue === queue).length + 1;
    const waiting = Object.values(this.state.calls).reduce((k, x) => k + x.legs.filter((l) => l.queue === queue && l.status === 'waiting').length, 0);
    const leg: LegState = { queue, leg_id: `${c.call_id}:${queue}:${n}`, queued_at: t, position: waiting + 1, status: 'waiting' };
    c.legs.push(leg);
    out.push(
      makeEvent(
        'call.queued',
        this.ctx(meta, t, `${c.call_id}|leg|${leg.leg_id}`),
        { call_id: c.call_id },
        { queue, leg_id: leg.leg_id, position: leg.position, caller_number: callerNumber || undefined },
      ),
    );
    return leg;
  }

  /** Where a waiting leg stands now: 1 + legs of its queue still waiting that entered before it. */
  private currentPosition(leg: LegState): number {
    let ahead = 0;
    for (const c of Object.values(this.state.calls)) {
      for (const l of c.legs) if (l !== leg && l.queue === leg.queue && l.status === 'waiting' && l.queued_at < leg.queued_at) ahead++;
    }
    return ahead + 1;
  }

  private leaveLeg(c: CallState, leg: LegState, reason: 'other' | 'transfer', t: number, meta: MessageMeta, out: CanonicalEvent[]): void {
    const position = this.currentPosition(leg);
    leg.status = 'exited';
    out.push(
      makeEvent(
        'call.left_queue',
        this.ctx(meta, t, `${c.call_id}|${leg.leg_id}|left`),
        { call_id: c.call_id },
        { queue: leg.queue, leg_id: leg.leg_id, reason, wait_ms: Math.max(0, t - leg.queued_at), position },
      ),
    );
  }

  /**
   * Applies a member list. `partial`: the list is not the whole call (a transfer report), so
   * members missing from it are left alone instead of being taken as gone.
   */
  private snapshot(callId: string, members: Member[], t: number, meta: MessageMeta, out: CanonicalEvent[], partial: boolean): void {
    const c = this.call(callId, t);
    this.start(c, members, t, meta, out);
    const isNewCall = Object.keys(c.members).length === 0;

    // Which member is the customer / caller side: the trunk leg of an inbound call, otherwise
    // the extension that placed the call (ALERT when first seen).
    const seen = new Map<string, Member>();
    for (const m of members) seen.set(this.memberKey(m), m);
    const placing = (m: Member) => m.role === 'extension' && (m.status === 'ALERT' || m.status === 'ANSWERED');
    // No extension shows the caller's statuses: the first extension of a new call placed it.
    const firstExt = isNewCall && !members.some(placing) ? members.find((x) => x.role === 'extension') : undefined;
    for (const [k, m] of seen) {
      if (c.members[k]) continue;
      const callerSide = m.role === 'inbound' || (m.role === 'extension' && c.direction !== 'inbound' && (placing(m) || m === firstExt));
      c.members[k] = { role: m.role, number: m.number, status: '', call_path: m.call_path, caller_side: callerSide, hold_ms: 0, holds: 0, done: false };
    }

    // Queue position of the caller: the caller-side member's call_path (any member's when the caller has none).
    const callerMember = members.find((m) => c.members[this.memberKey(m)]?.caller_side);
    const callerNumber = members.find((m) => m.role === 'inbound')?.from ?? callerMember?.number ?? '';
    const path = callerMember?.call_path || members.find((m) => m.call_path)?.call_path || '';
    const callerGoneNow =
      (callerMember !== undefined && phaseOf(callerMember.status) === 'gone') ||
      (!partial && callerMember === undefined && Object.values(c.members).some((x) => x.caller_side)) ||
      (!partial && members.length > 0 && members.every((m) => phaseOf(m.status) === 'gone'));
    if (this.isQueue(path) && !c.caller_gone && !callerGoneNow) this.openLeg(c, path, t, callerNumber, meta, out);
    else {
      const current = c.legs.at(-1);
      // The caller left the queue for somewhere else (failover to voicemail, IVR, another destination).
      if (
        current &&
        current.status === 'waiting' &&
        !callerGoneNow &&
        callerMember &&
        callerMember.call_path !== current.queue &&
        !members.some((m) => m.call_path === current.queue && phaseOf(m.status) === 'ringing')
      ) {
        this.leaveLeg(c, current, 'other', t, meta, out);
      }
    }
    const leg = c.legs.at(-1);

    // Answers first, so that other ringing members of the same leg are known as ring-all losers.
    const order = [...seen.entries()].sort(([, a], [, b]) => Number(phaseOf(b.status) === 'connected') - Number(phaseOf(a.status) === 'connected'));
    for (const [k, m] of order) this.member(c, k, m, leg, callerGoneNow, t, meta, out);
    if (!partial) {
      for (const [k, ms] of Object.entries(c.members)) {
        if (!seen.has(k) && !ms.done) this.member(c, k, { ...ms, channel_id: k, from: '', to: '', trunk: '', status: 'BYE' }, leg, callerGoneNow, t, meta, out);
      }
    }
    if (callerGoneNow && !c.caller_gone) {
      c.caller_gone = true;
      if (leg && leg.status === 'waiting') {
        const position = this.currentPosition(leg);
        leg.status = 'abandoned';
        out.push(
          makeEvent(
            'call.abandoned',
            this.ctx(meta, t, `${c.call_id}|${leg.leg_id}|abandoned`),
            { call_id: c.call_id },
            {
              queue: leg.queue,
              leg_id: leg.leg_id,
              wait_ms: Math.max(0, t - leg.queued_at),
              position,
              original_position: leg.position,
            },
          ),
        );
      }
    }
    if (c.cdr_seen && Object.values(c.members).every((m) => m.done)) delete this.state.calls[callId];
  }

  private member(
    c: CallState,
    key: string,
    m: Member,
    leg: LegState | undefined,
    callerGoneNow: boolean,
    t: number,
    meta: MessageMeta,
    out: CanonicalEvent[],
  ): void {
    const s = c.members[key]!;
    if (s.done) return;
    const prev = phaseOf(s.status);
    const next = phaseOf(m.status);
    if (m.status) s.status = m.status;
    if (m.call_path) s.call_path = m.call_path;
    if (m.status === '' || prev === next) return;
    const id = { call_id: c.call_id };
    const agentSide = s.role === 'extension' && !s.caller_side;
    const agentKey = `${c.call_id}|${key}`;

    if (s.caller_side || s.role !== 'extension') {
      if (next === 'connected' && s.role === 'outbound') c.answered = true;
      if (s.role === 'extension') {
        // An extension that placed the call can hold it too (internal and outbound calls).
        if (next === 'held') {
          s.holds++;
          s.hold_at = t;
          out.push(makeEvent('call.held', this.ctx(meta, t, `${agentKey}|hold|${s.holds}`), id, { agent_id: s.number }));
        } else if (prev === 'held' && next === 'connected') {
          s.hold_ms += t - (s.hold_at ?? t);
          out.push(makeEvent('call.resumed', this.ctx(meta, t, `${agentKey}|resume|${s.holds}`), id, { agent_id: s.number }));
        }
        // The extension that placed the call is busy with it from the first ring (as Asterisk's device state says).
        this.trackAgent(s.number, agentKey, next === 'ringing' ? 'connected' : next, t, meta, out);
      }
      if (next === 'gone') s.done = true;
      return;
    }
    if (!agentSide) return;

    if (next === 'ringing' && prev !== 'ringing') {
      s.ring_at = t;
      if (leg && leg.status === 'waiting' && s.call_path === leg.queue) {
        s.queue = leg.queue;
        s.leg_id = leg.leg_id;
      }
      out.push(makeEvent('call.ringing', this.ctx(meta, t, `${agentKey}|ring`), id, { agent_id: s.number, queue: s.queue, leg_id: s.leg_id }));
    }
    // First seen on hold (after a reconnect): it was answered while we were away.
    const answering = (next === 'connected' || next === 'held') && prev !== 'connected' && prev !== 'held';
    if (answering && this.creditedAgentOtherThan(c, key)) {
      s.consult = true;
      s.consult_ring_ms = s.ring_at !== undefined ? Math.max(0, t - s.ring_at) : undefined;
    } else if (answering) {
      s.answer_at = t;
      c.answered = true;
      const legToAnswer = leg && leg.status === 'waiting' && (!m.call_path || m.call_path === leg.queue || s.leg_id === leg.leg_id) ? leg : undefined;
      let wait: number;
      if (legToAnswer) {
        legToAnswer.status = 'answered';
        s.queue = legToAnswer.queue;
        s.leg_id = legToAnswer.leg_id;
        wait = t - legToAnswer.queued_at;
      } else {
        s.queue = undefined;
        s.leg_id = undefined;
        wait = t - c.started_at;
      }
      out.push(
        makeEvent('call.answered', this.ctx(meta, t, `${agentKey}|answer`), id, {
          agent_id: s.number,
          queue: s.queue,
          leg_id: s.leg_id,
          wait_ms: Math.max(0, wait),
          ring_ms: s.ring_at !== undefined ? Math.max(0, t - s.ring_at) : undefined,
        }),
      );
    }
    if (s.consult) {
      // Holds in a consultation belong to no credited call; the agent's state still shows them.
      if (next === 'held') s.hold_at = t;
    } else if (next === 'held' && prev !== 'held') {
      s.holds++;
      s.hold_at = t;
      out.push(makeEvent('call.held', this.ctx(meta, t, `${agentKey}|hold|${s.holds}`), id, { agent_id: s.number, leg_id: s.leg_id }));
    } else if (next === 'connected' && prev === 'held') {
      s.hold_ms += t - (s.hold_at ?? t);
      out.push(makeEvent('call.resumed', this.ctx(meta, t, `${agentKey}|resume|${s.holds}`), id, { agent_id: s.number, leg_id: s.leg_id }));
    }
    if (next === 'gone') {
      s.done = true;
      if (prev === 'ringing') {
        const legAnsweredElsewhere = s.leg_id ? c.legs.find((l) => l.leg_id === s.leg_id)?.status !== 'waiting' : c.answered;
        // Ring-all losers and rings cancelled because the caller left are not ring-no-answer.
        if (!legAnsweredElsewhere && !callerGoneNow && !c.caller_gone) {
          out.push(
            makeEvent('call.ring_no_answer', this.ctx(meta, t, `${agentKey}|rna`), id, {
              agent_id: s.number,
              queue: s.queue,
              leg_id: s.leg_id,
              ring_ms: Math.max(0, t - (s.ring_at ?? t)),
            }),
          );
        }
      } else if ((prev === 'connected' || prev === 'held') && !s.consult) {
        // A consultation that never became the call was work, not a handled call (as on the AMI path).
        this.complete(c, key, s, callerGoneNow || c.caller_gone ? 'caller' : 'agent', t, meta, out, prev === 'held');
      }
    }
    this.trackAgent(s.number, agentKey, next, t, meta, out);
  }

  private complete(
    c: CallState,
    key: string,
    s: MemberState,
    reason: 'caller' | 'agent' | 'transfer',
    t: number,
    meta: MessageMeta,
    out: CanonicalEvent[],
    wasHeld: boolean,
  ): void {
    s.done = true;
    // Hung up while on hold: the hold lasted until the end.
    if (wasHeld && s.hold_at !== undefined) s.hold_ms += t - s.hold_at;
    const talk = Math.max(0, t - (s.answer_at ?? t));
    out.push(
      makeEvent(
        'call.agent_completed',
        this.ctx(meta, t, `${c.call_id}|${key}|completed`),
        { call_id: c.call_id },
        {
          agent_id: s.number,
          queue: s.queue,
          leg_id: s.leg_id,
          reason,
          talk_ms: talk,
          hold_ms: Math.min(talk, Math.max(0, s.hold_ms)),
        },
      ),
    );
  }

  private transfer(callId: string, members: Member[], t: number, meta: MessageMeta, out: CanonicalEvent[]): void {
    const c = this.state.calls[callId];
    const listed = new Set(members.map((m) => this.memberKey(m)));
    const connected = c
      ? Object.entries(c.members).filter(
          ([, s]) => s.role === 'extension' && !s.caller_side && !s.done && (phaseOf(s.status) === 'connected' || phaseOf(s.status) === 'held'),
        )
      : [];
    const connectedKeys = new Set(connected.map(([k]) => k));
    const exts = members.filter((m) => m.role === 'extension' && !(c?.members[this.memberKey(m)]?.caller_side ?? false));
    // The report lists the parties after the transfer: the target is the extension that was not
    // already connected; the transferring agent is the connected one that is no longer listed.
    const target = [...exts].reverse().find((m) => !connectedKeys.has(this.memberKey(m))) ?? exts.at(-1);
    const from = connected.find(([k]) => !listed.has(k)) ?? connected.find(([, s]) => s.number !== target?.number);
    const to = target?.number || members.find((m) => m.role === 'outbound')?.to || '';
    if (!to && !from) return;
    const fromState = from?.[1];
    const consult = c && target ? this.consultOf(c, target) : undefined;
    const seq = c ? c.legs.length + Object.values(c.members).filter((s) => s.done).length : 0;
    out.push(
      makeEvent(
        'call.transferred',
        this.ctx(meta, t, `${callId}|transfer|${from?.[0] ?? ''}|${to}|${seq}`),
        { call_id: callId },
        {
          // The report does not say which feature code was used: a target that had answered a
          // consultation was transferred to attended, any other by the documented default, blind.
          kind: consult ? 'attended' : 'blind',
          from_agent_id: fromState?.number,
          to: to || 'unknown',
          queue: fromState?.queue,
          leg_id: fromState?.leg_id,
        },
      ),
    );
    if (c && from) {
      this.complete(c, from[0], from[1], 'transfer', t, meta, out, phaseOf(from[1].status) === 'held');
      this.trackAgent(from[1].number, `${callId}|${from[0]}`, 'gone', t, meta, out);
    }
    if (c && consult) this.creditTarget(c, consult[0], consult[1], t, meta, out);
    // P-Series transfer reports carry member statuses; S-Series ones do not.
    if (c && members.some((m) => m.status)) this.snapshot(callId, members, t, meta, out, true);
  }

  /** Another agent of the call is credited with it and still on it (connected or held). */
  private creditedAgentOtherThan(c: CallState, key: string): boolean {
    return Object.entries(c.members).some(
      ([k, o]) =>
        k !== key &&
        o.role === 'extension' &&
        !o.caller_side &&
        !o.done &&
        !o.consult &&
        o.answer_at !== undefined &&
        (phaseOf(o.status) === 'connected' || phaseOf(o.status) === 'held'),
    );
  }

  /** The consultation the transfer report's target answered, by channel, else by extension number. */
  private consultOf(c: CallState, target: Member): [string, MemberState] | undefined {
    const live = Object.entries(c.members).filter(([, s]) => s.consult && !s.done);
    return live.find(([k]) => k === this.memberKey(target)) ?? live.find(([, s]) => s.number === target.number);
  }

  /**
   * The target of an attended transfer receives the call now: credited with it and its talk from
   * here (METRICS.md handled), not from the consultation's answer; its ring is the consultation's
   * ring, and the call waited that long for this agent, as on the AMI path.
   */
  private creditTarget(c: CallState, key: string, s: MemberState, t: number, meta: MessageMeta, out: CanonicalEvent[]): void {
    s.consult = false;
    s.answer_at = t;
    s.queue = undefined;
    s.leg_id = undefined;
    s.hold_ms = 0;
    if (phaseOf(s.status) === 'held') s.hold_at = t;
    const ringMs = s.consult_ring_ms;
    out.push(
      makeEvent(
        'call.answered',
        this.ctx(meta, t, `${c.call_id}|${key}|answer`),
        { call_id: c.call_id },
        {
          agent_id: s.number,
          wait_ms: ringMs ?? 0,
          ring_ms: ringMs,
        },
      ),
    );
  }

  private failed(callId: string, reason: string, members: Member[], t: number, meta: MessageMeta, out: CanonicalEvent[]): void {
    const c = this.call(callId, t);
    this.start(c, members, t, meta, out);
    out.push(
      makeEvent(
        'call.ended',
        this.ctx(meta, t, `${callId}|ended`),
        { call_id: callId },
        {
          disposition: failedDisposition(reason),
          raw_disposition: reason || 'CallFailed',
          duration_ms: Math.max(0, t - c.started_at),
          billsec_ms: 0,
          direction: c.direction,
          extension: members.find((m) => m.role === 'extension')?.number || undefined,
        },
      ),
    );
    c.cdr_seen = true;
    for (const s of Object.values(c.members)) s.done = true;
    delete this.state.calls[callId];
  }

  private cdr(m: CdrMessage, meta: MessageMeta): TranslateOutcome {
    // An unknown status still ends the call: FAILED with the raw value kept, as the AMI path does.
    const disposition = mapDisposition(m.status) ?? 'FAILED';
    const hint = callIdEpochMs(m.call_id);
    let startMs: number;
    if (m.start_utc_ms !== undefined) startMs = m.start_utc_ms;
    else {
      const r = yeastarLocalToUtc(m.time_start, this.opts.timezone, hint);
      if (!r)
        return dlq(
          'BAD_TIMESTAMP',
          `CDR of call ${m.call_id}: time_start "${m.time_start}" is not a Yeastar local time (PBX ${this.opts.pbx_id}, zone ${this.opts.timezone})`,
          '/time_start',
        );
      startMs = r.ms;
    }
    const type = m.type.trim().toLowerCase();
    const direction: Direction =
      type === 'inbound' || type === 'outbound' || type === 'internal' ? type : m.src_trunk ? 'inbound' : m.dst_trunk ? 'outbound' : 'internal';
    const extension = direction === 'inbound' ? m.call_to : m.call_from;
    const out: CanonicalEvent[] = [];
    const c = this.state.calls[m.call_id];
    if (!c?.started) {
      out.push(
        makeEvent(
          'call.started',
          this.ctx(meta, startMs, `${m.call_id}|started`),
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
        this.ctx(meta, startMs + durationMs, `${m.call_id}|ended`),
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
      if (Object.values(c.members).every((s) => s.done)) delete this.state.calls[m.call_id];
    }
    return ok(out);
  }

  // ---- agents ---------------------------------------------------------------------------------

  private agent(id: string): AgentStateRec {
    let a = this.state.agents[id];
    if (!a) {
      a = { ext: 'idle', registered: true, paused: false, wrap_up: false, active: {}, queues: [], membership_known: false };
      this.state.agents[id] = a;
    }
    return a;
  }

  private derive(a: AgentStateRec): { state: AgentState; reason?: string } {
    const phases = Object.values(a.active);
    if (phases.includes('held')) return { state: 'on_hold' };
    if (phases.includes('connected') || a.ext === 'busy') return { state: 'on_call' };
    if (phases.includes('ringing') || a.ext === 'ringing') return { state: 'ringing' };
    if (!a.registered) return { state: 'offline' };
    // Logged out of every queue: offline as an agent, as on the AMI path.
    if (a.membership_known && a.queues.length === 0) return { state: 'offline' };
    if (a.wrap_up) return { state: 'wrap_up' };
    if (a.paused) return { state: 'paused', reason: a.pause_reason };
    return { state: 'available' };
  }

  /** Emits agent.state_changed when the derived state differs from the last one emitted. */
  private agentEvent(agentId: string, t: number, meta: MessageMeta, cause: string, out: CanonicalEvent[], callId?: string): void {
    const a = this.agent(agentId);
    const d = this.derive(a);
    // METRICS.md pause_time_by_reason: a pause runs on under a call, until unpause or logoff.
    const pause = a.paused && d.state !== 'offline' ? (a.pause_reason ?? '') : undefined;
    if (a.state === d.state && a.reason === d.reason && a.pause === pause) return;
    a.state = d.state;
    a.reason = d.reason;
    a.pause = pause;
    a.call_id = CALL_STATES.has(d.state) ? (callId ?? a.call_id) : undefined;
    out.push(
      makeEvent(
        'agent.state_changed',
        this.ctx(meta, t, `agent|${agentId}|${cause}|${d.state}`),
        { agent_id: agentId },
        { state: d.state, reason: d.reason, call_id: a.call_id, pause_reason: pause },
      ),
    );
  }

  private trackAgent(agentId: string, key: string, phase: MemberPhase, t: number, meta: MessageMeta, out: CanonicalEvent[]): void {
    if (!agentId) return;
    // A member first seen already gone tells nothing about its agent's state now.
    if (phase === 'gone' && this.state.agents[agentId]?.active[key] === undefined) return;
    const a = this.agent(agentId);
    if (phase === 'gone') {
      delete a.active[key];
      // The extension is free once its last call member is gone, whether or not 30008 says so.
      if (Object.keys(a.active).length === 0) a.ext = 'idle';
    } else if (phase !== 'other') a.active[key] = phase;
    // The time is part of the key: a member returns to a phase (connected after a hold), and two
    // changes with one event_id are a single event downstream (the projections keep either copy).
    this.agentEvent(agentId, t, meta, `${key}|${phase}|${t}`, out, key.split('|')[0]);
  }

  private extensionStatus(ext: string, status: string, t: number, meta: MessageMeta): TranslateOutcome {
    const a = this.agent(ext);
    switch (status.trim().toLowerCase()) {
      case 'ringing':
        a.ext = 'ringing';
        a.registered = true;
        break;
      case 'busy':
      case 'inuse':
      case 'in use':
        a.ext = 'busy';
        a.registered = true;
        break;
      case 'idle':
      case 'registered':
        a.ext = 'idle';
        a.registered = true;
        // 30008 Idle means no call on the extension: forget members whose BYE we missed.
        a.active = {};
        break;
      case 'unregistered':
        a.registered = false;
        a.ext = 'idle';
        a.active = {};
        break;
      default:
        return dlq(
          'UNKNOWN_STATUS',
          `extension ${ext}: status "${status}" is not one the adapter knows (Ringing, Busy, Idle, Registered, Unregistered)`,
          '/status',
        );
    }
    const out: CanonicalEvent[] = [];
    this.agentEvent(ext, t, meta, `ext|${status.toLowerCase()}|${meta.received_at}`, out);
    return ok(out);
  }

  private agentStatus(agentId: string, queue: string, status: string, reason: string, t: number, meta: MessageMeta): TranslateOutcome {
    const a = this.agent(agentId);
    const out: CanonicalEvent[] = [];
    const s = status.toLowerCase().replace(/[^a-z]/g, '');
    const key = `status|${queue}|${s}|${reason}|${meta.received_at}`;
    switch (s) {
      case 'paused':
      case 'pause':
        a.paused = true;
        a.pause_reason = reason || undefined;
        a.wrap_up = false;
        break;
      case 'unpaused':
      case 'unpause':
      case 'resumed':
      case 'resume':
      case 'available':
      case 'idle':
      case 'active':
        a.paused = false;
        a.pause_reason = undefined;
        a.wrap_up = false;
        break;
      case 'wrapup':
      case 'aftercallwork':
        a.wrap_up = true;
        break;
      case 'loggedin':
      case 'login':
      case 'signin':
        this.membership(agentId, queue, true, t, meta, key, out);
        break;
      case 'loggedout':
      case 'logout':
      case 'signout':
        this.membership(agentId, queue, false, t, meta, key, out);
        break;
      default:
        return dlq('UNKNOWN_STATUS', `agent ${agentId} in queue ${queue}: agent status "${status}" is not one the adapter knows`, '/msg/status');
    }
    this.agentEvent(agentId, t, meta, key, out);
    return ok(out);
  }

  /** Queue membership change; an event only when it changes what we knew. */
  private membership(agentId: string, queue: string, member: boolean, t: number, meta: MessageMeta, key: string, out: CanonicalEvent[]): void {
    const a = this.agent(agentId);
    a.membership_known = true;
    const has = a.queues.includes(queue);
    if (member && !has) {
      a.queues = [...a.queues, queue].sort();
      out.push(makeEvent('agent.queue_joined', this.ctx(meta, t, `agent|${agentId}|joined|${queue}|${key}`), { agent_id: agentId }, { queue }));
    } else if (!member && has) {
      a.queues = a.queues.filter((q) => q !== queue);
      out.push(makeEvent('agent.queue_left', this.ctx(meta, t, `agent|${agentId}|left|${queue}|${key}`), { agent_id: agentId }, { queue }));
    }
  }

  // ---- reconnect ------------------------------------------------------------------------------

  /**
   * After a reconnect: the PBX's current calls and agents replace what the live state believed.
   * Calls still in progress are applied as snapshots (their transitions during the gap become
   * events); calls we held that the PBX no longer has are closed without inventing facts (their
   * CDR, pushed or back-filled, ends them). Agent rows are per queue: they set queue membership
   * (logged in or not) and, merged per agent, the pause and call state. Then one source.gap
   * event spans the outage (none for the first synchronisation after start-up).
   */
  reconcile(input: { calls?: LiveCall[]; agents?: AgentSnapshot[]; gap?: { from: string; to: string; reason: string } }, meta: MessageMeta): CanonicalEvent[] {
    const t = Date.parse(meta.received_at);
    const out: CanonicalEvent[] = [];
    if (input.calls) {
      const live = new Set(input.calls.map((c) => c.call_id));
      for (const c of input.calls) this.snapshot(c.call_id, c.members, t, meta, out, false);
      for (const [id, c] of Object.entries(this.state.calls)) {
        if (live.has(id)) continue;
        for (const [k, s] of Object.entries(c.members)) if (s.role === 'extension') this.trackAgent(s.number, `${id}|${k}`, 'gone', t, meta, out);
        delete this.state.calls[id];
      }
    }
    const key = `reconcile|${meta.received_at}`;
    const byAgent = new Map<string, AgentSnapshot[]>();
    for (const s of input.agents ?? []) if (s.agent) byAgent.set(s.agent, [...(byAgent.get(s.agent) ?? []), s]);
    const busy: Record<AgentSnapshot['call'], number> = { unknown: 0, idle: 1, ringing: 2, in_call: 3, held: 4 };
    for (const [agentId, rows] of byAgent) {
      for (const r of rows) if (r.queue) this.membership(agentId, r.queue, r.logged_in, t, meta, key, out);
      const a = this.agent(agentId);
      // In several queues: paused or busy anywhere wins.
      const paused = rows.find((r) => r.paused);
      a.paused = paused !== undefined;
      a.pause_reason = paused ? paused.pause_reason || undefined : undefined;
      const call = rows.map((r) => r.call).reduce((x, y) => (busy[y] > busy[x] ? y : x), 'unknown');
      if (call === 'idle') {
        a.ext = 'idle';
        a.active = {};
      } else if (call === 'ringing') a.ext = 'ringing';
      else if (call === 'in_call' || call === 'held') a.ext = 'busy';
      this.agentEvent(agentId, t, meta, key, out);
    }
    if (input.gap) out.push(makeEvent('source.gap', this.ctx(meta, t, `gap|${input.gap.from}|${input.gap.to}`), {} as Record<string, never>, input.gap));
    return out;
  }

  /** Calls not seen for hours (BYE and CDR both missed) are dropped from the live state. */
  private sweep(t: number): void {
    for (const [id, c] of Object.entries(this.state.calls)) if (t - c.last_seen > STALE_CALL_MS) delete this.state.calls[id];
  }
}

/**
 * The translator's outcome, or a dead letter when it throws (a value no check foresaw, such as a
 * time out of range): no message may vanish between an HTTP 200 and the DLQ.
 */
export function translateSafely(translator: YeastarTranslator, msg: YeastarMessage, meta: MessageMeta): TranslateOutcome {
  return translating(msg.kind, () => translator.translate(msg, meta));
}

// The Yeastar translator's state between messages (translate.ts): calls with their members and
// queue legs, and agents. Plain data, what every handler shares about the message being
// translated (`Cx`), and the small pure helpers that read Yeastar values. The bottom layer: the
// operations (ops/*.ts) and the handlers (handlers/*.ts) build on it.
import type { AgentState, CanonicalEvent, Direction, Disposition, EventContext, RawRef, Source } from '@callboard/schemas';
import type { TranslateOutcome } from '../pipeline.ts';
import type { Member, YeastarMessage } from './messages.ts';

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

export type MemberPhase = 'ringing' | 'connected' | 'held' | 'gone' | 'other';

export interface MemberState {
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

export interface LegState {
  queue: string;
  leg_id: string;
  queued_at: number;
  position: number;
  status: 'waiting' | 'answered' | 'abandoned' | 'exited';
}

export interface CallState {
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

export interface AgentStateRec {
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

/** An object with no prototype, for keys that come from the PBX. */
export function dict<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

export function emptyState(): TranslatorState {
  // Keyed by ids the PBX sends: a call id or extension named `__proto__` must be a key, not the
  // prototype (a hostile report once set `cdr_seen` on every object of the process).
  return { calls: dict<CallState>(), agents: dict<AgentStateRec>(), now: 0 };
}

/**
 * What the handlers share besides the state: the options, the message's meta and time (its
 * receive time: Yeastar status events carry none) and the events it has made so far.
 */
export interface Cx {
  readonly opts: TranslatorOptions;
  readonly meta: MessageMeta;
  readonly t: number;
  readonly out: CanonicalEvent[];
}

export type MessageOf<K extends YeastarMessage['kind']> = Extract<YeastarMessage, { kind: K }>;

/** A handler: given the state and a message, these events (or a dead letter, or a drop). */
export type Handler<K extends YeastarMessage['kind']> = (st: TranslatorState, msg: MessageOf<K>, cx: Cx) => TranslateOutcome;

/** The context of an event occurring at `at`; `vendor_key` names the fact (see translate.ts). */
export function eventCtx(cx: Cx, at: number, vendor_key: string, part?: string | number): EventContext {
  return {
    tenant_id: cx.opts.tenant_id,
    pbx_id: cx.opts.pbx_id,
    source: cx.opts.source,
    occurred_at: new Date(at).toISOString(),
    received_at: cx.meta.received_at,
    raw_ref: cx.meta.raw_ref,
    vendor_key: `${cx.opts.pbx_id}|${vendor_key}`,
    ...(part !== undefined ? { part } : {}),
  };
}

/** Calls not seen for this long (BYE and CDR both missed) are dropped from the live state. */
export const STALE_CALL_MS = 6 * 3_600_000;

/** Longest call a CDR may report; anything longer is a corrupt value, not a call. */
export const MAX_CALL_MS = 7 * 86_400_000;

export function isQueue(opts: TranslatorOptions, path: string): boolean {
  if (!path) return false;
  const qs = opts.queues;
  return !qs || qs.length === 0 || qs.includes(path);
}

export function memberKey(m: Member): string {
  return m.channel_id || `${m.role}:${m.number || m.from || m.to}`;
}

export function phaseOf(status: string): MemberPhase {
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

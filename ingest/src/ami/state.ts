// The AMI translator's state between frames (translator.ts): channels, calls, queue legs, rings,
// agents' talking segments, agents, and what a resync and a gap of the feed need. Plain data and
// the small pure helpers that read AMI values; the translator's handlers change it.
import type { AgentState, Disposition, EventContext, LeaveReason, RawRef, Source } from '@callboard/schemas';

export interface FrameMeta {
  /** When the adapter received the frame (ms since epoch). */
  received_at: number;
  raw_ref: RawRef | null;
  connection: string;
  seq: number;
}

export interface AmiTranslatorOptions {
  tenant_id: string;
  pbx_id: string;
  source?: Source;
  /** The queue's configured wrap-up (config `queues[].wrap_up_s`), in ms; 0 = none. */
  wrapUpMs?: (queue: string) => number;
}

/** ActionID prefix of the adapter's own resynchronisation requests. */
export const RESYNC_ACTION_PREFIX = 'callboard-resync';

export interface Channel {
  uniqueid: string;
  callId: string;
  name: string;
  hangupRequested: boolean;
}

export interface Call {
  id: string;
  /** Uniqueid of the channel that started the call: its side decides the disposition. */
  origin: string;
  channels: Set<string>;
  startedAt: number;
  answeredAt: number;
  direction: 'inbound' | 'outbound' | 'internal';
  cdr: { disposition: Disposition; raw: string } | null;
  cause: { code: number; text: string } | null;
  causeFromOther: boolean;
  extension: string | undefined;
  /** The caller's number as last told (call.started, then call.caller_identified). */
  caller: string;
}

export interface Ring {
  leg: Leg;
  agentId: string;
  at: number;
  ts: boolean;
  dest: string | undefined;
}

export interface Leg {
  id: string;
  queue: string;
  callId: string;
  caller: string;
  joinedAt: number;
  ts: boolean;
  rings: Map<string, Ring>;
  abandon: { ctx: EventContext; position: number; original?: number; holdS: number; at: number; ts: boolean } | null;
  /** Left the queue without a connect yet: what follows on the caller channel decides. */
  pendingExit: { ctx: EventContext; at: number; ts: boolean; position?: number } | null;
}

export interface Segment {
  leg: Leg;
  agentId: string;
  agentName: string | undefined;
  iface: string;
  connectedAt: number;
  ts: boolean;
  dest: string | undefined;
  holdStart: number;
  holdMs: number;
}

/** An agent talking on a call that did not come through a queue (dialled, or transferred to). */
export interface DirectSegment {
  agentId: string;
  callId: string;
  /** The agent's channel name without a Local channel's `;1`/`;2`: either half is the agent. */
  party: string;
  /** When the agent was rung, and when its credit starts (answer, or the transfer to it). */
  rungAt: number;
  answeredAt: number;
  ts: boolean;
  holdStart: number;
  holdMs: number;
  /**
   * An AMI Atxfer consultation: the agent talks (on_call) but is credited with the call only
   * once the transfer completes (METRICS.md handled), from then on.
   */
  credited: boolean;
  /** Who asked first for the hang-up once credited. */
  endBy: 'caller' | 'agent' | undefined;
}

/** An agent's phone rung other than by a queue: a dialled call, or an Atxfer consultation. */
export interface Dialled {
  agentId: string;
  at: number;
  ts: boolean;
  consult: boolean;
}

/** `Local/1003@agents-00000002;1` → `Local/1003@agents-00000002`; other names unchanged. */
export function partyOf(channel: string): string {
  const semi = channel.lastIndexOf(';');
  return semi > 0 && channel.startsWith('Local/') ? channel.slice(0, semi) : channel;
}

export interface Agent {
  id: string;
  name: string | undefined;
  /** queue → paused reason ("" when not paused). */
  queues: Map<string, string | null>;
  status: number;
  /** `InCall` of the last member event: on a queue call (1) until the stats update after it. */
  inCall: boolean;
  rings: number;
  segments: Set<Segment>;
  /** Rings and calls outside a queue (dialled, or an attended transfer's consultation). */
  directRings: number;
  direct: Set<DirectSegment>;
  wrapUntil: number;
  wrapKey: string;
  /** Frame numbers of the last device status and of the last queue-driven change. */
  statusAt: number;
  queueAt: number;
  state: AgentState | null;
  reason: string | undefined;
  /** The pause in force when the last change was emitted (its reason), whatever the state. */
  pause: string | undefined;
  /** The call named by the last change emitted, while that change was about a call. */
  callId: string | undefined;
  /** occurred_at and event_id of the last state change emitted. */
  lastAt: string;
  lastId: string;
}

export const DEVICE_RINGING = new Set([6, 7]);
export const DEVICE_BUSY = new Set([2, 3]);
export const DEVICE_GONE = new Set([4, 5]);

export const DISPOSITIONS: Record<string, Disposition> = {
  ANSWERED: 'ANSWERED',
  ANSWER: 'ANSWERED',
  NORMAL: 'ANSWERED',
  'NO ANSWER': 'NO ANSWER',
  NOANSWER: 'NO ANSWER',
  BUSY: 'BUSY',
  FAILED: 'FAILED',
  CHANUNAVAIL: 'FAILED',
  CONGESTION: 'CONGESTION',
};

/** Canonical disposition of an Asterisk CDR value; unknown values count as FAILED (raw kept). */
export function mapDisposition(raw: string): Disposition {
  return DISPOSITIONS[raw.trim().toUpperCase()] ?? 'FAILED';
}

/** Disposition of a call that produced no Cdr event, from its last Q.850 hang-up cause. */
export function dispositionFromCause(cause: number, answered: boolean): Disposition {
  if (answered) return 'ANSWERED';
  if (cause === 17) return 'BUSY';
  if (cause === 34 || cause === 38 || cause === 42 || cause === 44) return 'CONGESTION';
  if (cause === 0 || cause === 16 || cause === 18 || cause === 19 || cause === 21 || cause === 26 || cause === 31) return 'NO ANSWER';
  return 'FAILED';
}

export const QUEUESTATUS_REASON: Record<string, LeaveReason> = {
  TIMEOUT: 'timeout',
  LEAVEEMPTY: 'empty',
  JOINEMPTY: 'empty',
  LEAVEUNAVAIL: 'empty',
  JOINUNAVAIL: 'empty',
  FULL: 'full',
  WITHDRAW: 'withdraw',
  CONTINUE: 'other',
};

/** Asterisk 11 names of the events this translator reads, mapped to their 12+ names. */
export const OLD_NAMES: Record<string, string> = { Join: 'QueueCallerJoin', Leave: 'QueueCallerLeave', QueueMemberPaused: 'QueueMemberPause' };

export function unknownToEmpty(v: string | undefined): string {
  return v === undefined || v === '<unknown>' ? '' : v;
}

export function int(v: string | undefined, fallback = 0): number {
  if (v === undefined || v === '') return fallback;
  const n = Number.parseInt(v, 10);
  return Number.isFinite(n) ? n : fallback;
}

/** `1795305882.102346` → ms since epoch (truncated), or NaN. */
export function parseAmiTimestamp(v: string): number {
  // Every frame carries one: digits only, no regex, no allocation.
  let sec = 0;
  let ms = 0;
  let i = 0;
  const n = v.length;
  for (; i < n; i++) {
    const c = v.charCodeAt(i) - 48;
    if (c === -2) break; // '.'
    if (c < 0 || c > 9) return NaN;
    sec = sec * 10 + c;
  }
  if (i === 0 || i > 15) return NaN;
  let digits = 0;
  for (i++; i < n; i++) {
    const c = v.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return NaN;
    if (digits < 3) ms = ms * 10 + c;
    digits++;
  }
  for (; digits < 3; digits++) ms *= 10;
  // A time no PBX clock can show (before 1970 is impossible here; after 2299 is garbage) would
  // throw later as an invalid Date: it is a bad timestamp, dead-lettered as such.
  return sec < MAX_AMI_SECONDS ? sec * 1000 + ms : NaN;
}

/** 2300-01-01T00:00:00Z in seconds. */
const MAX_AMI_SECONDS = 10_413_792_000;

export interface ResyncItems {
  members: Set<string>;
  channels: Set<string>;
  legs: Set<string>;
}

export class TranslatorState {
  readonly channels = new Map<string, Channel>();
  readonly calls = new Map<string, Call>();
  /** Active legs by `callerUniqueid|queue`. */
  readonly legs = new Map<string, Leg>();
  /** Legs whose exit is still undecided, by caller Uniqueid. */
  readonly pending = new Map<string, Leg>();
  readonly ringsByDest = new Map<string, Ring>();
  readonly segByDest = new Map<string, Segment>();
  readonly segByCaller = new Map<string, Segment>();
  readonly segments = new Set<Segment>();
  readonly heldChannels = new Map<string, number>();
  /** Phones of known agents (member StateInterface and Interface, Local ones too) → agent id. */
  readonly agentDevices = new Map<string, string>();
  /** Agent channels rung outside a queue (DialBegin Dest, or an Atxfer's DialState), by Uniqueid. */
  readonly dialled = new Map<string, Dialled>();
  /** Direct (non-queue) calls an agent answered, by the agent's channel Uniqueid. */
  readonly direct = new Map<string, DirectSegment>();
  readonly agents = new Map<string, Agent>();
  readonly wrapping = new Set<Agent>();
  /** QueueMember / CoreShowChannel items of a resync in progress, by ActionID. */
  readonly resync = new Map<string, ResyncItems>();
  frameNo = 0;
  /** The connection the last frame came on, and the PBX time of that frame. */
  conn: string | undefined;
  lastAt = 0;
  /** When the PBX said it was shutting down (`Shutdown`), on the current connection. */
  shutdownAt: number | null = null;
  /**
   * Start of the last gap of the feed (METRICS.md "Gaps of the feed"): the last moment the PBX
   * was known alive before the connection changed. What a resync then finds gone ended there.
   */
  gapFrom: number | null = null;
  /**
   * Since the connection changed and until its resync lists the members: a wrap-up running at
   * the gap's start does not end by time alone, as the member may be gone since then (see
   * ops/agents.ts `expireWrapUps`).
   */
  wrapHeld = false;
  /**
   * PBX clock minus receive clock, for frames without a Timestamp (action replies, such as the
   * resync's): the largest difference seen on the connection, i.e. the least network delay.
   */
  clockOffset: number | null = null;
  offsetConn: string | undefined;
}

// The ground-truth ledger: what the simulated call centre really did, independent of any PBX
// protocol. The end-to-end truth test computes every METRICS.md figure from this and compares
// it with what came out of the real pipeline. All times are UTC epoch milliseconds.
import type { AgentState, Direction, Disposition } from '@callboard/schemas';

export type LegOutcome = 'answered' | 'abandoned' | 'exited';
export type TransferKind = 'blind' | 'attended';
export type RingOutcome = 'answered' | 'no_answer' | 'canceled';

export interface LedgerRing {
  agent: string;
  at_ms: number;
  ended_ms: number;
  outcome: RingOutcome;
}

/** One entry of a call into one queue (METRICS.md "queue leg"). */
export interface LedgerLeg {
  leg_id: string;
  call_id: string;
  queue: string;
  offered_at_ms: number;
  /** When the leg left the queue: answered, abandoned or exited. */
  left_at_ms: number;
  outcome: LegOutcome;
  /** Only for `exited`: the queue's timeout, or `gap` for a caller whose line a PBX crash dropped. */
  exit_reason: 'timeout' | 'gap' | null;
  /** Overflow target when a timeout sent the caller on to another queue. */
  overflow_to: string | null;
  wait_ms: number;
  agent: string | null;
  answered_at_ms: number | null;
  /** When the agent's part of this leg ended (hang-up or transfer). */
  completed_at_ms: number | null;
  /** Connected time minus hold time. */
  talk_ms: number;
  hold_ms: number;
  wrap_ms: number;
  transfer: TransferKind | null;
  /** Who ended the agent segment: `agent`, `caller` or `transfer` (Asterisk AgentComplete Reason). */
  complete_reason: 'agent' | 'caller' | 'transfer' | null;
  rings: LedgerRing[];
}

/** A call handled by an agent outside a queue: the target of an attended transfer. */
export interface LedgerDirectSegment {
  call_id: string;
  agent: string;
  answered_at_ms: number;
  ended_at_ms: number;
  talk_ms: number;
  hold_ms: number;
}

export interface LedgerCall {
  call_id: string;
  direction: Direction;
  /** Customer number (inbound: caller; outbound: dialled). */
  number: string;
  /** For outbound calls: the agent who placed it. */
  agent: string | null;
  started_at_ms: number;
  /** When an agent (or, outbound, the called party) first answered. */
  answered_at_ms: number | null;
  /**
   * When the PBX answered the call's originating channel: the CDR answer time. Inbound calls
   * are answered by the dialplan before Queue(), so this is the start even for abandons.
   */
  pbx_answered_at_ms: number | null;
  ended_at_ms: number;
  /** CDR disposition as the PBX reports it for the call's originating channel. */
  disposition: Disposition;
  /** `duration` (start to end) and `billsec` (answer to end) in whole seconds, as a CDR has them. */
  duration_s: number;
  billsec_s: number;
  ended_by: 'caller' | 'agent' | 'system';
  /**
   * `gap`: a PBX crash cut the call; no event ended it, the resync found it gone, so it ends at
   * the gap's start (METRICS.md "Gaps of the feed"), as Callboard's `calls.ended_in` flags it.
   */
  ended_in: 'gap' | null;
  legs: string[];
  transfers: { kind: TransferKind; at_ms: number; from_agent: string; to_queue: string | null; to_agent: string | null }[];
}

export interface LedgerAgentInterval {
  agent: string;
  state: AgentState;
  /** Pause reason for `paused`. */
  reason: string | null;
  from_ms: number;
  to_ms: number;
}

/**
 * A pause from its start to its unpause or logoff, whatever else the agent did meanwhile
 * (METRICS.md pause_time_by_reason); a pause taken on a call has no `paused` interval at all.
 */
export interface LedgerPause {
  agent: string;
  reason: string;
  from_ms: number;
  to_ms: number;
}

export interface LedgerMembership {
  agent: string;
  queue: string;
  from_ms: number;
  /** null: still a member at the end of the run. */
  to_ms: number | null;
}

/**
 * A `core restart now`. The hang-ups at `at_ms` are the feed's own events (the calls in
 * `calls_cut` end there, `ended_by: 'system'`); the members vanish unannounced, so they end at
 * `gap_from_ms`, the `Shutdown` (METRICS.md "Gaps of the feed": the last moment the feed knew
 * them), as do pauses; the PBX accepts connections again at `up_ms`.
 */
export interface LedgerRestart {
  at_ms: number;
  gap_from_ms: number;
  up_ms: number;
  calls_cut: string[];
}

/**
 * A crash (`kill -9` of Asterisk) at `at_ms`: no event at all, the connections just drop. The
 * receiver knew the PBX alive last at `gap_from_ms`, the PBX time of the last frame sent before
 * the crash (see model.ts `crash`); the calls in `calls_cut` end there, flagged
 * `ended_in: 'gap'`, with their wait and talk up to then, and so do memberships, pauses and
 * logged-in time. The PBX accepts connections again at `up_ms`.
 */
export interface LedgerCrash {
  at_ms: number;
  gap_from_ms: number;
  up_ms: number;
  calls_cut: string[];
}

export interface LedgerAgent {
  agent: string;
  name: string;
  handled: number;
  missed: number;
}

export interface Ledger {
  tenant: string;
  pbx: string;
  timezone: string;
  seed: number;
  from_ms: number;
  to_ms: number;
  /** The model's clock when the last thing happened (calls that started before `to_ms` are finished). */
  end_ms: number;
  queues: { queue: string; wrap_up_s: number; max_wait_s: number | null; overflow_to: string | null }[];
  agents: LedgerAgent[];
  calls: LedgerCall[];
  legs: LedgerLeg[];
  direct: LedgerDirectSegment[];
  agent_intervals: LedgerAgentInterval[];
  memberships: LedgerMembership[];
  pauses: LedgerPause[];
  restarts: LedgerRestart[];
  crashes: LedgerCrash[];
}

/** NDJSON: one record per line with its kind, convenient for `jq` and streaming readers. */
export function ledgerToNdjson(l: Ledger): string {
  const head = { kind: 'scenario', tenant: l.tenant, pbx: l.pbx, timezone: l.timezone, seed: l.seed, from_ms: l.from_ms, to_ms: l.to_ms, end_ms: l.end_ms, queues: l.queues, agents: l.agents };
  const lines: unknown[] = [head];
  for (const c of l.calls) lines.push({ kind: 'call', ...c });
  for (const g of l.legs) lines.push({ kind: 'leg', ...g });
  for (const d of l.direct) lines.push({ kind: 'direct', ...d });
  for (const i of l.agent_intervals) lines.push({ kind: 'agent_interval', ...i });
  for (const m of l.memberships) lines.push({ kind: 'membership', ...m });
  for (const p of l.pauses) lines.push({ kind: 'pause', ...p });
  for (const r of l.restarts) lines.push({ kind: 'restart', ...r });
  for (const c of l.crashes) lines.push({ kind: 'crash', ...c });
  return lines.map((x) => JSON.stringify(x)).join('\n') + '\n';
}

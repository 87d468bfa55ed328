// The pure fold: every event known for one call (or one agent) → the rows that describe it.
// No I/O. The consumer re-runs it over the whole history of each call a batch touched, so the
// result never depends on batch boundaries, arrival order, restarts or duplicates: same events
// in, same rows out (that is also what makes a rebuild byte-identical).
import { fromQueueLog, pauseOf, type AgentEvent, type CallEvent, type CanonicalEvent, type Disposition, type EventOf } from '@callboard/schemas';
import { bucketStartMs, talkAndHold } from './metrics/index.ts';

export type LegOutcome = 'waiting' | 'answered' | 'abandoned' | 'exited';

/** One row of `queue_legs`. Times are epoch ms, durations ms. */
export interface LegRow {
  tenant_id: string;
  bucket: number;
  queue: string;
  call_id: string;
  leg_id: string;
  pbx_id: string;
  offered_at: number;
  position: number;
  caller_number: string;
  outcome: LegOutcome;
  exit_reason: string;
  ended_wait_at: number | null;
  wait_ms: number;
  agent_id: string;
  answered_at: number | null;
  completed_at: number | null;
  /** METRICS.md talk_time: connected time minus hold. */
  talk_ms: number;
  hold_ms: number;
  /** From call.agent_completed.wrap_ms; null: the queue's wrap_up_s applies (at query time). */
  wrap_ms: number | null;
  transferred: 0 | 1;
  rung: number;
  missed: number;
  version: number;
}

export interface CallRow {
  tenant_id: string;
  call_id: string;
  pbx_id: string;
  started_at: number;
  ended_at: number | null;
  direction: string;
  caller_number: string;
  caller_name: string;
  called_number: string;
  extension: string;
  trunk: string;
  answered_at: number | null;
  agent_id: string;
  queues: string[];
  legs: number;
  transferred: 0 | 1;
  /** Canonical disposition ('' while the call is still up). */
  disposition: Disposition | '';
  raw_disposition: string;
  hangup_cause: number | null;
  duration_ms: number;
  billsec_ms: number;
  /** 'gap': the resync after a gap of the feed found the call ended (flagged, METRICS.md "Gaps of the feed"). */
  ended_in: '' | 'gap';
  events: number;
  version: number;
}

/** One agent's answered segment (`handled`) or ring-no-answer (`missed`) of a call. */
export interface AgentCallRow {
  tenant_id: string;
  agent_id: string;
  at: number;
  event_id: string;
  kind: 'handled' | 'missed';
  call_id: string;
  queue: string;
  leg_id: string;
  talk_ms: number;
  hold_ms: number;
  wrap_ms: number | null;
  completed: 0 | 1;
  version: number;
}

export interface AgentIntervalRow {
  tenant_id: string;
  agent_id: string;
  started_at: number;
  event_id: string;
  ended_at: number | null;
  state: string;
  /** The pause reason while `paused` (METRICS.md pause_time_by_reason), '' otherwise. */
  reason: string;
  /** 1 while the agent is paused at the PBX, whatever its state (a pause taken on a call too). */
  paused: 0 | 1;
  agent_name: string;
  version: number;
}

export interface CallFold {
  call: CallRow | null;
  legs: LegRow[];
  agentCalls: AgentCallRow[];
}

const ms = (iso: string): number => Date.parse(iso);

/**
 * Vendor disposition values → canonical (METRICS.md). Old Asterisk CDRs said NORMAL for an
 * answered call; Yeastar says ANSWER / NO_ANSWER. Unknown values keep the adapter's mapping.
 */
const DISPOSITIONS: Record<string, Disposition> = {
  ANSWERED: 'ANSWERED',
  ANSWER: 'ANSWERED',
  NORMAL: 'ANSWERED',
  'NO ANSWER': 'NO ANSWER',
  NO_ANSWER: 'NO ANSWER',
  NOANSWER: 'NO ANSWER',
  UNANSWERED: 'NO ANSWER',
  BUSY: 'BUSY',
  FAILED: 'FAILED',
  FAIL: 'FAILED',
  CONGESTION: 'CONGESTION',
  CONGESTED: 'CONGESTION',
};

export function canonicalDisposition(raw: string, fallback: Disposition): Disposition {
  return DISPOSITIONS[raw.trim().toUpperCase()] ?? fallback;
}

/** Chronological order (causal within a millisecond, then by id), duplicates (same event_id) removed. */
export function orderEvents<E extends CanonicalEvent>(events: readonly E[]): E[] {
  const seen = new Set<string>();
  // Each event's time parsed once, not in every comparison of the sort.
  const keyed: { e: E; at: number; rank: number }[] = [];
  for (const e of events) {
    if (seen.has(e.event_id)) continue;
    seen.add(e.event_id);
    keyed.push({ e, at: ms(e.occurred_at), rank: RANK[e.type] ?? 99 });
  }
  keyed.sort((a, b) => a.at - b.at || a.rank - b.rank || (a.e.event_id < b.e.event_id ? -1 : a.e.event_id > b.e.event_id ? 1 : 0));
  return keyed.map((k) => k.e);
}

/**
 * Sorts `a` before `b` in `orderEvents`' order (time, causal rank, id). Times compare as text:
 * the contract accepts one form only (`YYYY-MM-DDThh:mm:ss.sssZ`), whose text order is time
 * order, and this runs for every event of every call a batch touches.
 */
function before(a: CanonicalEvent, b: CanonicalEvent): boolean {
  if (a.occurred_at !== b.occurred_at) return a.occurred_at < b.occurred_at;
  const d = (RANK[a.type] ?? 99) - (RANK[b.type] ?? 99);
  return d !== 0 ? d < 0 : a.event_id < b.event_id;
}

/**
 * Whether events `added` to a call's history (`all`, them included) sort before one it already
 * had. Only then can a derivation name other rows than the one before it: folded in order, an
 * event never changes a row's key (a leg is its first `call.queued`, later copies alias to it;
 * a ring seen by both sources pairs to the first; a call starts at its first start), so the keys
 * of a history's prefix are keys of the whole. A late event (an import of a period the live
 * adapter already covered, where the queue_log's whole seconds sort first) can re-key a leg, an
 * agent call or a call's start, and the rows under the old keys must then go.
 */
export function reordersHistory(all: readonly CanonicalEvent[], added: readonly CanonicalEvent[]): boolean {
  if (added.length === 0) return false;
  const ids = new Set(added.map((e) => e.event_id));
  // A call seen for the first time (the usual case in a live batch) had nothing to reorder.
  if (ids.size >= all.length) return false;
  let lastOld: CanonicalEvent | null = null;
  for (const e of all) if (!ids.has(e.event_id) && (lastOld === null || before(lastOld, e))) lastOld = e;
  if (lastOld === null) return false;
  // A start that comes after other events of its call moves the call's start (until then its
  // end minus its duration), wherever it sorts.
  return added.some((e) => e.type === 'call.started' || before(e, lastOld));
}

/** The rows a call's earlier derivation wrote under keys its new one does not have. */
export interface GoneRows {
  legs: LegRow[];
  agentCalls: AgentCallRow[];
  calls: CallRow[];
}

/**
 * Rows of `earlier` (the fold of the history before a batch) whose keys `later` (the fold with
 * it) lacks: what must be removed, since a derived row is replaced only under its own key
 * (queue_legs: bucket, queue, call, leg; agent_calls: agent, time, event; calls: start, call).
 * Computed from the events, not read from the tables, so a batch delivered again after a crash
 * or a failed rollup finds the same rows, and the same buckets to recompute.
 */
export function goneRows(earlier: CallFold, later: CallFold): GoneRows {
  const legKey = (l: LegRow) => `${l.bucket}\u0000${l.queue}\u0000${l.leg_id}`;
  const agentCallKey = (a: AgentCallRow) => `${a.agent_id}\u0000${a.at}\u0000${a.event_id}`;
  const legs = new Set(later.legs.map(legKey));
  const agentCalls = new Set(later.agentCalls.map(agentCallKey));
  return {
    legs: earlier.legs.filter((l) => !legs.has(legKey(l))),
    agentCalls: earlier.agentCalls.filter((a) => !agentCalls.has(agentCallKey(a))),
    calls: earlier.call && earlier.call.started_at !== later.call?.started_at ? [earlier.call] : [],
  };
}

/** Causal order of events that share a millisecond (an answer with zero wait, say). */
const RANK: Partial<Record<CanonicalEvent['type'], number>> = {
  'call.started': 0,
  'call.caller_identified': 1,
  'call.queued': 1,
  'call.ringing': 2,
  'call.ring_no_answer': 3,
  'call.answered': 4,
  'call.abandoned': 4,
  'call.left_queue': 4,
  'call.held': 5,
  'call.resumed': 6,
  'call.transferred': 7,
  'call.agent_completed': 8,
  'call.ended': 9,
};

interface Segment {
  agent_id: string;
  leg: LegRow | null;
  answered: EventOf<'call.answered'>;
  holdStart: number | null;
  holdMs: number;
  done: boolean;
  row: AgentCallRow;
}

/**
 * Folds one call. `events` may be unordered and contain duplicates; all must share tenant_id
 * and call_id. Legs exist from their call.queued; the call row from call.started (or from
 * call.ended, start = end − duration, when the start was never seen).
 */
export function foldCall(events: readonly CallEvent[]): CallFold {
  const evs = orderEvents(events);
  const version = evs.length;
  const legs = new Map<string, LegRow>();
  // Local-channel duplicates: a second call.queued for a queue the call is already waiting in
  // is the same queue entry seen through another channel; its leg id is an alias.
  const alias = new Map<string, string>();
  const segments: Segment[] = [];
  const agentCalls: AgentCallRow[] = [];
  // One ring-no-answer seen live and read from an imported queue_log has two ids. queue_log's
  // time is truncated and can be a second early, so a ring of the same agent and leg from the
  // other origin within 2 s is the same ring (docs/import.md "Ids and overlap").
  const rings: { agent_id: string; leg_id: string; at: number; imported: boolean; paired: boolean }[] = [];
  let started: EventOf<'call.started'> | null = null;
  let identified: EventOf<'call.caller_identified'> | null = null;
  let ended: EventOf<'call.ended'> | null = null;
  let transferred: 0 | 1 = 0;

  const legOf = (legId: string | undefined, queue: string | undefined, want?: (l: LegRow) => boolean): LegRow | null => {
    if (legId) {
      const l = legs.get(alias.get(legId) ?? legId);
      if (l) return l;
    }
    if (queue) {
      const candidates = [...legs.values()].filter((l) => l.queue === queue && (!want || want(l)));
      return candidates[candidates.length - 1] ?? null;
    }
    return null;
  };
  const waitingIn = (l: LegRow) => l.outcome === 'waiting';
  const segmentOf = (agentId: string | undefined, legId: string | undefined): Segment | null => {
    for (let i = segments.length - 1; i >= 0; i--) {
      const s = segments[i]!;
      if (s.done) continue;
      if (agentId && s.agent_id !== agentId) continue;
      if (!agentId && legId && s.leg && s.leg.leg_id !== (alias.get(legId) ?? legId)) continue;
      return s;
    }
    return null;
  };

  for (const e of evs) {
    const at = ms(e.occurred_at);
    switch (e.type) {
      case 'call.started':
        started ??= e;
        break;
      case 'call.caller_identified':
        // The last identification wins (events are in time order): the dialplan's final word.
        identified = e;
        break;
      case 'call.queued': {
        const p = e.payload;
        if (legs.has(alias.get(p.leg_id) ?? p.leg_id)) break;
        const open = [...legs.values()].find((l) => l.queue === p.queue && l.outcome === 'waiting');
        if (open) {
          alias.set(p.leg_id, open.leg_id);
          break;
        }
        legs.set(p.leg_id, {
          tenant_id: e.tenant_id,
          bucket: bucketStartMs(at),
          queue: p.queue,
          call_id: e.call_id,
          leg_id: p.leg_id,
          pbx_id: e.pbx_id,
          offered_at: at,
          position: p.position,
          caller_number: p.caller_number ?? '',
          outcome: 'waiting',
          exit_reason: '',
          ended_wait_at: null,
          wait_ms: 0,
          agent_id: '',
          answered_at: null,
          completed_at: null,
          talk_ms: 0,
          hold_ms: 0,
          wrap_ms: null,
          transferred: 0,
          rung: 0,
          missed: 0,
          version,
        });
        break;
      }
      case 'call.ringing': {
        const l = legOf(e.payload.leg_id, e.payload.queue, waitingIn);
        if (l) l.rung++;
        break;
      }
      case 'call.ring_no_answer': {
        const p = e.payload;
        const l = legOf(p.leg_id, p.queue, waitingIn);
        const imported = fromQueueLog(e);
        const legId = l?.leg_id ?? p.leg_id ?? '';
        const same = rings.find((r) => !r.paired && r.imported !== imported && r.agent_id === p.agent_id && r.leg_id === legId && Math.abs(r.at - at) <= 2000);
        if (same) {
          same.paired = true;
          break;
        }
        rings.push({ agent_id: p.agent_id, leg_id: legId, at, imported, paired: false });
        if (l) l.missed++;
        agentCalls.push({
          tenant_id: e.tenant_id,
          agent_id: p.agent_id,
          at,
          event_id: e.event_id,
          kind: 'missed',
          call_id: e.call_id,
          queue: l?.queue ?? p.queue ?? '',
          leg_id: l?.leg_id ?? p.leg_id ?? '',
          talk_ms: 0,
          hold_ms: 0,
          wrap_ms: null,
          completed: 0,
          version,
        });
        break;
      }
      case 'call.answered': {
        const p = e.payload;
        const l = p.leg_id || p.queue ? legOf(p.leg_id, p.queue) : null;
        // A leg is answered once; a second answer of the same leg is a duplicate channel.
        if (l && l.outcome !== 'waiting') break;
        if (l) {
          l.outcome = 'answered';
          l.agent_id = p.agent_id;
          l.answered_at = at;
          l.ended_wait_at = at;
          l.wait_ms = p.wait_ms;
        }
        const row: AgentCallRow = {
          tenant_id: e.tenant_id,
          agent_id: p.agent_id,
          at,
          event_id: e.event_id,
          kind: 'handled',
          call_id: e.call_id,
          queue: l?.queue ?? '',
          leg_id: l?.leg_id ?? '',
          talk_ms: 0,
          hold_ms: 0,
          wrap_ms: null,
          completed: 0,
          version,
        };
        agentCalls.push(row);
        segments.push({ agent_id: p.agent_id, leg: l, answered: e, holdStart: null, holdMs: 0, done: false, row });
        break;
      }
      case 'call.held': {
        const s = segmentOf(e.payload.agent_id, e.payload.leg_id);
        if (s && s.holdStart === null) s.holdStart = at;
        break;
      }
      case 'call.resumed': {
        const s = segmentOf(e.payload.agent_id, e.payload.leg_id);
        if (s && s.holdStart !== null) {
          s.holdMs += Math.max(0, at - s.holdStart);
          s.holdStart = null;
        }
        break;
      }
      case 'call.transferred': {
        transferred = 1;
        const s = segmentOf(e.payload.from_agent_id, e.payload.leg_id);
        const l = s?.leg ?? legOf(e.payload.leg_id, undefined);
        if (l && l.outcome === 'answered') l.transferred = 1;
        break;
      }
      case 'call.agent_completed': {
        const p = e.payload;
        const s = segmentOf(p.agent_id, p.leg_id);
        if (!s) break;
        if (s.holdStart !== null) {
          s.holdMs += Math.max(0, at - s.holdStart);
          s.holdStart = null;
        }
        s.done = true;
        const { talk_ms, hold_ms: hold } = talkAndHold(p.talk_ms, p.hold_ms ?? s.holdMs);
        s.row.talk_ms = talk_ms;
        s.row.hold_ms = hold;
        s.row.wrap_ms = p.wrap_ms ?? null;
        s.row.completed = 1;
        if (s.leg) {
          s.leg.talk_ms = s.row.talk_ms;
          s.leg.hold_ms = hold;
          s.leg.wrap_ms = s.row.wrap_ms;
          s.leg.completed_at = at;
          if (p.reason === 'transfer') s.leg.transferred = 1;
        }
        if (p.reason === 'transfer') transferred = 1;
        break;
      }
      case 'call.abandoned': {
        const l = legOf(e.payload.leg_id, e.payload.queue, waitingIn);
        if (l && l.outcome === 'waiting') {
          l.outcome = 'abandoned';
          l.wait_ms = e.payload.wait_ms;
          l.ended_wait_at = at;
        }
        break;
      }
      case 'call.left_queue': {
        const l = legOf(e.payload.leg_id, e.payload.queue, waitingIn);
        if (l && l.outcome === 'waiting') {
          l.outcome = 'exited';
          l.exit_reason = e.payload.reason;
          l.wait_ms = e.payload.wait_ms;
          l.ended_wait_at = at;
        }
        break;
      }
      case 'call.ended':
        ended ??= e;
        break;
    }
  }

  const first = evs[0];
  let call: CallRow | null = null;
  if (first && (started || ended)) {
    const legList = [...legs.values()];
    const firstAnswer = segments[0]?.answered ?? null;
    const s = started as EventOf<'call.started'> | null;
    const en = ended as EventOf<'call.ended'> | null;
    const idf = identified as EventOf<'call.caller_identified'> | null;
    const startAt = s ? ms(s.occurred_at) : ms(en!.occurred_at) - en!.payload.duration_ms;
    call = {
      tenant_id: first.tenant_id,
      call_id: first.call_id,
      pbx_id: first.pbx_id,
      started_at: startAt,
      ended_at: en ? ms(en.occurred_at) : null,
      direction: s?.payload.direction ?? en?.payload.direction ?? '',
      caller_number: idf?.payload.caller_number ?? s?.payload.caller_number ?? '',
      caller_name: idf ? (idf.payload.caller_name ?? '') : (s?.payload.caller_name ?? ''),
      called_number: s?.payload.called_number ?? '',
      extension: s?.payload.extension ?? en?.payload.extension ?? '',
      trunk: s?.payload.trunk ?? '',
      answered_at: firstAnswer ? ms(firstAnswer.occurred_at) : null,
      agent_id: firstAnswer?.payload.agent_id ?? '',
      queues: [...new Set(legList.map((l) => l.queue))],
      legs: legList.length,
      transferred,
      disposition: en ? canonicalDisposition(en.payload.raw_disposition, en.payload.disposition) : '',
      raw_disposition: en?.payload.raw_disposition ?? '',
      hangup_cause: en?.payload.hangup_cause ?? null,
      duration_ms: en?.payload.duration_ms ?? 0,
      billsec_ms: en?.payload.billsec_ms ?? 0,
      ended_in: en?.payload.ended_in ?? '',
      events: evs.length,
      version,
    };
  }
  return { call, legs: [...legs.values()], agentCalls };
}

/**
 * Folds one agent's state changes into intervals: each lasts until the agent's next change
 * (open, ended_at null, for the latest). Version: a late event can only shorten the interval
 * before it, so a shorter known interval is newer knowledge; open intervals have version 0.
 */
export function foldAgentIntervals(events: readonly AgentEvent[]): AgentIntervalRow[] {
  const changes = orderEvents(events).filter((e): e is EventOf<'agent.state_changed'> => e.type === 'agent.state_changed');
  return changes.map((e, i) => {
    const next = changes[i + 1];
    const start = ms(e.occurred_at);
    const end = next ? ms(next.occurred_at) : null;
    const pause = pauseOf(e.payload);
    return {
      tenant_id: e.tenant_id,
      agent_id: e.agent_id,
      started_at: start,
      event_id: e.event_id,
      ended_at: end,
      state: e.payload.state,
      reason: pause ?? '',
      paused: pause === null ? 0 : 1,
      agent_name: e.payload.agent_name ?? '',
      version: end === null ? 0 : 2 ** 48 - (end - start),
    };
  });
}

/** One row of `source_gaps`: a gap of a PBX's feed (METRICS.md "Gaps of the feed"). Times epoch ms. */
export interface GapRow {
  tenant_id: string;
  pbx_id: string;
  from_at: number;
  to_at: number;
  reason: string;
  event_id: string;
  version: number;
}

/** A source.gap event as its row; the same event always gives the same row. */
export function foldGap(e: EventOf<'source.gap'>): GapRow {
  const from = ms(e.payload.from);
  return { tenant_id: e.tenant_id, pbx_id: e.pbx_id, from_at: from, to_at: Math.max(from, ms(e.payload.to)), reason: e.payload.reason, event_id: e.event_id, version: 1 };
}

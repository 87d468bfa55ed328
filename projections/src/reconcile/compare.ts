// Callboard's figures against the PBX's, figure by figure, and every difference classed as
// METRICS.md "Reconciliation" says. Pure. A difference is split into what each queue leg (or
// pause) contributes to it; each contribution gets a class; what no leg explains is of unknown
// cause. Classes:
//   truncation   queue_log keeps whole seconds: a wait between T and T + 1 s, or a duration off by < 1 s
//   in_progress  the leg (or pause) had not finished when one side's data ends
//   missing      the leg is on one side only (the id says which and where)
//   pause_during_call  Callboard is short of a pause by exactly its overlap with calls: history written before
//                      agent.state_changed carried `pause_reason`, when only the paused state counted (both
//                      translators now report the pause on a call, so pause_time_by_reason is wall time)
//   transfer_target    Callboard credits the target of a transfer with the call; queue_log logs no line for
//                      the target, only the transferring agent's ATTENDEDTRANSFER or BLINDTRANSFER
//   unknown      anything else: an error
import { agentFigures, overlapMs, queueFigures, type AgentFigures, type PbxLeg, type PbxRecords, type PbxTransfer, type QueueFigures } from './figures.ts';

export type DiffClass = 'truncation' | 'in_progress' | 'missing' | 'pause_during_call' | 'transfer_target' | 'unknown';

/** One queue leg as the projections hold it (queue_legs). */
export interface CallboardLeg {
  call_id: string;
  leg_id: string;
  queue: string;
  offered_at: number;
  outcome: 'waiting' | 'answered' | 'abandoned' | 'exited';
  wait_ms: number;
  agent_id: string;
  answered_at: number | null;
  /** Talk plus hold: the connected time queue_log logs. */
  connected_ms: number;
}

/** An agent's answer of a call outside any queue leg (agent_calls with no leg): a transfer target's. */
export interface CallboardAnswer {
  call_id: string;
  agent_id: string;
  at: number;
}

export interface Day {
  date: string;
  start: number;
  end: number;
}

export interface CallboardSide {
  /** Per local date, per queue. */
  queues: Map<string, Map<string, QueueFigures>>;
  /** Per local date, per agent. */
  agents: Map<string, Map<string, AgentFigures>>;
  legs: CallboardLeg[];
  /** Answers outside a queue leg, credited to `handled` (METRICS.md: a transfer target is credited). */
  answers: CallboardAnswer[];
}

export interface Explanation {
  class: DiffClass;
  /** Callboard minus PBX, in the figure's unit. */
  amount: number;
  /** Which call, leg or line (for missing and unknown always present). */
  id?: string;
  why: string;
}

/**
 * Every metric a reconciliation row can name, per PBX source and scope (`<reason>`: a pause
 * reason). The rows are built from these lists (FigureRow.metric admits nothing else), and
 * api/schema.graphql's ReconciliationRow.metric names them all: a test holds the two together.
 */
export const RECONCILIATION_METRICS = {
  queue_log: {
    queue: ['offered', 'answered', 'abandoned', 'exited', 'answered_within_sl', 'asa', 'talk'],
    agent: ['handled', 'missed', 'pause_time[<reason>]'],
  },
  yeastar_cdr: { queue: ['offered', 'answered', 'unanswered', 'talk'], agent: ['handled_direct'] },
} as const;

type Listed = (typeof RECONCILIATION_METRICS)[keyof typeof RECONCILIATION_METRICS][ReconcileScopeKind][number];
type ReconcileScopeKind = 'queue' | 'agent';
export type ReconciliationMetric = Exclude<Listed, 'pause_time[<reason>]'> | `pause_time[${string}]`;

export interface FigureRow {
  date: string;
  scope: ReconcileScopeKind;
  /** Queue name or agent id. */
  key: string;
  metric: ReconciliationMetric;
  callboard: number | null;
  pbx: number | null;
  explanations: Explanation[];
}

export interface Reconciliation {
  rows: FigureRow[];
  differences: number;
  unknown: number;
  byClass: Record<DiffClass, number>;
}

const EPS = 1e-6;

/**
 * Pairs each PBX leg with the nearest Callboard leg of the same call and queue entered within
 * two seconds: queue_log truncates to the second and takes its time a moment before the AMI event
 * (QueueCallerJoin at 13.000001 is logged at 12).
 */
export function matchLegs(pbx: PbxLeg[], cb: CallboardLeg[]): Map<PbxLeg, CallboardLeg> {
  const byCall = new Map<string, CallboardLeg[]>();
  for (const l of cb) byCall.set(`${l.call_id}|${l.queue}`, [...(byCall.get(`${l.call_id}|${l.queue}`) ?? []), l]);
  const used = new Set<CallboardLeg>();
  const out = new Map<PbxLeg, CallboardLeg>();
  for (const p of pbx) {
    const near = (byCall.get(`${p.call_id}|${p.queue}`) ?? [])
      .filter((c) => !used.has(c) && Math.abs(c.offered_at - p.entered_at) <= 2000)
      .sort((a, b) => Math.abs(a.offered_at - p.entered_at) - Math.abs(b.offered_at - p.entered_at))[0];
    if (near) {
      used.add(near);
      out.set(p, near);
    }
  }
  return out;
}

type LegMetric = 'offered' | 'answered' | 'abandoned' | 'exited' | 'answered_within_sl' | 'wait' | 'talk';

/** What a leg contributes to the leg metrics, the same for both sides: outcome, seconds. */
interface LegView {
  outcome: string | null;
  wait: number;
  talk: number;
}

const pbxView = (l: PbxLeg): LegView => ({ outcome: l.outcome, wait: l.wait_s ?? 0, talk: l.talk_s ?? 0 });
const cbView = (l: CallboardLeg): LegView => ({ outcome: l.outcome, wait: l.wait_ms / 1000, talk: l.connected_ms / 1000 });

function legValue(m: LegMetric, l: LegView, t: number): number {
  switch (m) {
    case 'offered':
      return 1;
    case 'answered':
    case 'abandoned':
    case 'exited':
      return l.outcome === m ? 1 : 0;
    case 'answered_within_sl':
      return l.outcome === 'answered' && l.wait <= t ? 1 : 0;
    case 'wait':
      return l.outcome === 'answered' ? l.wait : 0;
    case 'talk':
      return l.outcome === 'answered' ? l.talk : 0;
  }
}

const legId = (p: PbxLeg) => `call ${p.call_id} in ${p.queue} (queue_log line ${p.line})`;

/** Why one leg contributes `amount` to the difference of metric `m`. */
function classify(m: LegMetric, p: PbxLeg | null, c: CallboardLeg | null, amount: number, t: number): Explanation {
  if (!c) return { class: 'missing', amount, id: legId(p!), why: 'in queue_log, not in Callboard' };
  if (!p) return { class: 'missing', amount, id: `call ${c.call_id} leg ${c.leg_id}`, why: 'in Callboard, not in queue_log' };
  if (c.outcome === 'waiting') return { class: 'in_progress', amount, id: legId(p), why: 'still waiting in Callboard at its data until' };
  if (p.outcome === null && !p.call_continues)
    return { class: 'in_progress', amount, id: legId(p), why: 'no outcome in queue_log yet: the log ends while the call is in the queue' };
  const sameOutcome = (p.outcome ?? 'waiting') === c.outcome;
  if (sameOutcome && m === 'answered_within_sl' && c.wait_ms > t * 1000 && c.wait_ms < (t + 1) * 1000) {
    return { class: 'truncation', amount, id: legId(p), why: `wait ${c.wait_ms / 1000} s is over ${t} s; queue_log logs ${p.wait_s} s` };
  }
  if (sameOutcome && (m === 'wait' || m === 'talk') && Math.abs(amount) <= 1 + EPS) {
    return { class: 'truncation', amount, id: legId(p), why: 'queue_log logs whole seconds' };
  }
  return {
    class: 'unknown',
    amount,
    id: legId(p),
    why: `Callboard: ${c.outcome}${c.agent_id ? ` by ${c.agent_id}` : ''}; queue_log: ${p.outcome ?? 'no outcome'}${p.agent_id ? ` by ${p.agent_id}` : ''}`,
  };
}

/** Contributions of legs to a leg metric's difference, and the residual no leg explains. */
function explainLegs(m: LegMetric, pairs: { p: PbxLeg | null; c: CallboardLeg | null }[], diff: number, t: number): Explanation[] {
  const out: Explanation[] = [];
  let explained = 0;
  for (const { p, c } of pairs) {
    const amount = (c ? legValue(m, cbView(c), t) : 0) - (p ? legValue(m, pbxView(p), t) : 0);
    if (Math.abs(amount) <= EPS) continue;
    explained += amount;
    out.push(classify(m, p, c, amount, t));
  }
  const residual = diff - explained;
  if (Math.abs(residual) > 1e-3) out.push({ class: 'unknown', amount: residual, why: 'the figures differ by more than the legs on both sides explain' });
  return out;
}

export interface CompareInput {
  days: Day[];
  pbx: PbxRecords;
  cb: CallboardSide;
  slThresholdS: (queue: string) => number;
}

/** Items grouped by a key, in input order. */
function groupBy<T>(items: Iterable<T>, key: (x: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const x of items) {
    const k = key(x);
    const g = out.get(k);
    if (g) g.push(x);
    else out.set(k, [x]);
  }
  return out;
}

/**
 * Each agent's own PBX records, so that an agent's figures and explanations read its records
 * only: scanning every record for every agent and day made a 200-agent month quadratic.
 */
function recordsByAgent(r: PbxRecords): Map<string, PbxRecords> {
  const out = new Map<string, PbxRecords>();
  const of = (agent: string): PbxRecords => {
    let x = out.get(agent);
    if (!x) out.set(agent, (x = { legs: [], transfers: [], missed: [], pauses: [], calls: [], data_until: r.data_until }));
    return x;
  };
  for (const l of r.legs) if (l.agent_id) of(l.agent_id).legs.push(l);
  for (const m of r.missed) of(m.agent_id).missed.push(m);
  for (const p of r.pauses) of(p.agent_id).pauses.push(p);
  for (const c of r.calls) of(c.agent_id).calls.push(c);
  return out;
}

const NO_RECORDS: PbxRecords = { legs: [], transfers: [], missed: [], pauses: [], calls: [], data_until: null };

const QUEUE_METRICS = RECONCILIATION_METRICS.queue_log.queue;
/** The leg counts of QUEUE_METRICS: each leg adds 0 or 1 (asa and talk are sums). */
const LEG_COUNTS = QUEUE_METRICS.filter((m): m is Exclude<(typeof QUEUE_METRICS)[number], 'asa' | 'talk'> => m !== 'asa' && m !== 'talk');
type AgentMetric = Exclude<(typeof RECONCILIATION_METRICS.queue_log.agent)[number], 'pause_time[<reason>]'> | `pause_time[${string}]`;
const pauseMetric = (reason: string): AgentMetric => `pause_time[${reason}]`;

export function reconcile(i: CompareInput): Reconciliation {
  const matched = matchLegs(i.pbx.legs, i.cb.legs);
  const matchedCb = new Set(matched.values());
  const transfers = matchTransfers(i.pbx.transfers, i.cb.answers);
  const byAgent = recordsByAgent(i.pbx);
  const rows: FigureRow[] = [];
  for (const day of i.days) {
    const inDay = (t: number) => t >= day.start && t < day.end;
    const pByQueue = groupBy(
      i.pbx.legs.filter((l) => inDay(l.entered_at)),
      (l) => l.queue,
    );
    const cbUnmatched = groupBy(
      i.cb.legs.filter((c) => inDay(c.offered_at) && !matchedCb.has(c)),
      (c) => c.queue,
    );
    const queues = new Set<string>([...pByQueue.keys(), ...(i.cb.queues.get(day.date)?.keys() ?? [])]);
    for (const queue of [...queues].sort()) {
      const t = i.slThresholdS(queue);
      const pLegs = pByQueue.get(queue) ?? [];
      const pairs: { p: PbxLeg | null; c: CallboardLeg | null }[] = pLegs.map((p) => ({ p, c: matched.get(p) ?? null }));
      for (const c of cbUnmatched.get(queue) ?? []) pairs.push({ p: null, c });
      const pf = queueFigures(pLegs, t);
      const cf = i.cb.queues.get(day.date)?.get(queue) ?? null;
      const row = (metric: (typeof QUEUE_METRICS)[number], cbv: number | null, pv: number | null, explanations: Explanation[]) =>
        rows.push({ date: day.date, scope: 'queue', key: queue, metric, callboard: cbv, pbx: pv, explanations });
      for (const m of LEG_COUNTS) {
        const cbv = cf?.[m] ?? 0;
        row(m, cbv, pf[m], cbv === pf[m] ? [] : explainLegs(m, pairs, cbv - pf[m], t));
      }
      // ASA differs when the answered legs or their waits do; both are explained leg by leg.
      const cbAsa = cf?.asa ?? null;
      const asaDiffers = cbAsa === null || pf.asa === null ? cbAsa !== pf.asa : Math.abs(cbAsa - pf.asa) > 1e-3;
      const cbWait = (cf?.asa ?? 0) * (cf?.answered ?? 0);
      const pWait = (pf.asa ?? 0) * pf.answered;
      row(
        'asa',
        cbAsa,
        pf.asa,
        asaDiffers ? [...explainLegs('answered', pairs, (cf?.answered ?? 0) - pf.answered, t), ...explainLegs('wait', pairs, cbWait - pWait, t)] : [],
      );
      const cbTalk = cf?.talk ?? 0;
      row('talk', cbTalk, pf.talk, Math.abs(cbTalk - pf.talk) > 1e-3 ? explainLegs('talk', pairs, cbTalk - pf.talk, t) : []);
    }
    const agents = new Set<string>([
      ...i.pbx.legs.filter((l) => l.agent_id && l.answered_at !== null && inDay(l.answered_at)).map((l) => l.agent_id!),
      ...i.pbx.missed.filter((m) => inDay(m.at)).map((m) => m.agent_id),
      ...i.pbx.pauses.filter((p) => p.from < day.end && (p.to ?? Infinity) > day.start).map((p) => p.agent_id),
      ...(i.cb.agents.get(day.date)?.keys() ?? []),
    ]);
    for (const agent of [...agents].sort()) {
      const own = byAgent.get(agent) ?? { ...NO_RECORDS, data_until: i.pbx.data_until };
      const pf = agentFigures(own, agent, day.start, day.end);
      const cf = i.cb.agents.get(day.date)?.get(agent);
      const row = (metric: AgentMetric, cbv: number, pv: number, explanations: Explanation[]) =>
        rows.push({ date: day.date, scope: 'agent', key: agent, metric, callboard: cbv, pbx: pv, explanations });
      const cbHandled = cf?.handled ?? 0;
      row('handled', cbHandled, pf.handled, cbHandled === pf.handled ? [] : explainHandled(i, matched, transfers, agent, day, cbHandled - pf.handled));
      const cbMissed = cf?.missed ?? 0;
      row('missed', cbMissed, pf.missed, cbMissed === pf.missed ? [] : explainMissed(i, agent, day, cbMissed - pf.missed));
      const reasons = new Set([...Object.keys(pf.pause_time_by_reason), ...Object.keys(cf?.pause_time_by_reason ?? {})]);
      for (const reason of [...reasons].sort()) {
        const cbv = cf?.pause_time_by_reason[reason] ?? 0;
        const pv = pf.pause_time_by_reason[reason] ?? 0;
        row(pauseMetric(reason), cbv, pv, Math.abs(cbv - pv) <= 1e-3 ? [] : explainPause(own, agent, reason, day, cbv - pv));
      }
    }
  }
  return tally(rows);
}

/** The rows with their differences counted: how many figures differ, explanations per class. */
export function tally(rows: FigureRow[]): Reconciliation {
  const byClass: Record<DiffClass, number> = { truncation: 0, in_progress: 0, missing: 0, pause_during_call: 0, transfer_target: 0, unknown: 0 };
  let differences = 0;
  for (const r of rows) {
    if (r.explanations.length) differences++;
    for (const e of r.explanations) byClass[e.class]++;
  }
  return { rows, differences, unknown: byClass.unknown, byClass };
}

function explainHandled(
  i: CompareInput,
  matched: Map<PbxLeg, CallboardLeg>,
  transfers: Map<CallboardAnswer, PbxTransfer>,
  agent: string,
  day: Day,
  diff: number,
): Explanation[] {
  const inDay = (t: number | null) => t !== null && t >= day.start && t < day.end;
  const pairs: { p: PbxLeg | null; c: CallboardLeg | null }[] = [];
  const seen = new Set<CallboardLeg>();
  for (const p of i.pbx.legs) {
    const c = matched.get(p) ?? null;
    if (c) seen.add(c);
    const pv = p.agent_id === agent && inDay(p.answered_at) ? 1 : 0;
    const cv = c && c.agent_id === agent && c.outcome === 'answered' && inDay(c.answered_at) ? 1 : 0;
    if (pv !== cv) pairs.push({ p, c });
  }
  for (const c of i.cb.legs) if (!seen.has(c) && c.agent_id === agent && c.outcome === 'answered' && inDay(c.answered_at)) pairs.push({ p: null, c });
  const byTransfer = explainTransferTargets(i, transfers, agent, day);
  const explained = byTransfer.reduce((s, e) => s + e.amount, 0);
  return [...byTransfer, ...explainLegs('answered', pairs, diff - explained, 0)];
}

const transferLine = (t: PbxTransfer) =>
  `call ${t.call_id} (queue_log line ${t.line} ${t.kind === 'attended' ? 'ATTENDEDTRANSFER' : 'BLINDTRANSFER'} by ${t.agent_id} in ${t.queue})`;

/**
 * Pairs each answer outside a queue leg with a transfer of that call in queue_log, in time order,
 * one answer per transfer line: attended, by any agent but the transferring one (the line does not
 * name the target); blind, by the agent the dialled extension names.
 */
export function matchTransfers(transfers: PbxTransfer[], answers: CallboardAnswer[]): Map<CallboardAnswer, PbxTransfer> {
  const used = new Set<PbxTransfer>();
  const out = new Map<CallboardAnswer, PbxTransfer>();
  for (const a of [...answers].sort((x, y) => x.at - y.at)) {
    const t = transfers.find((t) => !used.has(t) && t.call_id === a.call_id && t.agent_id !== a.agent_id && (t.kind === 'attended' || t.target === a.agent_id));
    if (t) {
      used.add(t);
      out.set(a, t);
    }
  }
  return out;
}

/** The agent's answers outside a queue leg: a transfer target's, or of unknown cause without a transfer line. */
function explainTransferTargets(i: CompareInput, transfers: Map<CallboardAnswer, PbxTransfer>, agent: string, day: Day): Explanation[] {
  const out: Explanation[] = [];
  for (const a of i.cb.answers) {
    if (a.agent_id !== agent || a.at < day.start || a.at >= day.end) continue;
    const t = transfers.get(a);
    out.push(
      t
        ? {
            class: 'transfer_target',
            amount: 1,
            id: transferLine(t),
            why: `${agent} answered the transferred call; queue_log logs no line for a transfer target`,
          }
        : {
            class: 'unknown',
            amount: 1,
            id: `call ${a.call_id}`,
            why: `answered by ${agent} outside a queue, and queue_log has no transfer of the call to it`,
          },
    );
  }
  return out;
}

function explainMissed(i: CompareInput, agent: string, day: Day, diff: number): Explanation[] {
  const cbCalls = new Set(i.cb.legs.map((l) => l.call_id));
  const out: Explanation[] = [];
  let explained = 0;
  for (const m of i.pbx.missed) {
    if (m.agent_id !== agent || m.at < day.start || m.at >= day.end || cbCalls.has(m.call_id)) continue;
    explained -= 1;
    out.push({ class: 'missing', amount: -1, id: `call ${m.call_id} (queue_log line ${m.line})`, why: 'ring-no-answer of a call not in Callboard' });
  }
  if (Math.abs(diff - explained) > EPS) out.push({ class: 'unknown', amount: diff - explained, why: 'ring-no-answer counts differ for calls on both sides' });
  return out;
}

function explainPause(pbx: PbxRecords, agent: string, reason: string, day: Day, diff: number): Explanation[] {
  const overlaps: Explanation[] = [];
  let during = 0;
  let open = false;
  const until = pbx.data_until ?? day.end;
  for (const p of pbx.pauses) {
    if (p.agent_id !== agent || p.reason !== reason) continue;
    const to = p.to ?? until;
    const s =
      pbx.calls
        .filter((c) => c.agent_id === agent)
        .reduce((sum, c) => sum + overlapMs(Math.max(p.from, c.from), Math.min(to, c.to ?? until), day.start, day.end), 0) / 1000;
    if (s > 0) {
      during += s;
      overlaps.push({
        class: 'pause_during_call',
        amount: -s,
        id: `agent ${agent} paused ${new Date(p.from).toISOString()}`,
        why: `${s} s of the pause overlap a call`,
      });
    }
    if (p.to === null && overlapMs(p.from, to, day.start, day.end) > 0) open = true;
  }
  // Events that carry `pause_reason` count a pause on a call in full, so an overlap explains a
  // difference only when Callboard is short by it (to the second): history translated before.
  const old = during > 0 && Math.abs(diff + during) < 1;
  const out = old ? overlaps : [];
  const explained = old ? -during : 0;
  const residual = diff - explained;
  if (Math.abs(residual) <= 1e-3) return out;
  if (open)
    out.push({
      class: 'in_progress',
      amount: residual,
      id: `agent ${agent}`,
      why: 'still paused where the log ends; Callboard runs an open pause to its own data until',
    });
  else if (Math.abs(residual) < 1) out.push({ class: 'truncation', amount: residual, id: `agent ${agent}`, why: 'queue_log logs whole seconds' });
  else out.push({ class: 'unknown', amount: residual, id: `agent ${agent}`, why: `pause time "${reason}" differs by ${residual.toFixed(3)} s` });
  return out;
}

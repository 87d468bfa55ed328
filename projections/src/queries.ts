// The public query API: every metric of METRICS.md for a tenant's local period. A period is
// resolved with luxon (periods.ts) into a UTC half-open interval on 15-minute bucket edges and
// answered from buckets, so day totals add up to week and month totals. Every query filters by
// tenant_id first. Per-queue settings (SL threshold, short-abandon threshold, SL formula,
// default wrap-up) are applied here, at query time, from the per-second wait histograms.
import { DateTime } from 'luxon';
import type { ClickHouse, QueueSettings, SlFormula } from '@callboard/platform';
import type { AgentState } from '@callboard/schemas';
import type {
  AgentGroupBy,
  AgentMetricsRow,
  CallGroupBy,
  CallMetricsRow,
  GroupKey,
  MetricsQuery,
  QueueGroupBy,
  QueueMetricsRow,
  StateTime,
} from './metrics-types.ts';
import { PeriodError, intervals, resolvePeriod, type Period } from './periods.ts';
import { LEG_AGGREGATES, ROLLUP_AGGREGATES, chTime, lit, litArray } from './sql.ts';

export * from './metrics-types.ts';

const BUCKET = 900_000;
const AGENT_STATES: AgentState[] = ['available', 'ringing', 'on_call', 'on_hold', 'wrap_up', 'paused', 'offline'];

/** A ratio, null on a zero denominator (METRICS.md). */
export function ratio(n: number, d: number): number | null {
  return d > 0 ? n / d : null;
}

interface Span {
  start: number;
  end: number;
  interval: string | null;
}

/** The time spans rows are grouped into: the whole period, its intervals, or its local days. */
function spansOf(p: Period, q: MetricsQuery<string>): Span[] {
  if (q.group_by === 'interval') {
    return intervals(p, q.timezone, q.interval_minutes ?? 60).map((i) => ({ start: i.start.getTime(), end: i.end.getTime(), interval: i.label }));
  }
  if (q.group_by === 'day') {
    const out: Span[] = [];
    let d = DateTime.fromJSDate(p.start, { zone: q.timezone }).startOf('day');
    while (d.toMillis() < p.end.getTime()) {
      const next = d.plus({ days: 1 }).startOf('day');
      out.push({ start: d.toMillis(), end: next.toMillis(), interval: d.toFormat('yyyy-MM-dd') });
      d = next;
    }
    return out;
  }
  return [{ start: p.start.getTime(), end: p.end.getTime(), interval: null }];
}

/** Maps a 15-minute bucket index (epoch ms / 900 000) to its span. */
function spanIndex(spans: Span[]): (bucketIndex: number) => number {
  const starts = spans.map((s) => s.start / BUCKET);
  return (b) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= b) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
}

const iso = (t: number) => new Date(t).toISOString();

function key(span: Span, queue: string | null, agent: string | null): GroupKey {
  return { queue, agent_id: agent, interval: span.interval, start: iso(span.start), end: iso(span.end) };
}

async function rows<T>(ch: ClickHouse, query: string): Promise<T[]> {
  const rs = await ch.client.query({ query, format: 'JSONEachRow', clickhouse_settings: { output_format_json_quote_64bit_integers: 0, prefer_column_name_to_alias: 1 } });
  return (await rs.json()) as T[];
}

function checkQuery(q: MetricsQuery<string>, allowed: readonly string[]): Period {
  if (!q.tenant_id) throw new PeriodError('tenant_id is required');
  if (!allowed.includes(q.group_by)) throw new PeriodError(`group_by ${JSON.stringify(q.group_by)}: expected one of ${allowed.join(', ')}`, q.group_by);
  return resolvePeriod(q.period, { timezone: q.timezone, week_start: q.week_start }, q.now ?? new Date());
}

// ---- queue metrics ---------------------------------------------------------------------------

/** One rollup (or leg-aggregate) row as ClickHouse returns it; durations in ms. */
interface LegAgg {
  queue: string;
  agent_id?: string;
  span?: number | string;
  offered: number;
  answered: number;
  abandoned: number;
  exited: number;
  waiting: number;
  transferred: number;
  answered_wait_ceil_s: Record<string, number>;
  abandoned_wait_ceil_s: Record<string, number>;
  abandoned_wait_floor_s: Record<string, number>;
  answered_wait_ms: number;
  abandoned_wait_ms: number;
  max_wait_ms: number;
  talk_ms: number;
  hold_ms: number;
  wrap_ms: number;
  wrap_default_legs: number;
}

class QueueAcc {
  offered = 0;
  answered = 0;
  abandoned = 0;
  exited = 0;
  waiting = 0;
  transferred = 0;
  short_abandoned = 0;
  answered_within_sl = 0;
  abandoned_within_sl = 0;
  answered_wait_ms = 0;
  abandoned_wait_ms = 0;
  max_wait_ms = 0;
  talk_ms = 0;
  hold_ms = 0;
  wrap_ms = 0;
  hist = new Map<number, number>();
  formulas = new Set<SlFormula>();

  add(r: LegAgg, s: QueueSettings): void {
    this.offered += Number(r.offered);
    this.answered += Number(r.answered);
    this.abandoned += Number(r.abandoned);
    this.exited += Number(r.exited);
    this.waiting += Number(r.waiting);
    this.transferred += Number(r.transferred);
    for (const [k, n] of Object.entries(r.answered_wait_ceil_s)) {
      if (Number(k) <= s.sl_threshold_s) this.answered_within_sl += n;
      this.hist.set(Number(k), (this.hist.get(Number(k)) ?? 0) + n);
    }
    for (const [k, n] of Object.entries(r.abandoned_wait_ceil_s)) if (Number(k) <= s.sl_threshold_s) this.abandoned_within_sl += n;
    for (const [k, n] of Object.entries(r.abandoned_wait_floor_s)) if (Number(k) < s.short_abandon_s) this.short_abandoned += n;
    this.answered_wait_ms += Number(r.answered_wait_ms);
    this.abandoned_wait_ms += Number(r.abandoned_wait_ms);
    this.max_wait_ms = Math.max(this.max_wait_ms, Number(r.max_wait_ms));
    this.talk_ms += Number(r.talk_ms);
    this.hold_ms += Number(r.hold_ms);
    this.wrap_ms += Number(r.wrap_ms) + Number(r.wrap_default_legs) * s.wrap_up_s * 1000;
    this.formulas.add(s.sl_formula);
  }

  /** Nearest-rank percentile over the per-second histogram: the upper edge of the bin. */
  percentile(p: number): number | null {
    const n = [...this.hist.values()].reduce((a, b) => a + b, 0);
    if (n === 0) return null;
    const rank = Math.max(1, Math.ceil(p * n));
    let cum = 0;
    for (const k of [...this.hist.keys()].sort((a, b) => a - b)) {
      cum += this.hist.get(k)!;
      if (cum >= rank) return k;
    }
    return null;
  }

  row(k: GroupKey): QueueMetricsRow {
    // Mixed SL formulas in one group fall back to the METRICS.md default.
    const formula: SlFormula = this.formulas.size === 1 ? [...this.formulas][0]! : 'answered_within_T_over_offered_excl_short';
    const base = this.offered - this.short_abandoned - this.waiting;
    const service_level =
      formula === 'answered_within_T_over_answered'
        ? ratio(this.answered_within_sl, this.answered)
        : formula === 'answered_within_T_over_answered_and_abandoned'
          ? ratio(this.answered_within_sl, this.answered + this.abandoned)
          : formula === 'within_T_over_answered_and_abandoned'
            ? ratio(this.answered_within_sl + this.abandoned_within_sl, this.answered + this.abandoned)
            : ratio(this.answered_within_sl, base);
    const finished = this.answered + this.abandoned + this.exited;
    const s = (x: number) => x / 1000;
    return {
      ...k,
      offered: this.offered,
      answered: this.answered,
      abandoned: this.abandoned,
      short_abandoned: this.short_abandoned,
      exited: this.exited,
      waiting: this.waiting,
      answered_within_sl: this.answered_within_sl,
      abandoned_within_sl: this.abandoned_within_sl,
      service_level,
      abandon_rate: ratio(this.abandoned - this.short_abandoned, base),
      asa: this.answered ? s(this.answered_wait_ms) / this.answered : null,
      avg_abandon_wait: this.abandoned ? s(this.abandoned_wait_ms) / this.abandoned : null,
      wait_p50: this.percentile(0.5),
      wait_p90: this.percentile(0.9),
      wait_p99: this.percentile(0.99),
      max_wait: finished ? s(this.max_wait_ms) : null,
      talk_time: s(this.talk_ms),
      hold_time: s(this.hold_ms),
      wrap_time: s(this.wrap_ms),
      aht: this.answered ? s(this.talk_ms + this.hold_ms + this.wrap_ms) / this.answered : null,
      transferred: this.transferred,
    };
  }
}

function filterSql(q: MetricsQuery<string>, opts: { agents: boolean }): string {
  let w = '';
  if (q.filter?.queues?.length) w += ` AND queue IN ${litArray(q.filter.queues)}`;
  if (opts.agents && q.filter?.agents?.length) w += ` AND agent_id IN ${litArray(q.filter.agents)}`;
  return w;
}

/**
 * Queue metrics (METRICS.md "Queue metrics") over queue legs offered in the period, grouped by
 * nothing, queue, answering agent, intraday interval or local day. Durations in seconds.
 */
export async function queueMetrics(ch: ClickHouse, q: MetricsQuery<QueueGroupBy>): Promise<QueueMetricsRow[]> {
  const p = checkQuery(q, ['none', 'queue', 'agent', 'interval', 'day']);
  const spans = spansOf(p, q);
  const byAgent = q.group_by === 'agent' || Boolean(q.filter?.agents?.length);
  const where = `tenant_id = ${lit(q.tenant_id)} AND bucket >= toDateTime(${p.start.getTime() / 1000}, 'UTC') AND bucket < toDateTime(${p.end.getTime() / 1000}, 'UTC')`;
  const spanExpr =
    q.group_by === 'interval'
      ? `intDiv(toUnixTimestamp(bucket), 900) AS span`
      : q.group_by === 'day'
        ? `toString(toDate(bucket, ${lit(q.timezone)})) AS span`
        : `0 AS span`;
  const sql = byAgent
    ? `SELECT queue, agent_id, ${spanExpr}, ${LEG_AGGREGATES} FROM ${ch.db}.queue_legs FINAL
       WHERE ${where}${filterSql(q, { agents: true })} GROUP BY queue, agent_id, span`
    : `SELECT queue, ${spanExpr}, ${ROLLUP_AGGREGATES} FROM ${ch.db}.queue_15m FINAL
       WHERE ${where}${filterSql(q, { agents: false })} GROUP BY queue, span`;
  const data = await rows<LegAgg>(ch, sql);

  const idx = spanIndex(spans);
  const dayIdx = new Map(spans.map((s, i) => [s.interval, i]));
  const groups = new Map<string, { span: number; queue: string | null; agent: string | null; acc: QueueAcc }>();
  const get = (span: number, queue: string | null, agent: string | null) => {
    const k = `${span}\u0000${queue ?? ''}\u0000${agent ?? ''}`;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { span, queue, agent, acc: new QueueAcc() }));
    return g.acc;
  };
  if (q.group_by === 'none' || q.group_by === 'interval' || q.group_by === 'day') spans.forEach((_, i) => get(i, null, null));
  for (const r of data) {
    const span = q.group_by === 'interval' ? idx(Number(r.span)) : q.group_by === 'day' ? (dayIdx.get(String(r.span)) ?? -1) : 0;
    if (span < 0) throw new Error(`day ${String(r.span)} from ClickHouse is not a local day of ${p.label} in ${q.timezone}`);
    const queue = q.group_by === 'queue' ? r.queue : null;
    const agent = q.group_by === 'agent' ? r.agent_id || null : null;
    get(span, queue, agent).add(r, q.settings(r.queue));
  }
  return [...groups.values()]
    .sort((a, b) => a.span - b.span || (a.queue ?? '').localeCompare(b.queue ?? '') || (a.agent ?? '').localeCompare(b.agent ?? ''))
    .map((g) => g.acc.row(key(spans[g.span]!, g.queue, g.agent)));
}

// ---- agent metrics ---------------------------------------------------------------------------

class AgentAcc {
  state = Object.fromEntries(AGENT_STATES.map((s) => [s, 0])) as StateTime;
  pause = new Map<string, number>();
  handled = 0;
  missed = 0;
  talk_ms = 0;
  hold_ms = 0;
  wrap_ms = 0;

  row(k: GroupKey): AgentMetricsRow {
    const s = (x: number) => x / 1000;
    const st = Object.fromEntries(AGENT_STATES.map((x) => [x, s(this.state[x])])) as StateTime;
    const logged = st.available + st.ringing + st.on_call + st.on_hold + st.wrap_up + st.paused;
    const busy = st.on_call + st.on_hold + st.wrap_up;
    const talk = s(this.talk_ms);
    const hold = s(this.hold_ms);
    const wrap = s(this.wrap_ms);
    return {
      ...k,
      state_time: st,
      logged_in_time: logged,
      handled: this.handled,
      missed: this.missed,
      occupancy: ratio(busy, logged - st.paused),
      utilization: ratio(busy, logged),
      talk_time: talk,
      hold_time: hold,
      wrap_time: wrap,
      avg_talk: this.handled ? talk / this.handled : null,
      avg_hold: this.handled ? hold / this.handled : null,
      aht: this.handled ? (talk + hold + wrap) / this.handled : null,
      pause_time_by_reason: Object.fromEntries([...this.pause.entries()].sort().map(([r, v]) => [r, s(v)])),
    };
  }
}

/**
 * Agent metrics (METRICS.md "Agent metrics"): state intervals clipped to the period (and split at
 * bucket edges for interval and day rows; an open interval runs to `now`), plus handled and
 * missed calls and their talk, hold and wrap. Grouped by nothing, agent, interval or local day.
 */
export async function agentMetrics(ch: ClickHouse, q: MetricsQuery<AgentGroupBy>): Promise<AgentMetricsRow[]> {
  const p = checkQuery(q, ['none', 'agent', 'interval', 'day']);
  const spans = spansOf(p, q);
  const S = p.start.getTime();
  const E = p.end.getTime();
  const now = Math.min((q.now ?? new Date()).getTime(), E);
  const split = q.group_by === 'interval' || q.group_by === 'day';
  const agents = q.filter?.agents?.length ? ` AND agent_id IN ${litArray(q.filter.agents)}` : '';
  const clipped = `SELECT agent_id, state, reason,
        greatest(toInt64(toUnixTimestamp64Milli(started_at)), toInt64(${S})) AS cs,
        least(ifNull(toInt64(toUnixTimestamp64Milli(ended_at)), greatest(toInt64(${now}), toInt64(toUnixTimestamp64Milli(started_at)))), toInt64(${E})) AS ce
      FROM ${ch.db}.agent_intervals FINAL
      WHERE tenant_id = ${lit(q.tenant_id)} AND started_at < ${lit(chTime(E))} AND (ended_at IS NULL OR ended_at > ${lit(chTime(S))})${agents}`;
  const stateSql = split
    ? `SELECT agent_id, state, reason, b AS span, sum(least(ce, toInt64((b + 1) * ${BUCKET})) - greatest(cs, toInt64(b * ${BUCKET}))) AS ms
       FROM (${clipped}) ARRAY JOIN range(intDiv(cs, ${BUCKET}), intDiv(ce - 1, ${BUCKET}) + 1) AS b
       WHERE ce > cs GROUP BY agent_id, state, reason, span`
    : `SELECT agent_id, state, reason, 0 AS span, sum(ce - cs) AS ms FROM (${clipped}) WHERE ce > cs GROUP BY agent_id, state, reason`;
  const callSql = `SELECT agent_id, queue, ${split ? `intDiv(toUnixTimestamp64Milli(at), ${BUCKET})` : '0'} AS span,
        countIf(kind = 'handled') AS handled, countIf(kind = 'missed') AS missed,
        sumIf(talk_ms, kind = 'handled') AS talk_ms, sumIf(hold_ms, kind = 'handled') AS hold_ms,
        sumIf(ifNull(wrap_ms, 0), kind = 'handled' AND completed = 1) AS wrap_ms,
        countIf(kind = 'handled' AND completed = 1 AND wrap_ms IS NULL) AS wrap_default
      FROM ${ch.db}.agent_calls FINAL
      WHERE tenant_id = ${lit(q.tenant_id)} AND at >= ${lit(chTime(S))} AND at < ${lit(chTime(E))}${agents}
        ${q.filter?.queues?.length ? ` AND queue IN ${litArray(q.filter.queues)}` : ''}
      GROUP BY agent_id, queue, span`;
  const [states, calls] = await Promise.all([
    rows<{ agent_id: string; state: AgentState; reason: string; span: number; ms: number }>(ch, stateSql),
    rows<{ agent_id: string; queue: string; span: number; handled: number; missed: number; talk_ms: number; hold_ms: number; wrap_ms: number; wrap_default: number }>(
      ch,
      callSql,
    ),
  ]);
  const idx = spanIndex(spans);
  const groups = new Map<string, { span: number; agent: string | null; acc: AgentAcc }>();
  const get = (span: number, agent: string | null) => {
    const k = `${span}\u0000${agent ?? ''}`;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { span, agent, acc: new AgentAcc() }));
    return g.acc;
  };
  if (q.group_by !== 'agent') spans.forEach((_, i) => get(i, null));
  const spanOf = (b: number) => (split ? idx(Number(b)) : 0);
  for (const r of states) {
    const a = get(spanOf(r.span), q.group_by === 'agent' ? r.agent_id : null);
    const v = Number(r.ms);
    a.state[r.state] = (a.state[r.state] ?? 0) + v;
    if (r.state === 'paused') a.pause.set(r.reason, (a.pause.get(r.reason) ?? 0) + v);
  }
  for (const r of calls) {
    const a = get(spanOf(r.span), q.group_by === 'agent' ? r.agent_id : null);
    a.handled += Number(r.handled);
    a.missed += Number(r.missed);
    a.talk_ms += Number(r.talk_ms);
    a.hold_ms += Number(r.hold_ms);
    a.wrap_ms += Number(r.wrap_ms) + (r.queue ? Number(r.wrap_default) * q.settings(r.queue).wrap_up_s * 1000 : 0);
  }
  return [...groups.values()]
    .sort((a, b) => a.span - b.span || (a.agent ?? '').localeCompare(b.agent ?? ''))
    .map((g) => g.acc.row(key(spans[g.span]!, null, g.agent)));
}

// ---- call (CDR) metrics ----------------------------------------------------------------------

/**
 * CDR metrics (METRICS.md "Extension and call metrics") over calls whose start falls in the
 * period, grouped by nothing, extension, interval or local day. Durations in seconds.
 */
export async function callMetrics(ch: ClickHouse, q: MetricsQuery<CallGroupBy>): Promise<CallMetricsRow[]> {
  const p = checkQuery(q, ['none', 'extension', 'interval', 'day']);
  const spans = spansOf(p, q);
  const split = q.group_by === 'interval' || q.group_by === 'day';
  let filter = '';
  if (q.filter?.queues?.length) filter += ` AND hasAny(queues, ${litArray(q.filter.queues)})`;
  if (q.filter?.agents?.length) filter += ` AND (agent_id IN ${litArray(q.filter.agents)} OR extension IN ${litArray(q.filter.agents)})`;
  const sql = `SELECT ${q.group_by === 'extension' ? 'extension' : "''"} AS ext,
      ${split ? `intDiv(toUnixTimestamp64Milli(started_at), ${BUCKET})` : '0'} AS span,
      count() AS calls, countIf(direction = 'inbound') AS inbound, countIf(direction = 'outbound') AS outbound,
      countIf(direction = 'internal') AS internal, countIf(disposition = 'ANSWERED') AS answered,
      countIf(disposition = 'NO ANSWER') AS no_answer, countIf(disposition = 'BUSY') AS busy,
      countIf(disposition = 'FAILED') AS failed, countIf(disposition = 'CONGESTION') AS congestion,
      sum(duration_ms) AS duration_ms, sum(billsec_ms) AS billsec_ms
    FROM ${ch.db}.calls FINAL
    WHERE tenant_id = ${lit(q.tenant_id)} AND started_at >= ${lit(chTime(p.start))} AND started_at < ${lit(chTime(p.end))}${filter}
    GROUP BY ext, span`;
  const data = await rows<Record<string, number | string>>(ch, sql);
  const idx = spanIndex(spans);
  const groups = new Map<string, CallMetricsRow & { _span: number }>();
  const blank = (span: number, ext: string | null): CallMetricsRow & { _span: number } => ({
    _span: span,
    interval: spans[span]!.interval,
    start: iso(spans[span]!.start),
    end: iso(spans[span]!.end),
    extension: ext,
    calls: 0,
    inbound: 0,
    outbound: 0,
    internal: 0,
    answered: 0,
    no_answer: 0,
    busy: 0,
    failed: 0,
    congestion: 0,
    duration: 0,
    billsec: 0,
    busy_time: 0,
  });
  const get = (span: number, ext: string | null) => {
    const k = `${span}\u0000${ext ?? ''}`;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = blank(span, ext)));
    return g;
  };
  if (q.group_by !== 'extension') spans.forEach((_, i) => get(i, null));
  for (const r of data) {
    const g = get(split ? idx(Number(r.span)) : 0, q.group_by === 'extension' ? String(r.ext) : null);
    for (const f of ['calls', 'inbound', 'outbound', 'internal', 'answered', 'no_answer', 'busy', 'failed', 'congestion'] as const) g[f] += Number(r[f]);
    g.duration += Number(r.duration_ms) / 1000;
    g.billsec += Number(r.billsec_ms) / 1000;
    g.busy_time += Number(r.duration_ms) / 1000;
  }
  return [...groups.values()]
    .sort((a, b) => a._span - b._span || (a.extension ?? '').localeCompare(b.extension ?? ''))
    .map(({ _span, ...r }) => {
      void _span;
      return r;
    });
}

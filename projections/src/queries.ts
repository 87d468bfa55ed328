// The metric queries: every metric of METRICS.md for a tenant's local period. A period is
// resolved with luxon (periods.ts) into a UTC half-open interval on 15-minute bucket edges and
// answered from buckets, so day totals add up to week and month totals. Reads go through the
// tenant-scoped reader (read/scope.ts) with bound parameters. Per-queue settings (SL threshold,
// short-abandon threshold, SL formula, default wrap-up) are applied here, at query time, from the
// per-second wait histograms (percentiles from the 0.1 s wait sketch); the formulas themselves are the metrics module's (metrics/).
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
import {
  AGENT_STATES,
  BUCKET_MS,
  groupFormula,
  withInHoursRatios,
  aht,
  bucketIndexOfDateTime,
  bucketIndexOfMs,
  emptyQueueCounters,
  emptyWaitSketch,
  emptyStateTime,
  isShortAbandon,
  legAggregates,
  loggedInTime,
  meanSeconds,
  mergeWaitSketch,
  occupancy,
  queueFigures,
  rollupAggregates,
  utilization,
  withinSl,
  wrapMs,
  type QueueCounters,
  type WaitPercentiles,
  type WaitSketch,
} from './metrics/index.ts';
import { PeriodError, intervals, resolvePeriod, type Period } from './periods.ts';
import { planHours } from './read/hours.ts';
import { agentRollupSql } from './read/agent-rollup.ts';
import { queueRowsSql } from './read/queue-rows.ts';
import { TenantReader, msParam, type Params } from './read/scope.ts';

export * from './metrics-types.ts';

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

/** Maps a 15-minute bucket index (epoch ms / BUCKET_MS) to its span. */
function spanIndex(spans: Span[]): (bucketIndex: number) => number {
  const starts = spans.map((s) => s.start / BUCKET_MS);
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
  /** The grouped rows as such (read/queue-rows.ts `inEngine` false): the per-second histograms. */
  answered_wait_ceil_s?: Record<string, number>;
  abandoned_wait_ceil_s?: Record<string, number>;
  abandoned_wait_floor_s?: Record<string, number>;
  /** Through read/queue-rows.ts: 1 when the queue's thresholds were applied in the engine (the three counts hold), else its histograms as unapplied_*. */
  in_engine?: number;
  answered_within_sl?: number;
  abandoned_within_sl?: number;
  short_abandoned?: number;
  unapplied_answered_wait_ceil_s?: Record<string, number>;
  unapplied_abandoned_wait_ceil_s?: Record<string, number>;
  unapplied_abandoned_wait_floor_s?: Record<string, number>;
  answered_wait_ms: number;
  abandoned_wait_ms: number;
  max_wait_ms: number;
  talk_ms: number;
  hold_ms: number;
  wrap_ms: number;
  wrap_default_legs: number;
  /** With `percentiles`, as such: the row's wait sketch. */
  answered_wait_ds?: Record<string, number>;
  min_answered_wait_ms?: number;
  max_answered_wait_ms?: number;
  /** With `percentiles`, through read/queue-rows.ts: the row's result group's, in ms (null: no answered leg). */
  wait_p50_ms?: number | null;
  wait_p90_ms?: number | null;
  wait_p99_ms?: number | null;
  /** 1: offered in business hours (read/hours.ts). */
  in_hours: number;
}

const seconds = (ms: number | null | undefined): number | null => (ms === null || ms === undefined ? null : Number(ms) / 1000);

class QueueAcc {
  c: QueueCounters = emptyQueueCounters();
  max_wait_ms = 0;
  /** The group's percentiles from the engine, or its merged sketch when the rows carry theirs. */
  waits: WaitPercentiles = { p50: null, p90: null, p99: null };
  sketch: WaitSketch | null = null;
  formulas = new Set<SlFormula>();
  closed = 0;

  add(r: LegAgg, s: QueueSettings): void {
    const c = this.c;
    if (Number(r.in_hours) !== 1) this.closed += Number(r.offered);
    c.offered += Number(r.offered);
    c.answered += Number(r.answered);
    c.abandoned += Number(r.abandoned);
    c.exited += Number(r.exited);
    c.waiting += Number(r.waiting);
    c.transferred += Number(r.transferred);
    if (Number(r.in_engine) === 1) {
      c.answered_within_sl += Number(r.answered_within_sl);
      c.abandoned_within_sl += Number(r.abandoned_within_sl);
      c.short_abandoned += Number(r.short_abandoned);
    } else {
      // A ceil key k holds waits in (k − 1, k] s and a floor key k waits in [k, k + 1) s, so asking
      // the threshold about the key's edge is exact for whole-second thresholds.
      for (const [k, n] of Object.entries(r.unapplied_answered_wait_ceil_s ?? r.answered_wait_ceil_s ?? {})) if (withinSl(Number(k) * 1000, s)) c.answered_within_sl += n;
      for (const [k, n] of Object.entries(r.unapplied_abandoned_wait_ceil_s ?? r.abandoned_wait_ceil_s ?? {})) if (withinSl(Number(k) * 1000, s)) c.abandoned_within_sl += n;
      for (const [k, n] of Object.entries(r.unapplied_abandoned_wait_floor_s ?? r.abandoned_wait_floor_s ?? {})) if (isShortAbandon(Number(k) * 1000, s)) c.short_abandoned += n;
    }
    if (r.answered_wait_ds) {
      mergeWaitSketch((this.sketch ??= emptyWaitSketch()), {
        keys: Object.entries(r.answered_wait_ds).map(([k, n]) => [Number(k), Number(n)]),
        min_ms: Number(r.min_answered_wait_ms),
        max_ms: Number(r.max_answered_wait_ms),
      });
    }
    // Every row of a result group carries the group's percentiles (read/queue-rows.ts).
    if (r.wait_p50_ms !== undefined) this.waits = { p50: seconds(r.wait_p50_ms), p90: seconds(r.wait_p90_ms), p99: seconds(r.wait_p99_ms) };
    c.answered_wait_ms += Number(r.answered_wait_ms);
    c.abandoned_wait_ms += Number(r.abandoned_wait_ms);
    this.max_wait_ms = Math.max(this.max_wait_ms, Number(r.max_wait_ms));
    c.talk_ms += Number(r.talk_ms);
    c.hold_ms += Number(r.hold_ms);
    c.wrap_ms += Number(r.wrap_ms) + Number(r.wrap_default_legs) * wrapMs(null, s);
    this.formulas.add(s.sl_formula);
  }

  row(k: GroupKey): Omit<QueueMetricsRow, 'closed' | 'open_fraction'> {
    // Mixed SL formulas in one group fall back to the METRICS.md default.
    const formula = groupFormula(this.formulas);
    const finished = this.c.answered + this.c.abandoned + this.c.exited;
    return { ...k, ...queueFigures(this.c, { formula, answeredWaits: this.sketch ?? this.waits, maxWaitMs: finished ? this.max_wait_ms : null }) };
  }
}

/** ` AND queue IN … AND agent_id IN …` for the query's filter, its values added to `params`. */
function filterSql(q: MetricsQuery<string>, params: Params, opts: { queues: string; agents: string | null }): string {
  let w = '';
  if (q.filter?.queues?.length) {
    w += ` AND ${opts.queues}`;
    params.queues = q.filter.queues;
  }
  if (opts.agents && q.filter?.agents?.length) {
    w += ` AND ${opts.agents}`;
    params.agents = q.filter.agents;
  }
  return w;
}

/** How a queue metrics query reads its legs: from the 15-minute rollup, or leg by leg. */
export type QueueSource = 'rollup' | 'legs';

/** What a caller of queueMetrics needs beyond the query. */
export interface QueueReadOptions {
  /** Told which source answered (the business-hours tests). */
  onSource?: (s: QueueSource) => void;
  /**
   * false: wait_p50/p90/p99 are null and the 0.1 s wait sketch is not read. It is most of the
   * bytes of a result row (hundreds of keys per row; a month by agent has hundreds of rows), so a
   * caller that shows no percentiles skips it. Every other field is the same. Default true.
   */
  percentiles?: boolean;
  /**
   * 'legs': read every leg of the period (queue_legs FINAL) even where a rollup would answer: the
   * reference each rollup must agree with (the rollup tests; benchmarks). Default: the rollups
   * where they can answer.
   */
  source?: 'legs';
}

/**
 * Queue metrics (METRICS.md "Queue metrics") over queue legs offered in the period, grouped by
 * nothing, queue, answering agent, intraday interval or local day. Durations in seconds.
 * With business hours (q.business_hours), legs are classed in or out of hours by their
 * offered_at, at query time; `q.hours` picks which of them count (see MetricsQuery).
 */
export async function queueMetrics(ch: ClickHouse, q: MetricsQuery<QueueGroupBy>, o: QueueReadOptions = {}): Promise<QueueMetricsRow[]> {
  const p = checkQuery(q, ['none', 'queue', 'agent', 'interval', 'day']);
  if (q.hours !== undefined && q.hours !== 'open' && q.hours !== 'closed' && q.hours !== 'all') throw new PeriodError(`hours ${JSON.stringify(q.hours)}: expected open, closed or all`, q.hours);
  const spans = spansOf(p, q);
  const r = new TenantReader(ch, q.tenant_id);
  const params: Params = { start: p.start.getTime(), end: p.end.getTime(), tz: q.timezone };
  const hours = planHours(q.business_hours, q.timezone, p.start.getTime(), p.end.getTime(), q.filter?.queues?.length ? q.filter.queues : null, params);
  // The rollup's buckets cannot split a bucket that opens or closes inside it (say at 08:10).
  const byAgent = q.group_by === 'agent' || Boolean(q.filter?.agents?.length);
  // By agent reads the per-agent rollups (read/agent-rollup.ts); their 15-minute buckets split by
  // business hours as the queue rollup's do, their day rows cannot (whole days only without hours).
  const byAgentRollup = byAgent && hours.rollupOk && o.source !== 'legs';
  const byLegs = o.source === 'legs' || (byAgent ? !byAgentRollup : !hours.rollupOk);
  o.onSource?.(byLegs ? 'legs' : 'rollup');
  const sketch = o.percentiles ?? true;
  const during = ` AND bucket >= ${msParam('start')} AND bucket < ${msParam('end')}`;
  const spanExpr =
    q.group_by === 'interval' ? `${bucketIndexOfDateTime('bucket')} AS span` : q.group_by === 'day' ? `toString(toDate(bucket, {tz:String})) AS span` : `0 AS span`;
  const filter = filterSql(q, params, { queues: 'queue IN {queues:Array(String)}', agents: byAgent ? 'agent_id IN {agents:Array(String)}' : null });
  const inHours = `${hours.sql(byLegs)} AS in_hours`;
  const agentCol = byAgent ? 'agent_id, ' : '';
  const grouped = byAgentRollup
    ? agentRollupSql(r, { spanExpr, during, filter, params, inHours: hours.sql(false), sketch, wholePeriod: !hours.active && q.group_by !== 'interval' && q.group_by !== 'day' })
    : byLegs
      ? `SELECT queue, ${agentCol}${spanExpr}, ${inHours}, ${legAggregates(sketch)} FROM ${r.from('queue_legs')}${during}${filter} GROUP BY queue, ${agentCol}span, in_hours`
      : `SELECT queue, ${spanExpr}, ${inHours}, ${rollupAggregates(sketch)} FROM ${r.from('queue_15m')}${during}${filter} GROUP BY queue, span, in_hours`;
  const sql = queueRowsSql({
    grouped,
    // A result of a few rows (a month by queue: 20) returns few histogram and sketch bytes: the
    // engine's extra SQL cost it more CPU than it saved (docs/BENCHMARKS.md, issue #17).
    inEngine: q.group_by !== 'none' && q.group_by !== 'queue',
    agentColumn: byAgent,
    groupBy: q.group_by === 'queue' ? 'queue' : q.group_by === 'agent' ? 'agent' : null,
    intervalStarts: q.group_by === 'interval' ? spans.map((s) => s.start / BUCKET_MS) : null,
    counted: q.hours === 'open' ? 'in_hours = 1' : q.hours === 'closed' ? 'in_hours != 1' : '1',
    // The queues known before the read (the caller's list, the filter's): their thresholds apply in the engine.
    queues: [...new Set([...(q.queues ?? []), ...(q.filter?.queues ?? [])])],
    settings: q.settings,
    sketch,
    params,
  });
  const data = await r.rows<LegAgg>(sql, params);

  const idx = spanIndex(spans);
  const dayIdx = new Map(spans.map((s, i) => [s.interval, i]));
  // Without `hours`, service_level, abandon_rate and asa come from a second accumulator that
  // holds each queue's in-hours legs (all its legs when the queue's ratio_hours is `all`).
  const ratiosInHours = q.hours === undefined && hours.active;
  const groups = new Map<string, { span: number; queue: string | null; agent: string | null; acc: QueueAcc; ratios: QueueAcc }>();
  const get = (span: number, queue: string | null, agent: string | null) => {
    const k = `${span}\u0000${queue ?? ''}\u0000${agent ?? ''}`;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { span, queue, agent, acc: new QueueAcc(), ratios: new QueueAcc() }));
    return g;
  };
  if (q.group_by === 'none' || q.group_by === 'interval' || q.group_by === 'day') spans.forEach((_, i) => get(i, null, null));
  for (const d of data) {
    const span = q.group_by === 'interval' ? idx(Number(d.span)) : q.group_by === 'day' ? (dayIdx.get(String(d.span)) ?? -1) : 0;
    if (span < 0) throw new Error(`day ${String(d.span)} from ClickHouse is not a local day of ${p.label} in ${q.timezone}`);
    const open = Number(d.in_hours) === 1;
    const queue = q.group_by === 'queue' ? d.queue : null;
    const agent = q.group_by === 'agent' ? d.agent_id || null : null;
    // The group exists even when hours leaves it no legs: a queue shows 0 OPEN, not nothing.
    const g = get(span, queue, agent);
    if ((q.hours === 'open' && !open) || (q.hours === 'closed' && open)) continue;
    const s = q.settings(d.queue);
    g.acc.add(d, s);
    if (ratiosInHours && (open || s.ratio_hours === 'all')) g.ratios.add(d, s);
  }
  return [...groups.values()]
    .sort((a, b) => a.span - b.span || (a.queue ?? '').localeCompare(b.queue ?? '') || (a.agent ?? '').localeCompare(b.agent ?? ''))
    .map((g) => {
      const span = spans[g.span]!;
      const k = key(span, g.queue, g.agent);
      const row = { ...g.acc.row(k), closed: g.acc.closed, open_fraction: hours.openFraction(g.queue, span.start, span.end) };
      if (!ratiosInHours) return row;
      const inHours = g.ratios.row(k);
      return withInHoursRatios(row, inHours);
    });
}

// ---- agent metrics ---------------------------------------------------------------------------

class AgentAcc {
  state = emptyStateTime();
  pause = new Map<string, number>();
  handled = 0;
  missed = 0;
  talk_ms = 0;
  hold_ms = 0;
  wrap_ms = 0;

  row(k: GroupKey): AgentMetricsRow {
    const s = (x: number) => x / 1000;
    const st = Object.fromEntries(AGENT_STATES.map((x) => [x, s(this.state[x])])) as StateTime;
    return {
      ...k,
      state_time: st,
      logged_in_time: loggedInTime(st),
      handled: this.handled,
      missed: this.missed,
      occupancy: occupancy(st),
      utilization: utilization(st),
      talk_time: s(this.talk_ms),
      hold_time: s(this.hold_ms),
      wrap_time: s(this.wrap_ms),
      avg_talk: meanSeconds(this.talk_ms, this.handled),
      avg_hold: meanSeconds(this.hold_ms, this.handled),
      aht: aht(this.talk_ms, this.hold_ms, this.wrap_ms, this.handled),
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
  const r = new TenantReader(ch, q.tenant_id);
  const params: Params = { start: S, end: E, now };
  const agents = q.filter?.agents?.length ? ' AND agent_id IN {agents:Array(String)}' : '';
  if (agents) params.agents = q.filter!.agents;
  const clipped = `SELECT agent_id, state, reason, paused,
        greatest(toInt64(toUnixTimestamp64Milli(started_at)), {start:Int64}) AS cs,
        least(ifNull(toInt64(toUnixTimestamp64Milli(ended_at)), greatest({now:Int64}, toInt64(toUnixTimestamp64Milli(started_at)))), {end:Int64}) AS ce
      FROM ${r.from('agent_intervals')} AND started_at < ${msParam('end')} AND (ended_at IS NULL OR ended_at > ${msParam('start')})${agents}`;
  const bucketEdge = (b: string) => `toInt64(${b} * ${BUCKET_MS})`;
  const stateSql = split
    ? `SELECT agent_id, state, reason, paused, b AS span, sum(least(ce, ${bucketEdge('(b + 1)')}) - greatest(cs, ${bucketEdge('b')})) AS ms
       FROM (${clipped}) ARRAY JOIN range(${bucketIndexOfMs('cs')}, ${bucketIndexOfMs('ce - 1')} + 1) AS b
       WHERE ce > cs GROUP BY agent_id, state, reason, paused, span`
    : `SELECT agent_id, state, reason, paused, 0 AS span, sum(ce - cs) AS ms FROM (${clipped}) WHERE ce > cs GROUP BY agent_id, state, reason, paused`;
  const callSql = `SELECT agent_id, queue, ${split ? bucketIndexOfMs('toUnixTimestamp64Milli(at)') : '0'} AS span,
        countIf(kind = 'handled') AS handled, countIf(kind = 'missed') AS missed,
        sumIf(talk_ms, kind = 'handled') AS talk_ms, sumIf(hold_ms, kind = 'handled') AS hold_ms,
        sumIf(ifNull(wrap_ms, 0), kind = 'handled' AND completed = 1) AS wrap_ms,
        countIf(kind = 'handled' AND completed = 1 AND wrap_ms IS NULL) AS wrap_default
      FROM ${r.from('agent_calls')} AND at >= ${msParam('start')} AND at < ${msParam('end')}${agents}
        ${q.filter?.queues?.length ? ' AND queue IN {queues:Array(String)}' : ''}
      GROUP BY agent_id, queue, span`;
  if (q.filter?.queues?.length) params.queues = q.filter.queues;
  const [states, calls] = await Promise.all([
    r.rows<{ agent_id: string; state: AgentState; reason: string; paused: number; span: number; ms: number }>(stateSql, params),
    r.rows<{ agent_id: string; queue: string; span: number; handled: number; missed: number; talk_ms: number; hold_ms: number; wrap_ms: number; wrap_default: number }>(callSql, params),
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
  for (const d of states) {
    const a = get(spanOf(d.span), q.group_by === 'agent' ? d.agent_id : null);
    const v = Number(d.ms);
    a.state[d.state] = (a.state[d.state] ?? 0) + v;
    // METRICS.md pause_time_by_reason: every interval under a pause, whatever its state.
    if (Number(d.paused) === 1) a.pause.set(d.reason, (a.pause.get(d.reason) ?? 0) + v);
  }
  for (const d of calls) {
    const a = get(spanOf(d.span), q.group_by === 'agent' ? d.agent_id : null);
    a.handled += Number(d.handled);
    a.missed += Number(d.missed);
    a.talk_ms += Number(d.talk_ms);
    a.hold_ms += Number(d.hold_ms);
    a.wrap_ms += Number(d.wrap_ms) + (d.queue ? Number(d.wrap_default) * wrapMs(null, q.settings(d.queue)) : 0);
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
  const r = new TenantReader(ch, q.tenant_id);
  const params: Params = { start: p.start.getTime(), end: p.end.getTime() };
  const filter = filterSql(q, params, { queues: 'hasAny(queues, {queues:Array(String)})', agents: '(agent_id IN {agents:Array(String)} OR extension IN {agents:Array(String)})' });
  const sql = `SELECT ${q.group_by === 'extension' ? 'extension' : "''"} AS ext,
      ${split ? bucketIndexOfMs('toUnixTimestamp64Milli(started_at)') : '0'} AS span,
      count() AS calls, countIf(direction = 'inbound') AS inbound, countIf(direction = 'outbound') AS outbound,
      countIf(direction = 'internal') AS internal, countIf(disposition = 'ANSWERED') AS answered,
      countIf(disposition = 'NO ANSWER') AS no_answer, countIf(disposition = 'BUSY') AS busy,
      countIf(disposition = 'FAILED') AS failed, countIf(disposition = 'CONGESTION') AS congestion,
      sum(duration_ms) AS duration_ms, sum(billsec_ms) AS billsec_ms
    FROM ${r.from('calls')} AND started_at >= ${msParam('start')} AND started_at < ${msParam('end')}${filter}
    GROUP BY ext, span`;
  const data = await r.rows<Record<string, number | string>>(sql, params);
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
  for (const d of data) {
    const g = get(split ? idx(Number(d.span)) : 0, q.group_by === 'extension' ? String(d.ext) : null);
    for (const f of ['calls', 'inbound', 'outbound', 'internal', 'answered', 'no_answer', 'busy', 'failed', 'congestion'] as const) g[f] += Number(d[f]);
    g.duration += Number(d.duration_ms) / 1000;
    g.billsec += Number(d.billsec_ms) / 1000;
    g.busy_time += Number(d.duration_ms) / 1000;
  }
  return [...groups.values()]
    .sort((a, b) => a._span - b._span || (a.extension ?? '').localeCompare(b.extension ?? ''))
    .map(({ _span, ...r }) => {
      void _span;
      return r;
    });
}

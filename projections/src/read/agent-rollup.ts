// Queue metrics per answering agent from the per-agent rollups (migration 0012) instead of every
// leg of the period through `queue_legs FINAL` (issue #17: a month by agent over 10 M legs read
// ~850,000 legs, p95 0.5–2.7 s depending on load).
//
// A period that is not split into spans reads the cores of the UTC months it covers (days 2 to
// last − 1: migration 0016) from queue_agent_1mo, its other whole UTC days from queue_agent_1d,
// the whole hours before the first and after the last whole day from queue_agent_1h, and only
// the quarter hours left (a zone such as Asia/Kolkata) from queue_agent_15m. A local month is
// then one month row, one or two day rows and at most ~24 hour rows per agent and queue: at 10 M
// legs ~3,800 rows where the day and 15-minute rows alone were ~18,400 (docs/BENCHMARKS.md).
// Intraday or per-day spans, and periods with business hours, read queue_agent_15m alone.
//
// No FINAL: each recompute writes all rows of a bucket (day, month) with one version (store.ts
// ROLLUPS, agentHoursSql, agentDaysSql, agentMonthsSql), so the rows of its highest version are its current
// snapshot. The read keeps only those: rows an older snapshot had (before a merge replaced them,
// or for an agent no longer in it) are left out, and nothing is merged at read time.
import { DAY_MS, HOUR_MS, inMonthCore, monthStartDay, nextMonthStartDay, rollupAggregates } from '../metrics/index.ts';
import { msParam, type Params, type TenantReader } from './scope.ts';

const COLUMNS = `queue, agent_id, offered, answered, abandoned, exited, waiting, transferred, answered_wait_ceil_s, abandoned_wait_ceil_s,
  abandoned_wait_floor_s, answered_wait_ms, abandoned_wait_ms, max_wait_ms, talk_ms, hold_ms, wrap_ms, wrap_default_legs`;
const SKETCH_COLUMNS = `, answered_wait_ds, min_answered_wait_ms, max_answered_wait_ms`;

export interface AgentRollupRead {
  spanExpr: string;
  /** ` AND …` bucket conditions of the period ({start}, {end} in `params`). */
  during: string;
  /** ` AND …` queue and agent filters. */
  filter: string;
  /** The query's parameters: `start` and `end` (epoch ms) are read, day edges added. */
  params: Params;
  /** The period is one span (group by nothing, queue or agent) and no business hours apply: whole hours, days and month cores may come from the coarser rollups. */
  wholePeriod: boolean;
  /** Business hours of a bucket (read/hours.ts `sql(false)`; '1' without hours): the rows are grouped by it as `in_hours`. */
  inHours: string;
  /** Read the wait sketch (queries.ts QueueReadOptions `percentiles`). */
  sketch: boolean;
}

/** The SELECT of queue metrics by queue, agent and span: the same columns and groups as over the legs. */
export function agentRollupSql(r: TenantReader, q: AgentRollupRead): string {
  const buckets = r.from('queue_agent_15m', false);
  /** FROM … WHERE of the latest snapshot of each `grain` of `table` (as r.from) matching `where`. */
  const latest = (table: string, grain: string, where: string) =>
    `${table}${where}${q.filter} AND (${grain}, version) IN (SELECT ${grain}, max(version) FROM ${table}${where} GROUP BY ${grain})`;
  const start = Number(q.params.start);
  const end = Number(q.params.end);
  const aggregates = rollupAggregates(q.sketch);
  const columns = q.sketch ? COLUMNS + SKETCH_COLUMNS : COLUMNS;
  const firstDay = Math.ceil(start / DAY_MS) * DAY_MS;
  const endDay = Math.floor(end / DAY_MS) * DAY_MS;
  if (!q.wholePeriod || endDay <= firstDay) {
    return `SELECT queue, agent_id, ${q.spanExpr}, ${q.inHours} AS in_hours, ${aggregates} FROM ${latest(buckets, 'bucket', q.during)} GROUP BY queue, agent_id, span, in_hours`;
  }
  // The edges' whole hours (every zone on whole hours has only those) and their quarter hours.
  const hourStart = Math.ceil(start / HOUR_MS) * HOUR_MS;
  const hourEnd = Math.floor(end / HOUR_MS) * HOUR_MS;
  Object.assign(q.params, { first_day: firstDay, end_day: endDay, hour_start: hourStart, hour_end: hourEnd });
  const between = (col: string, from: string, to: string) => `(${col} >= ${msParam(from)} AND ${col} < ${msParam(to)})`;
  // Each part of the UNION costs its read and snapshot subquery (~8 ms CPU at 10 M legs), even
  // when it finds nothing: a zone on UTC has no edge hours.
  const parts: string[] = [];
  if (hourStart < firstDay || endDay < hourEnd) {
    parts.push(latest(r.from('queue_agent_1h', false), 'hour', ` AND (${between('hour', 'hour_start', 'first_day')} OR ${between('hour', 'end_day', 'hour_end')})`));
  }
  if (hourStart > start || hourEnd < end) {
    parts.push(latest(buckets, 'bucket', ` AND (${between('bucket', 'start', 'hour_start')} OR ${between('bucket', 'hour_end', 'end')})`));
  }
  const coreMonths = monthsWithin(firstDay / DAY_MS, endDay / DAY_MS);
  const wholeDays: string[] = [];
  for (let d = firstDay / DAY_MS; d < endDay / DAY_MS; d++) {
    if (!coreMonths.includes(monthStartDay(d)) || !inMonthCore(d)) wholeDays.push(dateOf(d));
  }
  if (coreMonths.length) {
    q.params.core_months = coreMonths.map(dateOf);
    parts.push(latest(r.from('queue_agent_1mo', false), 'month', ' AND month IN {core_months:Array(Date)}'));
  }
  if (wholeDays.length) {
    q.params.whole_days = wholeDays;
    parts.push(latest(r.from('queue_agent_1d', false), 'day', ' AND day IN {whole_days:Array(Date)}'));
  }
  return `SELECT queue, agent_id, 0 AS span, 1 AS in_hours, ${aggregates} FROM (
      ${parts.map((p) => `SELECT ${columns} FROM ${p}`).join('\n      UNION ALL\n      ')}
    ) GROUP BY queue, agent_id, span`;
}

const dateOf = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10);

/** The UTC months (first days) whose core lies within the whole days [firstDay, endDay). */
function monthsWithin(firstDay: number, endDay: number): number[] {
  const out: number[] = [];
  for (let m = monthStartDay(firstDay); m < endDay; m = nextMonthStartDay(m)) {
    if (m + 1 >= firstDay && nextMonthStartDay(m) - 1 <= endDay) out.push(m);
  }
  return out;
}

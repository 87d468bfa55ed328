// Queue metrics per answering agent from the per-agent rollups (migration 0012) instead of every
// leg of the period through `queue_legs FINAL` (issue #17: a month by agent over 10 M legs read
// ~850,000 legs, p95 0.5–2.7 s depending on load).
//
// A period that is not split into spans reads its whole UTC days from queue_agent_1d and only the
// buckets before the first and after the last whole day from queue_agent_15m: a local month is a
// few hundred day rows per agent set plus at most two days of 15-minute rows at its edges.
// Intraday or per-day spans read queue_agent_15m alone.
//
// No FINAL: each recompute writes all rows of a bucket (or day) with one version (store.ts
// ROLLUPS, agentDaysSql), so the rows of a bucket's (day's) highest version are its current
// snapshot. The read keeps only those: rows an older snapshot had (before a merge replaced them,
// or for an agent no longer in the bucket) are left out, and nothing is merged at read time.
import { rollupAggregates } from '../metrics/index.ts';
import { msParam, type Params, type TenantReader } from './scope.ts';

const DAY_MS = 86_400_000;
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
  /** The period is one span (group by nothing, queue or agent) and no business hours apply: whole days may come from the day rollup. */
  wholePeriod: boolean;
  /** Business hours of a bucket (read/hours.ts `sql(false)`; '1' without hours): the rows are grouped by it as `in_hours`. */
  inHours: string;
  /** Read the wait sketch (queries.ts QueueReadOptions `percentiles`). */
  sketch: boolean;
}

/** The SELECT of queue metrics by queue, agent and span: the same columns and groups as over the legs. */
export function agentRollupSql(r: TenantReader, q: AgentRollupRead): string {
  const buckets = r.from('queue_agent_15m', false);
  const latest = (where: string) => `${buckets}${where}${q.filter} AND (bucket, version) IN (SELECT bucket, max(version) FROM ${buckets}${where} GROUP BY bucket)`;
  const start = Number(q.params.start);
  const end = Number(q.params.end);
  const aggregates = rollupAggregates(q.sketch);
  const columns = q.sketch ? COLUMNS + SKETCH_COLUMNS : COLUMNS;
  const firstDay = Math.ceil(start / DAY_MS) * DAY_MS;
  const endDay = Math.floor(end / DAY_MS) * DAY_MS;
  if (!q.wholePeriod || endDay <= firstDay) {
    return `SELECT queue, agent_id, ${q.spanExpr}, ${q.inHours} AS in_hours, ${aggregates} FROM ${latest(q.during)} GROUP BY queue, agent_id, span, in_hours`;
  }
  Object.assign(q.params, { first_day: firstDay, end_day: endDay });
  const edges = ` AND ((bucket >= ${msParam('start')} AND bucket < ${msParam('first_day')}) OR (bucket >= ${msParam('end_day')} AND bucket < ${msParam('end')}))`;
  const days = r.from('queue_agent_1d', false);
  const inDays = ` AND day >= toDate(${msParam('first_day')}) AND day < toDate(${msParam('end_day')})`;
  return `SELECT queue, agent_id, 0 AS span, 1 AS in_hours, ${aggregates} FROM (
      SELECT ${columns} FROM ${latest(edges)}
      UNION ALL
      SELECT ${columns} FROM ${days}${inDays}${q.filter} AND (day, version) IN (SELECT day, max(version) FROM ${days}${inDays} GROUP BY day)
    ) GROUP BY queue, agent_id, span`;
}

// The engine's share of queue metrics (issue #17). Around the grouped rows of any of the three
// sources (queue_15m, the per-agent rollups, queue_legs: metrics/sql.ts rollupAggregates and
// legAggregates, unchanged), one SELECT applies what is known before the read, so the bytes that
// only served a figure stay in the engine:
// - each known queue's wait thresholds (service level, short abandon) are applied to its merged
//   per-second histograms, and the row carries three counts instead of three maps (~360 keys
//   each). Rows of a queue the caller did not name keep their histograms (unapplied_*), counted in
//   TypeScript by the same formulas;
// - the wait sketch (~1,200 keys a row) of each result group is merged by a window over the
//   grouped rows, and only its wait_p50/p90/p99 come back.
// Applying the thresholds after the merge, not row by row before it, costs the engine no more than
// returning the maps did: a month of queue_15m is ~60,000 rows for 20 result rows, and counting
// each row's keys took longer than merging them. But this SQL has a fixed cost (~5–10 ms of CPU
// at 1 M legs): a result of a few rows (by queue, or one row) is read as it is (`inEngine` false).
// Numbers in docs/BENCHMARKS.md (issue #17).
// The figures are the TypeScript formulas' (queue-rows.int.spec.ts compares them).
import type { QueueSettings } from '@callboard/platform';
import { WAIT_PERCENTILE_RANKS, histogramCountSql, waitPercentileMsSql, waitSketchRanksSql } from '../metrics/index.ts';
import type { Params } from './scope.ts';

/** The columns every source's grouped rows carry besides the histograms and the sketch. */
const PLAIN = [
  'offered',
  'answered',
  'abandoned',
  'exited',
  'waiting',
  'transferred',
  'answered_wait_ms',
  'abandoned_wait_ms',
  'max_wait_ms',
  'talk_ms',
  'hold_ms',
  'wrap_ms',
  'wrap_default_legs',
] as const;

const EMPTY_HISTOGRAM = `CAST(map(), 'Map(UInt32, UInt32)')`;

export interface QueueRowsRead {
  /** SELECT queue[, agent_id], span, in_hours, rollupAggregates / legAggregates … GROUP BY them. */
  grouped: string;
  /** The grouped rows have agent_id. */
  agentColumn: boolean;
  /** The result group of a row beyond its span: the queue, the agent, or neither. */
  groupBy: 'queue' | 'agent' | null;
  /** group_by interval: the intervals' first buckets (bucket indexes, ascending); a row's span is a bucket index. */
  intervalStarts: number[] | null;
  /** Which rows count (q.hours over in_hours), as SQL; '1' for all. */
  counted: string;
  /** Queues whose settings are known before the read: their thresholds are applied here. */
  queues: readonly string[];
  settings: (queue: string) => QueueSettings;
  /** The grouped rows carry the wait sketch: return each group's wait_p50/p90/p99 (ms) instead. */
  sketch: boolean;
  /** false: the grouped rows as they are (histograms and sketch to TypeScript). */
  inEngine: boolean;
  params: Params;
}

/** One row per grouped row: its counts, its thresholds' counts (or histograms), its group's percentiles. */
export function queueRowsSql(o: QueueRowsRead): string {
  if (!o.inEngine) return o.grouped;
  Object.assign(o.params, {
    qr_queues: o.queues,
    // The products withinSl and isShortAbandon compare with (formulas.ts): the same Float64.
    qr_sl_ms: o.queues.map((q) => o.settings(q).sl_threshold_s * 1000),
    qr_short_ms: o.queues.map((q) => o.settings(q).short_abandon_s * 1000),
  });
  const applied = (hist: string, cmp: '<=' | '<', thresholds: string) => `if(qr_known > 0, ${histogramCountSql(hist, cmp, `{${thresholds}:Array(Float64)}[qr_known]`)}, 0)`;
  const unapplied = (hist: string) => `if(qr_known > 0, ${EMPTY_HISTOGRAM}, ${hist}) AS unapplied_${hist}`;
  const columns = [
    'queue',
    ...(o.agentColumn ? ['agent_id'] : []),
    'span',
    'in_hours',
    ...PLAIN,
    'qr_known > 0 AS in_engine',
    `${applied('answered_wait_ceil_s', '<=', 'qr_sl_ms')} AS answered_within_sl`,
    `${applied('abandoned_wait_ceil_s', '<=', 'qr_sl_ms')} AS abandoned_within_sl`,
    `${applied('abandoned_wait_floor_s', '<', 'qr_short_ms')} AS short_abandoned`,
    unapplied('answered_wait_ceil_s'),
    unapplied('abandoned_wait_ceil_s'),
    unapplied('abandoned_wait_floor_s'),
  ];
  const known = 'indexOf({qr_queues:Array(String)}, queue) AS qr_known';
  if (!o.sketch) return `SELECT ${columns.join(', ')} FROM (SELECT *, ${known} FROM (${o.grouped}))`;

  if (o.intervalStarts) o.params.qr_interval_starts = o.intervalStarts;
  // An interval holds several buckets: its index, as spanIndex in queries.ts finds it.
  const span = o.intervalStarts ? 'greatest(1, arrayCount(s -> s <= span, {qr_interval_starts:Array(Int64)}))' : 'span';
  const group = [span, ...(o.groupBy === 'queue' ? ['queue'] : o.groupBy === 'agent' ? ['agent_id'] : [])].join(', ');
  const inSketch = `(${o.counted}) AND notEmpty(answered_wait_ds)`;
  const windowed = `SELECT *, ${known},
      sumMap(if(${o.counted}, answered_wait_ds, ${EMPTY_HISTOGRAM})) OVER g AS qr_sketch,
      minIf(min_answered_wait_ms, ${inSketch}) OVER g AS qr_min_ms,
      maxIf(max_answered_wait_ms, ${inSketch}) OVER g AS qr_max_ms
    FROM (${o.grouped}) WINDOW g AS (PARTITION BY ${group})`;
  const percentiles = WAIT_PERCENTILE_RANKS.map((p) => `${waitPercentileMsSql(p, 'qr_min_ms', 'qr_max_ms')} AS wait_p${Math.round(p * 100)}_ms`);
  return `WITH ${waitSketchRanksSql('qr_sketch')} SELECT ${[...columns, ...percentiles].join(', ')} FROM (${windowed})`;
}

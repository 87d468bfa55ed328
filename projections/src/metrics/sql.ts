// The SQL halves of formulas.ts: ClickHouse expressions built from the same constants, so a
// bucket or a histogram key means the same thing in a rollup row and in TypeScript.
import { BUCKET_MS, BUCKET_S, COARSE_WAIT_STEP_S, FINE_WAIT_S, WAIT_KEY_MS } from './formulas.ts';

/** The 15-minute bucket index (epoch ms / BUCKET_MS) of an Int64 epoch-ms expression. */
export const bucketIndexOfMs = (msExpr: string): string => `intDiv(${msExpr}, ${BUCKET_MS})`;
/** The same index of a DateTime column (the `bucket` column of queue_legs and queue_15m). */
export const bucketIndexOfDateTime = (col: string): string => `intDiv(toUnixTimestamp(${col}), ${BUCKET_S})`;

/** waitCeilKey in SQL over a wait column in ms. */
export const WAIT_CEIL_KEY = (col: string): string =>
  `toUInt32(if(${col} <= ${FINE_WAIT_S * 1000}, intDiv(${col} + 999, 1000), ${FINE_WAIT_S} + intDiv(intDiv(${col} + 999, 1000) - ${FINE_WAIT_S} + ${COARSE_WAIT_STEP_S - 1}, ${COARSE_WAIT_STEP_S}) * ${COARSE_WAIT_STEP_S}))`;
/** waitFloorKey in SQL over a wait column in ms. */
export const WAIT_FLOOR_KEY = (col: string): string =>
  `toUInt32(if(${col} < ${FINE_WAIT_S * 1000}, intDiv(${col}, 1000), ${FINE_WAIT_S} + intDiv(intDiv(${col}, 1000) - ${FINE_WAIT_S}, ${COARSE_WAIT_STEP_S}) * ${COARSE_WAIT_STEP_S}))`;

/** waitDeciKey in SQL over a wait column in ms. */
export const WAIT_DECI_KEY = (col: string): string => `toUInt32(intDiv(${col} + ${WAIT_KEY_MS - 1}, ${WAIT_KEY_MS}))`;

// The wait sketch (percentiles only): the 0.1 s keys are most of a result row's bytes, so a read
// that is not asked for wait_p50/p90/p99 leaves these columns out (queries.ts `percentiles`).
const LEG_SKETCH = `,
    CAST(sumMapIf(map(${WAIT_DECI_KEY('wait_ms')}, toUInt32(1)), outcome = 'answered'), 'Map(UInt32, UInt32)') AS answered_wait_ds,
    toUInt64(minIf(wait_ms, outcome = 'answered')) AS min_answered_wait_ms,
    toUInt64(maxIf(wait_ms, outcome = 'answered')) AS max_answered_wait_ms`;
const ROLLUP_SKETCH = `,
    sumMap(answered_wait_ds) AS answered_wait_ds,
    minIf(min_answered_wait_ms, notEmpty(answered_wait_ds)) AS min_answered_wait_ms,
    maxIf(max_answered_wait_ms, notEmpty(answered_wait_ds)) AS max_answered_wait_ms`;

/**
 * Aggregates over queue_legs rows that make one rollup row (queue_15m) — the same expressions
 * serve the recompute of a bucket and the direct per-agent queries, so both agree. Thresholds are
 * not applied here but at query time, on the histograms, so a changed setting needs no rebuild.
 * The order is queue_15m's column order (the rollup is a positional INSERT … SELECT).
 */
export const legAggregates = (sketch: boolean): string => `
    toUInt32(count()) AS offered,
    toUInt32(countIf(outcome = 'answered')) AS answered,
    toUInt32(countIf(outcome = 'abandoned')) AS abandoned,
    toUInt32(countIf(outcome = 'exited')) AS exited,
    toUInt32(countIf(outcome = 'waiting')) AS waiting,
    toUInt32(countIf(outcome = 'answered' AND transferred = 1)) AS transferred,
    CAST(sumMapIf(map(${WAIT_CEIL_KEY('wait_ms')}, toUInt32(1)), outcome = 'answered'), 'Map(UInt32, UInt32)') AS answered_wait_ceil_s,
    CAST(sumMapIf(map(${WAIT_CEIL_KEY('wait_ms')}, toUInt32(1)), outcome = 'abandoned'), 'Map(UInt32, UInt32)') AS abandoned_wait_ceil_s,
    CAST(sumMapIf(map(${WAIT_FLOOR_KEY('wait_ms')}, toUInt32(1)), outcome = 'abandoned'), 'Map(UInt32, UInt32)') AS abandoned_wait_floor_s,
    toUInt64(sumIf(wait_ms, outcome = 'answered')) AS answered_wait_ms,
    toUInt64(sumIf(wait_ms, outcome = 'abandoned')) AS abandoned_wait_ms,
    toUInt64(maxIf(wait_ms, outcome != 'waiting')) AS max_wait_ms,
    toUInt64(sumIf(talk_ms, outcome = 'answered')) AS talk_ms,
    toUInt64(sumIf(hold_ms, outcome = 'answered')) AS hold_ms,
    toUInt64(sumIf(ifNull(wrap_ms, 0), outcome = 'answered' AND completed_at IS NOT NULL)) AS wrap_ms,
    toUInt32(countIf(outcome = 'answered' AND completed_at IS NOT NULL AND wrap_ms IS NULL)) AS wrap_default_legs${sketch ? LEG_SKETCH : ''}`;
export const LEG_AGGREGATES = legAggregates(true);

/** The same totals re-aggregated from rollup rows. */
export const rollupAggregates = (sketch: boolean): string => `
    sum(offered) AS offered, sum(answered) AS answered, sum(abandoned) AS abandoned, sum(exited) AS exited,
    sum(waiting) AS waiting, sum(transferred) AS transferred,
    sumMap(answered_wait_ceil_s) AS answered_wait_ceil_s, sumMap(abandoned_wait_ceil_s) AS abandoned_wait_ceil_s,
    sumMap(abandoned_wait_floor_s) AS abandoned_wait_floor_s,
    sum(answered_wait_ms) AS answered_wait_ms, sum(abandoned_wait_ms) AS abandoned_wait_ms, max(max_wait_ms) AS max_wait_ms,
    sum(talk_ms) AS talk_ms, sum(hold_ms) AS hold_ms, sum(wrap_ms) AS wrap_ms, sum(wrap_default_legs) AS wrap_default_legs${sketch ? ROLLUP_SKETCH : ''}`;
export const ROLLUP_AGGREGATES = rollupAggregates(true);

// ---- read-only: thresholds and percentiles applied in the engine (read/queue-rows.ts) ----------

/**
 * The legs of a per-second wait histogram (Map(UInt32, UInt32) of ceil or floor keys) whose key,
 * in ms, is `cmp` a threshold in ms: withinSl (`<=`, over ceil keys) and isShortAbandon (`<`, over
 * floor keys) of formulas.ts, asked of each key's edge exactly as QueueAcc does in TypeScript.
 */
export const histogramCountSql = (hist: string, cmp: '<=' | '<', thresholdMs: string): string => `arraySum(mapValues(mapFilter((k, n) -> k * 1000 ${cmp} ${thresholdMs}, ${hist})))`;

/**
 * The WITH aliases waitPercentileMsSql reads, over a merged wait sketch `sketch`: its keys sorted,
 * the running count in key order, and the total.
 */
export const waitSketchRanksSql = (sketch: string): string =>
  `arraySort(mapKeys(${sketch})) AS wait_keys, arrayCumSum(arraySort((n, k) -> k, mapValues(${sketch}), mapKeys(${sketch}))) AS wait_running, arraySum(mapValues(${sketch})) AS wait_total`;

/**
 * waitPercentiles (formulas.ts) of one rank `p` in SQL, in ms (null for an empty sketch): the
 * nearest rank's key (the first whose running count reaches ceil(p × total), at least 1), its upper
 * edge, clamped into [minMs, maxMs]. The same Float64 arithmetic as histogramPercentiles, so the
 * same key.
 */
export const waitPercentileMsSql = (p: number, minMs: string, maxMs: string): string =>
  `if(wait_total = 0, NULL, least(greatest(wait_keys[arrayFirstIndex(c -> c >= greatest(1, ceil(${p} * wait_total)), wait_running)] * ${WAIT_KEY_MS}, ${minMs}), ${maxMs}))`;

// Small SQL helpers shared by the store and the queries. Values inlined into SQL go through
// `lit`; ClickHouse string literals only need backslash and quote escaped.
export function lit(s: string): string {
  return `'${String(s).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export function litArray(xs: Iterable<string>): string {
  return `[${[...xs].map(lit).join(',')}]`;
}

/** Epoch ms → the DateTime64(3) text ClickHouse reads in a UTC column. */
export function chTime(t: number | Date): string {
  return new Date(t).toISOString().replace('T', ' ').replace('Z', '');
}

export function chTimeOrNull(t: number | null): string | null {
  return t === null ? null : chTime(t);
}

/** ClickHouse ISO output (…Z) or "YYYY-MM-DD hh:mm:ss" → epoch ms. */
export function fromChTime(s: string): number {
  return Date.parse(/[zZ]$|[+-]\d\d:?\d\d$/.test(s) ? s : `${s.replace(' ', 'T')}Z`);
}

/**
 * Wait histogram keys (whole seconds), shared by the rollup SQL and the query side. "ceil" keys
 * make `wait ≤ T` exact for an integer T ≤ 3600 s (count keys ≤ T); "floor" keys make
 * `wait < S` exact (count keys < S). Above 3600 s the keys step by 60 s.
 */
export const WAIT_CEIL_KEY = (col: string) =>
  `toUInt32(if(${col} <= 3600000, intDiv(${col} + 999, 1000), 3600 + intDiv(intDiv(${col} + 999, 1000) - 3600 + 59, 60) * 60))`;
export const WAIT_FLOOR_KEY = (col: string) => `toUInt32(if(${col} < 3600000, intDiv(${col}, 1000), 3600 + intDiv(intDiv(${col}, 1000) - 3600, 60) * 60))`;

export function waitCeilKey(waitMs: number): number {
  const s = Math.ceil(waitMs / 1000);
  return waitMs <= 3_600_000 ? s : 3600 + Math.ceil((s - 3600) / 60) * 60;
}
export function waitFloorKey(waitMs: number): number {
  const s = Math.floor(waitMs / 1000);
  return waitMs < 3_600_000 ? s : 3600 + Math.floor((s - 3600) / 60) * 60;
}

/**
 * Aggregates over queue_legs rows that make one rollup row (queue_15m) — the same expressions
 * serve the recompute of a bucket and the direct per-agent queries, so both agree.
 */
export const LEG_AGGREGATES = `
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
    toUInt32(countIf(outcome = 'answered' AND completed_at IS NOT NULL AND wrap_ms IS NULL)) AS wrap_default_legs`;

/** The same totals re-aggregated from rollup rows. */
export const ROLLUP_AGGREGATES = `
    sum(offered) AS offered, sum(answered) AS answered, sum(abandoned) AS abandoned, sum(exited) AS exited,
    sum(waiting) AS waiting, sum(transferred) AS transferred,
    sumMap(answered_wait_ceil_s) AS answered_wait_ceil_s, sumMap(abandoned_wait_ceil_s) AS abandoned_wait_ceil_s,
    sumMap(abandoned_wait_floor_s) AS abandoned_wait_floor_s,
    sum(answered_wait_ms) AS answered_wait_ms, sum(abandoned_wait_ms) AS abandoned_wait_ms, max(max_wait_ms) AS max_wait_ms,
    sum(talk_ms) AS talk_ms, sum(hold_ms) AS hold_ms, sum(wrap_ms) AS wrap_ms, sum(wrap_default_legs) AS wrap_default_legs`;

const escTsv = (s: string) => s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');

function tsvField(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '0';
  if (Array.isArray(v)) return `[${v.map((x) => lit(String(x)).replace(/\t/g, '\\t').replace(/\n/g, '\\n')).join(',')}]`;
  return escTsv(String(v));
}

/**
 * Rows as TabSeparated text for `columns`. TSV, not JSONEachRow: the engine parses it about
 * twice as fast, which matters for the event bodies (JSON inside JSON otherwise).
 */
export function toTsv(columns: readonly string[], rows: readonly Record<string, unknown>[]): string {
  let out = '';
  for (const r of rows) {
    for (let i = 0; i < columns.length; i++) out += (i ? '\t' : '') + tsvField(r[columns[i]!]);
    out += '\n';
  }
  return out;
}

// The base grain (DESIGN.md "Time"). A leaf module: periods.ts and the formulas both build on it.

/** Every real zone offset is a multiple of 15 minutes, so local days are unions of these buckets. */
export const BUCKET_MINUTES = 15;
export const BUCKET_MS = BUCKET_MINUTES * 60_000;
export const BUCKET_S = BUCKET_MS / 1000;

/** Start (epoch ms) of the 15-minute UTC bucket `t` falls in; negative instants round down too. */
export const bucketStartMs = (t: number): number => t - (((t % BUCKET_MS) + BUCKET_MS) % BUCKET_MS);

// Per-agent month rollup (migration 0016): a UTC month's core is its days from the 2nd to the one
// before its last, the part every local month of a zone less than a day off UTC covers whole.
// Days are counted from the epoch (epoch ms / DAY_MS), as the rollups' Date columns are.
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
/** The first day of the UTC month of day `d`. */
export function monthStartDay(d: number): number {
  const t = new Date(d * DAY_MS);
  return Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), 1) / DAY_MS;
}
/** The first day of the UTC month after the one day `d` falls in. */
export function nextMonthStartDay(d: number): number {
  const t = new Date(d * DAY_MS);
  return Date.UTC(t.getUTCFullYear(), t.getUTCMonth() + 1, 1) / DAY_MS;
}
/** Day `d` is in its month's core. */
export const inMonthCore = (d: number): boolean => d !== monthStartDay(d) && d !== nextMonthStartDay(d) - 1;
/** inMonthCore in SQL over a Date column. */
export const inMonthCoreSql = (day: string): string => `${day} != toStartOfMonth(${day}) AND ${day} != toLastDayOfMonth(${day})`;

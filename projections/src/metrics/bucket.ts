// The base grain (DESIGN.md "Time"). A leaf module: periods.ts and the formulas both build on it.

/** Every real zone offset is a multiple of 15 minutes, so local days are unions of these buckets. */
export const BUCKET_MINUTES = 15;
export const BUCKET_MS = BUCKET_MINUTES * 60_000;
export const BUCKET_S = BUCKET_MS / 1000;

/** Start (epoch ms) of the 15-minute UTC bucket `t` falls in; negative instants round down too. */
export const bucketStartMs = (t: number): number => t - (((t % BUCKET_MS) + BUCKET_MS) % BUCKET_MS);

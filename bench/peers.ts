// Shared by the benchmarks that measure a figure against its peer in the same run: medians,
// ratios, and waiting for a condition with a deadline (no fixed sleeps).
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : Math.round((s[m - 1]! + s[m]!) / 2);
}

/** `ours / theirs` to two decimals, for "higher is better" figures (rates). */
export function ratio(ours: number, theirs: number): string {
  return theirs > 0 ? (ours / theirs).toFixed(2) : 'n/a';
}

/** Percentile p (0..1) of xs, nearest rank. */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
}

/** Polls `done` every `everyMs` until it holds; throws after `deadlineMs`. */
export async function waitFor(done: () => Promise<boolean>, deadlineMs = 30 * 60_000, everyMs = 50): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (!(await done())) {
    if (Date.now() > until) throw new Error(`benchmark: condition not reached within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

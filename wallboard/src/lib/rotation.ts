// Which board a rotating screen shows. Derived from elapsed time rather than counted ticks, so
// a TV that slept through several intervals lands on the right board when it wakes.

export function boardIndexAt(startedAtMs: number, nowMs: number, rotateS: number, count: number): number {
  if (count <= 1 || rotateS <= 0) return 0;
  const steps = Math.floor(Math.max(0, nowMs - startedAtMs) / (rotateS * 1000));
  return steps % count;
}

/** Pairs boards with tokens: one token for all, or one per board in the same order. */
export function tokenForBoard(tokens: readonly string[], index: number): string | null {
  if (tokens.length === 0) return null;
  return tokens.length > 1 ? (tokens[index] ?? tokens[0]!) : tokens[0]!;
}

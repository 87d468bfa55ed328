// Reconnect pacing. Exponential with "equal jitter": half the delay is fixed so a client never
// hammers a restarting server, half is random so a room full of TVs that lost the network
// together do not all come back in the same millisecond.

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 30_000 };

/** Delay before reconnect attempt number `attempt` (0 = the first retry). `random` ∈ [0, 1). */
export function backoffDelayMs(attempt: number, random: number, opts: BackoffOptions = DEFAULT_BACKOFF): number {
  const ceiling = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(Math.max(0, attempt), 30));
  return Math.round(ceiling / 2 + (random * ceiling) / 2);
}

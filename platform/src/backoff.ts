// One reconnect/retry backoff for the server side (PBX links, alert webhooks): exponential, capped,
// with jitter over the upper half so that many clients retrying at once spread out, while the
// delay never drops below half its step. (The wallboard has its own for the browser.)

/** Delay before retry `attempt` (0-based): a random value in [d/2, d], d = min(maxMs, initialMs·2^attempt). */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const d = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(d / 2 + (random() * d) / 2);
}

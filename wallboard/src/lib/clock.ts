// Clocks on the board (time in state, longest wait) run locally between snapshots. The server
// stamps each snapshot with its own time; the client computes the offset once per snapshot and
// ticks from there, so a TV whose clock is minutes off still shows the right durations.

/** server_time − client time, in milliseconds, taken when the snapshot arrived. */
export function serverOffsetMs(serverTimeIso: string, clientNowMs: number): number {
  const server = Date.parse(serverTimeIso);
  if (Number.isNaN(server)) throw new Error(`snapshot server_time is not an ISO timestamp: ${JSON.stringify(serverTimeIso)}`);
  return server - clientNowMs;
}

/** The server's "now", estimated from the client clock and the last offset. */
export function serverNowMs(offsetMs: number, clientNowMs: number): number {
  return clientNowMs + offsetMs;
}

/**
 * Milliseconds since `sinceIso` on the server's clock. Never negative: an event stamped a few
 * milliseconds after the snapshot's server_time must not show as "-0:01".
 */
export function elapsedMs(sinceIso: string | null | undefined, offsetMs: number, clientNowMs: number): number | null {
  if (!sinceIso) return null;
  const since = Date.parse(sinceIso);
  if (Number.isNaN(since)) return null;
  return Math.max(0, serverNowMs(offsetMs, clientNowMs) - since);
}

/**
 * A duration as a wall clock reads it: "0:07", "12:34", "1:02:03". Whole seconds, truncated
 * (a timer that shows 0:10 has run at least ten seconds). Null stays "—".
 */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const total = Math.floor(Math.max(0, ms) / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  if (h > 0) return `${h}:${String(m).padStart(2, '0')}:${ss}`;
  return `${m}:${ss}`;
}

/** Time in state for an agent: the elapsed time since the state began, formatted. */
export function timeInState(sinceIso: string | null | undefined, offsetMs: number, clientNowMs: number): string {
  return formatDuration(elapsedMs(sinceIso, offsetMs, clientNowMs));
}

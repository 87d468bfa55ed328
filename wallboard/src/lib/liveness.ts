// When is the board stale, and when should the client check or drop its connection? Kept pure
// so the rules are tested without timers or sockets.

export interface LivenessOptions {
  /** Show the stale banner after this long without contact. */
  staleAfterMs: number;
  /** Probe the server (GET /healthz) when the stream has been silent this long. */
  probeAfterMs: number;
  /** Drop and reopen a stream silent this long even if the server answers probes (a proxy ate it). */
  silentStreamMs: number;
}

export const DEFAULT_LIVENESS: LivenessOptions = { staleAfterMs: 5_000, probeAfterMs: 3_000, silentStreamMs: 45_000 };

/** Seconds since the last contact when the board is stale, otherwise null. */
export function staleSeconds(lastContactAt: number, nowMs: number, opts: LivenessOptions = DEFAULT_LIVENESS): number | null {
  const age = nowMs - lastContactAt;
  return age > opts.staleAfterMs ? Math.floor(age / 1000) : null;
}

export interface WatchInput {
  open: boolean;
  lastStreamAt: number;
  lastProbeAt: number;
  probing: boolean;
}

export type WatchAction = 'none' | 'probe' | 'reconnect';

/** One watchdog tick: is the open stream still believable? */
export function watchdog(s: WatchInput, nowMs: number, opts: LivenessOptions = DEFAULT_LIVENESS): WatchAction {
  if (!s.open) return 'none';
  const silent = nowMs - s.lastStreamAt;
  if (silent > opts.silentStreamMs) return 'reconnect';
  if (silent > opts.probeAfterMs && !s.probing && nowMs - s.lastProbeAt > opts.probeAfterMs) return 'probe';
  return 'none';
}

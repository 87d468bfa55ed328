// The board's live connection: one SSE subscription to `board(id)`, kept alive across network
// loss, API restarts and a TV waking from sleep. Every (re)connect starts with a full snapshot
// from the server, so catching up needs nothing more than reconnecting. Nothing here grows:
// one snapshot is kept, the previous one is dropped.
import { backoffDelayMs } from './backoff.ts';
import { serverOffsetMs } from './clock.ts';
import { DEFAULT_LIVENESS, watchdog, type LivenessOptions } from './liveness.ts';
import type { BoardSubscription, BoardSubscriptionVariables } from './gql-types.ts';
import type { BoardUpdate } from './model.ts';
import { BOARD_SUBSCRIPTION } from './queries.ts';
import { streamSubscription, GraphQLRequestError } from './sse.ts';

export type ConnectionStatus = 'connecting' | 'live' | 'retrying';

export interface LiveBoardOptions {
  graphqlUrl: string;
  token: string | null;
  boardId: string;
  liveness?: LivenessOptions;
}

/** Errors that reconnecting quickly will not fix: back off to the maximum right away. */
const PERMANENT = new Set(['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'BAD_INPUT', 'HTTP_401', 'HTTP_403', 'HTTP_404']);

export class LiveBoard {
  // Raw: a snapshot is replaced whole, never mutated, so deep proxies would be pure overhead.
  update = $state.raw<BoardUpdate | null>(null);
  /** server_time − client time, from the last snapshot. */
  offsetMs = $state(0);
  status = $state<ConnectionStatus>('connecting');
  /** Client time of the last sign of life from the server (stream bytes or a good probe). */
  lastContactAt = $state(Date.now());
  /** Client time the last snapshot arrived. */
  lastUpdateAt = $state(0);
  error = $state<{ code: string; message: string } | null>(null);
  reconnects = $state(0);

  private readonly opts: Required<LiveBoardOptions>;
  private stopped = false;
  private stream: AbortController | null = null;
  private wake: (() => void) | null = null;
  private lastStreamAt = 0;
  private lastProbeAt = 0;
  private probing = false;
  private attempt = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly onWake = () => {
    if (document.visibilityState === 'hidden') return;
    // Back from sleep or back online: do not wait out the backoff, and do not trust a stream
    // that may have died while the machine slept.
    this.attempt = 0;
    if (this.status === 'live') void this.probe();
    else this.wake?.();
  };

  constructor(opts: LiveBoardOptions) {
    this.opts = { liveness: DEFAULT_LIVENESS, ...opts };
  }

  start(): void {
    window.addEventListener('online', this.onWake);
    document.addEventListener('visibilitychange', this.onWake);
    this.timer = setInterval(() => this.tick(), 1000);
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    window.removeEventListener('online', this.onWake);
    document.removeEventListener('visibilitychange', this.onWake);
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.stream?.abort();
    this.wake?.();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const ac = new AbortController();
      this.stream = ac;
      this.lastStreamAt = Date.now();
      let code = '';
      try {
        await streamSubscription<BoardSubscription>(
          this.opts.graphqlUrl,
          this.opts.token,
          { query: BOARD_SUBSCRIPTION, variables: { id: this.opts.boardId } satisfies BoardSubscriptionVariables },
          {
            onAlive: () => {
              this.lastStreamAt = Date.now();
              this.lastContactAt = this.lastStreamAt;
            },
            onNext: (r) => {
              if (!r.data?.board) return;
              const now = Date.now();
              this.update = r.data.board;
              this.offsetMs = serverOffsetMs(r.data.board.server_time, now);
              this.lastUpdateAt = now;
              this.status = 'live';
              this.error = null;
              this.attempt = 0;
            },
          },
          ac.signal,
        );
      } catch (e) {
        if (this.stopped) break;
        code = e instanceof GraphQLRequestError ? e.code : 'NETWORK';
        if (!ac.signal.aborted) this.error = { code, message: e instanceof Error ? e.message : String(e) };
      }
      if (this.stopped) break;
      this.stream = null;
      this.status = 'retrying';
      this.reconnects++;
      const attempt = PERMANENT.has(code) ? 10 : this.attempt++;
      await this.sleep(backoffDelayMs(attempt, Math.random()));
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.wake = null;
        resolve();
      };
      const t = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private tick(): void {
    const action = watchdog({ open: this.status === 'live', lastStreamAt: this.lastStreamAt, lastProbeAt: this.lastProbeAt, probing: this.probing }, Date.now(), this.opts.liveness);
    if (action === 'reconnect') this.stream?.abort();
    else if (action === 'probe') void this.probe();
  }

  /** A quiet board is fine as long as the server answers; a dead network is not. */
  private async probe(): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    this.lastProbeAt = Date.now();
    const ac = new AbortController();
    const t = setTimeout(() => ac.abort(), 2500);
    try {
      const res = await fetch(new URL('/healthz', new URL(this.opts.graphqlUrl, location.href)), { signal: ac.signal, cache: 'no-store' });
      if (!res.ok) throw new Error(`healthz ${res.status}`);
      await res.body?.cancel();
      if (this.status === 'live') this.lastContactAt = Date.now();
      // A probe every few seconds for weeks: keep the resource-timing buffer from filling up.
      performance.clearResourceTimings?.();
    } catch {
      // The server is unreachable: the stream is a corpse even if the socket has not noticed.
      this.stream?.abort();
    } finally {
      clearTimeout(t);
      this.probing = false;
    }
  }
}

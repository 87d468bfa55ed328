// P-Series / Yeastar Cloud adapter: one WebSocket per PBX to /openapi/v1.0/subscribe with the
// cached access token, topic subscription, the text heartbeat the PBX expects (it drops a socket
// idle for 60 s), reconnection with exponential backoff and full jitter, and after every
// reconnect: re-subscribe, resynchronise calls and agents from the REST queries, emit source.gap.
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { backoffDelay, counter, gauge, type Health, type Logger } from '@callboard/platform';
import { isoMs } from '@callboard/schemas';
import { P_SUBSCRIBE_TOPICS, parseCallQuery, parseQueueAgentStatus, type AgentSnapshot, type LiveCall } from './messages.ts';
import { PTokenManager } from './p-openapi.ts';
import type { YeastarPipeline } from './pipeline.ts';

export const yeastarReconnectsTotal = counter('callboard_yeastar_reconnects_total', 'Yeastar connections re-established after a loss', ['source', 'pbx']);
export const yeastarConnected = gauge('callboard_yeastar_connected', '1 while the Yeastar event connection is up and subscribed', ['source', 'pbx']);

export interface PAdapterOptions {
  pbx_id: string;
  base_url: string;
  client_id: string;
  client_secret: string;
  pipeline: YeastarPipeline;
  health: Health;
  log: Logger;
  topics?: readonly number[];
  /** How often to send the `heartbeat` text frame (the PBX drops sockets idle for 60 s). */
  heartbeat_ms?: number;
  /** No frame at all for this long: the socket is taken as dead and replaced. */
  idle_timeout_ms?: number;
  backoff_min_ms?: number;
  backoff_max_ms?: number;
  refresh_margin_ms?: number;
  /** CDR back-fill after a gap starts this long before it. */
  backfill_overlap_ms?: number;
  random?: () => number;
}

/** The subscription request frame. */
export function subscribeFrame(topics: readonly number[]): string {
  return JSON.stringify({ topic_list: [...topics] });
}

/** The PBX's answer to a subscription: ok, refused (with why), or null when the frame is something else. */
export function subscribeAnswer(text: string): { ok: true } | { ok: false; why: string } | null {
  let a: unknown;
  try {
    a = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof a !== 'object' || a === null || !('errcode' in a) || 'type' in a) return null;
  const r = a as { errcode: unknown; errmsg?: unknown };
  return r.errcode === 0 ? { ok: true } : { ok: false, why: `errcode ${String(r.errcode)} ${String(r.errmsg ?? '')}` };
}

export class YeastarPAdapter {
  readonly tokens: PTokenManager;
  private ws: WebSocket | null = null;
  /** The live connection; a token rotation replaces it without a gap. */
  private current: { ws: WebSocket; closed: Promise<string>; token: string; retire: () => void } | null = null;
  private rotating = false;
  private stopped = false;
  private loop: Promise<void> | null = null;
  private lastGoodAt: number | null = null;
  private lossReason = '';
  private wake: (() => void) | null = null;
  /** Connections that reached "subscribed". */
  connections = 0;
  private readonly health: string;

  constructor(private readonly o: PAdapterOptions) {
    this.tokens = new PTokenManager({
      pbx_id: o.pbx_id,
      base_url: o.base_url,
      client_id: o.client_id,
      client_secret: o.client_secret,
      log: o.log,
      refresh_margin_ms: o.refresh_margin_ms,
    });
    this.health = `yeastar-p:${o.pbx_id}`;
    // A refreshed token: move the socket onto it before the old token expires, in case the PBX
    // closes sockets whose token lapsed (the docs do not say).
    this.tokens.onToken = (access) => {
      if (this.current && this.current.token !== access) void this.rotate();
    };
  }

  private wsUrl(token: string): string {
    const u = new URL(this.o.base_url);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    u.pathname = `${u.pathname.replace(/\/$/, '')}/openapi/v1.0/subscribe`;
    u.search = `access_token=${encodeURIComponent(token)}`;
    return u.toString();
  }

  start(): void {
    this.o.health.set(this.health, 'starting', 'connecting');
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    this.current?.ws.close(1000, 'shutdown');
    this.ws?.close(1000, 'shutdown');
    await this.loop;
    // Frames Kafka keeps refusing are given up (and logged) rather than blocking shutdown forever.
    const drained = this.o.pipeline.drain();
    const timeout = new Promise<void>((r) => setTimeout(r, 10_000).unref());
    await Promise.race([drained, timeout.then(() => this.o.pipeline.close())]);
    this.o.pipeline.close();
    await drained;
    await this.tokens.close();
    yeastarConnected.set({ source: 'yeastar-p', pbx: this.o.pbx_id }, 0);
  }

  /** For tests and ops: close the current socket as if the network dropped it. */
  dropConnection(): void {
    this.current?.ws.terminate();
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      try {
        await this.connect(false);
        attempt = 0;
        // Rotations replace `current`; only the close of the current connection is a loss.
        for (;;) {
          const c = this.current!;
          const why = await c.closed;
          if (c === this.current) {
            this.lossReason = why;
            this.current = null;
            break;
          }
        }
      } catch (e) {
        const why = (e as Error).message;
        // The gap is explained by what broke the last good connection, not by the retries after it.
        this.lossReason ||= why;
        this.o.log.warn({ pbx: this.o.pbx_id, err: why, attempt }, 'P-Series connection attempt failed');
      }
      yeastarConnected.set({ source: 'yeastar-p', pbx: this.o.pbx_id }, 0);
      if (this.stopped) break;
      this.o.health.link(this.o.pbx_id, false, this.lossReason);
      this.o.health.set(this.health, 'degraded', `reconnecting: ${this.lossReason}`);
      const delay = backoffDelay(attempt++, this.o.backoff_min_ms ?? 500, this.o.backoff_max_ms ?? 30_000, this.o.random);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  /** Make-before-break: subscribe a socket with the new token, then retire the old one. */
  private async rotate(): Promise<void> {
    if (this.rotating || this.stopped || !this.current) return;
    this.rotating = true;
    const old = this.current;
    try {
      await this.connect(true);
      old.retire();
      old.ws.close(1000, 'access token rotated');
      this.o.log.info({ pbx: this.o.pbx_id }, 'P-Series socket moved to the refreshed token');
    } catch (e) {
      this.o.log.warn({ pbx: this.o.pbx_id, err: (e as Error).message }, 'socket rotation failed; the current socket stays until it closes');
    } finally {
      this.rotating = false;
    }
  }

  /** Opens and subscribes a socket, then (after a loss, not a rotation) resynchronises; makes it `current`. */
  private async connect(rotation: boolean): Promise<void> {
    const token = await this.tokens.accessToken();
    const ws = new WebSocket(this.wsUrl(token), { headers: { 'user-agent': 'OpenAPI' }, handshakeTimeout: 10_000 });
    this.ws = ws;
    ws.on('error', (e) => this.o.log.warn({ pbx: this.o.pbx_id, err: e.message }, 'P-Series socket error'));
    const connection = `${this.o.pbx_id}#${randomUUID().slice(0, 8)}`;
    const pending: { text: string; at: Date }[] = [];
    let subscribed = false;
    // Frames wait until the resync after a reconnect is queued, so live frames follow it.
    let ready = false;
    // A retired socket (rotated away) drops its frames: the new socket, already subscribed, has them.
    let retired = false;
    let lastFrameAt = Date.now();
    let heartbeat: NodeJS.Timeout | null = null;

    const closed = new Promise<string>((resolve) => {
      ws.on('close', (code, reason) => {
        if (heartbeat) clearInterval(heartbeat);
        resolve(`socket closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`);
      });
    });

    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', (e) => reject(new Error(`WebSocket to PBX ${this.o.pbx_id} failed: ${e.message}`)));
      ws.once('unexpected-response', (_req, res) => {
        // The PBX refused the upgrade, typically for an expired or revoked token.
        if (res.statusCode === 401 || res.statusCode === 403) this.tokens.invalidate(token);
        reject(new Error(`PBX ${this.o.pbx_id} refused the WebSocket upgrade: HTTP ${res.statusCode}`));
        ws.terminate();
      });
    });

    const subscribedOk = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`PBX ${this.o.pbx_id} did not answer the topic subscription`));
        ws.terminate();
      }, 10_000);
      ws.on('message', (data, isBinary) => {
        lastFrameAt = Date.now();
        if (isBinary) return;
        const text = data.toString();
        if (!subscribed) {
          // The first JSON answer after {"topic_list":…} is the subscription result.
          const answer = subscribeAnswer(text);
          if (answer) {
            clearTimeout(timer);
            if (answer.ok) {
              subscribed = true;
              resolve();
            } else {
              this.tokens.invalidate(token);
              reject(new Error(`PBX ${this.o.pbx_id} refused the subscription: ${answer.why}`));
              ws.close(1000, 'subscription refused');
            }
            return;
          }
        }
        if (text.trim().toLowerCase() === 'heartbeat response' || retired) return;
        this.lastGoodAt = Date.now();
        if (!ready) pending.push({ text, at: new Date() });
        else this.dispatch(text, new Date(), connection);
      });
      ws.once('close', () => reject(new Error('socket closed before the subscription was answered')));
    });
    ws.send(subscribeFrame(this.o.topics ?? P_SUBSCRIBE_TOPICS));
    await subscribedOk;

    const hb = this.o.heartbeat_ms ?? 25_000;
    const idle = this.o.idle_timeout_ms ?? Math.max(hb * 2 + 5_000, 60_000);
    heartbeat = setInterval(() => {
      if (Date.now() - lastFrameAt > idle) {
        this.o.log.warn({ pbx: this.o.pbx_id, idle_ms: Date.now() - lastFrameAt }, 'no frame from the PBX: replacing the socket');
        ws.terminate();
        return;
      }
      if (ws.readyState === WebSocket.OPEN) ws.send('heartbeat');
    }, hb);
    heartbeat.unref();

    const reconnect = this.connections > 0 && !rotation;
    const first = this.connections === 0;
    this.connections++;
    if (reconnect) {
      yeastarReconnectsTotal.inc({ source: 'yeastar-p', pbx: this.o.pbx_id });
      await this.resync({ fromMs: this.lastGoodAt ?? Date.now(), reason: this.lossReason || 'connection lost' }, connection);
    } else if (first) {
      // Start-up: learn the calls in progress, queue membership and agent states (no gap).
      await this.resync(null, connection);
    }
    this.lossReason = '';
    for (const p of pending.splice(0)) this.dispatch(p.text, p.at, connection);
    ready = true;
    this.lastGoodAt = Date.now();
    // Current before revoking: a PBX may close the socket of a revoked token, which then is not a loss.
    this.current = { ws, closed, token, retire: () => (retired = true) };
    await this.tokens.revokeSuperseded(token);
    yeastarConnected.set({ source: 'yeastar-p', pbx: this.o.pbx_id }, 1);
    this.o.health.set(this.health, 'ok');
    this.o.health.link(this.o.pbx_id, true, `subscribed, connection ${connection}`);
    this.o.log.info({ pbx: this.o.pbx_id, connection, reconnect, rotation }, 'P-Series events subscribed');
  }

  private dispatch(text: string, at: Date, connection: string): void {
    // The shell logs each failed attempt; later frames wait behind this one.
    const retry = (e: Error) => this.o.health.set(this.health, 'error', `Kafka write failing, retrying (${e.message})`);
    this.o.pipeline.handle(text, at, connection, retry).then(
      () => {
        if (this.o.health.get(this.health)?.status === 'error') this.o.health.set(this.health, 'ok');
      },
      (e: Error) => {
        // Shut down while Kafka still refused the frame: the frame is in this log line so it
        // can be re-fed.
        this.o.health.set(this.health, 'error', `Kafka write failed: ${e.message}`);
        this.o.log.error({ pbx: this.o.pbx_id, err: e.message, frame: text }, 'P-Series frame not written');
      },
    );
  }

  /** Current calls and agents from the REST API → corrected live state and (after a loss) one source.gap and the CDR back-fill. */
  private async resync(lost: { fromMs: number; reason: string } | null, connection: string): Promise<void> {
    let calls: LiveCall[] | undefined;
    let agents: AgentSnapshot[] | undefined;
    try {
      const c = parseCallQuery(await this.tokens.get('call/query'));
      if (typeof c === 'string') throw new Error(c);
      calls = c;
      agents = [];
      const list = await this.tokens.get('queue/list');
      const queues = Array.isArray(list.data) ? (list.data as { id?: unknown; number?: unknown }[]) : [];
      const rows: AgentSnapshot[] = [];
      for (const q of queues) {
        if (q.id === undefined) continue;
        const a = parseQueueAgentStatus(
          await this.tokens.get('queue/agent_status', { id: String(q.id) }),
          q.number === undefined ? undefined : String(q.number),
        );
        if (typeof a === 'string') throw new Error(a);
        rows.push(...a);
      }
      agents = rows;
    } catch (e) {
      this.o.log.warn(
        { pbx: this.o.pbx_id, err: (e as Error).message },
        lost ? 'resync queries failed: the gap is still recorded' : 'start-up state queries failed',
      );
    }
    const to = Date.now();
    await this.o.pipeline.enqueue(async () => {
      const meta = { received_at: isoMs(to), raw_ref: null };
      const gap = lost ? { from: isoMs(Math.min(lost.fromMs, to)), to: isoMs(to), reason: lost.reason } : undefined;
      const events = this.o.pipeline.translator.reconcile({ calls, agents, gap }, meta);
      await this.o.pipeline.publish(events, JSON.stringify({ resync: { calls, agents } }));
    });
    if (lost) await this.backfillCdrs(lost.fromMs, to, connection);
  }

  /**
   * CDRs of calls that ended during the gap (GET /openapi/v2.0/cdr/search, firmware 83.23.0.123 /
   * 37.23.0.123 / 84.23.0.123 or later), with an overlap before it. Each row goes raw first, like
   * a 30012; its call.ended has the same event id as the pushed CDR would have had.
   */
  private async backfillCdrs(fromMs: number, toMs: number, connection: string): Promise<void> {
    const begin = Math.floor((fromMs - (this.o.backfill_overlap_ms ?? 300_000)) / 1000);
    const end = Math.ceil(toMs / 1000);
    let rows = 0;
    try {
      for (let page = 1; page <= 100; page++) {
        const r = await this.tokens.get(
          'cdr/search',
          { page: String(page), page_size: '1000', sort_by: 'time', order_by: 'asc', time_begin: String(begin), time_end: String(end) },
          'v2.0',
        );
        const data = Array.isArray(r.data) ? (r.data as unknown[]) : [];
        for (const row of data) {
          rows++;
          this.dispatch(JSON.stringify(row), new Date(toMs), connection);
        }
        if (data.length < 1000) break;
      }
      this.o.log.info({ pbx: this.o.pbx_id, rows, from: isoMs(begin * 1000), to: isoMs(end * 1000) }, 'CDRs back-filled after the gap');
    } catch (e) {
      this.o.log.warn(
        { pbx: this.o.pbx_id, err: (e as Error).message },
        'CDR back-fill failed (needs the v2 CDR API): calls that ended during the gap have no call.ended',
      );
    }
  }
}

// Every service reports its components' health the same way: ok, degraded or error, with why.
// `/healthz` answers 200 while the process lives (restarting it would not bring a PBX back) and
// says in its body what is wrong; `/readyz` is 200 only when the service does its job:
//   - every component ok or degraded (none `starting` or `error`);
//   - no write that must not be given up stuck for longer than `stuckAfterMs` (a feed frozen
//     behind a record Kafka refuses looks alive otherwise);
//   - when the service has PBX links, at least one of them up (ingest with every link refused
//     writes nothing; one link down is degraded, not unready, as the others still flow).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ConfigError } from './config.ts';
import { gauge, registry } from './metrics.ts';

export type HealthStatus = 'ok' | 'degraded' | 'error' | 'starting';
export interface ComponentHealth {
  status: HealthStatus;
  detail?: string;
  since: string;
}

/** One PBX link as the ops endpoints show it. */
export interface LinkHealth {
  up: boolean;
  detail?: string;
  since: string;
}

/** What /healthz and /readyz answer. */
export interface HealthReport {
  /** ok: all good; degraded: ready, but something is down or failing; error: not ready. */
  status: 'ok' | 'degraded' | 'error';
  ready: boolean;
  /** Each reason the status is not ok, for a person. */
  problems: string[];
  components: Record<string, ComponentHealth>;
  links: Record<string, LinkHealth>;
}

/** The PBX id only: a PBX id names equipment, never a tenant (the ops port is private anyway). */
const linkUp = gauge('callboard_pbx_link_up', '1 while the link to this PBX is up (AMI logged in, P-Series WebSocket subscribed, S-Series session answered its last heartbeat in time)', ['pbx']);
const stuckGauge = gauge('callboard_feed_stuck', '1 while a write of this feed that must not be given up has been failing for longer than the stuck bound', ['feed']);

interface Link {
  up: boolean;
  detail?: string;
  since: number;
  /** For links known only by what they last answered (S-Series heartbeat): when, and how long that counts. */
  seenAt?: number;
  maxAgeMs?: number;
}

export interface HealthOptions {
  /** A write failing (or pending) this long makes the service unready. Default 60 s. */
  stuckAfterMs?: number;
  now?: () => number;
}

export class Health {
  private readonly components = new Map<string, ComponentHealth>();
  private readonly linkStates = new Map<string, Link>();
  private readonly stalls = new Map<string, { since: number; detail: string; afterMs: number }>();
  readonly stuckAfterMs: number;
  private readonly now: () => number;

  constructor(o: HealthOptions = {}) {
    this.stuckAfterMs = o.stuckAfterMs ?? 60_000;
    this.now = o.now ?? Date.now;
  }

  set(name: string, status: HealthStatus, detail?: string): void {
    const prev = this.components.get(name);
    if (prev && prev.status === status && prev.detail === detail) return;
    this.components.set(name, { status, ...(detail ? { detail } : {}), since: new Date(this.now()).toISOString() });
  }

  get(name: string): ComponentHealth | undefined {
    return this.components.get(name);
  }

  /**
   * A PBX link went up or down. With `maxAgeMs`, an `up` only counts that long: the link is down
   * once nothing confirmed it for longer (a push-only link has no connection to lose).
   */
  link(pbx: string, up: boolean, detail?: string, maxAgeMs?: number): void {
    const prev = this.linkStates.get(pbx);
    const now = this.now();
    const since = prev && prev.up === up ? prev.since : now;
    this.linkStates.set(pbx, { up, ...(detail ? { detail } : {}), since, ...(up && maxAgeMs ? { seenAt: now, maxAgeMs } : {}) });
    linkUp.set({ pbx }, up ? 1 : 0);
  }

  /** Forgets a link (its adapter was stopped on purpose). */
  dropLink(pbx: string): void {
    this.linkStates.delete(pbx);
    linkUp.remove({ pbx });
  }

  links(): Record<string, LinkHealth> {
    const now = this.now();
    const out: Record<string, LinkHealth> = {};
    for (const [pbx, l] of this.linkStates) {
      const expired = l.up && l.maxAgeMs !== undefined && l.seenAt !== undefined && now - l.seenAt > l.maxAgeMs;
      const up = l.up && !expired;
      const detail = expired ? `nothing heard for ${Math.round((now - l.seenAt!) / 1000)} s (bound ${Math.round(l.maxAgeMs! / 1000)} s)` : l.detail;
      out[pbx] = { up, ...(detail ? { detail } : {}), since: new Date(expired ? l.seenAt! + l.maxAgeMs! : l.since).toISOString() };
      linkUp.set({ pbx }, up ? 1 : 0);
    }
    return out;
  }

  /**
   * A write of `feed` that is retried until it succeeds failed. The first call starts the clock
   * (at `since`, when that attempt began); `flowing` stops it. Stuck after `afterMs` (default:
   * the Health's stuckAfterMs).
   */
  stalled(feed: string, detail: string, o: { since?: number; afterMs?: number } = {}): void {
    const since = o.since ?? this.now();
    const prev = this.stalls.get(feed);
    this.stalls.set(feed, { since: prev ? Math.min(prev.since, since) : since, detail, afterMs: o.afterMs ?? this.stuckAfterMs });
  }

  flowing(feed: string): void {
    if (this.stalls.delete(feed)) stuckGauge.set({ feed }, 0);
  }

  /** Feeds stuck for longer than the bound, with why. */
  stuck(): Record<string, string> {
    const now = this.now();
    const out: Record<string, string> = {};
    for (const [feed, s] of this.stalls) {
      const stuck = now - s.since > s.afterMs;
      stuckGauge.set({ feed }, stuck ? 1 : 0);
      if (stuck) out[feed] = `writes failing for ${Math.round((now - s.since) / 1000)} s: ${s.detail}`;
    }
    return out;
  }

  report(): HealthReport {
    const problems: string[] = [];
    let ready = true;
    let degraded = false;
    for (const [name, c] of this.components) {
      if (c.status === 'ok') continue;
      problems.push(`${name} ${c.status}${c.detail ? `: ${c.detail}` : ''}`);
      if (c.status === 'degraded') degraded = true;
      else ready = false;
    }
    for (const [feed, why] of Object.entries(this.stuck())) {
      problems.push(`${feed} stuck, ${why}`);
      ready = false;
    }
    if (this.stalls.size > 0) degraded = true;
    const links = this.links();
    const all = Object.entries(links);
    const down = all.filter(([, l]) => !l.up);
    for (const [pbx, l] of down) problems.push(`PBX link ${pbx} down${l.detail ? `: ${l.detail}` : ''}`);
    if (down.length > 0) degraded = true;
    if (all.length > 0 && down.length === all.length) {
      ready = false;
      problems.push('no PBX link is up');
    }
    return { status: !ready ? 'error' : degraded ? 'degraded' : 'ok', ready, problems, components: this.snapshot(), links };
  }

  ready(): boolean {
    return this.report().ready;
  }

  snapshot(): Record<string, ComponentHealth> {
    return Object.fromEntries(this.components);
  }
}

export interface ServeOpsOptions {
  /** Serve /metrics too: only on an ops listener, which is private (127.0.0.1) by default. */
  metrics?: boolean;
}

/**
 * Answers /healthz, /readyz (and /metrics when asked); returns false for any other path so a
 * caller can route it. Query strings are ignored.
 */
export async function serveOps(health: Health, req: IncomingMessage, res: ServerResponse, o: ServeOpsOptions = {}): Promise<boolean> {
  const url = typeof req.url === 'string' ? req.url : '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (path === '/healthz' || path === '/readyz') {
    const r = health.report();
    const status = path === '/healthz' || r.ready ? 200 : 503;
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(r));
    return true;
  }
  if (path === '/metrics' && o.metrics) {
    health.report(); // brings the link and stuck gauges up to date before the scrape
    res.writeHead(200, { 'content-type': registry.contentType });
    res.end(await registry.metrics());
    return true;
  }
  return false;
}

export interface OpsServerOptions {
  /** Bind address; default 127.0.0.1 (the metrics are for the operator, not the network). */
  host?: string;
  /** The setting that chose the port: a port in use is then a configuration error naming it. */
  setting?: string;
}

/**
 * The ops listener: /healthz, /readyz and /metrics. Nothing a client sends may take the process
 * down: every request runs behind one guard, and malformed requests (bad headers, bad framing)
 * are answered 400 by the `clientError` handler instead of node's default socket teardown.
 */
export function startOpsServer(health: Health, port: number, o: OpsServerOptions | string = {}): Promise<Server> {
  const host = (typeof o === 'string' ? o : o.host) || '127.0.0.1';
  const setting = typeof o === 'string' ? undefined : o.setting;
  const fail = (res: ServerResponse, status: number, text: string) => {
    try {
      if (!res.headersSent) res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(`${text}\n`);
    } catch {
      res.destroy();
    }
  };
  const server = createServer((req, res) => {
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') return fail(res, 405, 'method not allowed');
      serveOps(health, req, res, { metrics: true })
        .then((handled) => {
          if (!handled) fail(res, 404, 'not found');
        })
        .catch(() => fail(res, 500, 'ops endpoint failed'));
    } catch {
      fail(res, 500, 'ops endpoint failed');
    }
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    else socket.destroy();
  });
  return new Promise((resolve, reject) => {
    const refused = (e: NodeJS.ErrnoException) => {
      // Two services on one host with the same ops port: say which setting to change.
      if (e.code === 'EADDRINUSE' && setting) reject(new ConfigError(setting, port, `a free TCP port (${host}:${port} is in use by another process)`));
      else reject(e);
    };
    server.once('error', refused);
    server.listen(port, host, () => {
      server.off('error', refused);
      resolve(server);
    });
  });
}

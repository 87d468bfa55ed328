// S-Series API v2.0.0 session: login (MD5 of the API password), heartbeat to keep the 30-minute
// token alive (events stop when it lapses), re-login when the PBX no longer knows the token,
// logout on shutdown. The login tells the PBX where to push events: our port and the report
// path, which carries the per-PBX push token the receiver checks (s-receiver.ts).
import { createHash } from 'node:crypto';
import { counter, type Health, type Logger } from '@callboard/platform';

export const yeastarLoginsTotal = counter('callboard_yeastar_logins_total', 'S-Series API logins, by result', ['pbx', 'result']);

export class SApiError extends Error {
  readonly code = 'YEASTAR_SAPI';
  constructor(
    readonly pbx: string,
    readonly endpoint: string,
    readonly detail: string,
  ) {
    super(`Yeastar S-Series ${pbx}: ${endpoint} failed: ${detail}`);
    this.name = 'SApiError';
  }
}

export const md5Hex = (s: string): string => createHash('md5').update(s, 'utf8').digest('hex');

/** Body of POST login (API v2.0.0): MD5 of the password; `version` 2.0.0, or the PBX sends 1.0.0 events. */
export function loginBody(username: string, secret: string, dest: Record<string, string>): Record<string, string> {
  return { username, password: md5Hex(secret), ...dest };
}

/** A login answer → the token, or why there is none. */
export function parseLoginAnswer(r: Record<string, unknown>): { token: string; transport: string } | string {
  if (String(r.status).toLowerCase() !== 'success' || typeof r.token !== 'string')
    return `status ${String(r.status)} ${String(r.errno ?? r.errmsg ?? '')}`.trim();
  return { token: r.token, transport: String(r.transport ?? '') };
}

export interface SSessionOptions {
  pbx_id: string;
  /** e.g. http://192.168.1.10:80 (the PBX's API base; /api/v2.0.0 is appended). */
  base_url: string;
  username: string;
  /** The API password in clear; only its MD5 is sent. */
  secret: string;
  /** Port our receiver listens on (the PBX pushes to the address we log in from). */
  report_port: number;
  /** Report path (relative, urltag 0), e.g. reportPath() of s-receiver.ts. */
  report_url: string;
  /** Our address as the PBX should reach it, when it differs from the address we log in from. */
  report_host?: string;
  log: Logger;
  health?: Health;
  /** Heartbeat period; must stay well inside the 30-minute token life. */
  heartbeat_ms?: number;
  /** Wait after a failed login; five failures lock our IP out for 10 minutes, so keep it long. */
  login_retry_ms?: number;
  /** Called after every successful login (a new session: raw records get a new connection id). */
  onLogin?: () => void;
  /** Called after a re-login that followed a lapse: events between `from` and now may be lost. */
  onGap?: (fromMs: number, reason: string) => Promise<void> | void;
}

export class YeastarSSession {
  private token: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private lastGoodAt: number | null = null;
  private lapse: string | null = null;
  private readonly healthName: string;

  constructor(private readonly o: SSessionOptions) {
    this.healthName = `yeastar-s:${o.pbx_id}`;
  }

  private url(path: string, token?: string): string {
    return `${this.o.base_url.replace(/\/$/, '')}/api/v2.0.0/${path}${token ? `?token=${encodeURIComponent(token)}` : ''}`;
  }

  private async post(path: string, body: unknown, token?: string): Promise<Record<string, unknown>> {
    const res = await fetch(this.url(path, token), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'callboard' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new SApiError(this.o.pbx_id, path, `HTTP ${res.status}, answer is not JSON: ${text.slice(0, 200)}`);
    }
  }

  /** Where the PBX should push (login and heartbeat bodies). */
  destination(): Record<string, string> {
    return {
      port: String(this.o.report_port),
      version: '2.0.0',
      url: this.o.report_url.replace(/^\//, ''),
      urltag: '0',
      ...(this.o.report_host ? { ipaddr: this.o.report_host } : {}),
    };
  }

  /** Logs in; resolves with the token. */
  async login(): Promise<string> {
    const r = parseLoginAnswer(await this.post('login', loginBody(this.o.username, this.o.secret, this.destination())));
    if (typeof r === 'string') {
      yeastarLoginsTotal.inc({ pbx: this.o.pbx_id, result: 'error' });
      throw new SApiError(this.o.pbx_id, 'login', `${r} (user ${this.o.username})`);
    }
    yeastarLoginsTotal.inc({ pbx: this.o.pbx_id, result: 'ok' });
    this.token = r.token;
    this.lastGoodAt = Date.now();
    return r.token;
  }

  /** Extends the token; false when the PBX no longer accepts it. */
  async heartbeat(): Promise<boolean> {
    if (!this.token) return false;
    const r = await this.post('heartbeat', this.destination(), this.token);
    const good = String(r.status).toLowerCase() === 'success';
    if (good) this.lastGoodAt = Date.now();
    return good;
  }

  start(): void {
    this.o.health?.set(this.healthName, 'starting', 'logging in');
    void this.tick(true);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(false), ms);
    this.timer.unref();
  }

  private async tick(first: boolean): Promise<void> {
    const hb = this.o.heartbeat_ms ?? 300_000;
    try {
      if (this.token && (await this.heartbeat())) {
        this.o.health?.set(this.healthName, 'ok');
        return this.schedule(hb);
      }
      const lapsedSince = this.lastGoodAt;
      // The first cause is kept across failed logins: it is what the gap is about.
      this.lapse ??= this.token ? 'token no longer accepted by the PBX (heartbeat refused)' : 'not logged in';
      const why = this.lapse;
      this.token = null;
      await this.login();
      this.o.health?.set(this.healthName, 'ok');
      this.o.log.info({ pbx: this.o.pbx_id }, 'S-Series API logged in');
      this.o.onLogin?.();
      this.lapse = null;
      if (!first && lapsedSince !== null) await this.o.onGap?.(lapsedSince, why);
      this.schedule(hb);
    } catch (e) {
      this.o.health?.set(this.healthName, 'degraded', (e as Error).message);
      this.o.log.warn({ pbx: this.o.pbx_id, err: (e as Error).message }, 'S-Series API session problem; retrying');
      // A heartbeat that did not get through may be the network: the token is kept and tried again.
      this.schedule(this.token ? Math.min(hb, this.o.login_retry_ms ?? 120_000) : (this.o.login_retry_ms ?? 120_000));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.token) {
      try {
        await this.post('logout', {}, this.token);
      } catch (e) {
        this.o.log.warn({ pbx: this.o.pbx_id, err: (e as Error).message }, 'S-Series logout failed');
      }
      this.token = null;
    }
  }

  currentToken(): string | null {
    return this.token;
  }
}

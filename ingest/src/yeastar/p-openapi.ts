// P-Series / Yeastar P-Series Cloud OpenAPI over HTTP: access tokens and the queries used to
// resynchronise after a reconnect. Token hygiene matters: the PBX allows at most 8 valid access
// tokens per application, so one token is kept, refreshed before it expires (refresh_token),
// tokens it replaced are revoked (del_token) once no socket uses them, and the last one is
// revoked on shutdown. A fresh get_token happens only when refreshing is impossible.
import { counter, type Logger } from '@callboard/platform';

export const yeastarTokenRequestsTotal = counter(
  'callboard_yeastar_token_requests_total',
  'P-Series OpenAPI token requests, by kind (get, refresh, revoke) and result',
  ['pbx', 'kind', 'result'],
);

export class OpenApiError extends Error {
  readonly code = 'YEASTAR_OPENAPI';
  constructor(
    readonly pbx: string,
    readonly endpoint: string,
    readonly errcode: number | string,
    readonly errmsg: string,
  ) {
    super(`Yeastar P-Series ${pbx}: ${endpoint} failed: errcode ${errcode} ${errmsg}`);
    this.name = 'OpenApiError';
  }
}

export interface OpenApiOptions {
  pbx_id: string;
  /** e.g. https://pbx.example.com:8088 (no trailing /openapi). */
  base_url: string;
  client_id: string;
  client_secret: string;
  log: Logger;
  /** Refresh this long before the access token expires; at most 20% of its lifetime. */
  refresh_margin_ms?: number;
  now?: () => number;
}

export interface TokenSet {
  access: string;
  refresh: string;
  access_expires_at: number;
  refresh_expires_at: number;
}

const USER_AGENT = 'OpenAPI';

/** Body of POST get_token: the OpenAPI Client ID and Client Secret. */
export function tokenRequestBody(clientId: string, clientSecret: string): { username: string; password: string } {
  return { username: clientId, password: clientSecret };
}

/** A get_token / refresh_token answer → tokens with absolute expiry, or why it is not one. */
export function parseTokenAnswer(r: Record<string, unknown>, now: number): TokenSet | string {
  if (r.errcode !== 0 || typeof r.access_token !== 'string' || typeof r.refresh_token !== 'string') return String(r.errmsg ?? 'no token in the answer');
  const accessTtl = Number(r.access_token_expire_time ?? 1800) * 1000;
  const refreshTtl = Number(r.refresh_token_expire_time ?? 86400) * 1000;
  return { access: r.access_token, refresh: r.refresh_token, access_expires_at: now + accessTtl, refresh_expires_at: now + refreshTtl };
}

export class PTokenManager {
  private token: TokenSet | null = null;
  private inflight: Promise<TokenSet> | null = null;
  private superseded: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly now: () => number;
  /** Called with the new access token after every successful get or refresh. */
  onToken: (access: string) => void = () => {};

  constructor(private readonly o: OpenApiOptions) {
    this.now = o.now ?? Date.now;
  }

  private url(path: string, version = 'v1.0'): string {
    return `${this.o.base_url.replace(/\/$/, '')}/openapi/${version}/${path}`;
  }

  private async post(path: string, body: unknown): Promise<Record<string, unknown>> {
    const res = await fetch(this.url(path), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new OpenApiError(this.o.pbx_id, path, `HTTP ${res.status}`, `answer is not JSON: ${text.slice(0, 200)}`);
    }
  }

  private accept(path: string, r: Record<string, unknown>): TokenSet {
    const t = parseTokenAnswer(r, this.now());
    if (typeof t === 'string') throw new OpenApiError(this.o.pbx_id, path, (r.errcode as number) ?? '?', t);
    return t;
  }

  private margin(): number {
    if (!this.token) return 0;
    const life = this.token.access_expires_at - this.now();
    return Math.min(this.o.refresh_margin_ms ?? 300_000, Math.max(0, life * 0.2));
  }

  private async obtain(): Promise<TokenSet> {
    const prev = this.token;
    if (prev && prev.refresh_expires_at > this.now() + 5_000) {
      try {
        const t = this.accept('refresh_token', await this.post('refresh_token', { refresh_token: prev.refresh }));
        yeastarTokenRequestsTotal.inc({ pbx: this.o.pbx_id, kind: 'refresh', result: 'ok' });
        this.superseded.push(prev.access);
        return t;
      } catch (e) {
        yeastarTokenRequestsTotal.inc({ pbx: this.o.pbx_id, kind: 'refresh', result: 'error' });
        this.o.log.warn({ pbx: this.o.pbx_id, err: (e as Error).message }, 'token refresh failed; requesting a new token');
      }
    }
    try {
      const t = this.accept('get_token', await this.post('get_token', tokenRequestBody(this.o.client_id, this.o.client_secret)));
      yeastarTokenRequestsTotal.inc({ pbx: this.o.pbx_id, kind: 'get', result: 'ok' });
      if (prev) this.superseded.push(prev.access);
      return t;
    } catch (e) {
      yeastarTokenRequestsTotal.inc({ pbx: this.o.pbx_id, kind: 'get', result: 'error' });
      throw e;
    }
  }

  private renew(): Promise<TokenSet> {
    this.inflight ??= this.obtain()
      .then((t) => {
        this.token = t;
        this.schedule();
        this.onToken(t.access);
        return t;
      })
      .finally(() => {
        this.inflight = null;
      });
    return this.inflight;
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    if (!this.token) return;
    const due = Math.max(1_000, this.token.access_expires_at - this.margin() - this.now());
    this.timer = setTimeout(() => {
      this.renew().catch((e: Error) => this.o.log.error({ pbx: this.o.pbx_id, err: e.message }, 'scheduled token refresh failed'));
    }, due);
    this.timer.unref();
  }

  /** A valid access token: the cached one, refreshed when close to expiry. */
  async accessToken(): Promise<string> {
    if (this.token && this.token.access_expires_at - this.margin() > this.now()) return this.token.access;
    return (await this.renew()).access;
  }

  /** The PBX refused the current token (expired or revoked early): the next call renews it. */
  invalidate(access?: string): void {
    if (this.token && (!access || this.token.access === access)) this.token = { ...this.token, access_expires_at: 0 };
  }

  /** Revokes tokens this manager replaced, except `keep` (still used by a socket). */
  async revokeSuperseded(keep?: string): Promise<void> {
    const list = this.superseded.filter((t) => t !== keep);
    this.superseded = this.superseded.filter((t) => t === keep);
    for (const t of list) await this.revoke(t);
  }

  private async revoke(access: string): Promise<void> {
    try {
      const res = await fetch(`${this.url('del_token')}?access_token=${encodeURIComponent(access)}`, {
        headers: { 'user-agent': USER_AGENT },
        signal: AbortSignal.timeout(5_000),
      });
      await res.text();
      yeastarTokenRequestsTotal.inc({ pbx: this.o.pbx_id, kind: 'revoke', result: res.ok ? 'ok' : 'error' });
    } catch (e) {
      yeastarTokenRequestsTotal.inc({ pbx: this.o.pbx_id, kind: 'revoke', result: 'error' });
      this.o.log.warn({ pbx: this.o.pbx_id, err: (e as Error).message }, 'token revoke failed (it will expire on its own)');
    }
  }

  /** Stops refreshing and revokes every token still held. */
  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.inflight?.catch(() => undefined);
    await this.revokeSuperseded();
    if (this.token) await this.revoke(this.token.access);
    this.token = null;
  }

  /** GET an OpenAPI query with the access token; retried once with a renewed token when refused. */
  async get(path: string, params: Record<string, string> = {}, version = 'v1.0'): Promise<Record<string, unknown>> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.accessToken();
      const qs = new URLSearchParams({ ...params, access_token: token });
      const res = await fetch(`${this.url(path, version)}?${qs}`, { headers: { 'user-agent': USER_AGENT }, signal: AbortSignal.timeout(10_000) });
      const text = await res.text();
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        throw new OpenApiError(this.o.pbx_id, path, `HTTP ${res.status}`, `answer is not JSON: ${text.slice(0, 200)}`);
      }
      if (body.errcode === 0) return body;
      if (attempt > 0) throw new OpenApiError(this.o.pbx_id, path, (body.errcode as number) ?? '?', String(body.errmsg ?? ''));
      this.invalidate(token);
    }
  }

  /** The current access token's expiry (epoch ms), for health details. */
  expiresAt(): number | undefined {
    return this.token?.access_expires_at;
  }
}

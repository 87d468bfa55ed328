// HTTP endpoint (node:http) receiving S-Series API v2.0.0 event reports. The PBX POSTs one JSON
// report per connection and re-sends until it gets 200, so 200 is answered only after Kafka has
// acknowledged the raw report (at-least-once; duplicates collapse on deterministic event ids).
//
// Who may push: the source address must be in the PBX's `allow_from` (IPv4 addresses or CIDR
// blocks; empty: only the PBX's configured `host`), and the path must carry the PBX's push token,
// an HMAC of the PBX secret (PbxConfig.secret_env) so the secret itself never travels. The path
// is registered with the PBX at login: /yeastar-s/<pbx id>/<push token>. The token may also come
// in an `x-callboard-push-token` header (for a proxy that rewrites paths).
//
// Answers: 200 {"status":"Success"} taken · 400 body not JSON (dead-lettered, UNPARSEABLE_JSON) ·
// 401 wrong or missing push token · 403 source address not allowed · 404 unknown path or PBX ·
// 405 not POST · 413 body too large · 503 Kafka did not acknowledge (the PBX retries).
// 400 too for a path that is not a valid URL (broken percent-encoding): nothing a request
// carries may throw past `handle`, since one process serves every PBX's adapter.
//
// A re-sent report keeps its first receive time (receipts.ts), so history does not change.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { counter, type Logger } from '@callboard/platform';
import type { YeastarPipeline } from './pipeline.ts';
import { ReportReceipts } from './receipts.ts';

export const yeastarPushResponsesTotal = counter('callboard_yeastar_push_responses_total', 'S-Series event reports answered, by HTTP status', [
  'pbx',
  'status',
]);

/** The push token of a PBX: HMAC-SHA256 of its id under its secret (hex, 32 chars). */
export function pushToken(pbxId: string, secret: string): string {
  return createHmac('sha256', secret).update(`callboard-yeastar-push:${pbxId}`).digest('hex').slice(0, 32);
}

/** The report path to register with the PBX at login. */
export function reportPath(pbxId: string, secret: string): string {
  return `/yeastar-s/${encodeURIComponent(pbxId)}/${pushToken(pbxId, secret)}`;
}

function ipv4ToInt(ip: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/** Normalises a socket address (IPv4-mapped IPv6 → IPv4). */
export function normaliseAddress(addr: string | undefined): string {
  if (!addr) return '';
  return addr.replace(/^::ffff:/i, '');
}

/** True when `ip` matches one of the entries: exact addresses or IPv4 CIDR blocks. */
export function addressAllowed(ip: string, allow: readonly string[]): boolean {
  const addr = normaliseAddress(ip);
  for (const entry of allow) {
    const e = entry.trim();
    if (!e) continue;
    if (e.includes('/')) {
      const [net, bitsRaw] = e.split('/');
      const bits = Number(bitsRaw);
      const a = ipv4ToInt(addr);
      const n = ipv4ToInt(net ?? '');
      if (a === null || n === null || !Number.isInteger(bits) || bits < 0 || bits > 32) continue;
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      if ((a & mask) === (n & mask)) return true;
    } else if (normaliseAddress(e) === addr) return true;
  }
  return false;
}

export interface SReceiverTarget {
  pbx_id: string;
  secret: string;
  /** Allowed source addresses; empty → [host]. */
  allow_from: readonly string[];
  host: string;
  pipeline: YeastarPipeline;
}

export interface SReceiverOptions {
  targets: SReceiverTarget[];
  log: Logger;
  max_body_bytes?: number;
  /** First receive times of reports, so a re-send does not change history; default: per process. */
  receipts?: ReportReceipts;
}

export class YeastarSReceiver {
  private readonly targets: Map<string, SReceiverTarget & { token: Buffer }>;
  private server: Server | null = null;
  private readonly receipts: ReportReceipts;

  constructor(private readonly o: SReceiverOptions) {
    this.receipts = o.receipts ?? new ReportReceipts(null);
    this.targets = new Map(o.targets.map((t) => [t.pbx_id, { ...t, token: Buffer.from(pushToken(t.pbx_id, t.secret)) }]));
  }

  addTarget(t: SReceiverTarget): void {
    this.targets.set(t.pbx_id, { ...t, token: Buffer.from(pushToken(t.pbx_id, t.secret)) });
  }

  removeTarget(pbxId: string): void {
    this.targets.delete(pbxId);
  }

  private answer(res: ServerResponse, pbx: string, status: number, body: Record<string, unknown>): void {
    yeastarPushResponsesTotal.inc({ pbx, status: String(status) });
    res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
    res.end(JSON.stringify(body));
  }

  private reject(res: ServerResponse, pbx: string, status: number, error: string, reason: string, ip: string): void {
    this.o.log.warn({ pbx, status, ip, reason }, 'S-Series report rejected');
    this.answer(res, pbx, status, { status: 'Failed', error, reason });
  }

  /** The request handler, usable on any node:http server. Never throws. */
  handle = (req: IncomingMessage, res: ServerResponse): void => {
    try {
      this.route(req, res);
    } catch (e) {
      const ip = normaliseAddress(req.socket.remoteAddress);
      const malformed = e instanceof URIError;
      // The path is not logged: it may carry a push token.
      this.o.log.warn({ ip, err: (e as Error).message }, malformed ? 'S-Series request with a malformed path' : 'S-Series request failed');
      if (res.headersSent) res.destroy();
      else if (malformed)
        this.answer(res, '-', 400, { status: 'Failed', error: 'bad_request', reason: 'the path is not a valid URL (broken percent-encoding)' });
      else this.answer(res, '-', 500, { status: 'Failed', error: 'internal', reason: 'the report could not be handled; it was logged' });
    }
  };

  private route(req: IncomingMessage, res: ServerResponse): void {
    const ip = normaliseAddress(req.socket.remoteAddress);
    const path = (req.url ?? '/').split('?')[0]!;
    const m = /^\/yeastar-s\/([^/]+)(?:\/([^/]*))?\/?$/.exec(path);
    const target = m ? this.targets.get(decodeURIComponent(m[1]!)) : undefined;
    if (!m || !target) return this.reject(res, '-', 404, 'not_found', `no Yeastar S-Series PBX is served at ${m ? `/yeastar-s/${m[1]}` : 'this path'}`, ip);
    const pbx = target.pbx_id;
    if (req.method !== 'POST') return this.reject(res, pbx, 405, 'method_not_allowed', `reports must be POSTed, not ${req.method}`, ip);
    const allow = target.allow_from.length > 0 ? target.allow_from : [target.host];
    if (!addressAllowed(ip, allow)) return this.reject(res, pbx, 403, 'forbidden', `source address ${ip} is not in allow_from of PBX ${pbx}`, ip);
    const given = Buffer.from(m[2] || String(req.headers['x-callboard-push-token'] ?? ''));
    if (given.length === 0)
      return this.reject(res, pbx, 401, 'unauthorized', `no push token for PBX ${pbx}: the report path must be the one registered at login`, ip);
    if (given.length !== target.token.length || !timingSafeEqual(given, target.token)) {
      return this.reject(
        res,
        pbx,
        401,
        'unauthorized',
        `wrong push token for PBX ${pbx}: check that the PBX and this service share the secret in ${pbx}'s secret_env`,
        ip,
      );
    }

    const limit = this.o.max_body_bytes ?? 1_048_576;
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) tooBig = true;
      else chunks.push(c);
    });
    req.on('error', (e) => this.o.log.warn({ pbx, err: e.message }, 'S-Series report read failed'));
    req.on('end', () => {
      if (tooBig) return this.reject(res, pbx, 413, 'payload_too_large', `report of ${size} bytes exceeds ${limit}`, ip);
      const text = Buffer.concat(chunks).toString('utf8');
      const receivedAt = this.receipts.receivedAt(pbx, text, new Date());
      target.pipeline.accept(text, receivedAt).then(
        ({ parsed, ref }) => {
          if (!parsed.ok && !ref) return this.reject(res, pbx, 400, 'bad_request', `${parsed.reason} (the body was kept in the dead-letter topic)`, ip);
          this.answer(res, pbx, 200, { status: 'Success' });
          target.pipeline
            .enqueue(() => target.pipeline.translate(text, parsed, ref, receivedAt))
            .catch((e: Error) => {
              this.o.log.error({ pbx, err: e.message }, 'S-Series translation not written (the raw report is in pbx.raw.v1)');
            });
        },
        (e: Error) => {
          this.o.log.error({ pbx, err: e.message }, 'S-Series report not acknowledged by Kafka');
          this.answer(res, pbx, 503, {
            status: 'Failed',
            error: 'unavailable',
            reason: `event store did not acknowledge the report (${e.message}); send it again`,
          });
        },
      );
    });
  }

  async listen(port: number, host = '0.0.0.0'): Promise<number> {
    const server = createServer(this.handle);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    await Promise.all([...this.targets.values()].map((t) => t.pipeline.drain()));
  }
}

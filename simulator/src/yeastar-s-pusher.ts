// Speaks Yeastar S-Series API v2.0.0 from the PBX's side, on 127.0.0.1, for tests and the
// simulator (../shared/reference/yeastar.md §2):
//
//   // 1. Push reports the way the PBX does: one POST per report, new connection each time,
//   //    User-Agent WebAPI, re-sent until the answer is 200.
//   const r = await pushSReport('http://127.0.0.1:8260/yeastar-s/pbx1/<token>', { event: 'NewCdr', … },
//                               { retry_ms: 200, max_attempts: 50, local_address: '127.0.0.2' });
//   r.status, r.attempts, r.body
//
//   // 2. A fake S-Series API: login / heartbeat / logout, remembering where the client asked
//   //    for reports (its address, `port` and `url`), and pushing there.
//   const api = await startYeastarSApi({ username: 'api', password: process.env.SIM_S_PASSWORD!, token_ttl_s: 1800 });
//   api.base_url                         // PbxConfig.base_url
//   await api.waitForLogin()
//   await api.pushReport({ event: 'CallStatus', … })  // to the registered destination, with retries
//   api.expireTokens()                   // the next heartbeat is refused → the client logs in again
//   api.stats                            // logins, heartbeats, logouts, failed logins
//   await api.close()
//
//   // 3. Report builders (bottom of this file): sCallStatus(sn, callid, members),
//   //    sTransfer, sExtensionStatus, sNewCdr(sn, {…, start, timezone}) with a PBX-local timestart.
//   await api.pushReport(sCallStatus(api.sn, '1571901993.46', [
//     { inbound: { from: '12345678', to: '6700', trunk: 'siptrunk' }, channel: 'PJSIP/trunk-1c', status: 'ANSWERED', callpath: '6700' },
//     { ext: '1020', channel: 'PJSIP/1020-1d', status: 'ANSWER', callpath: '6700' },
//   ]));
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { formatPbxLocal } from '@callboard/ingest/yeastar-time';
import { readJsonBody, sendJson } from './http-json.ts';
import type { AddressInfo } from 'node:net';

export interface PushOptions {
  /** Wait between attempts (the real PBX's interval is not documented). */
  retry_ms?: number;
  /** Give up after this many attempts (the real PBX keeps going). */
  max_attempts?: number;
  /** Source address to push from, e.g. 127.0.0.2 to test allow-lists on loopback. */
  local_address?: string;
  timeout_ms?: number;
}

export interface PushResult {
  status: number;
  attempts: number;
  body: string;
}

function postOnce(url: string, body: string, o: PushOptions): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: `${u.pathname}${u.search}`,
        method: 'POST',
        agent: false,
        localAddress: o.local_address,
        timeout: o.timeout_ms ?? 10_000,
        headers: { 'user-agent': 'WebAPI', 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/** POSTs one report (object or verbatim string) until the answer is 200, like the PBX does. */
export async function pushSReport(url: string, report: unknown, o: PushOptions = {}): Promise<PushResult> {
  const body = typeof report === 'string' ? report : JSON.stringify(report);
  const max = o.max_attempts ?? Infinity;
  let last: { status: number; body: string };
  for (let attempt = 1; ; attempt++) {
    try {
      last = await postOnce(url, body, o);
      if (last.status === 200) return { ...last, attempts: attempt };
    } catch (e) {
      last = { status: 0, body: (e as Error).message };
    }
    if (attempt >= max) return { ...last, attempts: attempt };
    await new Promise((r) => setTimeout(r, o.retry_ms ?? 1000));
  }
}

export interface YeastarSApiOptions {
  username: string;
  /** The API password in clear; the client must send its MD5. */
  password: string;
  token_ttl_s?: number;
  sn?: string;
  host?: string;
  port?: number;
}

export interface YeastarSApi {
  base_url: string;
  sn: string;
  stats: { logins: number; failed_logins: number; heartbeats: number; refused_heartbeats: number; logouts: number };
  /** Where the logged-in client asked for reports, or null. */
  destination(): { ip: string; port: number; url: string } | null;
  reportUrl(): string;
  waitForLogin(n?: number, timeoutMs?: number): Promise<void>;
  pushReport(report: unknown, o?: PushOptions): Promise<PushResult>;
  expireTokens(): void;
  close(): Promise<void>;
}

export async function startYeastarSApi(opts: YeastarSApiOptions): Promise<YeastarSApi> {
  const ttl = (opts.token_ttl_s ?? 1800) * 1000;
  const sn = opts.sn ?? '369451090405';
  const tokens = new Map<string, number>();
  let dest: { ip: string; port: number; url: string } | null = null;
  const stats: YeastarSApi['stats'] = { logins: 0, failed_logins: 0, heartbeats: 0, refused_heartbeats: 0, logouts: 0 };
  const md5 = createHash('md5').update(opts.password).digest('hex');

  const setDest = (req: IncomingMessage, b: Record<string, unknown>) => {
    const ip = typeof b.ipaddr === 'string' && b.ipaddr ? b.ipaddr : (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
    const url = typeof b.url === 'string' ? b.url : '';
    dest = { ip, port: Number(b.port ?? 8260), url: url.startsWith('/') ? url : `/${url}` };
  };

  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://localhost');
    const path = u.pathname.replace(/^\/api\/v2\.0\.0\//, '');
    void readJsonBody(req).then((b) => {
      const now = Date.now();
      const token = u.searchParams.get('token') ?? '';
      const live = (tokens.get(token) ?? 0) > now;
      if (path === 'login') {
        if (b.username !== opts.username || b.password !== md5) {
          stats.failed_logins++;
          return sendJson(res, { status: 'Failed', errno: '20002' });
        }
        const t = randomBytes(16).toString('hex');
        tokens.set(t, now + ttl);
        stats.logins++;
        setDest(req, b);
        return sendJson(res, { status: 'Success', token: t, transport: 'HTTP' });
      }
      if (path === 'heartbeat') {
        if (!live) {
          stats.refused_heartbeats++;
          return sendJson(res, { status: 'Failed', errno: '10004' });
        }
        tokens.set(token, now + ttl);
        stats.heartbeats++;
        if (b.url !== undefined || b.port !== undefined) setDest(req, b);
        return sendJson(res, { status: 'Success' });
      }
      if (path === 'logout') {
        tokens.delete(token);
        stats.logouts++;
        return sendJson(res, { status: 'Success' });
      }
      return sendJson(res, { status: 'Failed', errno: '10001' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const api: YeastarSApi = {
    base_url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    sn,
    stats,
    destination: () => dest,
    reportUrl() {
      if (!dest) throw new Error('fake S-Series PBX: no client has logged in, so there is nowhere to push');
      return `http://${dest.ip}:${dest.port}${dest.url}`;
    },
    async waitForLogin(n = 1, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (stats.logins < n) {
        if (Date.now() > deadline) throw new Error(`fake S-Series PBX: ${stats.logins} of ${n} logins after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    pushReport: (report, o) => pushSReport(api.reportUrl(), report, o),
    expireTokens() {
      for (const k of tokens.keys()) tokens.set(k, 0);
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return api;
}

// ---- report builders (for the simulator: render a call's state as the PBX would) ---------------

export type SMemberStatus = 'ALERT' | 'RING' | 'ANSWERED' | 'ANSWER' | 'HOLD' | 'BYE';
export type SMember =
  | { ext: string; channel: string; status?: SMemberStatus; callpath?: string }
  | { inbound: { from: string; to: string; trunk: string }; channel: string; status?: SMemberStatus; callpath?: string }
  | { outbound: { from: string; to: string; trunk: string }; channel: string; status?: SMemberStatus; callpath?: string };

function sMember(m: SMember): Record<string, unknown> {
  const common = { channelid: m.channel, ...(m.status ? { memberstatus: m.status } : {}), ...(m.callpath !== undefined ? { callpath: m.callpath } : {}) };
  if ('ext' in m) return { ext: { number: m.ext, ...common } };
  if ('inbound' in m) return { inbound: { from: m.inbound.from, to: m.inbound.to, trunkname: m.inbound.trunk, ...common } };
  return { outbound: { from: m.outbound.from, to: m.outbound.to, trunkname: m.outbound.trunk, ...common } };
}

/** `CallStatus`: the whole member list of the call now. */
export function sCallStatus(sn: string, callid: string, members: SMember[]): Record<string, unknown> {
  return { event: 'CallStatus', callid, members: members.map(sMember), sn };
}

/** `Tranfer` (sic, the documented spelling): the parties after the transfer, without statuses. */
export function sTransfer(sn: string, callid: string, members: SMember[]): Record<string, unknown> {
  return { event: 'Tranfer', callid, members: members.map((m) => sMember({ ...m, status: undefined, callpath: undefined })), sn };
}

/** `ExtensionStatus`: Ringing, Busy, Registered (idle), Unregistered. */
export function sExtensionStatus(sn: string, extension: string, status: 'Ringing' | 'Busy' | 'Registered' | 'Unregistered'): Record<string, unknown> {
  return { event: 'ExtensionStatus', extension, status, sn };
}

/** `NewCdr` with PBX-local `timestart` (UTC start + the PBX's IANA zone); numbers as strings, as the PBX sends them. */
export function sNewCdr(
  sn: string,
  c: {
    callid: string;
    start: Date;
    timezone: string;
    callfrom: string;
    callto: string;
    duration_s: number;
    talk_s: number;
    status: string;
    type: 'Inbound' | 'Outbound' | 'Internal';
    srctrunk?: string;
    dsttrunk?: string;
    agentring_s?: number;
  },
): Record<string, unknown> {
  return {
    event: 'NewCdr',
    callid: c.callid,
    timestart: formatPbxLocal(c.start, c.timezone),
    callfrom: c.callfrom,
    callto: c.callto,
    callduraction: String(Math.round(c.duration_s)), // (sic) the documented spelling
    talkduraction: String(Math.round(c.talk_s)),
    srctrunkname: c.srctrunk ?? '',
    dsttrcunkname: c.dsttrunk ?? '', // (sic)
    pincode: '',
    status: c.status,
    type: c.type,
    recording: '',
    didnumber: '',
    agentringtime: String(Math.round(c.agentring_s ?? 0)),
    sn,
  };
}

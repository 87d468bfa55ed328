// A local fake Yeastar P-Series OpenAPI endpoint on 127.0.0.1, speaking the real protocol
// (../shared/reference/yeastar.md §3) so the adapter, the tests and the simulator can exercise it.
//
//   const pbx = await startYeastarPServer({ client_id: 'id', client_secret: 's', access_ttl_s: 5 });
//   pbx.base_url                        // http://127.0.0.1:PORT — PbxConfig.base_url
//   pbx.push({ type: 30011, sn, msg })  // to every socket subscribed to that topic; msg objects
//                                       // are sent as a JSON-encoded string unless msg_as_object
//   pbx.pushEvent(30011, { call_id, members }) // same, envelope built for you
//   pbx.pushText('not json')            // a raw text frame, verbatim
//   pbx.setState({ calls, queues, cdrs }) // what call/query, queue/list, queue/agent_status, cdr/search answer
//   pbx.dropSockets()                   // every socket terminated, as if the network dropped it
//   pbx.expireTokens()                  // every access token expires now (sockets using one are closed)
//   pbx.stats                           // tokens issued / refreshed / revoked, connections, heartbeats …
//   await pbx.waitForSubscribers(1)     // until n sockets have subscribed
//   await pbx.close()
//
// Frame builders (bottom of this file) render a call as the PBX would: pCallStatus(callId,
// members) → 30011 snapshot, pCallTransfer, pNewCdr({…, start, timezone}) → 30012 with a
// PBX-local time_start, pExtensionStatus → 30008, pAgentStatus → 30029. Hand them to push():
//   pbx.push(pCallStatus('1790197458.5215', [
//     { inbound: { from: '0711000001', to: '6400', trunk: 'Saf' }, channel: 'PJSIP/trunk-1', status: 'ANSWERED', call_path: '6400' },
//     { extension: '1001', channel: 'PJSIP/1001-1', status: 'RING', call_path: '6400' },
//   ]));
//   pbx.push(pAgentStatus('6400', '1001', 'Paused', 'Lunch'), { msg_as_object: true });
//
// HTTP: POST /openapi/v1.0/get_token {username, password} · POST /openapi/v1.0/refresh_token
// {refresh_token} · GET /openapi/v1.0/del_token?access_token= · GET /openapi/v1.0/call/query ·
// GET /openapi/v1.0/queue/list · GET /openapi/v1.0/queue/agent_status?id= · GET /openapi/v2.0/cdr/search
// (all with ?access_token=).
// WebSocket: /openapi/v1.0/subscribe?access_token=…, then {"topic_list":[…]} → {"errcode":0,"errmsg":"SUCCESS"};
// text `heartbeat` → `heartbeat response`. Like the real API it needs a User-Agent header and
// caps valid access tokens per application (8). Error codes are this fake's own (the vendor's
// numbers are not documented in what we read): 10001 bad credentials, 10002 no User-Agent,
// 10003 too many tokens, 10004 invalid or expired token.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { formatPbxLocal } from '@callboard/ingest/yeastar-time';
import { readJsonBody, sendJson } from './http-json.ts';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface YeastarPServerOptions {
  client_id: string;
  client_secret: string;
  /** Access token lifetime (the real PBX: 1800). */
  access_ttl_s?: number;
  /** Refresh token lifetime (the real PBX: 86400). */
  refresh_ttl_s?: number;
  /** Valid access tokens allowed at once (the real PBX: 8). */
  max_tokens?: number;
  /** Close sockets whose access token expires (the vendor docs do not say; on by default to exercise recovery). */
  close_on_token_expiry?: boolean;
  sn?: string;
  port?: number;
  host?: string;
}

export interface FakeQueue {
  id: number | string;
  number: string;
  name?: string;
  /** Rows as queue/agent_status returns them: {number, name, is_login, is_pause, call_status, pause_reason, agent_type}. */
  agents: Record<string, unknown>[];
}

export interface FakePState {
  /** Rows as call/query returns them: {call_id, members: [{extension|inbound|outbound: {…}}]}. */
  calls?: Record<string, unknown>[];
  queues?: FakeQueue[];
  /** Rows as /openapi/v2.0/cdr/search returns them (see the cdr-search-row fixture); filtered by their Unix `timestamp`. */
  cdrs?: Record<string, unknown>[];
}

interface Token {
  access: string;
  refresh: string;
  access_exp: number;
  refresh_exp: number;
  revoked: boolean;
}

export interface YeastarPServer {
  base_url: string;
  port: number;
  sn: string;
  stats: {
    tokens_issued: number;
    refreshes: number;
    revokes: number;
    connections: number;
    subscriptions: number;
    heartbeats: number;
    rejected_upgrades: number;
    rest_calls: Record<string, number>;
  };
  push(frame: { type: number; sn?: string; msg: unknown }, opts?: { msg_as_object?: boolean }): number;
  pushEvent(type: number, msg: Record<string, unknown>, opts?: { msg_as_object?: boolean }): number;
  pushText(text: string): number;
  setState(s: FakePState): void;
  dropSockets(): number;
  expireTokens(): void;
  validTokens(): number;
  subscribers(): number;
  waitForSubscribers(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const tokenStr = () => randomBytes(16).toString('hex');

export async function startYeastarPServer(opts: YeastarPServerOptions): Promise<YeastarPServer> {
  const accessTtl = (opts.access_ttl_s ?? 1800) * 1000;
  const refreshTtl = (opts.refresh_ttl_s ?? 86400) * 1000;
  const maxTokens = opts.max_tokens ?? 8;
  const closeOnExpiry = opts.close_on_token_expiry ?? true;
  const sn = opts.sn ?? '3631A2124XXX';
  const tokens: Token[] = [];
  let state: FakePState = { calls: [], queues: [] };
  const sockets = new Map<WebSocket, { token: Token; topics: Set<number> | null }>();
  const stats: YeastarPServer['stats'] = {
    tokens_issued: 0,
    refreshes: 0,
    revokes: 0,
    connections: 0,
    subscriptions: 0,
    heartbeats: 0,
    rejected_upgrades: 0,
    rest_calls: {},
  };

  const valid = (t: Token, now = Date.now()) => !t.revoked && t.access_exp > now;
  const byAccess = (a: string | null) => tokens.find((t) => t.access === a && valid(t));
  const issue = (): Token | null => {
    if (tokens.filter((t) => valid(t)).length >= maxTokens) return null;
    const now = Date.now();
    const t = { access: tokenStr(), refresh: tokenStr(), access_exp: now + accessTtl, refresh_exp: now + refreshTtl, revoked: false };
    tokens.push(t);
    stats.tokens_issued++;
    return t;
  };
  const tokenBody = (t: Token) => ({
    errcode: 0,
    errmsg: 'SUCCESS',
    access_token_expire_time: Math.round(accessTtl / 1000),
    access_token: t.access,
    refresh_token_expire_time: Math.round(refreshTtl / 1000),
    refresh_token: t.refresh,
  });


  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/^\/openapi\/v1\.0\//, '').replace(/^\/openapi\/v2\.0\//, 'v2/');
    stats.rest_calls[path] = (stats.rest_calls[path] ?? 0) + 1;
    if (!req.headers['user-agent']) return sendJson(res, { errcode: 10002, errmsg: 'FAILURE: User-Agent header required' });
    void (async () => {
      if (req.method === 'POST' && path === 'get_token') {
        const b = await readJsonBody(req);
        if (b.username !== opts.client_id || b.password !== opts.client_secret)
          return sendJson(res, { errcode: 10001, errmsg: 'FAILURE: invalid client id or secret' });
        const t = issue();
        return t ? sendJson(res, tokenBody(t)) : sendJson(res, { errcode: 10003, errmsg: `FAILURE: ${maxTokens} valid access tokens already` });
      }
      if (req.method === 'POST' && path === 'refresh_token') {
        const b = await readJsonBody(req);
        const old = tokens.find((t) => t.refresh === b.refresh_token && !t.revoked && t.refresh_exp > Date.now());
        if (!old) return sendJson(res, { errcode: 10004, errmsg: 'FAILURE: invalid or expired refresh token' });
        const t = issue();
        if (!t) return sendJson(res, { errcode: 10003, errmsg: `FAILURE: ${maxTokens} valid access tokens already` });
        old.refresh_exp = 0; // a refresh token is used once
        stats.refreshes++;
        return sendJson(res, tokenBody(t));
      }
      const token = byAccess(url.searchParams.get('access_token'));
      if (path === 'del_token') {
        if (token) {
          token.revoked = true;
          stats.revokes++;
        }
        return sendJson(res, { errcode: 0, errmsg: 'SUCCESS' });
      }
      if (!token) return sendJson(res, { errcode: 10004, errmsg: 'FAILURE: invalid or expired access token' });
      if (path === 'call/query') return sendJson(res, { errcode: 0, errmsg: 'SUCCESS', data: state.calls ?? [] });
      if (path === 'v2/cdr/search') {
        // time_begin / time_end as Unix seconds (the vendor also takes its display format; this fake does not).
        const begin = Number(url.searchParams.get('time_begin') ?? 0);
        const end = Number(url.searchParams.get('time_end') ?? Number.MAX_SAFE_INTEGER);
        const size = Math.min(10_000, Number(url.searchParams.get('page_size') ?? 100));
        const page = Math.max(1, Number(url.searchParams.get('page') ?? 1));
        const rows = (state.cdrs ?? [])
          .filter((r) => Number(r.timestamp) >= begin && Number(r.timestamp) <= end)
          .sort((a, b) => Number(a.timestamp) - Number(b.timestamp));
        return sendJson(res, { errcode: 0, errmsg: 'SUCCESS', total_number: rows.length, data: rows.slice((page - 1) * size, page * size) });
      }
      if (path === 'queue/list') {
        const data = (state.queues ?? []).map((q) => ({ id: q.id, number: q.number, name: q.name ?? q.number }));
        return sendJson(res, { errcode: 0, errmsg: 'SUCCESS', total_number: data.length, data });
      }
      if (path === 'queue/agent_status') {
        const q = (state.queues ?? []).find((x) => String(x.id) === url.searchParams.get('id'));
        if (!q) return sendJson(res, { errcode: 10005, errmsg: 'FAILURE: no such queue' });
        return sendJson(res, { errcode: 0, errmsg: 'SUCCESS', total_number: q.agents.length, data: q.agents });
      }
      return sendJson(res, { errcode: 404, errmsg: `FAILURE: unknown endpoint ${path}` }, 404);
    })();
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const token = byAccess(url.searchParams.get('access_token'));
    if (url.pathname !== '/openapi/v1.0/subscribe' || !token) {
      stats.rejected_upgrades++;
      socket.end(
        `HTTP/1.1 ${token ? '404 Not Found' : '401 Unauthorized'}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"errcode":10004,"errmsg":"FAILURE: invalid or expired access token"}`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      stats.connections++;
      sockets.set(ws, { token, topics: null });
      ws.on('message', (data) => {
        const text = data.toString();
        if (text === 'heartbeat') {
          stats.heartbeats++;
          ws.send('heartbeat response');
          return;
        }
        try {
          const m = JSON.parse(text) as { topic_list?: unknown };
          if (Array.isArray(m.topic_list) && m.topic_list.every((x) => typeof x === 'number')) {
            sockets.get(ws)!.topics = new Set(m.topic_list as number[]);
            stats.subscriptions++;
            ws.send(JSON.stringify({ errcode: 0, errmsg: 'SUCCESS' }));
            return;
          }
        } catch {
          /* fall through */
        }
        ws.send(JSON.stringify({ errcode: 10006, errmsg: 'FAILURE: unknown request' }));
      });
      ws.on('close', () => sockets.delete(ws));
      ws.on('error', () => sockets.delete(ws));
    });
  });

  const expiryCheck = setInterval(() => {
    if (!closeOnExpiry) return;
    const now = Date.now();
    for (const [ws, s] of sockets) if (!valid(s.token, now)) ws.close(4001, 'access token expired');
  }, 100);
  expiryCheck.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const broadcast = (type: number | null, text: string) => {
    let n = 0;
    for (const [ws, s] of sockets) {
      if (!s.topics || (type !== null && !s.topics.has(type)) || ws.readyState !== ws.OPEN) continue;
      ws.send(text);
      n++;
    }
    return n;
  };

  const api: YeastarPServer = {
    base_url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    port,
    sn,
    stats,
    push(frame, o = {}) {
      const msg = typeof frame.msg === 'string' || o.msg_as_object ? frame.msg : JSON.stringify(frame.msg);
      return broadcast(frame.type, JSON.stringify({ type: frame.type, sn: frame.sn ?? sn, msg }));
    },
    pushEvent(type, msg, o) {
      return api.push({ type, sn, msg }, o);
    },
    pushText(text) {
      return broadcast(null, text);
    },
    setState(s) {
      state = { calls: s.calls ?? state.calls, queues: s.queues ?? state.queues, cdrs: s.cdrs ?? state.cdrs };
    },
    dropSockets() {
      const n = sockets.size;
      for (const ws of sockets.keys()) ws.terminate();
      return n;
    },
    expireTokens() {
      for (const t of tokens) t.access_exp = Math.min(t.access_exp, Date.now() - 1);
    },
    validTokens: () => tokens.filter((t) => valid(t)).length,
    subscribers: () => [...sockets.values()].filter((s) => s.topics).length,
    async waitForSubscribers(n, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (api.subscribers() < n) {
        if (Date.now() > deadline) throw new Error(`fake P-Series PBX: ${api.subscribers()} of ${n} subscribers after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      clearInterval(expiryCheck);
      for (const ws of sockets.keys()) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return api;
}

// ---- frame builders (for the simulator: render a call's state as the PBX would) ----------------

/** One party of a call as Yeastar lists it. `channel` identifies the member across snapshots. */
export type PMember =
  | { extension: string; channel: string; status: PMemberStatus; call_path?: string }
  | { inbound: { from: string; to: string; trunk: string }; channel: string; status: PMemberStatus; call_path?: string }
  | { outbound: { from: string; to: string; trunk: string }; channel: string; status: PMemberStatus; call_path?: string };
export type PMemberStatus = 'ALERT' | 'RING' | 'ANSWERED' | 'ANSWER' | 'HOLD' | 'BYE' | 'EARLYMEDIA';

function pMember(m: PMember): Record<string, unknown> {
  const common = { channel_id: m.channel, member_status: m.status, call_path: m.call_path ?? '' };
  if ('extension' in m) return { extension: { number: m.extension, ...common } };
  if ('inbound' in m) return { inbound: { from: m.inbound.from, to: m.inbound.to, trunk_name: m.inbound.trunk, ...common } };
  return { outbound: { from: m.outbound.from, to: m.outbound.to, trunk_name: m.outbound.trunk, ...common } };
}

/** 30011 Call Status Changed: the whole member list of the call now (a snapshot, not a delta). */
export function pCallStatus(callId: string, members: PMember[]): { type: number; msg: Record<string, unknown> } {
  return { type: 30011, msg: { call_id: callId, members: members.map(pMember) } };
}

/** 30013 Call Transfer: the parties after the transfer. */
export function pCallTransfer(callId: string, members: PMember[]): { type: number; msg: Record<string, unknown> } {
  return { type: 30013, msg: { call_id: callId, members: members.map(pMember) } };
}

/**
 * 30012 New CDR. `time_start` is PBX-local wall-clock time: pass the UTC start and the PBX's
 * IANA zone. `status`: ANSWERED, NO ANSWER, BUSY, VOICEMAIL (the P-Series doc spells ANSWERD).
 */
export function pNewCdr(c: {
  call_id: string;
  start: Date;
  timezone: string;
  call_from: string;
  call_to: string;
  call_duration_s: number;
  talk_duration_s: number;
  status: string;
  type: 'Inbound' | 'Outbound' | 'Internal';
  src_trunk?: string;
  dst_trunk?: string;
  agent_ring_time_s?: number;
}): { type: number; msg: Record<string, unknown> } {
  return {
    type: 30012,
    msg: {
      call_id: c.call_id,
      time_start: formatPbxLocal(c.start, c.timezone),
      call_from: c.call_from,
      call_to: c.call_to,
      call_duration: Math.round(c.call_duration_s),
      talk_duration: Math.round(c.talk_duration_s),
      src_trunk_name: c.src_trunk ?? '',
      dst_trunk_name: c.dst_trunk ?? '',
      pin_code: '',
      status: c.status,
      type: c.type,
      recording: '',
      did_number: '',
      agent_ring_time: Math.round(c.agent_ring_time_s ?? 0),
    },
  };
}

/** 30008 Extension Call Status Changed. */
export function pExtensionStatus(extension: string, status: 'Ringing' | 'Busy' | 'Idle'): { type: number; msg: Record<string, unknown> } {
  return { type: 30008, msg: { extension, status } };
}

/** 30029 Agent Status Changed (documented with `msg` as an object and `queue-<number>`). */
export function pAgentStatus(queue: string, agent: string, status: string, reason = ''): { type: number; msg: Record<string, unknown> } {
  return { type: 30029, msg: { queue_number: `queue-${queue}`, agent_number: agent, status, reason } };
}

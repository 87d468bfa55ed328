// Parses Yeastar vendor messages (P-Series OpenAPI frames `{type, sn, msg}` and S-Series API
// v2.0.0 / v1.x event reports `{event|action, …}`) into one normalised shape the translator
// folds. Pure: no I/O, no clock. Vendor quirks handled here, once: `msg` as a JSON-encoded string
// or an object, numbers sent as integers or strings, case-varying enums, the documented typos
// (`Tranfer`, `dsttrcunkname`, `ANSWERD`, `NO ANSWERED`). See ../shared/reference/yeastar.md.
import type { DlqReason } from '@callboard/schemas';

export type YeastarProduct = 'p' | 's';
export type MemberRole = 'extension' | 'inbound' | 'outbound';

export interface Member {
  role: MemberRole;
  /** Extension number (extension members). */
  number: string;
  from: string;
  to: string;
  trunk: string;
  /** Channel id, e.g. PJSIP/1002-00000a1c; the member's identity within the call. */
  channel_id: string;
  /** Upper-case member status (ALERT, RING, ANSWERED, ANSWER, HOLD, BYE, EARLYMEDIA) or "" when the event carries none. */
  status: string;
  /** Number of the IVR / queue / ring group the member reached the call through ("" when none). */
  call_path: string;
}

export interface CdrMessage {
  kind: 'cdr';
  sn: string;
  call_id: string;
  uid: string;
  /** PBX-local start time as sent. */
  time_start: string;
  /** UTC start in epoch ms when the vendor gives one (cdr/search `timestamp`). */
  start_utc_ms?: number;
  call_from: string;
  call_to: string;
  duration_s: number;
  talk_s: number;
  src_trunk: string;
  dst_trunk: string;
  /** Vendor disposition exactly as sent. */
  status: string;
  /** Vendor call type exactly as sent (Inbound / outbound / Internal …). */
  type: string;
  agent_ring_s?: number;
}

export type YeastarMessage =
  | { kind: 'call_status'; sn: string; call_id: string; members: Member[] }
  | { kind: 'transfer'; sn: string; call_id: string; members: Member[] }
  | { kind: 'forward'; sn: string; call_id: string; members: Member[] }
  | { kind: 'call_failed'; sn: string; call_id: string; reason: string; members: Member[] }
  | { kind: 'inbound_invite'; sn: string; call_id: string; members: Member[]; accepted: boolean }
  | CdrMessage
  | { kind: 'extension_status'; sn: string; extension: string; status: string }
  | { kind: 'agent_status'; sn: string; queue: string; agent: string; status: string; reason: string }
  | { kind: 'agent_auto_pause'; sn: string; queue: string; agent: string; calls: { caller: string; call_id: string }[] }
  /** Events with no call-centre meaning (registration, presence, trunk, system, config, boot, survey). */
  | { kind: 'info'; sn: string; name: string };

export type ParseResult = { ok: true; message: YeastarMessage; vendor_type: string } | { ok: false; reason_code: DlqReason; reason: string; path?: string };

const fail = (reason_code: DlqReason, reason: string, path?: string): ParseResult => ({ ok: false, reason_code, reason, ...(path ? { path } : {}) });

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Strings, numbers and booleans as strings; anything else as "". The docs type numbers as Integer but send strings. */
export function str(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return v ? '1' : '0';
  return '';
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v)) return Number(v);
  return undefined;
}

function first(o: Obj, ...keys: string[]): unknown {
  for (const k of keys) if (o[k] !== undefined && o[k] !== null) return o[k];
  return undefined;
}

/** P-Series topic ids (reference §3.4). */
export const P_TOPICS = {
  extensionRegistration: 30007,
  extensionCallStatus: 30008,
  extensionPresence: 30009,
  trunkRegistration: 30010,
  callStatus: 30011,
  newCdr: 30012,
  callTransfer: 30013,
  callForward: 30014,
  callFailed: 30015,
  inboundCallInvitation: 30016,
  agentAutoPause: 30025,
  agentStatus: 30029,
  systemEventInformation: 30034,
  systemEventWarning: 30035,
  systemEventCritical: 30036,
} as const;

/** What the P-Series adapter subscribes to. 30016 is left out on purpose: it needs "Control Inbound Call", which hands call control to the app. */
export const P_SUBSCRIBE_TOPICS: readonly number[] = [30007, 30008, 30009, 30010, 30011, 30012, 30013, 30014, 30015, 30025, 30029, 30034, 30035, 30036];

function members(raw: unknown, product: YeastarProduct): Member[] | string {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) return 'members is not a list';
  const out: Member[] = [];
  for (const [i, entry] of raw.entries()) {
    if (!isObj(entry)) return `members[${i}] is not an object`;
    const roleKey = Object.keys(entry).find((k) => ['extension', 'ext', 'inbound', 'outbound'].includes(k));
    if (!roleKey || !isObj(entry[roleKey])) return `members[${i}] has none of extension, ext, inbound, outbound`;
    const m = entry[roleKey] as Obj;
    const role: MemberRole = roleKey === 'ext' ? 'extension' : (roleKey as MemberRole);
    const p = product === 'p';
    out.push({
      role,
      number: str(first(m, 'number', 'extension')),
      from: str(m.from),
      to: str(m.to),
      trunk: str(first(m, p ? 'trunk_name' : 'trunkname', 'trunk_name', 'trunkname')),
      channel_id: str(first(m, p ? 'channel_id' : 'channelid', 'channel_id', 'channelid')),
      status: str(first(m, p ? 'member_status' : 'memberstatus', 'member_status', 'memberstatus')).toUpperCase(),
      call_path: str(first(m, p ? 'call_path' : 'callpath', 'call_path', 'callpath')),
    });
  }
  return out;
}

function callMessage(kind: 'call_status' | 'transfer' | 'forward', sn: string, body: Obj, product: YeastarProduct, base: string): ParseResult {
  const callId = str(first(body, 'call_id', 'callid'));
  if (!callId) return fail('MISSING_FIELD', `${kind} event without a call id`, `${base}/${product === 'p' ? 'call_id' : 'callid'}`);
  const ms = members(body.members, product);
  if (typeof ms === 'string') return fail('INVALID_FIELD', ms, `${base}/members`);
  return { ok: true, vendor_type: '', message: { kind, sn, call_id: callId, members: ms } };
}

function cdr(sn: string, body: Obj, base: string): ParseResult {
  const callId = str(first(body, 'call_id', 'callid'));
  if (!callId) return fail('MISSING_FIELD', 'CDR without a call id', `${base}/call_id`);
  const timeStart = str(first(body, 'time_start', 'timestart'));
  const duration = num(first(body, 'call_duration', 'callduraction', 'callduration', 'duration'));
  const talk = num(first(body, 'talk_duration', 'talkduraction', 'talkduration'));
  if (duration === undefined) return fail('MISSING_FIELD', 'CDR without a numeric call duration', `${base}/call_duration`);
  const ring = num(first(body, 'agent_ring_time', 'agentringtime'));
  return {
    ok: true,
    vendor_type: '',
    message: {
      kind: 'cdr',
      sn,
      call_id: callId,
      uid: str(body.uid),
      time_start: timeStart,
      call_from: str(first(body, 'call_from', 'callfrom')),
      call_to: str(first(body, 'call_to', 'callto')),
      duration_s: duration,
      talk_s: talk ?? 0,
      src_trunk: str(first(body, 'src_trunk_name', 'srctrunkname')),
      // `dsttrcunkname` (sic) is how S-Series v2 spells it; v1 used `desttrunkname`.
      dst_trunk: str(first(body, 'dst_trunk_name', 'dsttrcunkname', 'dsttrunkname', 'desttrunkname')),
      status: str(body.status),
      type: str(body.type),
      ...(ring !== undefined ? { agent_ring_s: ring } : {}),
    },
  };
}

/** Decodes a P-Series `msg`: a JSON-encoded string (the usual live form) or a plain object. */
function decodeMsg(msg: unknown): Obj | string {
  if (isObj(msg)) return msg;
  if (typeof msg === 'string') {
    try {
      const v = JSON.parse(msg) as unknown;
      return isObj(v) ? v : 'msg decodes to something other than an object';
    } catch (e) {
      return `msg is a string but not JSON: ${(e as Error).message}`;
    }
  }
  return 'msg is missing or neither a JSON string nor an object';
}

/** One P-Series OpenAPI frame (WebSocket text or webhook body), already JSON-parsed. */
export function parsePFrame(frame: unknown): ParseResult {
  if (!isObj(frame)) return fail('INVALID_FIELD', 'frame is not a JSON object', '/');
  // A row of GET /openapi/v2.0/cdr/search, kept verbatim in pbx.raw.v1 by the gap backfill.
  if (frame.type === undefined && 'disposition' in frame && 'call_id' in frame) {
    const cdr = cdrFromSearchRow(frame);
    return typeof cdr === 'string' ? fail('INVALID_FIELD', cdr, '/') : { ok: true, vendor_type: 'cdr/search', message: cdr };
  }
  const type = num(frame.type);
  if (type === undefined) return fail('MISSING_FIELD', 'frame without a numeric event type', '/type');
  const sn = str(frame.sn);
  const body = decodeMsg(frame.msg);
  if (typeof body === 'string') return fail(body.includes('not JSON') ? 'UNPARSEABLE_JSON' : 'INVALID_FIELD', `event ${type}: ${body}`, '/msg');
  const vt = String(type);
  const withType = (r: ParseResult): ParseResult => (r.ok ? { ...r, vendor_type: vt } : { ...r, reason: `event ${type}: ${r.reason}` });
  const info = (name: string): ParseResult => ({ ok: true, vendor_type: vt, message: { kind: 'info', sn, name } });
  switch (type) {
    case P_TOPICS.callStatus:
      return withType(callMessage('call_status', sn, body, 'p', '/msg'));
    case P_TOPICS.callTransfer:
      return withType(callMessage('transfer', sn, body, 'p', '/msg'));
    case P_TOPICS.callForward:
      return withType(callMessage('forward', sn, body, 'p', '/msg'));
    case P_TOPICS.callFailed: {
      const r = callMessage('call_status', sn, body, 'p', '/msg');
      if (!r.ok) return withType(r);
      const m = r.message as { call_id: string; members: Member[] };
      return { ok: true, vendor_type: vt, message: { kind: 'call_failed', sn, call_id: m.call_id, members: m.members, reason: str(body.reason) } };
    }
    case P_TOPICS.inboundCallInvitation: {
      const r = callMessage('call_status', sn, body, 'p', '/msg');
      if (!r.ok) return withType(r);
      const m = r.message as { call_id: string; members: Member[] };
      return { ok: true, vendor_type: vt, message: { kind: 'inbound_invite', sn, call_id: m.call_id, members: m.members, accepted: false } };
    }
    case P_TOPICS.newCdr:
      return withType(cdr(sn, body, '/msg'));
    case P_TOPICS.extensionCallStatus: {
      const extension = str(body.extension);
      if (!extension) return fail('MISSING_FIELD', `event ${type}: no extension`, '/msg/extension');
      return { ok: true, vendor_type: vt, message: { kind: 'extension_status', sn, extension, status: str(body.status) } };
    }
    case P_TOPICS.agentStatus: {
      const agent = str(body.agent_number);
      if (!agent) return fail('MISSING_FIELD', `event ${type}: no agent_number`, '/msg/agent_number');
      return {
        ok: true,
        vendor_type: vt,
        message: { kind: 'agent_status', sn, queue: queueNumber(str(body.queue_number)), agent, status: str(body.status), reason: str(body.reason) },
      };
    }
    case P_TOPICS.agentAutoPause: {
      const agent = str(body.agent_number);
      if (!agent) return fail('MISSING_FIELD', `event ${type}: no agent_number`, '/msg/agent_number');
      const calls = Array.isArray(body.calls) ? body.calls.filter(isObj).map((c) => ({ caller: str(c.caller_number), call_id: str(c.call_id) })) : [];
      return { ok: true, vendor_type: vt, message: { kind: 'agent_auto_pause', sn, queue: queueNumber(str(body.queue_number)), agent, calls } };
    }
    case P_TOPICS.extensionRegistration:
      return info('extension registration status');
    case P_TOPICS.extensionPresence:
      return info('extension presence status');
    case P_TOPICS.trunkRegistration:
      return info('trunk registration status');
    case P_TOPICS.systemEventInformation:
    case P_TOPICS.systemEventWarning:
    case P_TOPICS.systemEventCritical:
      return info(`system event notification (${str(body.event_name) || 'unnamed'})`);
    default:
      return fail('UNKNOWN_EVENT_TYPE', `P-Series event type ${type} is not one the adapter knows; the raw event is kept for re-translation`, '/type');
  }
}

/** 30029 sends `queue-6402`; everywhere else a queue is its number. */
function queueNumber(q: string): string {
  return q.replace(/^queue-/i, '');
}

/** One S-Series report (API v2.0.0 `event`, or v1.x `action`), already JSON-parsed. */
export function parseSReport(report: unknown): ParseResult {
  if (!isObj(report)) return fail('INVALID_FIELD', 'report is not a JSON object', '/');
  const name = str(first(report, 'event', 'action'));
  if (!name) return fail('MISSING_FIELD', 'report without "event" (v2) or "action" (v1)', '/event');
  const sn = str(report.sn);
  const ok = (message: YeastarMessage): ParseResult => ({ ok: true, vendor_type: name, message });
  const withName = (r: ParseResult): ParseResult => (r.ok ? { ...r, vendor_type: name } : { ...r, reason: `${name}: ${r.reason}` });
  switch (name.toLowerCase()) {
    case 'callstatus':
      return withName(callMessage('call_status', sn, report, 's', ''));
    case 'tranfer': // (sic) the documented v2 spelling
    case 'transfer':
      return withName(callMessage('transfer', sn, report, 's', ''));
    case 'forward':
      return withName(callMessage('forward', sn, report, 's', ''));
    case 'callfailed': {
      const r = callMessage('call_status', sn, report, 's', '');
      if (!r.ok) return withName(r);
      const m = r.message as { call_id: string; members: Member[] };
      return ok({ kind: 'call_failed', sn, call_id: m.call_id, members: m.members, reason: str(report.reason) });
    }
    case 'invite':
    case 'incoming': {
      const r = callMessage('call_status', sn, report, 's', '');
      if (!r.ok) return withName(r);
      const m = r.message as { call_id: string; members: Member[] };
      return ok({ kind: 'inbound_invite', sn, call_id: m.call_id, members: m.members, accepted: name.toLowerCase() === 'incoming' });
    }
    case 'newcdr':
      return withName(cdr(sn, report, ''));
    case 'extensionstatus': {
      const extension = str(first(report, 'extension', 'extid'));
      if (!extension) return fail('MISSING_FIELD', `${name}: no extension`, '/extension');
      return ok({ kind: 'extension_status', sn, extension, status: str(report.status) });
    }
    case 'queueautopause': {
      const agent = str(report.agent);
      if (!agent) return fail('MISSING_FIELD', `${name}: no agent`, '/agent');
      const calls = Array.isArray(report.misscall) ? report.misscall.filter(isObj).map((c) => ({ caller: str(c.caller), call_id: str(c.callid) })) : [];
      return ok({ kind: 'agent_auto_pause', sn, queue: str(report.queue), agent, calls });
    }
    case 'satisfaction':
      return ok({ kind: 'info', sn, name: 'satisfaction survey result' });
    case 'configchange':
      return ok({ kind: 'info', sn, name: 'configuration change' });
    case 'bootup':
      return ok({ kind: 'info', sn, name: 'PBX boot-up' });
    case 'conferencestatus':
      return ok({ kind: 'info', sn, name: 'conference status' });
    default:
      return fail('UNKNOWN_EVENT_TYPE', `S-Series event "${name}" is not one the adapter knows; the raw event is kept for re-translation`, '/event');
  }
}

/** Parses the text of one vendor message; JSON errors come back as UNPARSEABLE_JSON. */
export function parseYeastarText(text: string, product: YeastarProduct): ParseResult {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return fail('UNPARSEABLE_JSON', `not JSON: ${(e as Error).message}`, '/');
  }
  return product === 'p' ? parsePFrame(v) : parseSReport(v);
}

// ---- REST responses used for reconciliation and backfill --------------------------------------

export interface LiveCall {
  call_id: string;
  members: Member[];
}

/** P-Series `GET call/query` → the calls in progress. */
export function parseCallQuery(resp: unknown): LiveCall[] | string {
  if (!isObj(resp)) return 'call/query answer is not an object';
  if (num(resp.errcode) !== 0) return `call/query failed: errcode ${str(resp.errcode)} ${str(resp.errmsg)}`;
  const data = resp.data === undefined ? [] : resp.data;
  if (!Array.isArray(data)) return 'call/query data is not a list';
  const out: LiveCall[] = [];
  for (const c of data) {
    if (!isObj(c)) continue;
    const ms = members(c.members, 'p');
    if (typeof ms === 'string') return `call/query: ${ms}`;
    const id = str(c.call_id);
    if (id) out.push({ call_id: id, members: ms });
  }
  return out;
}

export interface AgentSnapshot {
  agent: string;
  /** The queue this row is about (agent status is per queue); absent when unknown. */
  queue?: string;
  name: string;
  logged_in: boolean;
  paused: boolean;
  pause_reason: string;
  /** idle | in_call | ringing | held | unknown */
  call: 'idle' | 'in_call' | 'ringing' | 'held' | 'unknown';
}

const P_AGENT_CALL_STATUS: Record<number, AgentSnapshot['call']> = { 0: 'unknown', 1: 'idle', 2: 'in_call', 3: 'ringing', 4: 'in_call', 5: 'held' };

/** P-Series `GET queue/agent_status?id=` → one snapshot per agent (of queue `queue`, when given). */
export function parseQueueAgentStatus(resp: unknown, queue?: string): AgentSnapshot[] | string {
  if (!isObj(resp)) return 'queue/agent_status answer is not an object';
  if (num(resp.errcode) !== 0) return `queue/agent_status failed: errcode ${str(resp.errcode)} ${str(resp.errmsg)}`;
  if (!Array.isArray(resp.data)) return 'queue/agent_status data is not a list';
  return resp.data.filter(isObj).map((a) => ({
    agent: str(a.number),
    ...(queue ? { queue } : {}),
    name: str(a.name),
    logged_in: num(a.is_login) === 1,
    paused: num(a.is_pause) === 1,
    pause_reason: str(a.pause_reason),
    call: P_AGENT_CALL_STATUS[num(a.call_status) ?? 0] ?? 'unknown',
  }));
}

// S-Series v1.1.0 queuestatus agentstatus codes (reference §2.6).
const S_AGENT_STATUS: Record<number, { call: AgentSnapshot['call']; logged_in: boolean; paused: boolean }> = {
  0: { call: 'unknown', logged_in: true, paused: false },
  1: { call: 'idle', logged_in: true, paused: false },
  2: { call: 'in_call', logged_in: true, paused: false },
  3: { call: 'in_call', logged_in: true, paused: false },
  4: { call: 'unknown', logged_in: false, paused: false },
  5: { call: 'unknown', logged_in: false, paused: false },
  6: { call: 'ringing', logged_in: true, paused: false },
  7: { call: 'in_call', logged_in: true, paused: false },
  8: { call: 'held', logged_in: true, paused: false },
  9: { call: 'idle', logged_in: true, paused: true },
  10: { call: 'idle', logged_in: true, paused: false },
};

/** S-Series `queuestatus/query` → one snapshot per agent and queue. */
export function parseSQueueStatus(resp: unknown): { queue: string; waiting: number; agents: AgentSnapshot[] }[] | string {
  if (!isObj(resp)) return 'queuestatus answer is not an object';
  if (str(resp.status).toLowerCase() !== 'success') return `queuestatus failed: status ${str(resp.status)}`;
  if (!Array.isArray(resp.queues)) return 'queuestatus queues is not a list';
  return resp.queues.filter(isObj).map((q) => {
    const st = Array.isArray(q.queuestatus) ? q.queuestatus.filter(isObj) : [];
    const agents = st.flatMap((s) => (Array.isArray(s.members) ? s.members.filter(isObj) : []));
    return {
      queue: str(q.queuenumber),
      waiting: st.reduce((n, s) => n + (num(s.callercount) ?? 0), 0),
      agents: agents.map((a) => {
        const s = S_AGENT_STATUS[num(a.agentstatus) ?? 0] ?? S_AGENT_STATUS[0]!;
        return { agent: str(a.agent), queue: str(q.queuenumber), name: '', pause_reason: '', ...s };
      }),
    };
  });
}

/** One row of P-Series `GET /openapi/v2.0/cdr/search` (backfill) → the CDR shape 30012 gives. */
export function cdrFromSearchRow(row: unknown, sn = ''): CdrMessage | string {
  if (!isObj(row)) return 'cdr/search row is not an object';
  const callId = str(row.call_id);
  if (!callId) return 'cdr/search row without call_id';
  const duration = num(row.duration);
  if (duration === undefined) return 'cdr/search row without a numeric duration';
  const ts = num(row.timestamp);
  // Name<number> → number, so the row matches what 30012 sends.
  const bare = (s: string) => /<([^<>]*)>\s*$/.exec(s)?.[1] ?? s;
  return {
    kind: 'cdr',
    sn,
    call_id: callId,
    uid: str(row.uid),
    time_start: str(row.time),
    ...(ts !== undefined ? { start_utc_ms: ts * 1000 } : {}),
    call_from: bare(str(row.call_from)),
    call_to: bare(str(row.call_to)),
    duration_s: duration,
    talk_s: num(row.talk_duration) ?? 0,
    src_trunk: str(row.src_trunk),
    dst_trunk: str(row.dst_trunk),
    status: str(row.disposition),
    type: str(row.call_type),
  };
}

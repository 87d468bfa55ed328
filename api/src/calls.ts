// Calls search and call timeline: SQL against the projections' tables (projections/migrations):
// `calls`, `queue_legs` and `events`, read with FINAL. Every statement is scoped by tenant_id,
// so a guessed id of another tenant's call finds nothing.
import type { ClickHouse } from '@callboard/platform';
import type { CallEvent } from '@callboard/schemas';
import { orderEvents } from '@callboard/projections/fold';
import { badInput } from './errors.ts';

export type CallOutcome = 'ANSWERED' | 'ABANDONED' | 'EXITED' | 'NO_ANSWER' | 'BUSY' | 'FAILED' | 'CONGESTION';
export interface CallFilter {
  queues?: string[] | null;
  agents?: string[] | null;
  outcome?: CallOutcome[] | null;
  direction?: 'inbound' | 'outbound' | 'internal' | null;
  number?: string | null;
  from?: string | null;
  to?: string | null;
}

const DISPOSITION: Partial<Record<CallOutcome, string>> = { ANSWERED: 'ANSWERED', NO_ANSWER: 'NO ANSWER', BUSY: 'BUSY', FAILED: 'FAILED', CONGESTION: 'CONGESTION' };

export interface CallRowOut {
  call_id: string;
  started_at: string;
  ended_at: string | null;
  direction: string | null;
  caller_number: string | null;
  called_number: string | null;
  disposition: string | null;
  raw_disposition: string | null;
  duration: number | null;
  billsec: number | null;
}

interface CallRow {
  call_id: string;
  started_at: string;
  ended_at: string | null;
  direction: string;
  caller_number: string;
  called_number: string;
  disposition: string;
  raw_disposition: string;
  duration_ms: number;
  billsec_ms: number;
}

/** ClickHouse DateTime64 parameter text from an ISO instant. */
function chTime(iso: string, field: string): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) throw badInput(`${field} ${JSON.stringify(iso)} is not an ISO-8601 instant such as 2026-03-10T06:00:00.000Z`, field);
  return new Date(t).toISOString().replace('T', ' ').replace('Z', '');
}

const iso = (s: string | null): string | null => (s === null ? null : new Date(/Z$|[+-]\d\d:?\d\d$/.test(s) ? s : `${s.replace(' ', 'T')}Z`).toISOString());

export function encodeCursor(started_at: string, call_id: string): string {
  return Buffer.from(JSON.stringify([started_at, call_id])).toString('base64url');
}
export function decodeCursor(c: string): { started_at: string; call_id: string } {
  try {
    const [started_at, call_id] = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as [string, string];
    if (typeof started_at !== 'string' || typeof call_id !== 'string' || !Number.isFinite(Date.parse(started_at))) throw new Error('shape');
    return { started_at, call_id };
  } catch {
    throw badInput('after is not a cursor this API gave out: pass page_info.end_cursor of the previous page', 'after');
  }
}

function toCall(r: CallRow): CallRowOut {
  return {
    call_id: r.call_id,
    started_at: iso(r.started_at)!,
    ended_at: iso(r.ended_at),
    direction: r.direction || null,
    caller_number: r.caller_number || null,
    called_number: r.called_number || null,
    disposition: r.disposition || null,
    raw_disposition: r.raw_disposition || null,
    duration: r.ended_at ? Number(r.duration_ms) / 1000 : null,
    billsec: r.ended_at ? Number(r.billsec_ms) / 1000 : null,
  };
}

const COLS = 'call_id, started_at, ended_at, direction, caller_number, called_number, disposition, raw_disposition, duration_ms, billsec_ms';

export async function searchCalls(ch: ClickHouse, tenant: string, f: CallFilter, first: number, after: string | null) {
  if (!Number.isInteger(first) || first < 1 || first > 200) throw badInput(`first must be 1–200, got ${first}`, 'first');
  const db = ch.db;
  const where = ['tenant_id = {t:String}'];
  const params: Record<string, unknown> = { t: tenant, n: first + 1 };
  if (f.from) {
    where.push('started_at >= {from:DateTime64(3)}');
    params.from = chTime(f.from, 'filter.from');
  }
  if (f.to) {
    where.push('started_at < {to:DateTime64(3)}');
    params.to = chTime(f.to, 'filter.to');
  }
  if (f.direction) {
    where.push('direction = {dir:String}');
    params.dir = f.direction;
  }
  if (f.number) {
    if (f.number.length > 64) throw badInput('filter.number is longer than 64 characters', 'filter.number');
    where.push('(positionCaseInsensitive(caller_number, {num:String}) > 0 OR positionCaseInsensitive(called_number, {num:String}) > 0)');
    params.num = f.number;
  }
  if (f.queues?.length) {
    where.push('hasAny(queues, {qs:Array(String)})');
    params.qs = f.queues;
  }
  if (f.agents?.length) {
    where.push(`(agent_id IN {ags:Array(String)} OR call_id IN (SELECT call_id FROM ${db}.queue_legs FINAL WHERE tenant_id = {t:String} AND agent_id IN {ags:Array(String)}))`);
    params.ags = f.agents;
  }
  if (f.outcome?.length) {
    const disp = f.outcome.map((o) => DISPOSITION[o]).filter((d): d is string => !!d);
    const legOutcomes = f.outcome.filter((o) => o === 'ABANDONED' || o === 'EXITED').map((o) => o.toLowerCase());
    const ors: string[] = [];
    if (disp.length) {
      ors.push('disposition IN {disp:Array(String)}');
      params.disp = disp;
    }
    if (legOutcomes.length) {
      ors.push(`call_id IN (SELECT call_id FROM ${db}.queue_legs FINAL WHERE tenant_id = {t:String} AND toString(outcome) IN {lo:Array(String)})`);
      params.lo = legOutcomes;
    }
    where.push(`(${ors.join(' OR ')})`);
  }
  if (after) {
    const c = decodeCursor(after);
    where.push('(started_at, call_id) < ({cs:DateTime64(3)}, {cid:String})');
    params.cs = chTime(c.started_at, 'after');
    params.cid = c.call_id;
  }
  const rs = await ch.client.query({
    query: `SELECT ${COLS} FROM ${db}.calls FINAL WHERE ${where.join(' AND ')} ORDER BY started_at DESC, call_id DESC LIMIT {n:UInt32}`,
    query_params: params,
    format: 'JSONEachRow',
  });
  const rows = (await rs.json<CallRow>()).map(toCall);
  const page = rows.slice(0, first);
  const last = page[page.length - 1];
  return {
    edges: page.map((c) => ({ cursor: encodeCursor(c.started_at, c.call_id), node: c })),
    page_info: { has_next_page: rows.length > first, end_cursor: last ? encodeCursor(last.started_at, last.call_id) : null },
  };
}

export async function getCall(ch: ClickHouse, tenant: string, id: string): Promise<CallRowOut | null> {
  const rs = await ch.client.query({
    query: `SELECT ${COLS} FROM ${ch.db}.calls FINAL WHERE tenant_id = {t:String} AND call_id = {id:String} LIMIT 1`,
    query_params: { t: tenant, id },
    format: 'JSONEachRow',
  });
  const r = (await rs.json<CallRow>())[0];
  if (r) return toCall(r);
  // A call whose events are stored but whose fact row is not written yet still has a timeline.
  const ev = await ch.client.query({
    query: `SELECT min(occurred_at) AS started_at FROM ${ch.db}.events WHERE tenant_id = {t:String} AND subject_kind = 'call' AND call_id = {id:String} HAVING count() > 0`,
    query_params: { t: tenant, id },
    format: 'JSONEachRow',
  });
  const e = (await ev.json<{ started_at: string }>())[0];
  return e ? { call_id: id, started_at: iso(e.started_at)!, ended_at: null, direction: null, caller_number: null, called_number: null, disposition: null, raw_disposition: null, duration: null, billsec: null } : null;
}

export async function callLegs(ch: ClickHouse, tenant: string, id: string) {
  const rs = await ch.client.query({
    query: `SELECT leg_id, queue, offered_at, toString(outcome) AS outcome, wait_ms, agent_id FROM ${ch.db}.queue_legs FINAL
            WHERE tenant_id = {t:String} AND call_id = {id:String} ORDER BY offered_at, leg_id`,
    query_params: { t: tenant, id },
    format: 'JSONEachRow',
  });
  return (await rs.json<{ leg_id: string; queue: string; offered_at: string; outcome: string; wait_ms: number; agent_id: string }>()).map((l) => ({
    leg_id: l.leg_id,
    queue: l.queue,
    offered_at: iso(l.offered_at)!,
    outcome: l.outcome,
    wait: l.outcome === 'waiting' ? null : Number(l.wait_ms) / 1000,
    agent_id: l.agent_id || null,
  }));
}

export async function callTimeline(ch: ClickHouse, tenant: string, id: string) {
  const rs = await ch.client.query({
    query: `SELECT body FROM ${ch.db}.events WHERE tenant_id = {t:String} AND subject_kind = 'call' AND call_id = {id:String}`,
    query_params: { t: tenant, id },
    format: 'JSONEachRow',
  });
  // The projections' order: chronological, causal within a millisecond, duplicates removed.
  return orderEvents((await rs.json<{ body: string }>()).map((r) => JSON.parse(r.body) as CallEvent));
}

// Calls search, one call, its queue legs and its timeline, from `calls`, `queue_legs` and
// `events`. Every read is tenant-scoped (scope.ts), so a guessed id of another tenant's call
// finds nothing.
import type { ClickHouse } from '@callboard/platform';
import type { CallEvent } from '@callboard/schemas';
import { orderEvents } from '../fold.ts';
import { ReadError, TenantReader, instantMs, isoOf, msParam, type Params } from './scope.ts';

export type CallOutcome = 'ANSWERED' | 'ABANDONED' | 'EXITED' | 'NO_ANSWER' | 'BUSY' | 'FAILED' | 'CONGESTION';
export interface CallFilter {
  queues?: string[] | null;
  agents?: string[] | null;
  outcome?: CallOutcome[] | null;
  direction?: 'inbound' | 'outbound' | 'internal' | null;
  number?: string | null;
  /** ISO-8601 instants: calls started in [from, to). */
  from?: string | null;
  to?: string | null;
}

/** Where a page of calls continues: after this call in (started_at, call_id) descending order. */
export interface CallPosition {
  started_at: string;
  call_id: string;
}

const DISPOSITION: Partial<Record<CallOutcome, string>> = { ANSWERED: 'ANSWERED', NO_ANSWER: 'NO ANSWER', BUSY: 'BUSY', FAILED: 'FAILED', CONGESTION: 'CONGESTION' };

export const MAX_CALLS_PAGE = 200;
const MAX_NUMBER_FILTER = 64;

export interface CallRowOut {
  call_id: string;
  started_at: string;
  ended_at: string | null;
  direction: string | null;
  caller_number: string | null;
  called_number: string | null;
  disposition: string | null;
  raw_disposition: string | null;
  /** seconds; null while the call is up */
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

function toCall(r: CallRow): CallRowOut {
  return {
    call_id: r.call_id,
    started_at: isoOf(r.started_at),
    ended_at: isoOf(r.ended_at),
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

/**
 * Calls matching `f`, newest first, `first` of them after `after`. Returns one more than asked
 * when there is a next page, so the caller can say so without a count.
 */
export async function searchCalls(ch: ClickHouse, tenant: string, f: CallFilter, first: number, after: CallPosition | null): Promise<CallRowOut[]> {
  if (!Number.isInteger(first) || first < 1 || first > MAX_CALLS_PAGE) throw new ReadError(`first must be 1–${MAX_CALLS_PAGE}, got ${first}`, 'first');
  const r = new TenantReader(ch, tenant);
  const where: string[] = [];
  const params: Params = { n: first + 1 };
  if (f.from) {
    where.push(`started_at >= ${msParam('from')}`);
    params.from = instantMs(f.from, 'filter.from');
  }
  if (f.to) {
    where.push(`started_at < ${msParam('to')}`);
    params.to = instantMs(f.to, 'filter.to');
  }
  if (f.direction) {
    where.push('direction = {dir:String}');
    params.dir = f.direction;
  }
  if (f.number) {
    if (f.number.length > MAX_NUMBER_FILTER) throw new ReadError(`filter.number is longer than ${MAX_NUMBER_FILTER} characters`, 'filter.number');
    where.push('(positionCaseInsensitive(caller_number, {num:String}) > 0 OR positionCaseInsensitive(called_number, {num:String}) > 0)');
    params.num = f.number;
  }
  if (f.queues?.length) {
    where.push('hasAny(queues, {qs:Array(String)})');
    params.qs = f.queues;
  }
  if (f.agents?.length) {
    where.push(`(agent_id IN {ags:Array(String)} OR call_id IN (SELECT call_id FROM ${r.from('queue_legs')} AND agent_id IN {ags:Array(String)}))`);
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
      ors.push(`call_id IN (SELECT call_id FROM ${r.from('queue_legs')} AND toString(outcome) IN {lo:Array(String)})`);
      params.lo = legOutcomes;
    }
    where.push(`(${ors.join(' OR ')})`);
  }
  if (after) {
    where.push(`(started_at, call_id) < (${msParam('cs')}, {cid:String})`);
    params.cs = instantMs(after.started_at, 'after');
    params.cid = after.call_id;
  }
  const rows = await r.rows<CallRow>(
    `SELECT ${COLS} FROM ${r.from('calls')}${where.map((w) => ` AND ${w}`).join('')} ORDER BY started_at DESC, call_id DESC LIMIT {n:UInt32}`,
    params,
  );
  return rows.map(toCall);
}

export async function getCall(ch: ClickHouse, tenant: string, id: string): Promise<CallRowOut | null> {
  const r = new TenantReader(ch, tenant);
  const row = (await r.rows<CallRow>(`SELECT ${COLS} FROM ${r.from('calls')} AND call_id = {id:String} LIMIT 1`, { id }))[0];
  if (row) return toCall(row);
  // A call whose events are stored but whose fact row is not written yet still has a timeline.
  const e = (
    await r.rows<{ started_at: string }>(`SELECT min(occurred_at) AS started_at FROM ${r.from('events')} AND subject_kind = 'call' AND call_id = {id:String} HAVING count() > 0`, { id })
  )[0];
  return e
    ? { call_id: id, started_at: isoOf(e.started_at), ended_at: null, direction: null, caller_number: null, called_number: null, disposition: null, raw_disposition: null, duration: null, billsec: null }
    : null;
}

export interface CallLegOut {
  leg_id: string;
  queue: string;
  offered_at: string;
  outcome: string;
  /** seconds; null while waiting */
  wait: number | null;
  agent_id: string | null;
}

export async function callLegs(ch: ClickHouse, tenant: string, id: string): Promise<CallLegOut[]> {
  const r = new TenantReader(ch, tenant);
  const legs = await r.rows<{ leg_id: string; queue: string; offered_at: string; outcome: string; wait_ms: number; agent_id: string }>(
    `SELECT leg_id, queue, offered_at, toString(outcome) AS outcome, wait_ms, agent_id FROM ${r.from('queue_legs')} AND call_id = {id:String} ORDER BY offered_at, leg_id`,
    { id },
  );
  return legs.map((l) => ({
    leg_id: l.leg_id,
    queue: l.queue,
    offered_at: isoOf(l.offered_at),
    outcome: l.outcome,
    wait: l.outcome === 'waiting' ? null : Number(l.wait_ms) / 1000,
    agent_id: l.agent_id || null,
  }));
}

/** The call's events in the fold's order: chronological, causal within a millisecond, duplicates removed. */
export async function callTimeline(ch: ClickHouse, tenant: string, id: string): Promise<CallEvent[]> {
  const r = new TenantReader(ch, tenant);
  const bodies = await r.column<string>(`SELECT body FROM ${r.from('events')} AND subject_kind = 'call' AND call_id = {id:String}`, { id });
  return orderEvents(bodies.map((b) => JSON.parse(b) as CallEvent));
}

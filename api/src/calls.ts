// Calls search and call timeline for GraphQL: the projections' read path (projections/src/read.ts)
// plus what only the api knows, the opaque page cursor and its error codes.
import type { ClickHouse } from '@callboard/platform';
import { ReadError, callLegs as readLegs, callTimeline as readTimeline, getCall as readCall, searchCalls as readCalls, type CallFilter, type CallPosition, type CallRowOut } from '@callboard/projections/read';
import { badInput } from './errors.ts';

export type { CallFilter, CallOutcome, CallRowOut } from '@callboard/projections/read';

/** A read's bad argument as the api's BAD_INPUT error, naming the field. */
async function asApiError<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (e) {
    if (e instanceof ReadError) throw badInput(e.message, e.field);
    throw e;
  }
}

export function encodeCursor(started_at: string, call_id: string): string {
  return Buffer.from(JSON.stringify([started_at, call_id])).toString('base64url');
}
export function decodeCursor(c: string): CallPosition {
  try {
    const [started_at, call_id] = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as [string, string];
    if (typeof started_at !== 'string' || typeof call_id !== 'string' || !Number.isFinite(Date.parse(started_at))) throw new Error('shape');
    return { started_at, call_id };
  } catch {
    throw badInput('after is not a cursor this API gave out: pass page_info.end_cursor of the previous page', 'after');
  }
}

/** Instants a filter may name: the engine's DateTime64 ends at 2299, and no call predates 1970. */
const FIRST_MS = Date.UTC(1970, 0, 1);
const LAST_MS = Date.UTC(2300, 0, 1);

export async function searchCalls(ch: ClickHouse, tenant: string, f: CallFilter, first: number, after: string | null) {
  for (const field of ['from', 'to'] as const) {
    const t = f[field] ? Date.parse(f[field]) : NaN;
    if (Number.isFinite(t) && (t < FIRST_MS || t >= LAST_MS)) throw badInput(`${field} ${f[field]} is outside 1970 … 2299`, field);
  }
  const position = after ? decodeCursor(after) : null;
  const rows: CallRowOut[] = await asApiError(() => readCalls(ch, tenant, f, first, position));
  const page = rows.slice(0, first);
  const last = page[page.length - 1];
  return {
    edges: page.map((c) => ({ cursor: encodeCursor(c.started_at, c.call_id), node: c })),
    page_info: { has_next_page: rows.length > first, end_cursor: last ? encodeCursor(last.started_at, last.call_id) : null },
  };
}

export const getCall = (ch: ClickHouse, tenant: string, id: string) => asApiError(() => readCall(ch, tenant, id));
export const callLegs = (ch: ClickHouse, tenant: string, id: string) => asApiError(() => readLegs(ch, tenant, id));
export const callTimeline = (ch: ClickHouse, tenant: string, id: string) => asApiError(() => readTimeline(ch, tenant, id));

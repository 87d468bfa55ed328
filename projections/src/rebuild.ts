// The rebuild behind `callboard rebuild` (cli/admin-rebuild.ts): replays the canonical events
// table through the same fold into fresh `*_rebuild` tables, compacts them, then swaps each with
// the live table in one atomic EXCHANGE TABLES, so readers see the old rows until the instant they
// see the new ones.
// Deterministic: the fold is pure, rows are versioned by their event count, and the rollup gets
// a constant version, so two rebuilds of the same events give identical tables.
import type { ClickHouse, Logger } from '@callboard/platform';
import type { AgentEvent, CallEvent, CanonicalEvent } from '@callboard/schemas';
import { foldAgentIntervals, foldCall, type AgentCallRow, type AgentIntervalRow, type CallRow, type LegRow } from './fold.ts';
import { LEG_AGGREGATES } from './metrics/index.ts';
import { ProjectionStore, ROLLUPS, agentDaysSql, agentHoursSql, agentMonthsSql, touchedBy } from './store.ts';

export const DERIVED_TABLES = ['calls', 'queue_legs', 'agent_calls', 'agent_intervals', 'queue_15m', 'queue_agent_15m', 'queue_agent_1h', 'queue_agent_1d', 'queue_agent_1mo'] as const;
const SUFFIX = '_rebuild';
/** Events per page of the replay (a page never splits a call or an agent: LIMIT … WITH TIES). */
const PAGE_EVENTS = 200_000;

export interface RebuildStats {
  events: number;
  calls: number;
  legs: number;
  intervals: number;
  ms: number;
  /** Where the time went: the replay (read, fold, write), the rollups, the compaction and swap. */
  replayMs: number;
  rollupsMs: number;
  compactMs: number;
}

async function scalar(ch: ClickHouse, sql: string): Promise<number> {
  const rs = await ch.client.query({ query: sql, format: 'JSONCompactEachRow' });
  return Number(((await rs.json()) as unknown[][])[0]?.[0] ?? 0);
}

async function bodies<E>(ch: ClickHouse, sql: string, params: Record<string, unknown>): Promise<E[]> {
  const rs = await ch.client.query({ query: sql, query_params: params, format: 'JSONCompactEachRow' });
  return ((await rs.json()) as [string][]).map((r) => JSON.parse(r[0]) as E);
}

/**
 * Pages through the events table in its sort order (tenant, subject kind, call id, agent id):
 * each page reads only its own granules, and WITH TIES keeps every event of the page's last
 * subject in that page. The next page's read is sent to the engine before this page is handed
 * on, so the engine reads while the caller folds (the replay was half idle waiting on reads).
 */
async function* pagesOf<E>(ch: ClickHouse, where: string, subject: 'call_id' | 'agent_id', page: number): AsyncGenerator<E[]> {
  const read = async (after: [string, string] | null) => {
    const from = after ? ` AND (tenant_id, ${subject}) > ({after_tenant:String}, {after_subject:String})` : '';
    const rs = await ch.client.query({
      query: `SELECT tenant_id, ${subject}, body FROM ${ch.db}.events WHERE ${where}${from}
              ORDER BY tenant_id, subject_kind, call_id, agent_id LIMIT {page:UInt32} WITH TIES`,
      query_params: { page, ...(after ? { after_tenant: after[0], after_subject: after[1] } : {}) },
      format: 'JSONCompactEachRow',
    });
    return (await rs.json()) as [string, string, string][];
  };
  let next = read(null);
  for (;;) {
    const rows = await next;
    if (!rows.length) return;
    const last = rows[rows.length - 1]!;
    next = read([last[0], last[1]]);
    // A read that fails while this page is folded is reported by the await above, not as an
    // unhandled rejection in between.
    next.catch(() => {});
    yield rows.map((r) => JSON.parse(r[2]) as E);
  }
}

/**
 * Writes of one page run while the next page is folded; at most one is in flight, so memory
 * holds two pages at most, and a failed write stops the replay at the next page. A failure is
 * kept as `failure` (the write's promise is handled as it is started), so it can never surface
 * as an unhandled rejection while the next page is folded.
 */
export class WriteBehind {
  private pending: Promise<void> = Promise.resolve();
  failure: Error | undefined;
  async add(write: () => Promise<void>): Promise<void> {
    await this.drain();
    this.pending = write().catch((e: Error) => {
      this.failure = e;
    });
  }
  async drain(): Promise<void> {
    await this.pending;
    if (this.failure) throw this.failure;
  }
}

function groupBy<E>(xs: E[], k: (e: E) => string): Map<string, E[]> {
  const m = new Map<string, E[]>();
  for (const x of xs) {
    const key = k(x);
    let l = m.get(key);
    if (!l) m.set(key, (l = []));
    l.push(x);
  }
  return m;
}

export async function rebuild(ch: ClickHouse, log?: Logger, opts: { pageEvents?: number } = {}): Promise<RebuildStats> {
  const page = opts.pageEvents ?? PAGE_EVENTS;
  const t0 = Date.now();
  const db = ch.db;
  const store = new ProjectionStore(ch, log);
  // Events the live consumer writes from here on are folded into the old tables; they are
  // re-derived into the new ones after the swap (catch-up below). Both instants come from the
  // server's clock (ingested_at defaults to now64 there), so there is no skew to cover.
  const since = await scalar(ch, `SELECT toUnixTimestamp64Milli(now64(3))`);
  for (const t of DERIVED_TABLES) {
    await ch.client.command({ query: `DROP TABLE IF EXISTS ${db}.${t}${SUFFIX}` });
    await ch.client.command({ query: `CREATE TABLE ${db}.${t}${SUFFIX} AS ${db}.${t}` });
  }
  const stats: RebuildStats = { events: 0, calls: 0, legs: 0, intervals: 0, ms: 0, replayMs: 0, rollupsMs: 0, compactMs: 0 };
  const writes = new WriteBehind();
  let mark = Date.now();
  for await (const evs of pagesOf<CallEvent>(ch, `subject_kind = 'call'`, 'call_id', page)) {
    stats.events += evs.length;
    const calls: CallRow[] = [];
    const legs: LegRow[] = [];
    const agentCalls: AgentCallRow[] = [];
    for (const group of groupBy(evs, (e) => `${e.tenant_id}\u0000${e.call_id}`).values()) {
      const f = foldCall(group);
      if (f.call) calls.push(f.call);
      legs.push(...f.legs);
      agentCalls.push(...f.agentCalls);
    }
    await writes.add(() => store.writeDerived(calls, legs, agentCalls, [], SUFFIX));
    stats.calls += calls.length;
    stats.legs += legs.length;
    log?.info({ events: stats.events }, 'rebuild: calls page folded');
  }
  for await (const evs of pagesOf<AgentEvent>(ch, `subject_kind = 'agent' AND type = 'agent.state_changed'`, 'agent_id', page)) {
    stats.events += evs.length;
    const intervals: AgentIntervalRow[] = [];
    for (const group of groupBy(evs, (e) => `${e.tenant_id}\u0000${e.agent_id}`).values()) intervals.push(...foldAgentIntervals(group));
    await writes.add(() => store.writeDerived([], [], [], intervals, SUFFIX));
    stats.intervals += intervals.length;
  }
  await writes.drain();
  stats.replayMs = Date.now() - mark;
  mark = Date.now();
  for (const { table, keys } of ROLLUPS) {
    await ch.client.command({
      query: `INSERT INTO ${db}.${table}${SUFFIX}
        SELECT ${keys}, ${LEG_AGGREGATES}, toUInt64(1) AS version
        FROM ${db}.queue_legs${SUFFIX} FINAL GROUP BY ${keys}`,
      clickhouse_settings: { prefer_column_name_to_alias: 1 },
    });
  }
  await ch.client.command({ query: agentHoursSql(db, SUFFIX, 'toUInt64(1)', '1'), clickhouse_settings: { prefer_column_name_to_alias: 1 } });
  await ch.client.command({ query: agentDaysSql(db, SUFFIX, 'toUInt64(1)', '1'), clickhouse_settings: { prefer_column_name_to_alias: 1 } });
  await ch.client.command({ query: agentMonthsSql(db, SUFFIX, 'toUInt64(1)', '1'), clickhouse_settings: { prefer_column_name_to_alias: 1 } });
  stats.rollupsMs = Date.now() - mark;
  mark = Date.now();
  for (const t of DERIVED_TABLES) await ch.client.command({ query: `OPTIMIZE TABLE ${db}.${t}${SUFFIX} FINAL` });
  // The swap: each EXCHANGE is atomic; readers of one table never see it empty.
  for (const t of DERIVED_TABLES) await ch.client.command({ query: `EXCHANGE TABLES ${db}.${t} AND ${db}.${t}${SUFFIX}` });
  for (const t of DERIVED_TABLES) await ch.client.command({ query: `DROP TABLE IF EXISTS ${db}.${t}${SUFFIX}` });
  stats.compactMs = Date.now() - mark;
  const late = await bodies<CanonicalEvent>(ch, `SELECT body FROM ${db}.events WHERE ingested_at >= fromUnixTimestamp64Milli({since:Int64}, 'UTC')`, { since });
  if (late.length) {
    await store.derive(touchedBy(late));
    log?.info({ events: late.length }, 'rebuild: re-derived what arrived during the replay');
  }
  stats.ms = Date.now() - t0;
  log?.info(stats, 'rebuild done');
  return stats;
}

/** An order-independent checksum of a table's rows after merging (FINAL), to compare rebuilds. */
export async function tableChecksum(ch: ClickHouse, table: string): Promise<string> {
  const rs = await ch.client.query({ query: `SELECT count() AS n, toString(sum(cityHash64(toString(tuple(*))))) AS h FROM ${ch.db}.${table} FINAL`, format: 'JSONEachRow' });
  const r = ((await rs.json()) as { n: number | string; h: number | string }[])[0]!;
  return `${r.n}:${r.h}`;
}

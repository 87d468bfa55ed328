// The I/O shell around the fold: append events to the log tables, then re-derive every call and
// agent a batch touched from all events known for it and write the rows again. Derived tables
// are ReplacingMergeTree(version), so writing a row twice (retry, crash, duplicate, late event)
// replaces it; the rollup of every touched 15-minute bucket is recomputed from the legs.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { TupleParam } from '@clickhouse/client';
import type { ClickHouse, Logger } from '@callboard/platform';
import type { AgentEvent, CallEvent, CanonicalEvent, EventOf, RawRecord } from '@callboard/schemas';
import { foldAgentIntervals, foldCall, foldGap, goneRows, reordersHistory, type AgentCallRow, type AgentIntervalRow, type CallRow, type GoneRows, type LegRow } from './fold.ts';
import { DAY_MS, HOUR_MS, LEG_AGGREGATES, ROLLUP_AGGREGATES, inMonthCore, inMonthCoreSql, monthStartDay, nextMonthStartDay } from './metrics/index.ts';
import { TenantReader, msParam } from './read/scope.ts';
import { chTime, chTimeOfIso, escTsv, toTsv } from './sql.ts';

const EVENT_COLUMNS = [
  'event_id', 'tenant_id', 'pbx_id', 'source', 'type', 'occurred_at', 'received_at', 'subject_kind',
  'call_id', 'agent_id', 'queue', 'leg_id', 'body', 'log_partition', 'log_offset',
] as const;

/**
 * INSERT of `into` rows (a coarser per-agent rollup) from the latest snapshot of each `grain`
 * (bucket, day) of `from` matching `where`, grouped by `key`, with version expression `v`: all
 * rows of a coarser period in one statement, so its highest version is its snapshot too.
 */
function agentSnapshotSql(db: string, suffix: string, v: string, t: { into: string; from: string; grain: string; key: string; as: string }, where: string): string {
  const rows = `${db}.${t.from}${suffix} WHERE ${where}`;
  return `INSERT INTO ${db}.${t.into}${suffix}
    SELECT tenant_id, ${t.key} AS ${t.as}, queue, agent_id, ${ROLLUP_AGGREGATES}, ${v} AS version
    FROM ${rows} AND (tenant_id, ${t.grain}, version) IN (SELECT tenant_id, ${t.grain}, max(version) FROM ${rows} GROUP BY tenant_id, ${t.grain})
    GROUP BY tenant_id, ${t.as}, queue, agent_id`;
}

/**
 * INSERT of queue_agent_1d rows from queue_agent_1h hours matching `where` (whole UTC days; its
 * column is `hour`): 24 rows per agent and queue of a day instead of 96 15-minute ones, so the
 * hours must be recomputed first (recomputeRollup and the rebuild do).
 */
export const agentDaysSql = (db: string, suffix: string, v: string, where: string): string =>
  agentSnapshotSql(db, suffix, v, { into: 'queue_agent_1d', from: 'queue_agent_1h', grain: 'hour', key: 'toDate(hour)', as: 'day' }, where);

/** INSERT of queue_agent_1h rows from queue_agent_15m buckets matching `where` (whole UTC hours). */
export const agentHoursSql = (db: string, suffix: string, v: string, where: string): string =>
  agentSnapshotSql(db, suffix, v, { into: 'queue_agent_1h', from: 'queue_agent_15m', grain: 'bucket', key: 'toStartOfHour(bucket)', as: 'hour' }, where);

/** INSERT of queue_agent_1mo rows from the core days of queue_agent_1d matching `where` (whole months). */
export const agentMonthsSql = (db: string, suffix: string, v: string, where: string): string =>
  agentSnapshotSql(db, suffix, v, { into: 'queue_agent_1mo', from: 'queue_agent_1d', grain: 'day', key: 'toStartOfMonth(day)', as: 'month' }, `(${where}) AND ${inMonthCoreSql('day')}`);

export interface LoggedEvent {
  event: CanonicalEvent;
  /** Where it sits in the log (Kafka partition and offset; line number for a file). */
  partition: number;
  offset: number;
  /**
   * The event's JSON as it came (the Kafka message), when it is the event as validated (no
   * upcast): stored as the body as is, instead of serialising the parsed event again.
   */
  text?: string;
}

export interface LoggedRaw {
  record: RawRecord;
  partition: number;
  offset: number;
}

/** What a batch touched: the keys to re-derive. */
export interface Touched {
  /** tenant → call → the batch's events of that call. */
  calls: Map<string, Map<string, CallEvent[]>>;
  /** tenant → agent → earliest occurred_at (ms) seen in the batch. */
  agents: Map<string, Map<string, number>>;
  /** The batch's gaps of the feed (source.gap). */
  gaps: EventOf<'source.gap'>[];
}

export function touchedBy(events: readonly CanonicalEvent[]): Touched {
  const t: Touched = { calls: new Map(), agents: new Map(), gaps: [] };
  for (const e of events) {
    if ('call_id' in e) {
      let m = t.calls.get(e.tenant_id);
      if (!m) t.calls.set(e.tenant_id, (m = new Map()));
      const l = m.get(e.call_id);
      if (l) l.push(e);
      else m.set(e.call_id, [e]);
    } else if ('agent_id' in e) {
      let m = t.agents.get(e.tenant_id);
      if (!m) t.agents.set(e.tenant_id, (m = new Map()));
      const at = Date.parse(e.occurred_at);
      m.set(e.agent_id, Math.min(m.get(e.agent_id) ?? at, at));
    } else if (e.type === 'source.gap') {
      t.gaps.push(e);
    }
  }
  return t;
}

export interface DeriveStats {
  calls: number;
  legs: number;
  agentCalls: number;
  intervals: number;
  buckets: number;
  gaps: number;
  /** Rows removed because a late event changed their key (`goneRows`; counted again on redelivery). */
  goneRows: number;
}

// The fold's epoch-ms columns per table, written as DateTime64 text; a leg's bucket is a DateTime.
const CALL_TIMES = new Set(['started_at', 'ended_at', 'answered_at']);
const LEG_TIMES = new Set(['offered_at', 'ended_wait_at', 'answered_at', 'completed_at']);
const BUCKET = new Set(['bucket']);
const AGENT_CALL_TIMES = new Set(['at']);
const INTERVAL_TIMES = new Set(['started_at', 'ended_at']);
const GAP_TIMES = new Set(['from_at', 'to_at']);

function contentToken(parts: string[]): string {
  const h = createHash('sha1');
  for (const p of parts) h.update(p).update('\n');
  return `content-${h.digest('hex')}`;
}

/** Cumulative milliseconds per step, for benchmarks and debug logs. */
export const storeTimings: Record<string, number> = {};
/**
 * Cumulative process CPU milliseconds (every thread: the engine's too) per step. Only
 * attributable with one partition at a time (PROJECTIONS_CONCURRENCY=1): steps of concurrent
 * batches, and the engine's background merges, land in whichever step is running.
 */
export const storeCpu: Record<string, number> = {};
async function timed<T>(step: string, f: () => Promise<T>): Promise<T> {
  const t = performance.now();
  const c = process.cpuUsage();
  try {
    return await f();
  } finally {
    storeTimings[step] = (storeTimings[step] ?? 0) + performance.now() - t;
    const u = process.cpuUsage(c);
    storeCpu[step] = (storeCpu[step] ?? 0) + (u.user + u.system) / 1000;
  }
}

// Calls per history read and derived insert: a partition batch (≤ 16 MiB, ~9,000 calls) is one.
const CHUNK = 20_000;
/**
 * The rollups of queue_legs and their keys. One statement writes every row of a bucket with one
 * version, so a bucket's highest version is a complete snapshot (read/agent-rollup.ts reads
 * queue_agent_15m that way, without FINAL).
 */
export const ROLLUPS = [
  { table: 'queue_15m', keys: 'tenant_id, bucket, queue' },
  { table: 'queue_agent_15m', keys: 'tenant_id, bucket, queue, agent_id' },
] as const;
/** Calls whose events the store keeps after folding them (most calls span a few batches). */
const RECENT_CALLS = 50_000;
function chunks<T>(xs: T[], n = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

export class ProjectionStore {
  constructor(
    readonly ch: ClickHouse,
    private readonly log?: Logger,
  ) {}

  private get db(): string {
    return this.ch.db;
  }

  /**
   * Appends canonical events; `token` (topic-partition-first-last) makes a retried insert of the
   * same batch a no-op. Without one, the token is a hash of the batch's ids and positions: the
   * log tables must never fall back to ClickHouse's own block hashing, which was seen to drop
   * different blocks on the embedded engine.
   */
  async writeEvents(batch: readonly LoggedEvent[], token?: string, table = 'events'): Promise<void> {
    if (batch.length === 0) return;
    return timed('write_events', () => this.insertEvents(batch, token, table));
  }

  private async insertEvents(batch: readonly LoggedEvent[], token: string | undefined, table: string): Promise<void> {
    token ??= contentToken(batch.map((b) => `${b.event.event_id}@${b.partition}:${b.offset}`));
    // Built straight into one string, column by column: no row objects, no Date (see sql.ts).
    let tsv = '';
    for (const { event: e, partition, offset, text } of batch) {
      const p = e.payload as { queue?: unknown; leg_id?: unknown };
      const subject = 'call_id' in e ? `call\t${escTsv(e.call_id)}\t` : 'agent_id' in e ? `agent\t\t${escTsv(e.agent_id)}` : 'pbx\t\t';
      tsv +=
        `${e.event_id}\t${escTsv(e.tenant_id)}\t${escTsv(e.pbx_id)}\t${e.source}\t${e.type}\t${chTimeOfIso(e.occurred_at)}\t${chTimeOfIso(e.received_at)}\t${subject}\t` +
        `${typeof p.queue === 'string' ? escTsv(p.queue) : ''}\t${typeof p.leg_id === 'string' ? escTsv(p.leg_id) : ''}\t${escTsv(text ?? JSON.stringify(e))}\t${partition}\t${offset}\n`;
    }
    await this.insertText(table, EVENT_COLUMNS, tsv, { insert_deduplication_token: token });
  }

  /** Inserts rows as TabSeparated (see toTsv); one insert, acknowledged when it returns. */
  async insertTsv(table: string, columns: readonly string[], rows: readonly Record<string, unknown>[], settings: Record<string, string | number> = {}, times?: ReadonlySet<string>, seconds?: ReadonlySet<string>): Promise<void> {
    if (!rows.length) return;
    await this.insertText(table, columns, toTsv(columns, rows, times, seconds), settings);
  }

  private async insertText(table: string, columns: readonly string[], tsv: string, settings: Record<string, string | number>): Promise<void> {
    if (this.ch.embedded) {
      // One SQL string: the client's insert on the embedded engine turns the TSV into a Buffer,
      // back into a string, then into one more string with the statement (and the settings into
      // `SET …;` statements before it): three copies of every batch, a sixth of the consumer's
      // main-thread time in a profile. The settings go in the INSERT's own SETTINGS clause.
      const set = Object.entries(settings).map(([k, v]) => `${k} = ${typeof v === 'number' ? v : `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`}`);
      await this.ch.client.command({
        query: `INSERT INTO ${this.db}.${table} (${columns.join(', ')})${set.length ? ` SETTINGS ${set.join(', ')}` : ''} FORMAT TabSeparated\n${tsv}`,
      });
      return;
    }
    await this.ch.client.insert({
      table: `${this.db}.${table}`,
      columns: [...columns] as [string, ...string[]],
      format: 'TabSeparated',
      values: Readable.from([Buffer.from(tsv)], { objectMode: false }),
      clickhouse_settings: settings,
    });
  }

  async writeRaw(batch: readonly LoggedRaw[], token?: string): Promise<void> {
    if (batch.length === 0) return;
    token ??= contentToken(batch.map((b) => `${b.record.pbx_id}/${b.record.connection}/${b.record.seq}@${b.partition}:${b.offset}`));
    await this.insertTsv(
      'raw_events',
      ['tenant_id', 'pbx_id', 'source', 'connection', 'seq', 'received_at', 'format', 'body', 'log_partition', 'log_offset'],
      batch.map(({ record: r, partition, offset }) => ({
        tenant_id: r.tenant_id,
        pbx_id: r.pbx_id,
        source: r.source,
        connection: r.connection,
        seq: r.seq,
        received_at: chTimeOfIso(r.received_at),
        format: r.format,
        body: r.body,
        log_partition: partition,
        log_offset: offset,
      })),
      { insert_deduplication_token: token },
    );
  }

  private async bodies<E extends CanonicalEvent>(r: TenantReader, sql: string, params: Record<string, unknown>): Promise<E[]> {
    return (await r.column<string>(sql, params)).map((b) => JSON.parse(b) as E);
  }

  /**
   * Every known event of these calls. The fold needs a call's whole history; reading it back
   * (bodies, JSON) is the costly part, so: count the distinct events the table holds per call
   * (no bodies read); where the batch itself, or the batch plus what this process already read,
   * holds that many, use those; read bodies only for the other calls (first touch after a
   * restart, a late event of an old call).
   */
  private async callHistories(tenant: string, ids: string[], batch: Map<string, CallEvent[]>): Promise<Map<string, CallEvent[]>> {
    const r = new TenantReader(this.ch, tenant);
    const ofCalls = `${r.from('events')} AND subject_kind = 'call' AND call_id IN {ids:Array(String)}`;
    const counts = await r.rows<{ call_id: string; n: number | string }>(`SELECT call_id, uniqExact(event_id) AS n FROM ${ofCalls} GROUP BY call_id`, { ids });
    const stored = new Map(counts.map(({ call_id, n }) => [call_id, Number(n)]));
    const out = new Map<string, CallEvent[]>();
    const missing: string[] = [];
    for (const id of ids) {
      const key = `${tenant}\u0000${id}`;
      // Added to in place: when the count disagrees, the call's entry is replaced from the read.
      const known = this.recent.get(key) ?? new Map<string, CallEvent>();
      for (const e of batch.get(id) ?? []) known.set(e.event_id, e);
      if (known.size === (stored.get(id) ?? 0)) {
        out.set(id, [...known.values()]);
        this.remember(key, known);
      } else missing.push(id);
    }
    if (missing.length) {
      const events = await this.bodies<CallEvent>(r, `SELECT body FROM ${ofCalls}`, { ids: missing });
      for (const e of events) {
        let l = out.get(e.call_id);
        if (!l) out.set(e.call_id, (l = []));
        l.push(e);
      }
      for (const id of missing) this.remember(`${tenant}\u0000${id}`, new Map((out.get(id) ?? []).map((e) => [e.event_id, e])));
    }
    return out;
  }

  /** Recently folded calls' events, by tenant + call id; oldest dropped first. */
  private readonly recent = new Map<string, Map<string, CallEvent>>();
  private remember(key: string, events: Map<string, CallEvent>): void {
    this.recent.delete(key);
    this.recent.set(key, events);
    if (this.recent.size > RECENT_CALLS) {
      for (const k of this.recent.keys()) {
        this.recent.delete(k);
        if (this.recent.size <= RECENT_CALLS * 0.9) break;
      }
    }
  }

  /**
   * Re-derives everything a batch touched. `rollupVersion` orders rollup recomputations
   * (ReplacingMergeTree keeps the highest). Live: 'now', the server's clock when the recompute
   * starts, so that of two partitions recomputing one bucket the later reader wins (a version
   * taken before the batch's own writes let an earlier, staler recompute win). A rebuild or a
   * report passes a constant, so that two runs give identical tables.
   */
  async derive(touched: Touched, rollupVersion: number | 'now' = 'now'): Promise<DeriveStats> {
    const stats: DeriveStats = { calls: 0, legs: 0, agentCalls: 0, intervals: 0, buckets: 0, gaps: 0, goneRows: 0 };
    await this.writeGaps(touched.gaps);
    stats.gaps = touched.gaps.length;
    const buckets = new Map<string, Set<number>>();
    // Buckets a removed leg was in: their rollup rows may have no leg left to be recomputed from.
    const emptied = new Map<string, Set<number>>();
    for (const [tenant, batchCalls] of touched.calls) {
      for (const part of chunks([...batchCalls.keys()])) {
        const byCall = await timed('read_calls', () => this.callHistories(tenant, part, batchCalls));
        const calls: CallRow[] = [];
        const legs: LegRow[] = [];
        const agentCalls: AgentCallRow[] = [];
        const gone: GoneRows = { legs: [], agentCalls: [], calls: [] };
        for (const [id, evs] of byCall) {
          const f = foldCall(evs);
          if (f.call) calls.push(f.call);
          legs.push(...f.legs);
          agentCalls.push(...f.agentCalls);
          const added = batchCalls.get(id) ?? [];
          if (reordersHistory(evs, added)) {
            // What the derivation before this batch wrote: the fold of the history without it.
            const ids = new Set(added.map((e) => e.event_id));
            const g = goneRows(foldCall(evs.filter((e) => !ids.has(e.event_id))), f);
            gone.legs.push(...g.legs);
            gone.agentCalls.push(...g.agentCalls);
            gone.calls.push(...g.calls);
          }
        }
        await timed('write_derived', () => this.writeDerived(calls, legs, agentCalls, []));
        let b = buckets.get(tenant);
        if (!b) buckets.set(tenant, (b = new Set()));
        for (const l of legs) b.add(l.bucket);
        const goneCount = gone.legs.length + gone.agentCalls.length + gone.calls.length;
        if (goneCount > 0) {
          await timed('gone_rows', () => this.removeRows(tenant, gone));
          stats.goneRows += goneCount;
          let e = emptied.get(tenant);
          if (!e) emptied.set(tenant, (e = new Set()));
          for (const l of gone.legs) {
            b.add(l.bucket);
            e.add(l.bucket);
          }
        }
        stats.calls += calls.length;
        stats.legs += legs.length;
        stats.agentCalls += agentCalls.length;
      }
    }
    for (const [tenant, agents] of touched.agents) {
      for (const part of chunks([...agents.keys()])) {
        const earliest = Math.min(...part.map((a) => agents.get(a)!));
        // The interval before the earliest new change may end earlier now: start from the
        // change before it.
        const r = new TenantReader(this.ch, tenant);
        const changesOf = `${r.from('events')} AND subject_kind = 'agent' AND agent_id IN {ids:Array(String)} AND type = 'agent.state_changed'`;
        const rows = await r.rows<{ prev: number | string | null }>(
          `SELECT toUnixTimestamp64Milli(min(prev)) AS prev FROM (SELECT agent_id, max(occurred_at) AS prev FROM ${changesOf}
             AND occurred_at < ${msParam('before')} GROUP BY agent_id)`,
          { ids: part, before: earliest },
        );
        const prev = rows[0]?.prev;
        const from = prev !== null && prev !== undefined && Number(prev) > 0 ? Math.min(Number(prev), earliest) : earliest;
        const events = await this.bodies<AgentEvent>(r, `SELECT body FROM ${changesOf} AND occurred_at >= ${msParam('from')}`, { ids: part, from });
        const byAgent = new Map<string, AgentEvent[]>();
        for (const e of events) {
          let l = byAgent.get(e.agent_id);
          if (!l) byAgent.set(e.agent_id, (l = []));
          l.push(e);
        }
        const intervals: AgentIntervalRow[] = [];
        for (const evs of byAgent.values()) intervals.push(...foldAgentIntervals(evs));
        await this.writeDerived([], [], [], intervals);
        stats.intervals += intervals.length;
      }
    }
    for (const [tenant, b] of buckets) {
      stats.buckets += b.size;
      await timed('rollup', () => this.recomputeRollup(tenant, [...b], rollupVersion, '', [...(emptied.get(tenant) ?? [])]));
    }
    return stats;
  }

  /**
   * Removes rows under keys a late event changed (`goneRows`): the row under the old key would
   * otherwise count on beside the new one. A lightweight delete by the rows' exact keys (the
   * tables' sort keys): masked at once, dropped by the next merge; deleting again, when a batch
   * is delivered again, finds nothing.
   */
  async removeRows(tenant: string, gone: GoneRows, suffix = ''): Promise<void> {
    const deletes = [
      {
        table: 'queue_legs',
        where: `(bucket, queue, call_id, leg_id) IN {keys:Array(Tuple(DateTime('UTC'), String, String, String))}`,
        keys: gone.legs.map((l) => new TupleParam([chTime(l.bucket).slice(0, 19), l.queue, l.call_id, l.leg_id])),
      },
      {
        table: 'agent_calls',
        where: `(agent_id, at, event_id) IN {keys:Array(Tuple(String, DateTime64(3, 'UTC'), UUID))}`,
        keys: gone.agentCalls.map((a) => new TupleParam([a.agent_id, chTime(a.at), a.event_id])),
      },
      {
        table: 'calls',
        where: `(started_at, call_id) IN {keys:Array(Tuple(DateTime64(3, 'UTC'), String))}`,
        keys: gone.calls.map((c) => new TupleParam([chTime(c.started_at), c.call_id])),
      },
    ];
    for (const { table, where, keys } of deletes) {
      for (const part of chunks(keys)) {
        if (part.length === 0) continue;
        await this.ch.client.command({ query: `DELETE FROM ${this.db}.${table}${suffix} WHERE tenant_id = {tenant:String} AND ${where}`, query_params: { tenant, keys: part } });
      }
    }
    this.log?.info({ tenant, legs: gone.legs.length, agentCalls: gone.agentCalls.length, calls: gone.calls.length }, 'rows under keys a late event changed removed');
  }

  async writeDerived(calls: CallRow[], legs: LegRow[], agentCalls: AgentCallRow[], intervals: AgentIntervalRow[], suffix = ''): Promise<void> {
    // The fold's rows are written as they are: time columns are formatted while the TSV is built.
    const ins = (table: string, values: readonly object[], times: ReadonlySet<string>, seconds?: ReadonlySet<string>) =>
      this.insertTsv(`${table}${suffix}`, Object.keys(values[0] ?? {}), values as Record<string, unknown>[], {}, times, seconds);
    await ins('calls', calls, CALL_TIMES);
    await ins('queue_legs', legs, LEG_TIMES, BUCKET);
    await ins('agent_calls', agentCalls, AGENT_CALL_TIMES);
    await ins('agent_intervals', intervals, INTERVAL_TIMES);
  }

  /** Writes gaps of the feed; a gap written again (redelivery, replay) replaces its row. */
  async writeGaps(gaps: readonly EventOf<'source.gap'>[]): Promise<void> {
    const rows = gaps.map(foldGap);
    await this.insertTsv('source_gaps', Object.keys(rows[0] ?? {}), rows as unknown as Record<string, unknown>[], {}, GAP_TIMES);
  }

  /**
   * Recomputes the rollups' rows (queue_15m, queue_agent_15m) of these buckets (epoch ms) from
   * queue_legs, then the per-agent rows of their UTC hours and days and of the months whose core
   * holds one of those days.
   */
  async recomputeRollup(tenant: string, bucketsMs: number[], version: number | 'now', suffix = '', emptied: number[] = []): Promise<void> {
    const v = version === 'now' ? 'toUInt64(toUnixTimestamp64Micro(now64(6)))' : '{version:UInt64}';
    // A rollup row is written for each key that has legs, so a key whose legs were all removed
    // (removeRows) would keep its old counts: it is written as zeros, under the versioning its
    // readers use. queue_15m is read per key: each such key. queue_agent_15m is read as each
    // bucket's latest snapshot: only a bucket left with no legs at all (elsewhere the recompute
    // below is the new snapshot, and zeros written before it would be the bucket's, briefly).
    const gone = {
      queue_15m: `(tenant_id, bucket, queue) NOT IN (SELECT tenant_id, bucket, queue FROM ${this.db}.queue_legs${suffix} WHERE tenant_id = {tenant:String} AND bucket IN {buckets:Array(DateTime('UTC'))})`,
      queue_agent_15m: `bucket NOT IN (SELECT bucket FROM ${this.db}.queue_legs${suffix} WHERE tenant_id = {tenant:String} AND bucket IN {buckets:Array(DateTime('UTC'))})`,
    };
    for (const part of chunks(emptied.sort((a, b) => a - b), 500)) {
      for (const { table, keys } of ROLLUPS) {
        await this.ch.client.command({
          query: `INSERT INTO ${this.db}.${table}${suffix} (${keys}, version)
            SELECT ${keys}, ${v} FROM ${this.db}.${table}${suffix}
            WHERE tenant_id = {tenant:String} AND bucket IN {buckets:Array(DateTime('UTC'))} AND ${gone[table]}
            GROUP BY ${keys}`,
          query_params: { tenant, buckets: part.map((b) => chTime(b).slice(0, 19)), ...(version === 'now' ? {} : { version: Math.trunc(version) }) },
        });
      }
    }
    for (const part of chunks(bucketsMs.sort((a, b) => a - b), 500)) {
      for (const { table, keys } of ROLLUPS) {
        await this.ch.client.command({
          query: `INSERT INTO ${this.db}.${table}${suffix}
            SELECT ${keys}, ${LEG_AGGREGATES}, ${v} AS version
            FROM ${this.db}.queue_legs${suffix} FINAL
            WHERE tenant_id = {tenant:String} AND bucket IN {buckets:Array(DateTime('UTC'))}
            GROUP BY ${keys}`,
          query_params: { tenant, buckets: part.map((b) => chTime(b).slice(0, 19)), ...(version === 'now' ? {} : { version: Math.trunc(version) }) },
          // The aggregates are named like the columns they read (talk_ms AS talk_ms).
          clickhouse_settings: { prefer_column_name_to_alias: 1 },
        });
      }
    }
    const hours = [...new Set(bucketsMs.map((b) => Math.floor(b / HOUR_MS)))].sort((a, b) => a - b);
    for (const part of chunks(hours, 500)) {
      await timed('rollup_hours', () =>
        this.ch.client.command({
          query: agentHoursSql(this.db, suffix, v, `tenant_id = {tenant:String} AND bucket >= {from:DateTime('UTC')} AND bucket < {to:DateTime('UTC')} AND toStartOfHour(bucket) IN {hours:Array(DateTime('UTC'))}`),
          query_params: {
            tenant,
            hours: part.map((h) => chTime(h * HOUR_MS).slice(0, 19)),
            from: chTime(part[0]! * HOUR_MS).slice(0, 19),
            to: chTime((part[part.length - 1]! + 1) * HOUR_MS).slice(0, 19),
            ...(version === 'now' ? {} : { version: Math.trunc(version) }),
          },
          clickhouse_settings: { prefer_column_name_to_alias: 1 },
        }),
      );
    }
    const days = [...new Set(bucketsMs.map((b) => Math.floor(b / DAY_MS)))].sort((a, b) => a - b);
    // The hour range as well as the days: the primary key (tenant_id, hour) prunes by it.
    const where = `tenant_id = {tenant:String} AND hour >= {from:DateTime('UTC')} AND hour < {to:DateTime('UTC')} AND toDate(hour) IN {days:Array(Date)}`;
    for (const part of chunks(days, 100)) {
      await timed('rollup_days', () =>
        this.ch.client.command({
          query: agentDaysSql(this.db, suffix, v, where),
          query_params: {
            tenant,
            days: part.map((d) => chTime(d * DAY_MS).slice(0, 10)),
            from: chTime(part[0]! * DAY_MS).slice(0, 19),
            to: chTime((part[part.length - 1]! + 1) * DAY_MS).slice(0, 19),
            ...(version === 'now' ? {} : { version: Math.trunc(version) }),
          },
          clickhouse_settings: { prefer_column_name_to_alias: 1 },
        }),
      );
    }
    // The months whose core holds a recomputed day: every core day of each, again.
    const months = [...new Set(days.filter(inMonthCore).map(monthStartDay))].sort((a, b) => a - b);
    for (const part of chunks(months, 24)) {
      await timed('rollup_months', () =>
        this.ch.client.command({
          query: agentMonthsSql(this.db, suffix, v, `tenant_id = {tenant:String} AND day >= {from:Date} AND day < {to:Date} AND toStartOfMonth(day) IN {months:Array(Date)}`),
          query_params: {
            tenant,
            months: part.map((d) => chTime(d * DAY_MS).slice(0, 10)),
            from: chTime(part[0]! * DAY_MS).slice(0, 10),
            to: chTime(nextMonthStartDay(part[part.length - 1]!) * DAY_MS).slice(0, 10),
            ...(version === 'now' ? {} : { version: Math.trunc(version) }),
          },
          clickhouse_settings: { prefer_column_name_to_alias: 1 },
        }),
      );
    }
    this.log?.debug({ tenant, buckets: bucketsMs.length }, 'rollup recomputed');
  }
}

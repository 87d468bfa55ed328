// The I/O shell around the fold: append events to the log tables, then re-derive every call and
// agent a batch touched from all events known for it and write the rows again. Derived tables
// are ReplacingMergeTree(version), so writing a row twice (retry, crash, duplicate, late event)
// replaces it; the rollup of every touched 15-minute bucket is recomputed from the legs.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ClickHouse, Logger } from '@callboard/platform';
import type { AgentEvent, CallEvent, CanonicalEvent, EventOf, RawRecord } from '@callboard/schemas';
import { foldAgentIntervals, foldCall, foldGap, type AgentCallRow, type AgentIntervalRow, type CallRow, type LegRow } from './fold.ts';
import { LEG_AGGREGATES } from './metrics/index.ts';
import { TenantReader, msParam } from './read/scope.ts';
import { chTime, chTimeOrNull, toTsv } from './sql.ts';

const EVENT_COLUMNS = [
  'event_id', 'tenant_id', 'pbx_id', 'source', 'type', 'occurred_at', 'received_at', 'subject_kind',
  'call_id', 'agent_id', 'queue', 'leg_id', 'body', 'log_partition', 'log_offset',
] as const;

export interface LoggedEvent {
  event: CanonicalEvent;
  /** Where it sits in the log (Kafka partition and offset; line number for a file). */
  partition: number;
  offset: number;
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
}

function contentToken(parts: string[]): string {
  const h = createHash('sha1');
  for (const p of parts) h.update(p).update('\n');
  return `content-${h.digest('hex')}`;
}

/** Cumulative milliseconds per step, for benchmarks and debug logs. */
export const storeTimings: Record<string, number> = {};
async function timed<T>(step: string, f: () => Promise<T>): Promise<T> {
  const t = performance.now();
  try {
    return await f();
  } finally {
    storeTimings[step] = (storeTimings[step] ?? 0) + performance.now() - t;
  }
}

const CHUNK = 2000;
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
    await this.insertTsv(
      table,
      EVENT_COLUMNS,
      batch.map(({ event: e, partition, offset }) => ({
        event_id: e.event_id,
        tenant_id: e.tenant_id,
        pbx_id: e.pbx_id,
        source: e.source,
        type: e.type,
        occurred_at: chTime(Date.parse(e.occurred_at)),
        received_at: chTime(Date.parse(e.received_at)),
        subject_kind: 'call_id' in e ? 'call' : 'agent_id' in e ? 'agent' : 'pbx',
        call_id: 'call_id' in e ? e.call_id : '',
        agent_id: 'agent_id' in e ? e.agent_id : '',
        queue: (e.payload as { queue?: string }).queue ?? '',
        leg_id: (e.payload as { leg_id?: string }).leg_id ?? '',
        body: JSON.stringify(e),
        log_partition: partition,
        log_offset: offset,
      })),
      { insert_deduplication_token: token },
    );
  }

  /** Inserts rows as TabSeparated (see toTsv); one insert, acknowledged when it returns. */
  async insertTsv(table: string, columns: readonly string[], rows: readonly Record<string, unknown>[], settings: Record<string, string | number> = {}): Promise<void> {
    if (!rows.length) return;
    await this.ch.client.insert({
      table: `${this.db}.${table}`,
      columns: [...columns] as [string, ...string[]],
      format: 'TabSeparated',
      values: Readable.from([Buffer.from(toTsv(columns, rows))], { objectMode: false }),
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
        received_at: chTime(Date.parse(r.received_at)),
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
      const known = new Map<string, CallEvent>(this.recent.get(key) ?? []);
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
    const stats: DeriveStats = { calls: 0, legs: 0, agentCalls: 0, intervals: 0, buckets: 0, gaps: 0 };
    await this.writeGaps(touched.gaps);
    stats.gaps = touched.gaps.length;
    const buckets = new Map<string, Set<number>>();
    for (const [tenant, batchCalls] of touched.calls) {
      for (const part of chunks([...batchCalls.keys()])) {
        const byCall = await timed('read_calls', () => this.callHistories(tenant, part, batchCalls));
        const calls: CallRow[] = [];
        const legs: LegRow[] = [];
        const agentCalls: AgentCallRow[] = [];
        for (const evs of byCall.values()) {
          const f = foldCall(evs);
          if (f.call) calls.push(f.call);
          legs.push(...f.legs);
          agentCalls.push(...f.agentCalls);
        }
        await timed('write_derived', () => this.writeDerived(calls, legs, agentCalls, []));
        let b = buckets.get(tenant);
        if (!b) buckets.set(tenant, (b = new Set()));
        for (const l of legs) b.add(l.bucket);
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
      await timed('rollup', () => this.recomputeRollup(tenant, [...b], rollupVersion));
    }
    return stats;
  }

  async writeDerived(calls: CallRow[], legs: LegRow[], agentCalls: AgentCallRow[], intervals: AgentIntervalRow[], suffix = ''): Promise<void> {
    const ins = (table: string, values: Record<string, unknown>[]) => this.insertTsv(`${table}${suffix}`, Object.keys(values[0] ?? {}), values);
    await ins(
      'calls',
      calls.map((c) => ({ ...c, started_at: chTime(c.started_at), ended_at: chTimeOrNull(c.ended_at), answered_at: chTimeOrNull(c.answered_at) })),
    );
    await ins(
      'queue_legs',
      legs.map((l) => ({
        ...l,
        bucket: Math.floor(l.bucket / 1000),
        offered_at: chTime(l.offered_at),
        ended_wait_at: chTimeOrNull(l.ended_wait_at),
        answered_at: chTimeOrNull(l.answered_at),
        completed_at: chTimeOrNull(l.completed_at),
      })),
    );
    await ins(
      'agent_calls',
      agentCalls.map((a) => ({ ...a, at: chTime(a.at) })),
    );
    await ins(
      'agent_intervals',
      intervals.map((i) => ({ ...i, started_at: chTime(i.started_at), ended_at: chTimeOrNull(i.ended_at) })),
    );
  }

  /** Writes gaps of the feed; a gap written again (redelivery, replay) replaces its row. */
  async writeGaps(gaps: readonly EventOf<'source.gap'>[]): Promise<void> {
    const rows = gaps.map(foldGap).map((g) => ({ ...g, from_at: chTime(g.from_at), to_at: chTime(g.to_at) }));
    await this.insertTsv('source_gaps', Object.keys(rows[0] ?? {}), rows);
  }

  /** Recomputes queue_15m rows of these buckets (epoch ms) from queue_legs. */
  async recomputeRollup(tenant: string, bucketsMs: number[], version: number | 'now', suffix = ''): Promise<void> {
    const v = version === 'now' ? 'toUInt64(toUnixTimestamp64Micro(now64(6)))' : '{version:UInt64}';
    for (const part of chunks(bucketsMs.sort((a, b) => a - b), 500)) {
      await this.ch.client.command({
        query: `INSERT INTO ${this.db}.queue_15m${suffix}
          SELECT tenant_id, bucket, queue, ${LEG_AGGREGATES}, ${v} AS version
          FROM ${this.db}.queue_legs${suffix} FINAL
          WHERE tenant_id = {tenant:String} AND bucket IN {buckets:Array(DateTime('UTC'))}
          GROUP BY tenant_id, bucket, queue`,
        query_params: { tenant, buckets: part.map((b) => chTime(b).slice(0, 19)), ...(version === 'now' ? {} : { version: Math.trunc(version) }) },
        // The aggregates are named like the columns they read (talk_ms AS talk_ms).
        clickhouse_settings: { prefer_column_name_to_alias: 1 },
      });
    }
    this.log?.debug({ tenant, buckets: bucketsMs.length }, 'rollup recomputed');
  }
}

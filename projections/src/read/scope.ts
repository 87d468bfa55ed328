// The one place a read of the projections is scoped to a tenant, and the one SQL convention for
// values: bound parameters ({name:Type}), never text spliced into SQL. A read names its table
// through `from()`, which carries the tenant condition, so no query can forget it.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ClickHouse } from '@callboard/platform';

/** The projections' tables (projections/migrations) a tenant's reads may name. */
export type ProjectionTable = 'events' | 'calls' | 'queue_legs' | 'agent_calls' | 'agent_intervals' | 'queue_15m' | 'queue_agent_15m' | 'queue_agent_1h' | 'queue_agent_1d' | 'queue_agent_1mo' | 'source_gaps' | PbxRecordTable;
/** The PBX's own records stored for reconciliation (migration 0010, reconcile/stored.ts). */
export type PbxRecordTable = 'pbx_queue_legs' | 'pbx_agent_records' | 'pbx_imports';

export type Params = Record<string, unknown>;

/** A bad argument of a read (what and which field), mapped by callers to their own errors. */
export class ReadError extends Error {
  readonly code = 'BAD_INPUT';
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ReadError';
  }
}

/** `{name:Int64}` epoch ms as a UTC DateTime64(3), to compare with any time column. */
export const msParam = (name: string): string => `fromUnixTimestamp64Milli({${name}:Int64}, 'UTC')`;

/** Epoch ms of an ISO-8601 instant given by a caller, or a ReadError naming the field. */
export function instantMs(iso: string, field: string): number {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) throw new ReadError(`${field} ${JSON.stringify(iso)} is not an ISO-8601 instant such as 2026-03-10T06:00:00.000Z`, field);
  return t;
}

/** ClickHouse time text (ISO …Z, or "YYYY-MM-DD hh:mm:ss[.sss]" in UTC) → ISO-8601. */
export function isoOf(s: string): string;
export function isoOf(s: string | null): string | null;
export function isoOf(s: string | null): string | null {
  return s === null ? null : new Date(/Z$|[+-]\d\d:?\d\d$/.test(s) ? s : `${s.replace(' ', 'T')}Z`).toISOString();
}

/** What a caller's deadline asks of every read made on its behalf. */
export interface ReadLimits {
  /** Aborting it stops waiting for the engine, and drops the read if it has not started yet. */
  signal: AbortSignal;
  /** The engine's own limit (`max_execution_time`): it stops the query itself when it runs over. */
  maxExecutionS: number;
}

// A request's limits reach the reads it causes without threading a signal through every
// metric function's signature.
const readLimits = new AsyncLocalStorage<ReadLimits>();

/** Runs `read` (and every read it makes) under `limits`. */
export const withReadLimits = <T>(limits: ReadLimits, read: () => Promise<T>): Promise<T> => readLimits.run(limits, read);

export class TenantReader {
  constructor(
    readonly ch: ClickHouse,
    readonly tenant: string,
  ) {
    if (!tenant) throw new ReadError('tenant_id is required', 'tenant_id');
  }

  /**
   * `db.table [FINAL] WHERE tenant_id = {tenant:String}`; further conditions follow with AND.
   * FINAL by default: derived tables are ReplacingMergeTree and a re-derived row must hide the
   * one it replaces; `events` is append-only and read without it.
   */
  from(table: ProjectionTable, final = table !== 'events'): string {
    return `${this.ch.db}.${table}${final ? ' FINAL' : ''} WHERE tenant_id = {tenant:String}`;
  }

  async rows<T>(query: string, params: Params = {}): Promise<T[]> {
    const rs = await this.query(query, params, 'JSONEachRow');
    return rs.json<T>();
  }

  /** The first column of every row; compact, for long values such as event bodies. */
  async column<T>(query: string, params: Params = {}): Promise<T[]> {
    const rs = await this.query(query, params, 'JSONCompactEachRow');
    return ((await rs.json()) as [T][]).map((r) => r[0]);
  }

  private query(query: string, params: Params, format: 'JSONEachRow' | 'JSONCompactEachRow') {
    if ('tenant' in params) throw new Error('the query parameter "tenant" is the reader\'s own');
    const limits = readLimits.getStore();
    return this.ch.client.query({
      // The time limit goes in the query's own SETTINGS clause: the embedded connection turns
      // clickhouse_settings into session-wide SETs, which would outlive this query.
      query: limits ? `${query}\nSETTINGS max_execution_time = ${Math.max(0.001, limits.maxExecutionS).toFixed(3)}, timeout_overflow_mode = 'throw'` : query,
      query_params: { ...params, tenant: this.tenant },
      format,
      abort_signal: limits?.signal,
      // Counts come back as numbers; an aggregate named like its column (talk_ms AS talk_ms) reads the column.
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0, prefer_column_name_to_alias: 1 },
    });
  }
}

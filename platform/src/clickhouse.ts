// One code path to ClickHouse: @clickhouse/client. CLICKHOUSE_URL set: a server over HTTP.
// Unset: the embedded engine (chdb) plugged in as the client's connection. Same SQL either way.
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CallboardConfig } from './config.ts';
import type { Logger } from './log.ts';
import { processAlive } from './process.ts';

export type { ClickHouseClient };

export interface ClickHouse {
  client: ClickHouseClient;
  /** Database that holds Callboard's tables; SQL names tables as `${db}.name`. */
  db: string;
  embedded: boolean;
  close(): Promise<void>;
}

let embeddedPath: string | null = null;

export async function createClickHouse(cfg: Pick<CallboardConfig, 'clickhouse' | 'dataDir'>, opts: { embeddedPath?: string } = {}): Promise<ClickHouse> {
  const db = cfg.clickhouse.database;
  let client: ClickHouseClient;
  let embedded = false;
  if (cfg.clickhouse.url) {
    client = createClient({
      url: cfg.clickhouse.url,
      username: cfg.clickhouse.username,
      password: cfg.clickhouse.password,
      request_timeout: 60_000,
      clickhouse_settings: { date_time_output_format: 'iso', output_format_json_quote_64bit_integers: 0 },
    });
  } else {
    const path = opts.embeddedPath ?? join(cfg.dataDir, 'clickhouse');
    // The embedded engine is a process singleton: one data path per process.
    if (embeddedPath && embeddedPath !== path) {
      throw new Error(`the embedded ClickHouse is already open at ${embeddedPath}; one data path per process (asked for ${path})`);
    }
    mkdirSync(path, { recursive: true });
    embeddedPath = path;
    const { createChdbConnection } = await import('chdb/connection');
    client = createClient({
      connection: createChdbConnection({ path }) as never,
      clickhouse_settings: { date_time_output_format: 'iso', output_format_json_quote_64bit_integers: 0 },
    });
    embedded = true;
  }
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
  return {
    client,
    db,
    embedded,
    close: async () => {
      await client.close();
    },
  };
}

/** Why ClickHouse cannot be opened yet, when waiting may help; null when it will not. */
export function clickHouseWaitReason(cfg: Pick<CallboardConfig, 'clickhouse' | 'dataDir'>, e: unknown, o: { embeddedPath?: string } = {}): string | null {
  if (cfg.clickhouse.url) {
    // The server may be restarting or not up yet; anything else (auth, SQL) will not heal by waiting.
    const codes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EPIPE']);
    for (let x: unknown = e; x && typeof x === 'object'; x = (x as { cause?: unknown }).cause) {
      const code = (x as { code?: unknown }).code;
      if (typeof code === 'string' && codes.has(code)) return `the ClickHouse server at ${cfg.clickhouse.url} is unreachable (${code})`;
    }
    if (/timeout|socket hang up/i.test((e as Error)?.message ?? '')) return `the ClickHouse server at ${cfg.clickhouse.url} does not answer (${(e as Error).message})`;
    return null;
  }
  // The embedded engine locks `<path>/status` for the process that opened it and writes that
  // process's PID there; chdb's error says only "Failed to create connection".
  const path = o.embeddedPath ?? join(cfg.dataDir, 'clickhouse');
  let status: string;
  try {
    status = readFileSync(join(path, 'status'), 'utf8');
  } catch {
    return null;
  }
  const pid = Number(/^PID:\s*(\d+)/m.exec(status)?.[1]);
  if (!pid || pid === process.pid || !processAlive(pid)) return null;
  const since = /^Started at:\s*(.+)$/m.exec(status)?.[1];
  return `the embedded ClickHouse at ${path} is held by another process (PID ${pid}${since ? `, since ${since}` : ''}; the engine is single-process)`;
}


export interface WaitForClickHouseOptions {
  log: Logger;
  embeddedPath?: string;
  /** Called before each wait with why (a readiness component goes not ready with it). */
  onWait?: (reason: string) => void;
  /** Gives up waiting (shutdown): the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Backoff between attempts: from 250 ms, doubling, up to this (default 5 s). */
  maxDelayMs?: number;
}

/**
 * `createClickHouse`, waiting while the embedded engine is held by another process (a `callboard`
 * command, a second service) or the server refuses, instead of failing: a service started
 * beside them serves once they let go. Any other error is thrown at once.
 */
export async function waitForClickHouse(cfg: Pick<CallboardConfig, 'clickhouse' | 'dataDir'>, o: WaitForClickHouseOptions): Promise<ClickHouse> {
  const maxDelayMs = o.maxDelayMs ?? 5000;
  let delay = 250;
  for (let attempt = 1; ; attempt++) {
    o.signal?.throwIfAborted();
    try {
      const ch = await createClickHouse(cfg, o);
      if (attempt > 1) o.log.info({ attempts: attempt }, 'ClickHouse open');
      return ch;
    } catch (e) {
      const reason = clickHouseWaitReason(cfg, e, o);
      if (!reason) throw e;
      o.onWait?.(reason);
      o.log.warn({ attempt, retryInMs: delay }, `waiting for ClickHouse: ${reason}`);
    }
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(done, delay);
      function done() {
        o.signal?.removeEventListener('abort', aborted);
        resolve();
      }
      function aborted() {
        clearTimeout(t);
        reject(o.signal!.reason as Error);
      }
      o.signal?.addEventListener('abort', aborted, { once: true });
    });
    delay = Math.min(maxDelayMs, delay * 2);
  }
}

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

/** Reads `NNNN_name.sql` files; statements are separated by a line holding only `;`, or by `;` at line end. */
export function readMigrations(dir: string): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f))
    .sort()
    .map((f) => {
      const sql = readFileSync(join(dir, f), 'utf8');
      return {
        version: Number(f.slice(0, 4)),
        name: f.replace(/\.sql$/, ''),
        sql,
        checksum: createHash('sha256').update(sql).digest('hex').slice(0, 16),
      };
    });
}

export function splitStatements(sql: string): string[] {
  const noComments = sql
    .split('\n')
    .filter((l) => !/^\s*--/.test(l))
    .join('\n');
  return noComments
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter(Boolean);
}

export function renderSql(sql: string, vars: Record<string, string>): string {
  return sql.replace(/\{\{(\w+)\}\}/g, (_, k: string) => {
    if (!(k in vars)) throw new Error(`migration uses {{${k}}} but no value was given`);
    return vars[k]!;
  });
}

/**
 * Applies migrations not yet recorded in `${db}.schema_migrations`. Every statement is written
 * to be idempotent (IF NOT EXISTS / OR REPLACE), and the record insert is deduplicated by
 * version, so two services migrating at the same start-up converge on the same schema.
 */
export async function migrate(ch: ClickHouse, migrations: Migration[], vars: Record<string, string> = {}): Promise<number[]> {
  const { client, db } = ch;
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS ${db}.schema_migrations (version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
      ENGINE = ReplacingMergeTree ORDER BY version SETTINGS non_replicated_deduplication_window = 1000`,
  });
  const rs = await client.query({ query: `SELECT version, any(checksum) AS checksum FROM ${db}.schema_migrations GROUP BY version`, format: 'JSONEachRow' });
  const applied = new Map((await rs.json<{ version: number; checksum: string }>()).map((r) => [Number(r.version), r.checksum]));
  const done: number[] = [];
  for (const m of migrations) {
    const prior = applied.get(m.version);
    if (prior !== undefined) {
      if (prior !== m.checksum) throw new Error(`migration ${m.name} was changed after it was applied (checksum ${prior} → ${m.checksum}); add a new migration instead`);
      continue;
    }
    for (const stmt of splitStatements(renderSql(m.sql, { db, ...vars }))) {
      try {
        await client.command({ query: stmt });
      } catch (e) {
        throw new Error(`migration ${m.name} failed at: ${stmt.slice(0, 120)}…: ${(e as Error).message}`, { cause: e });
      }
    }
    await client.insert({
      table: `${db}.schema_migrations`,
      values: [{ version: m.version, name: m.name, checksum: m.checksum }],
      format: 'JSONEachRow',
      clickhouse_settings: { insert_deduplication_token: `migration-${m.version}` },
    });
    done.push(m.version);
  }
  return done;
}

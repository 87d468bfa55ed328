// Plumbing of the fault suite (docs/reliability.md): children started and killed by their own
// PIDs, the projection tables compared by content with a reference fold of the same events, and
// the figures each case prints and appends to test-results/faults.json.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Admin } from 'kafkajs';
import { createKafka, ensureTopics, migrate, readMigrations, retryKafka, topicName, type CallboardConfig, type ClickHouse, type KafkaProducer, type Logger } from '@callboard/platform';
import { partitionKey, type CanonicalEvent } from '@callboard/schemas';
import { MIGRATIONS_DIR } from '@callboard/projections/migrations-dir';
import { loadEvents } from '@callboard/projections/report';
import { ProjectionStore } from '@callboard/projections/store';
import { busyQueueDay, utc } from '../../projections/test/given.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Child {
  child: ChildProcess;
  /** Resolves when the child printed `ready` on stdout; rejects if it exits first. */
  ready: Promise<void>;
  /** Resolves when the child has printed `text` on stdout (from now on); rejects if it exits first. */
  says(text: string): Promise<void>;
  exited: Promise<number | null>;
  startedAt: number;
  /** What it wrote on stdout so far. */
  stdout(): string;
  /** What it wrote on stderr, when started with `captureStderr`. */
  stderr(): string;
}

export interface ChildOptions {
  /** Keep its stderr (its log) for the test instead of passing it through. */
  captureStderr?: boolean;
  /** Started under `ulimit -f` (KiB): no file it writes can grow past this, root or not. */
  fileSizeLimitKb?: number;
}

/** A TypeScript child (through tsx) that prints `ready` once it serves; its stderr goes to ours. */
export function startChild(script: string, env: NodeJS.ProcessEnv, o: ChildOptions = {}): Child {
  const startedAt = Date.now();
  const stdio: ['ignore', 'pipe', 'pipe' | 'inherit'] = ['ignore', 'pipe', o.captureStderr ? 'pipe' : 'inherit'];
  const child =
    o.fileSizeLimitKb === undefined
      ? spawn(process.execPath, ['--import', 'tsx', script], { env, stdio })
      : // bash's ulimit -f counts 1024-byte blocks; exec keeps the PID the test kills the node's own.
        spawn('bash', ['-c', `ulimit -f ${Math.floor(o.fileSizeLimitKb)} && exec "$0" --import tsx "$1"`, process.execPath, script], { env, stdio });
  let err = '';
  child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
  const waiters: { text: string; seen: string; resolve: () => void; reject: (e: Error) => void }[] = [];
  let out = '';
  child.stdout!.on('data', (b: Buffer) => {
    out += b.toString();
    for (const w of [...waiters]) {
      w.seen += b.toString();
      if (w.seen.includes(w.text)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  child.once('exit', (code, signal) => {
    for (const w of waiters.splice(0)) w.reject(new Error(`child exited (${code ?? signal}) before it said ${JSON.stringify(w.text)}`));
  });
  const says = (text: string) => {
    const p = new Promise<void>((resolve, reject) => waiters.push({ text, seen: '', resolve, reject }));
    p.catch(() => {});
    return p;
  };
  const ready = says('ready');
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, ready, says, exited, startedAt, stdout: () => out, stderr: () => err };
}

/** A child's environment: the test's Kafka topics, ClickHouse database and data dir, plus `extra`. */
export function childEnv(cfg: CallboardConfig, extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    KAFKA_BROKERS: cfg.kafka.brokers.join(','),
    KAFKA_TOPIC_PREFIX: cfg.kafka.topicPrefix,
    KAFKA_PARTITIONS: String(cfg.kafka.partitions),
    CLICKHOUSE_DATABASE: cfg.clickhouse.database,
    CALLBOARD_DATA_DIR: cfg.dataDir,
    LOG_LEVEL: 'error',
    ...extra,
  };
}

/** SIGKILLs the child by its PID (never by name) and waits until it is gone. */
export async function killHard(c: Child): Promise<void> {
  if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  await c.exited;
}

/** `p`, or an error naming `what` once `ms` have passed. */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The projection tables a fault must leave as an uninterrupted run would. */
export const TABLES = ['calls', 'queue_legs', 'agent_calls', 'agent_intervals', 'queue_15m'] as const;

/**
 * Rows and a content hash of a table after deduplication (FINAL), without `version`: a rollup
 * written at another moment carries another version for the same content.
 */
export async function contentOf(ch: ClickHouse, table: string): Promise<{ rows: number; hash: string }> {
  const cols = await ch.client.query({
    query: `SELECT name FROM system.columns WHERE database = {db:String} AND table = {table:String} AND name != 'version' ORDER BY position`,
    query_params: { db: ch.db, table },
    format: 'JSONEachRow',
  });
  const names = ((await cols.json()) as { name: string }[]).map((c) => `\`${c.name}\``);
  const rs = await ch.client.query({
    query: `SELECT count() AS n, toString(sum(cityHash64(toString(tuple(${names.join(', ')}))))) AS h FROM ${ch.db}.${table} FINAL`,
    format: 'JSONEachRow',
  });
  const r = ((await rs.json()) as { n: number | string; h: string }[])[0]!;
  return { rows: Number(r.n), hash: r.h };
}

export interface TableDiff {
  table: string;
  rows: number;
  reference: number;
  same: boolean;
}

/** Each table of `got` against `reference`: rows on each side and whether the content is the same. */
export async function compareTables(got: ClickHouse, reference: ClickHouse): Promise<TableDiff[]> {
  const out: TableDiff[] = [];
  for (const table of TABLES) {
    const [a, b] = [await contentOf(got, table), await contentOf(reference, table)];
    out.push({ table, rows: a.rows, reference: b.rows, same: a.rows === b.rows && a.hash === b.hash });
  }
  return out;
}

/** Rows missing from, and rows more than, the reference, over every table. */
export function lostAndDoubled(diffs: TableDiff[]): { lost: number; doubled: number } {
  return {
    lost: diffs.reduce((a, d) => a + Math.max(0, d.reference - d.rows), 0),
    doubled: diffs.reduce((a, d) => a + Math.max(0, d.rows - d.reference), 0),
  };
}

/** The reference: the same events folded at once, uninterrupted, into database `db` of `ch`. */
export async function referenceFold(ch: ClickHouse, db: string, events: readonly CanonicalEvent[]): Promise<ClickHouse> {
  const ref: ClickHouse = { ...ch, db };
  await ch.client.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
  await migrate(ref, readMigrations(MIGRATIONS_DIR));
  await loadEvents(new ProjectionStore(ref), events);
  return ref;
}

/** Distinct event ids of `ids` absent from the `events` table of `ch`. */
export async function missingEvents(ch: ClickHouse, ids: readonly string[]): Promise<number> {
  const rs = await ch.client.query({ query: `SELECT DISTINCT event_id FROM ${ch.db}.events`, format: 'JSONEachRow' });
  const have = new Set(((await rs.json()) as { event_id: string }[]).map((r) => r.event_id));
  return new Set(ids.filter((id) => !have.has(id))).size;
}

export interface Figures {
  case: string;
  kills?: number;
  survived?: number;
  events: number;
  lost: number;
  doubled: number;
  recovery_ms?: { mean: number; max: number } | number;
  seconds: number;
  note?: string;
}

/** Prints a case's figures and appends them to test-results/faults.json (one JSON per line). */
export function record(f: Figures): void {
  const line = { at: new Date().toISOString(), load: loadAverage(), ...f };
  console.log(`fault figures: ${JSON.stringify(line)}`);
  const dir = join(ROOT, 'test-results');
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, 'faults.json'), `${JSON.stringify(line)}\n`);
}

/** The machine's load when the case ended: the figures depend on what else runs. */
function loadAverage(): string {
  return loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
}

/** A busy queue day of `calls` calls (every outcome, holds, transfers) and 300 agent state changes. */
export function queueDay(tenant: string, calls: number): CanonicalEvent[] {
  return busyQueueDay({ tenant, calls, prefix: 'f', queues: ['support', 'sales', 'sales'], agentPrefix: '20', agents: 9, start: utc('2026-03-02T06:00:00Z'), callEveryMs: 61_000, stateChanges: 300, stateEveryMs: 181_000 });
}

/** Writes `events` to the test's `cc.events.v1` (topics created first); returns the messages in it. */
export async function produceEvents(cfg: CallboardConfig, events: readonly CanonicalEvent[]): Promise<number> {
  const kafka = createKafka(cfg);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, cfg);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const topic = topicName(cfg, 'events');
    for (let i = 0; i < events.length; i += 500) {
      await producer.send({ topic, acks: -1, messages: events.slice(i, i + 500).map((e) => ({ key: partitionKey(e), value: JSON.stringify(e) })) });
    }
    await producer.disconnect();
    return (await admin.fetchTopicOffsets(topic)).reduce((a, p) => a + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Offsets `groupId` has committed on `topic`, summed over partitions (read with the tests' own client, `toolKafka(cfg).admin()`). */
export function committedOffsets(admin: Admin, groupId: string, topic: string): Promise<number> {
  // The group's coordinator may still be loading (a retriable error): retried, with a deadline.
  return retryKafka('reading the committed offsets', async () => {
    const [o] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (o?.partitions ?? []).reduce((a, p) => a + Math.max(0, Number(p.offset)), 0);
  });
}

/** The test's topics, created, and an idempotent producer on them, connected (as the services connect theirs). */
export async function topicsAndProducer(cfg: CallboardConfig, log?: Logger): Promise<{ producer: KafkaProducer }> {
  const kafka = createKafka(cfg, log);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, cfg);
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  return { producer };
}

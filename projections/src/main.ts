// The projections service: two Kafka consumer groups. `pbx.raw.v1` → raw_events; `cc.events.v1`
// → events, then the fold. Exactly-once effect from at-least-once delivery: each partition batch
// is inserted with insert_deduplication_token topic-partition-first-last (tables keep a
// non_replicated_deduplication_window), derived rows are versioned replacements, and offsets
// are committed only after ClickHouse acknowledged everything of the batch.
// Readiness means consuming: each consumer is `starting` until it has joined its group and
// completed a fetch (after a restart the broker may hold the old member's partitions until its
// session times out, tens of seconds), `error` when it crashed; and ClickHouse must answer a
// `SELECT 1` within CLICKHOUSE_PING_TIMEOUT_MS. Opening ClickHouse waits (with backoff) while the
// embedded engine is held by another process or the server refuses, not ready meanwhile: a
// `callboard` command holding the engine for a moment must not kill the service.
import {
  counter,
  waitForClickHouse,
  gauge,
  createKafka,
  dlqTotal,
  ensureTopics,
  histogram,
  runBatches,
  ConsumerFailureLog,
  type BatchConsumer,
  type PartitionBatch,
  topicName,
  type CallboardConfig,
  type ClickHouse,
  type Health,
  type Logger,
} from '@callboard/platform';
import { decodeRaw, validateEvent, type DlqRecord } from '@callboard/schemas';
import { setupBiAccess } from './bi-access.ts';
import { migrateProjections } from './migrations-dir.ts';
import { syncBusinessHours } from './schedule/sync.ts';
import { ProjectionStore, touchedBy, type LoggedEvent, type LoggedRaw } from './store.ts';

export const projectedTotal = counter('callboard_projections_events_total', 'Records written to ClickHouse by the projections', ['topic']);
export const lagMessages = gauge('callboard_projections_lag_messages', 'Messages between the last folded offset and the end of the log, per topic (summed over partitions)', ['topic']);
/** Lag above this makes the consumer degraded (still ready: catching up is its job). */
const LAG_DEGRADED = 100_000;
const CLICKHOUSE_PING_MS = 10_000;
/**
 * A partition batch's byte limit (the write buffer's size). Each batch costs a fixed set of
 * statements (history count, derived inserts, both rollups, the day rollup of every day it
 * touched) and new parts to merge, so catching up costs less in larger batches: 100,000 events
 * took 58 µs CPU per event at 8 MiB, 53 at 16 MiB and 52 at 32 MiB (issue #17, one run each).
 * Live, batches stay small (the age limit returns first).
 */
const MAX_BATCH_BYTES = 16 * 1024 * 1024;
const CLICKHOUSE_PING_TIMEOUT_MS = 5_000;
export const batchMs = histogram('callboard_projections_batch_duration_ms', 'Time to write and fold one partition batch', ['topic'], [5, 20, 50, 100, 250, 500, 1000, 2500, 5000, 10000]);

export interface ProjectionsOptions {
  cfg: CallboardConfig;
  log: Logger;
  health: Health;
  /** An open ClickHouse to use (tests, `callboard start`); otherwise one is opened and closed here. */
  ch?: ClickHouse;
  /** Consumer group id prefix (default "callboard-projections"). */
  groupId?: string;
  /** Fetch sizes: the write buffer's size and age limits (defaults suit production). */
  /** The fetch, and `batchBytes`, the size a partition batch is cut at (default: the consumer's; tests make both small). */
  fetch?: { minBytes?: number; maxWaitTimeInMs?: number; maxBytesPerPartition?: number; batchBytes?: number; sessionTimeout?: number };
  /** Test hook: runs between the ClickHouse writes and the offset commit of each batch. */
  beforeCommit?: (info: { topic: string; partition: number; lastOffset: string }) => Promise<void> | void;
  /** How often ClickHouse is asked `SELECT 1` for readiness (default 10 s). */
  clickhousePingMs?: number;
  /** Stops waiting for ClickHouse to be openable (shutdown before it ever was). */
  signal?: AbortSignal;
}

export interface Projections {
  stop(): Promise<void>;
  store: ProjectionStore;
}

type Outcome<T> = { kind: 'ok'; value: T; text: string; asSent: boolean } | { kind: 'dlq'; record: DlqRecord };
type Check<T> = (v: unknown) => { ok: true; value: T } | { ok: false; errors: { path: string; message: string }[] };

function dead(text: string, origin: DlqRecord['origin'], reason_code: string, reason: string, path?: string): Extract<Outcome<never>, { kind: 'dlq' }> {
  return {
    kind: 'dlq',
    record: { stage: 'project', source: 'projections', reason_code, reason, ...(path ? { path } : {}), at: new Date().toISOString(), original: text, origin },
  };
}

// Runs for every message: the dead-letter origin is built only for a dead letter, and nothing
// else is allocated on the way but the outcome (the per-message closure and origin object were
// garbage on the hot path).
function parseMessage<T>(raw: Buffer | null, check: Check<T>, topic: string, partition: number, offset: string): Outcome<T> {
  const text = raw?.toString('utf8') ?? '';
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return dead(text, { topic, partition, offset }, 'UNPARSEABLE_JSON', `not JSON: ${(e as Error).message}`);
  }
  const r = check(v);
  if (!r.ok) return dead(text, { topic, partition, offset }, 'SCHEMA_INVALID', r.errors.map((x) => `${x.path}: ${x.message}`).join('; '), r.errors[0]?.path);
  // Not upcast: the validated value is the parsed object itself, so its text is its JSON.
  return { kind: 'ok', value: r.value, text, asSent: r.value === v };
}

export async function startProjections(opts: ProjectionsOptions): Promise<Projections> {
  const { cfg, log, health } = opts;
  const ownCh = !opts.ch;
  // Not ready before ClickHouse is open and the consumers run, whatever happens first.
  for (const w of ['raw', 'events']) health.set(`projections-${w}`, 'starting', 'not started');
  if (!opts.ch) health.set('clickhouse', 'starting', 'opening');
  const ch =
    opts.ch ??
    (await waitForClickHouse(cfg, {
      log,
      signal: opts.signal,
      onWait: (reason) => health.set('clickhouse', 'error', `waiting: ${reason}`),
    }));
  // Open: its `SELECT 1` ping keeps it honest from here.
  if (!opts.ch) health.set('clickhouse', 'ok');
  await migrateProjections(ch);
  // Server only (the embedded engine has no users): per-tenant read-only BI users.
  if (!ch.embedded) await setupBiAccess(ch, cfg, log);
  // The bi_* views' business hours (schedule/sync.ts): the config's schedules as of this start.
  await syncBusinessHours(ch, cfg);
  const store = new ProjectionStore(ch, log);
  const kafka = createKafka(cfg, log, `${cfg.kafka.clientId}-projections`);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, cfg);
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  // The topic prefix isolates deployments sharing a broker; the group follows it.
  const group = opts.groupId ?? `${cfg.kafka.topicPrefix}callboard-projections`;
  const consumers: BatchConsumer[] = [];

  // Per topic and partition: messages not yet folded, as of the last batch.
  const lags = { raw: new Map<number, number>(), events: new Map<number, number>() };
  const joined = { raw: false, events: false };
  // Joined, waiting for the first fetch from the assigned offsets to complete.
  const pendingFetch = new Set<'raw' | 'events'>();
  const consuming = (which: 'raw' | 'events') => {
    const total = [...lags[which].values()].reduce((a, b) => a + b, 0);
    lagMessages.set({ topic: which }, total);
    if (total > LAG_DEGRADED) health.set(`projections-${which}`, 'degraded', `catching up: ${total} messages behind`);
    else health.set(`projections-${which}`, 'ok');
  };
  // Per topic, the partitions whose batch keeps failing: degraded until each has gone through.
  const failing = { raw: new Set<number>(), events: new Set<number>() };
  // Per topic, whether the topic itself could not be read at the last try.
  const unreadable = { raw: false, events: false };
  // Per topic, the log of its consumer's failures: a line now and then while they repeat, and one
  // when it reads again (health says the same at every failure).
  const failureLog = (which: 'raw' | 'events') => new ConsumerFailureLog({ log, level: 'error', subject: `consuming ${topicName(cfg, which)}`, fields: { topic: topicName(cfg, which) } });
  const failures = { raw: failureLog('raw'), events: failureLog('events') };
  const events = (component: string, which: 'raw' | 'events') => ({
    rebalancing: () => {
      joined[which] = false;
      health.set(component, 'starting', 'rebalancing: rejoining the consumer group');
    },
    joined: (partitions: number[]) => {
      // Partitions this member no longer holds are someone else's lag, and someone else's failure.
      const mine = new Set(partitions);
      for (const p of lags[which].keys()) if (!mine.has(p)) lags[which].delete(p);
      for (const p of failing[which]) if (!mine.has(p)) failing[which].delete(p);
      failures[which].assigned(mine);
      health.set(component, 'starting', `joined the group (${mine.size} partitions); fetching`);
      joined[which] = false;
      pendingFetch.add(which);
    },
    fetched: () => {
      failures[which].fetched();
      if (pendingFetch.delete(which)) joined[which] = true;
      // Reading again after the topic could not be read; a batch still failing keeps its word.
      else if (!unreadable[which] || failing[which].size > 0) return;
      unreadable[which] = false;
      if (failing[which].size === 0) consuming(which);
    },
    failed: (e: Error, what: string, partition?: number) => {
      // Nothing of a failed batch is committed: it is tried again as it was, and its inserts deduplicate.
      if (partition !== undefined) failing[which].add(partition);
      else unreadable[which] = true;
      health.set(component, 'degraded', `${what} failed, retrying: ${e.message}`);
      failures[which].failed(e, what, partition);
    },
    batchDone: (partition: number) => failures[which].batchDone(partition),
  });

  const dlq = async (records: DlqRecord[]) => {
    if (!records.length) return;
    await producer.send({ topic: topicName(cfg, 'dlq'), acks: -1, messages: records.map((r) => ({ key: null, value: JSON.stringify(r) })) });
    for (const r of records) dlqTotal.inc({ stage: 'project', source: 'projections', reason: r.reason_code });
    log.warn({ count: records.length, reason: records[0]!.reason, origin: records[0]!.origin }, 'records sent to the dead-letter topic');
  };

  const start = async (which: 'raw' | 'events', handle: (p: PartitionBatch, token: string) => Promise<void>) => {
    const component = `projections-${which}`;
    health.set(component, 'starting', 'joining the consumer group');
    const topic = topicName(cfg, which);
    const consumer = await runBatches(kafka.connection, {
      groupId: `${group}-${which}`,
      topic,
      start: 'committed',
      concurrency: cfg.projections.concurrency,
      // The fetch is the write buffer: it returns when it holds minBytes or maxWaitMs passed;
      // a partition batch (one ClickHouse insert) is cut at maxBytesPerPartition.
      minBytes: opts.fetch?.minBytes ?? 256 * 1024,
      maxWaitMs: opts.fetch?.maxWaitTimeInMs ?? 300,
      maxBytesPerPartition: opts.fetch?.maxBytesPerPartition ?? MAX_BATCH_BYTES,
      ...(opts.fetch?.batchBytes ? { batchBytes: opts.fetch.batchBytes } : {}),
      // The whole fetch: room for two full partition batches (two are folded at once by default).
      maxBytes: (opts.fetch?.maxBytesPerPartition ?? MAX_BATCH_BYTES) * 2,
      sessionTimeout: opts.fetch?.sessionTimeout ?? 30_000,
      on: events(component, which),
      eachBatch: async (p) => {
        const t0 = Date.now();
        await handle(p, `${topic}-${p.partition}-${p.firstOffset}-${p.lastOffset}`);
        // Committed by the consumer once this resolves.
        await opts.beforeCommit?.({ topic, partition: p.partition, lastOffset: p.lastOffset });
        batchMs.observe({ topic: which }, Date.now() - t0);
        failing[which].delete(p.partition);
        lags[which].set(p.partition, Number(p.offsetLag()));
        if (joined[which] && failing[which].size === 0) consuming(which);
      },
    });
    consumers.push(consumer);
  };

  await start('raw', async (p, token) => {
    const ok: LoggedRaw[] = [];
    const bad: DlqRecord[] = [];
    for (const m of p.messages) {
      // Either record format of the topic (frame + raw.v2 header, or the older JSON envelope).
      const r = decodeRaw(m.value, m.headers);
      if (r.ok) ok.push({ record: r.value, partition: p.partition, offset: Number(m.offset) });
      else bad.push(dead(r.original, { topic: p.topic, partition: p.partition, offset: m.offset }, r.reason_code, r.reason, r.path).record);
    }
    await store.writeRaw(ok, token);
    await dlq(bad);
    projectedTotal.inc({ topic: 'raw' }, ok.length);
  });

  await start('events', async (p, token) => {
    const ok: LoggedEvent[] = [];
    const bad: DlqRecord[] = [];
    for (const m of p.messages) {
      const r = parseMessage(m.value, validateEvent, p.topic, p.partition, m.offset);
      if (r.kind === 'ok') ok.push({ event: r.value, partition: p.partition, offset: Number(m.offset), text: r.asSent ? r.text : undefined });
      else bad.push(r.record);
    }
    await store.writeEvents(ok, token);
    await dlq(bad);
    await store.derive(touchedBy(ok.map((x) => x.event)));
    projectedTotal.inc({ topic: 'events' }, ok.length);
  });
  log.info({ group, topics: [topicName(cfg, 'raw'), topicName(cfg, 'events')], clickhouse: ch.embedded ? 'embedded' : cfg.clickhouse.url }, 'projections consuming');

  const ping = pingClickHouse(ch, health, { everyMs: opts.clickhousePingMs ?? CLICKHOUSE_PING_MS });

  let stopped = false;
  return {
    store,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      ping.stop();
      // stop() lets the running batches finish (their inserts and commits), then leaves the group.
      for (const c of consumers) await c.stop();
      await producer.disconnect();
      if (ownCh) await ch.close();
      for (const w of ['raw', 'events']) health.set(`projections-${w}`, 'error', 'stopped');
    },
  };
}

/**
 * Readiness of ClickHouse: a `SELECT 1` now and every `everyMs`, each given `timeoutMs`. The
 * projections cannot write without it, so a failure makes them unready (`error`) until it answers.
 */
export function pingClickHouse(ch: Pick<ClickHouse, 'client'>, health: Health, o: { everyMs: number; timeoutMs?: number }): { stop(): void } {
  const timeoutMs = o.timeoutMs ?? CLICKHOUSE_PING_TIMEOUT_MS;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const once = async () => {
    const abort = new AbortController();
    const t = setTimeout(() => abort.abort(), timeoutMs);
    try {
      const answer = ch.client.query({ query: 'SELECT 1', format: 'JSONEachRow', abort_signal: abort.signal }).then((rs) => rs.json());
      // The embedded engine may not honour the abort: the timeout decides either way.
      const timedOut = new Promise<never>((_, reject) => abort.signal.addEventListener('abort', () => reject(new Error(`no answer to SELECT 1 within ${timeoutMs} ms`))));
      await Promise.race([answer, timedOut]);
      health.set('clickhouse', 'ok');
    } catch (e) {
      if (!stopped) health.set('clickhouse', 'error', (e as Error).message);
    } finally {
      clearTimeout(t);
    }
    if (!stopped) {
      timer = setTimeout(() => void once(), o.everyMs);
      timer.unref();
    }
  };
  void once();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

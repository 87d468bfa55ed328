// The projections service: two Kafka consumer groups. `pbx.raw.v1` → raw_events; `cc.events.v1`
// → events, then the fold. Exactly-once effect from at-least-once delivery: each partition batch
// is inserted with insert_deduplication_token topic-partition-first-last (tables keep a
// non_replicated_deduplication_window), derived rows are versioned replacements, and offsets
// are committed only after ClickHouse acknowledged everything of the batch.
import type { Consumer, EachBatchPayload, Producer } from 'kafkajs';
import {
  counter,
  createClickHouse,
  createKafka,
  dlqTotal,
  ensureTopics,
  histogram,
  topicName,
  type CallboardConfig,
  type ClickHouse,
  type Health,
  type Logger,
} from '@callboard/platform';
import { validateEvent, validateRawRecord, type DlqRecord } from '@callboard/schemas';
import { setupBiAccess } from './bi-access.ts';
import { migrateProjections } from './migrations-dir.ts';
import { ProjectionStore, touchedBy, type LoggedEvent, type LoggedRaw } from './store.ts';

export const projectedTotal = counter('callboard_projections_events_total', 'Records written to ClickHouse by the projections', ['topic']);
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
  fetch?: { minBytes?: number; maxWaitTimeInMs?: number; maxBytesPerPartition?: number; sessionTimeout?: number };
  /** Test hook: runs between the ClickHouse writes and the offset commit of each batch. */
  beforeCommit?: (info: { topic: string; partition: number; lastOffset: string }) => Promise<void> | void;
}

export interface Projections {
  stop(): Promise<void>;
  store: ProjectionStore;
}

type Outcome<T> = { kind: 'ok'; value: T } | { kind: 'dlq'; record: DlqRecord };

function parseMessage<T>(raw: Buffer | null, check: (v: unknown) => { ok: true; value: T } | { ok: false; errors: { path: string; message: string }[] }, origin: DlqRecord['origin']): Outcome<T> {
  const text = raw?.toString('utf8') ?? '';
  const fail = (reason_code: string, reason: string, path?: string): Outcome<T> => ({
    kind: 'dlq',
    record: { stage: 'project', source: 'projections', reason_code, reason, ...(path ? { path } : {}), at: new Date().toISOString(), original: text, origin },
  });
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return fail('UNPARSEABLE_JSON', `not JSON: ${(e as Error).message}`);
  }
  const r = check(v);
  if (!r.ok) return fail('SCHEMA_INVALID', r.errors.map((x) => `${x.path}: ${x.message}`).join('; '), r.errors[0]?.path);
  return { kind: 'ok', value: r.value };
}

export async function startProjections(opts: ProjectionsOptions): Promise<Projections> {
  const { cfg, log, health } = opts;
  const ownCh = !opts.ch;
  const ch = opts.ch ?? (await createClickHouse(cfg));
  await migrateProjections(ch);
  // Server only (the embedded engine has no users): per-tenant read-only BI users.
  if (!ch.embedded) await setupBiAccess(ch, cfg, log);
  const store = new ProjectionStore(ch, log);
  const kafka = createKafka(cfg, log, `${cfg.kafka.clientId}-projections`);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, cfg);
  await admin.disconnect();
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  // The topic prefix isolates deployments sharing a broker; the group follows it.
  const group = opts.groupId ?? `${cfg.kafka.topicPrefix}callboard-projections`;
  const consumers: Consumer[] = [];

  const dlq = async (records: DlqRecord[]) => {
    if (!records.length) return;
    await producer.send({ topic: topicName(cfg, 'dlq'), acks: -1, messages: records.map((r) => ({ key: null, value: JSON.stringify(r) })) });
    for (const r of records) dlqTotal.inc({ stage: 'project', source: 'projections', reason: r.reason_code });
    log.warn({ count: records.length, reason: records[0]!.reason, origin: records[0]!.origin }, 'records sent to the dead-letter topic');
  };

  const commit = async (consumer: Consumer, p: EachBatchPayload, last: string) => {
    await opts.beforeCommit?.({ topic: p.batch.topic, partition: p.batch.partition, lastOffset: last });
    p.resolveOffset(last);
    await consumer.commitOffsets([{ topic: p.batch.topic, partition: p.batch.partition, offset: (BigInt(last) + 1n).toString() }]);
    await p.heartbeat();
  };

  const start = async (which: 'raw' | 'events', handle: (p: EachBatchPayload, token: string) => Promise<void>) => {
    const consumer = kafka.consumer({
      groupId: `${group}-${which}`,
      // The fetch is the write buffer: it returns when it holds maxBytesPerPartition (size) or
      // maxWaitTimeInMs passed (age); each returned partition batch is one ClickHouse insert.
      minBytes: opts.fetch?.minBytes ?? 256 * 1024,
      maxWaitTimeInMs: opts.fetch?.maxWaitTimeInMs ?? 300,
      maxBytesPerPartition: opts.fetch?.maxBytesPerPartition ?? 8 * 1024 * 1024,
      sessionTimeout: opts.fetch?.sessionTimeout ?? 30_000,
      heartbeatInterval: Math.min(3000, Math.floor((opts.fetch?.sessionTimeout ?? 30_000) / 5)),
    });
    await consumer.connect();
    await consumer.subscribe({ topic: topicName(cfg, which), fromBeginning: true });
    const topic = topicName(cfg, which);
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: cfg.projections.concurrency,
      eachBatch: async (p) => {
        const msgs = p.batch.messages;
        if (!msgs.length) return;
        const first = msgs[0]!.offset;
        const last = msgs[msgs.length - 1]!.offset;
        const t0 = Date.now();
        try {
          await handle(p, `${topic}-${p.batch.partition}-${first}-${last}`);
          await commit(consumer, p, last);
          batchMs.observe({ topic: which }, Date.now() - t0);
          health.set(`projections-${which}`, 'ok');
        } catch (e) {
          // Nothing committed: the batch is fetched again and its inserts deduplicate.
          health.set(`projections-${which}`, 'degraded', `batch ${topic}[${p.batch.partition}] ${first}..${last} failed: ${(e as Error).message}`);
          log.error({ err: e, topic, partition: p.batch.partition, first, last }, 'projection batch failed; will retry');
          throw e;
        }
      },
    });
    consumers.push(consumer);
    health.set(`projections-${which}`, 'ok');
  };

  await start('raw', async (p, token) => {
    const ok: LoggedRaw[] = [];
    const bad: DlqRecord[] = [];
    for (const m of p.batch.messages) {
      const r = parseMessage(m.value, validateRawRecord, { topic: p.batch.topic, partition: p.batch.partition, offset: m.offset });
      if (r.kind === 'ok') ok.push({ record: r.value, partition: p.batch.partition, offset: Number(m.offset) });
      else bad.push(r.record);
    }
    await store.writeRaw(ok, token);
    await dlq(bad);
    projectedTotal.inc({ topic: 'raw' }, ok.length);
  });

  await start('events', async (p, token) => {
    const ok: LoggedEvent[] = [];
    const bad: DlqRecord[] = [];
    for (const m of p.batch.messages) {
      const r = parseMessage(m.value, validateEvent, { topic: p.batch.topic, partition: p.batch.partition, offset: m.offset });
      if (r.kind === 'ok') ok.push({ event: r.value, partition: p.batch.partition, offset: Number(m.offset) });
      else bad.push(r.record);
    }
    await store.writeEvents(ok, token);
    await dlq(bad);
    await store.derive(touchedBy(ok.map((x) => x.event)));
    projectedTotal.inc({ topic: 'events' }, ok.length);
  });
  log.info({ group, topics: [topicName(cfg, 'raw'), topicName(cfg, 'events')], clickhouse: ch.embedded ? 'embedded' : cfg.clickhouse.url }, 'projections consuming');

  let stopped = false;
  return {
    store,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      // disconnect() lets the running batch finish (its insert and commit), then leaves the group.
      for (const c of consumers) await c.disconnect();
      await producer.disconnect();
      if (ownCh) await ch.close();
      for (const w of ['raw', 'events']) health.set(`projections-${w}`, 'error', 'stopped');
    },
  };
}

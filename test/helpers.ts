// Shared test plumbing: a config pointing at the run's broker, with a unique topic prefix and
// ClickHouse database per test so tests never see each other's data.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { loadConfig, topicName, type CallboardConfig } from '@callboard/platform';
import { decodeRaw, type CanonicalEvent, type DlqRecord, type RawRecord } from '@callboard/schemas';

let seq = 0;
export function uniqueId(prefix = 't'): string {
  return `${prefix}${process.pid}x${Date.now().toString(36)}x${(seq++).toString(36)}`;
}

/** A fresh config for one test: own topics (prefix), own database, own data dir. */
export function testConfig(file: Record<string, unknown> = {}, env: Record<string, string> = {}): CallboardConfig {
  const id = uniqueId();
  const clickhouseUrl = inject('clickhouseUrl');
  return loadConfig({
    env: {
      KAFKA_BROKERS: inject('kafkaBrokers').join(','),
      KAFKA_TOPIC_PREFIX: `${id}.`,
      KAFKA_PARTITIONS: '3',
      CLICKHOUSE_DATABASE: `cb_${id}`,
      CALLBOARD_DATA_DIR: mkdtempSync(join(tmpdir(), 'callboard-test-')),
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      ...(clickhouseUrl ? { CLICKHOUSE_URL: clickhouseUrl } : {}),
      ...env,
    },
    file,
  });
}

/** Polls until `check` returns a value other than undefined, or fails with the last state. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A TCP port nothing listens on right now: a refused port, or one to listen on (one helper, in platform). */
export { freePort } from '@callboard/platform';

/**
 * kafkajs on the test's brokers: the services run on @platformatic/kafka, and a test that writes
 * their input or reads what they wrote (`readLog`, group offsets, deleting topics) does it with
 * this second, independent client, so a fault of ours in the client layer cannot hide itself.
 */
export function toolKafka(cfg: Pick<CallboardConfig, 'kafka'>, clientId = 'callboard-test'): Kafka {
  return new Kafka({ clientId, brokers: cfg.kafka.brokers, logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5000 } });
}

/** Arrays a test reads the log topics into, in arrival order; a topic is read when its array is given. */
export interface LogInto {
  raw?: RawRecord[];
  /** Where each record of `raw` was read, index for index (a retranslation needs the place). */
  rawAt?: { partition: number; offset: string }[];
  events?: CanonicalEvent[];
  dead?: DlqRecord[];
}

/**
 * Reads pbx.raw.v1, cc.events.v1 and/or the DLQ of `cfg` from the beginning, in a consumer group
 * of its own, appending to the arrays of `into`; resolves to the consumer's stop. The topics
 * trail each other: wait on the arrays with `eventually`, never read them once.
 */
export async function readLog(kafka: Kafka, cfg: CallboardConfig, group: string, into: LogInto): Promise<() => Promise<void>> {
  const topics = new Map<string, (m: KafkaMessage, partition: number, offset: string) => void>();
  if (into.raw) {
    const raw = into.raw;
    topics.set(topicName(cfg, 'raw'), (m, partition, offset) => {
      const r = decodeRaw(m.value, m.headers);
      if (!r.ok) throw new Error(`${offset} of partition ${partition} is not a raw record: ${r.reason}`);
      raw.push(r.value);
      into.rawAt?.push({ partition, offset });
    });
  }
  const json = (m: KafkaMessage) => JSON.parse(m.value!.toString('utf8')) as unknown;
  if (into.events) topics.set(topicName(cfg, 'events'), (m) => into.events!.push(json(m) as CanonicalEvent));
  if (into.dead) topics.set(topicName(cfg, 'dlq'), (m) => into.dead!.push(json(m) as DlqRecord));
  const consumer = kafka.consumer({ groupId: `${cfg.kafka.topicPrefix}${group}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [...topics.keys()], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => topics.get(topic)!(message, partition, message.offset),
  });
  return () => consumer.disconnect();
}

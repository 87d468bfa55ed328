// Which Kafka errors are worth another attempt, and the retry around topic set-up. The errors are
// built by kafkajs itself from broker error codes, exactly as a broker answer would produce them.
import { createRequire } from 'node:module';
import { KafkaJSAggregateError, KafkaJSNumberOfRetriesExceeded, Partitioners, type PartitionMetadata } from 'kafkajs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isRetriableKafkaError, rememberingPartitioner, retryKafka } from '../src/kafka.ts';

const { createErrorFromCode } = createRequire(import.meta.url)('kafkajs/src/protocol/error.js') as { createErrorFromCode: (code: number) => Error };
const UNKNOWN_TOPIC_OR_PARTITION = 3;
const LEADER_NOT_AVAILABLE = 5;
const TOPIC_ALREADY_EXISTS = 36;
const INVALID_REPLICATION_FACTOR = 38;

/** An attempt that fails with `errors` in turn, then answers 'done'. */
function failing(...errors: Error[]): { attempt: () => Promise<string>; calls: () => number } {
  let n = 0;
  return {
    attempt: async () => {
      const e = errors[n++];
      if (e) throw e;
      return 'done';
    },
    calls: () => n,
  };
}

describe('isRetriableKafkaError', () => {
  it('takes every error kafkajs marks retriable, not only "leader not available"', () => {
    expect(isRetriableKafkaError(createErrorFromCode(UNKNOWN_TOPIC_OR_PARTITION))).toBe(true);
    expect(isRetriableKafkaError(createErrorFromCode(LEADER_NOT_AVAILABLE))).toBe(true);
    expect(isRetriableKafkaError(createErrorFromCode(INVALID_REPLICATION_FACTOR))).toBe(false);
    expect(isRetriableKafkaError(new TypeError('x is undefined'))).toBe(false);
    expect(isRetriableKafkaError(undefined)).toBe(false);
  });

  it('looks through kafkajs giving up on its own retries to the error it gave up on', () => {
    const gaveUp = { retryCount: 5, retryTime: 3000 };
    expect(isRetriableKafkaError(new KafkaJSNumberOfRetriesExceeded(createErrorFromCode(UNKNOWN_TOPIC_OR_PARTITION), gaveUp))).toBe(true);
    expect(isRetriableKafkaError(new KafkaJSNumberOfRetriesExceeded(createErrorFromCode(INVALID_REPLICATION_FACTOR), gaveUp))).toBe(false);
  });

  it('takes a per-topic aggregate only when every part is retriable or the topic already exists', () => {
    const exists = createErrorFromCode(TOPIC_ALREADY_EXISTS);
    expect(isRetriableKafkaError(new KafkaJSAggregateError('create', [exists, createErrorFromCode(UNKNOWN_TOPIC_OR_PARTITION)]))).toBe(true);
    expect(isRetriableKafkaError(new KafkaJSAggregateError('create', [exists, createErrorFromCode(INVALID_REPLICATION_FACTOR)]))).toBe(false);
  });
});

describe('retryKafka', () => {
  // The backoff waits run on fake timers: each test runs them out instead of sleeping.
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('retries retriable errors until the call succeeds', async () => {
    const f = failing(createErrorFromCode(UNKNOWN_TOPIC_OR_PARTITION), createErrorFromCode(LEADER_NOT_AVAILABLE));
    const done = retryKafka('creating Kafka topic t1', f.attempt, { initialDelayMs: 1 });
    await vi.runAllTimersAsync();
    await expect(done).resolves.toBe('done');
    expect(f.calls()).toBe(3);
  });

  it('fails at once on an error that will not go away, naming what it was doing', async () => {
    const f = failing(createErrorFromCode(INVALID_REPLICATION_FACTOR));
    const e = await retryKafka('creating Kafka topic t1', f.attempt).catch((x: Error) => x);
    expect(f.calls()).toBe(1);
    expect(e).toBeInstanceOf(Error);
    expect((e as Error).message).toBe('creating Kafka topic t1: Replication-factor is invalid');
    expect((e as Error).cause).toMatchObject({ type: 'INVALID_REPLICATION_FACTOR' });
  });

  it('gives up at the deadline with the topic and the last error in the message', async () => {
    const started = Date.now();
    const failed = retryKafka(
      'creating Kafka topic t1',
      async () => {
        throw createErrorFromCode(UNKNOWN_TOPIC_OR_PARTITION);
      },
      { timeoutMs: 300, initialDelayMs: 20, maxDelayMs: 50 },
    ).catch((x: Error) => x);
    // Runs every backoff wait up to the deadline, on the fake clock.
    await vi.runAllTimersAsync();
    const e = await failed;
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect((e as Error).message).toMatch(
      /^creating Kafka topic t1: still failing after \d+ attempts in 0\.3 s: This server does not host this topic-partition$/,
    );
    expect((e as Error).cause).toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION', retriable: true });
  });
});

describe('rememberingPartitioner', () => {
  const partitions = (n: number): PartitionMetadata[] => Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0 }));

  it('puts every keyed message where kafkajs\' own default partitioner does, the first time and remembered', () => {
    const ours = rememberingPartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    const keys = ['acme:pbx:pbx1', 'acme:call:1795306506.1', 'é:ünïcode', '', ...Array.from({ length: 500 }, (_, i) => `t${i % 7}:call:${i * 7919}`)];
    const spread = new Set<number>();
    for (const n of [1, 3, 12]) {
      for (const round of [1, 2]) {
        for (const key of keys) {
          for (const topic of ['pbx.raw.v1', 'cc.events.v1']) {
            const args = { topic, partitionMetadata: partitions(n), message: { key, value: 'x' } };
            const p = ours(args);
            expect(p, `${key} on ${topic} (${n} partitions, round ${round})`).toBe(theirs(args));
            if (n === 12) spread.add(p);
          }
        }
      }
    }
    // Not one partition for everything: the hash is really applied.
    expect(spread.size).toBe(12);
  });

  it('leaves an explicit partition, a Buffer key and a keyless message to the default', () => {
    const ours = rememberingPartitioner();
    const meta = partitions(12);
    expect(ours({ topic: 't', partitionMetadata: meta, message: { key: 'k', value: 'x', partition: 5 } })).toBe(5);
    const byBuffer = ours({ topic: 't', partitionMetadata: meta, message: { key: Buffer.from('acme:pbx:pbx1'), value: 'x' } });
    expect(byBuffer).toBe(Partitioners.DefaultPartitioner()({ topic: 't', partitionMetadata: meta, message: { key: Buffer.from('acme:pbx:pbx1'), value: 'x' } }));
    // Keyless: round robin over the available partitions, as kafkajs does.
    const keyless = new Set(Array.from({ length: 24 }, () => ours({ topic: 't', partitionMetadata: meta, message: { value: 'x' } })));
    expect(keyless.size).toBe(12);
  });
});

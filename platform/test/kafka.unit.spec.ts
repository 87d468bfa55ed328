// Which Kafka errors are worth another attempt, the retry around topic set-up, and where the
// producers put a key. The errors are built by each client itself from broker error codes,
// exactly as a broker answer would produce them: @platformatic/kafka (the services) and kafkajs
// (the tests' independent client, which also runs ensureTopics).
import { createRequire } from 'node:module';
import { KafkaJSAggregateError, KafkaJSNumberOfRetriesExceeded, Partitioners, type PartitionMetadata } from 'kafkajs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MultipleErrors, NetworkError, ProtocolError, ResponseError, TimeoutError, UserError } from '@platformatic/kafka';
import { isRetriableKafkaError, javaCompatiblePartitioner, retryKafka } from '../src/kafka.ts';

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

describe('isRetriableKafkaError on @platformatic/kafka errors', () => {
  it('takes what the client marks retriable, and network trouble and timeouts', () => {
    expect(isRetriableKafkaError(new ProtocolError('UNKNOWN_TOPIC_OR_PARTITION'))).toBe(true);
    expect(isRetriableKafkaError(new ProtocolError('LEADER_NOT_AVAILABLE'))).toBe(true);
    expect(isRetriableKafkaError(new ProtocolError('INVALID_REPLICATION_FACTOR'))).toBe(false);
    expect(isRetriableKafkaError(new NetworkError('Connection closed'))).toBe(true);
    expect(isRetriableKafkaError(new TimeoutError('Request timed out'))).toBe(true);
    expect(isRetriableKafkaError(new UserError('/options/topics must be an array'))).toBe(false);
  });

  it('takes a response of per-topic errors only when every part is retriable or the topic already exists', () => {
    // CreateTopics (API 19) answering for two topics, as the client reports it.
    const exists = new ResponseError(19, 7, { '/topics/0': [36, 'exists'], '/topics/1': [3, null] }, {});
    expect(isRetriableKafkaError(exists)).toBe(true);
    const bad = new ResponseError(19, 7, { '/topics/0': [36, 'exists'], '/topics/1': [38, 'bad factor'] }, {});
    expect(isRetriableKafkaError(bad)).toBe(false);
  });

  it('looks through the client giving up on every broker to the errors it gave up on', () => {
    expect(isRetriableKafkaError(new MultipleErrors('Cannot connect to any broker.', [new NetworkError('ECONNREFUSED'), new NetworkError('ECONNREFUSED')]))).toBe(true);
    expect(isRetriableKafkaError(new MultipleErrors('failed', [new UserError('bad')]))).toBe(false);
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

describe('javaCompatiblePartitioner', () => {
  const partitions = (n: number): PartitionMetadata[] => Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0 }));
  // The client takes the partitioner's number modulo the topic's partition count.
  const place = (ours: ReturnType<typeof javaCompatiblePartitioner>, topic: string, key: string | Buffer | undefined, n: number) => {
    const bytes = key === undefined ? undefined : Buffer.isBuffer(key) ? key : Buffer.from(key);
    return ours({ topic, key, value: 'x' } as never, bytes, { metadata: undefined }) % n;
  };

  it("puts every keyed message where kafkajs' default (the Java client's) partitioner does, the first time and remembered", () => {
    const ours = javaCompatiblePartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    const keys = ['acme:pbx:pbx1', 'acme:call:1795306506.1', 'é:ünïcode', ...Array.from({ length: 500 }, (_, i) => `t${i % 7}:call:${i * 7919}`)];
    const spread = new Set<number>();
    for (const n of [1, 3, 12]) {
      for (const round of [1, 2]) {
        for (const key of keys) {
          for (const topic of ['pbx.raw.v1', 'cc.events.v1']) {
            const p = place(ours, topic, key, n);
            expect(p, `${key} on ${topic} (${n} partitions, round ${round})`).toBe(theirs({ topic, partitionMetadata: partitions(n), message: { key, value: 'x' } }));
            if (n === 12) spread.add(p);
          }
        }
      }
    }
    // Not one partition for everything: the hash is really applied.
    expect(spread.size).toBe(12);
  });

  it('hashes a Buffer key like its string, and spreads keyless messages round robin', () => {
    const ours = javaCompatiblePartitioner();
    expect(place(ours, 't', Buffer.from('acme:pbx:pbx1'), 12)).toBe(Partitioners.DefaultPartitioner()({ topic: 't', partitionMetadata: partitions(12), message: { key: Buffer.from('acme:pbx:pbx1'), value: 'x' } }));
    const keyless = new Set(Array.from({ length: 24 }, () => place(ours, 't', undefined, 12)));
    expect(keyless.size).toBe(12);
  });
});

// Kafka client factory and topic set-up. Topics are created by the services at start-up
// (idempotent), with partitions and retention from config.
import { Kafka, Partitioners, logLevel as KafkaLogLevel, type Admin, type ICustomPartitioner, type LogEntry } from 'kafkajs';
import { join } from 'node:path';
import type { CallboardConfig } from './config.ts';
import { startLocalKafka, type LocalKafka } from './kafka-local.ts';
import type { Logger } from './log.ts';

export const TOPICS = {
  raw: 'pbx.raw.v1',
  events: 'cc.events.v1',
  dlq: 'cc.dlq.v1',
} as const;
export type TopicName = keyof typeof TOPICS;

export function topicName(cfg: Pick<CallboardConfig, 'kafka'>, t: TopicName): string {
  return cfg.kafka.topicPrefix + TOPICS[t];
}

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [KafkaLogLevel.ERROR]: 'error',
  [KafkaLogLevel.WARN]: 'warn',
  [KafkaLogLevel.INFO]: 'info',
  [KafkaLogLevel.DEBUG]: 'debug',
};

/** Keys remembered per producer before the memo starts again (a batch of a busy PBX has a few thousand). */
const PARTITION_MEMO_KEYS = 50_000;

/**
 * kafkajs' default partitioner (murmur2 of the key, as the Java client), with the partition of a
 * string key remembered per topic and partition count. kafkajs hashes every message of a send
 * again, in JavaScript with 64-bit arithmetic emulated: ~5 % of the AMI path's CPU, where all
 * raw records of a batch share their PBX's key and a call's events share theirs
 * (docs/BENCHMARKS.md, "The partitioner, remembered"). The partitions are the default's, so
 * producers with and without it agree.
 */
export const rememberingPartitioner: ICustomPartitioner = () => {
  const partitioner = Partitioners.DefaultPartitioner();
  let memo = new Map<string, number>();
  return (args) => {
    const { topic, partitionMetadata, message } = args;
    if (typeof message.key !== 'string' || (message.partition !== null && message.partition !== undefined)) return partitioner(args);
    const k = `${partitionMetadata.length}\u0000${topic}\u0000${message.key}`;
    let p = memo.get(k);
    if (p === undefined) {
      p = partitioner(args);
      if (memo.size >= PARTITION_MEMO_KEYS) memo = new Map();
      memo.set(k, p);
    }
    return p;
  };
};

export function createKafka(cfg: Pick<CallboardConfig, 'kafka'>, log?: Logger, clientId?: string): Kafka {
  if (cfg.kafka.brokers.length === 0) throw new Error('KAFKA_BROKERS is empty: start the local broker first (resolveBrokers)');
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  const kafka = new Kafka({
    clientId: clientId ?? cfg.kafka.clientId,
    brokers: cfg.kafka.brokers,
    connectionTimeout: 3000,
    // kafkajs logs transient errors at ERROR (coordinator loading; a new topic's leader not
    // serving it yet, which ensureTopics waits out); they are retried, so warn.
    logLevel: KafkaLogLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        if (!log) return;
        const { message, ...rest } = entry;
        const lvl = LEVELS[level] ?? 'info';
        const transient = /coordinator|leadership|rebalanc|not available|not the leader|does not host this topic-partition/i.test(String(rest.error ?? message));
        log[transient && lvl === 'error' ? 'warn' : lvl]({ kafka: rest }, message);
      },
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5000 },
  });
  // Every producer of the project partitions alike, through the remembering partitioner.
  const producer = kafka.producer.bind(kafka);
  kafka.producer = (config) => producer({ createPartitioner: rememberingPartitioner, ...config });
  return kafka;
}

export interface KafkaRetryOptions {
  /** Give up after this long (default 60 s): a broker that stays unready is a real fault. */
  timeoutMs?: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * kafkajs marks transient errors `retriable: true` (leader elections, a topic the broker does not
 * serve yet, connection drops). Its own retrier gives up after a fixed count, and some admin
 * paths do not retry at all (createTopics only waits out LEADER_NOT_AVAILABLE), so a freshly
 * created topic can fail a caller that would have succeeded a moment later.
 */
export function isRetriableKafkaError(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const x = e as { name?: string; type?: string; retriable?: boolean; cause?: unknown; errors?: unknown[] };
  if (x.retriable === true) return true;
  // kafkajs' retrier ran out of attempts on a transient error: our deadline is longer.
  if (x.name === 'KafkaJSNumberOfRetriesExceeded') return isRetriableKafkaError(x.cause);
  // One error per topic from createTopics; another service may have created some meanwhile.
  if (x.name === 'KafkaJSAggregateError' && Array.isArray(x.errors) && x.errors.length > 0) {
    return x.errors.every((err) => (err as { type?: string }).type === 'TOPIC_ALREADY_EXISTS' || isRetriableKafkaError(err));
  }
  return false;
}

/** Runs `attempt` until it succeeds, a non-retriable error, or the deadline; the final error names `what`. */
export async function retryKafka<T>(what: string, attempt: () => Promise<T>, opts: KafkaRetryOptions = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  let delay = opts.initialDelayMs ?? 100;
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (e) {
      if (!isRetriableKafkaError(e)) throw new Error(`${what}: ${reason(e)}`, { cause: e });
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${what}: still failing after ${n} attempts in ${timeoutMs / 1000} s: ${reason(e)}`, { cause: e });
      await new Promise((r) => setTimeout(r, Math.min(delay, left)));
      delay = Math.min(delay * 2, opts.maxDelayMs ?? 2000);
    }
  }
}

// An aggregate's own message is just "Topic creation errors"; the broker's reasons are inside.
function reason(e: unknown): string {
  const x = e as { message?: string; errors?: unknown[] };
  const parts = Array.isArray(x.errors) ? x.errors.map((p) => (p as { message?: string }).message ?? String(p)) : [];
  return parts.length > 0 ? `${x.message}: ${[...new Set(parts)].join('; ')}` : String(x.message ?? e);
}

export async function ensureTopics(
  admin: Admin,
  cfg: Pick<CallboardConfig, 'kafka'>,
  names: TopicName[] = ['raw', 'events', 'dlq'],
  retry: KafkaRetryOptions = {},
): Promise<void> {
  const topics = names.map((n) => topicName(cfg, n));
  const which = `Kafka topic${topics.length === 1 ? '' : 's'} ${topics.join(', ')}`;
  await retryKafka(
    `creating ${which}`,
    async () => {
      // Listed again on every attempt: an attempt that failed may still have created some.
      const existing = new Set(await admin.listTopics());
      const wanted = topics.filter((t) => !existing.has(t));
      if (wanted.length === 0) return;
      await admin.createTopics({
        waitForLeaders: true,
        topics: wanted.map((topic) => ({
          topic,
          numPartitions: cfg.kafka.partitions,
          replicationFactor: cfg.kafka.replicationFactor,
          configEntries: [
            { name: 'retention.ms', value: String(cfg.kafka.retentionMs) },
            // Raw and canonical logs are the source of truth: never compacted away.
            { name: 'cleanup.policy', value: 'delete' },
          ],
        })),
      });
    },
    retry,
  );
  // Right after creation a topic is listed, even with a leader in its metadata, before that
  // leader serves it (UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER). Callers produce and
  // read offsets next: return only once every partition answers an offset request.
  await retryKafka(`waiting for the partition leaders of ${which}`, () => Promise.all(topics.map((t) => admin.fetchTopicOffsets(t).catch(notServedYet))), retry);
}

/**
 * On a cluster, a broker that has not yet learnt of a new topic answers ListOffsets without it,
 * and kafkajs then fails with a TypeError (`Cannot destructure property 'partitions'`) instead
 * of UNKNOWN_TOPIC_OR_PARTITION. It is that transient state, so it is retried like it.
 */
function notServedYet(e: unknown): never {
  if (e instanceof TypeError) throw Object.assign(new Error(`topic not served by every broker yet (${e.message})`), { retriable: true });
  throw e;
}

/**
 * With KAFKA_BROKERS set, use those brokers. Unset: start the project's local KRaft broker in
 * the data dir (or reuse one already running there) and return a config that points at it.
 */
export async function resolveBrokers(cfg: CallboardConfig, log: Logger): Promise<{ cfg: CallboardConfig; local: LocalKafka | null }> {
  if (cfg.kafka.brokers.length > 0) return { cfg, local: null };
  const local = await startLocalKafka({
    port: cfg.kafka.localPort,
    dataDir: join(cfg.dataDir, 'kafka'),
    detached: true,
    stopWithProcess: true,
    log: (m) => log.info(m),
  });
  return { cfg: { ...cfg, kafka: { ...cfg.kafka, brokers: local.brokers } }, local };
}

// Kafka client factory and topic set-up. Topics are created by the services at start-up
// (idempotent), with partitions and retention from config.
import { Admin, Producer, ProduceAcks, TimeoutError, murmur2, type Partitioner } from '@platformatic/kafka';
import { join } from 'node:path';
import type { CallboardConfig } from './config.ts';
// Before any client is made: two faults of the client, mended (see the file).
import './platformatic-fixes.ts';
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

// The client is @platformatic/kafka (docs/BENCHMARKS.md, "The client switch"): the same AMI
// adapter wrote 1.75× the frames per second on it than on kafkajs, whose last release was in
// 2023. The services see only the small ports below, shaped like the kafkajs calls they made
// before, so a test can still drive them with kafkajs as an independent client.

/** A message to produce. Strings are sent as UTF-8. */
export interface KafkaMessage {
  key?: string | Buffer | null;
  value: string | Buffer | null;
  headers?: Record<string, string | Buffer | undefined>;
  /** Sets the partition instead of the key's hash. */
  partition?: number;
}

export interface ProducerRecord {
  topic: string;
  messages: KafkaMessage[];
  /** Only -1 (all in-sync replicas) is meaningful for an idempotent producer; accepted for clarity. */
  acks?: -1;
  compression?: 'gzip';
}

/** One per partition a send wrote to: the offset of its first message there. */
export interface RecordMetadata {
  topicName: string;
  partition: number;
  baseOffset: string;
}

export interface KafkaProducer {
  /** Fails when no broker answers within the client's timeout. */
  connect(): Promise<void>;
  send(record: ProducerRecord): Promise<RecordMetadata[]>;
  disconnect(): Promise<void>;
}

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  replicationFactor: number;
  configEntries?: { name: string; value: string }[];
}

/** A partition's offsets: `high` is the next offset to be written, `low` the first still kept. */
export interface PartitionOffsets {
  partition: number;
  offset: string;
  high: string;
  low: string;
}

export interface KafkaAdmin {
  connect(): Promise<void>;
  listTopics(): Promise<string[]>;
  createTopics(o: { topics: TopicSpec[]; waitForLeaders?: boolean }): Promise<boolean>;
  fetchTopicOffsets(topic: string): Promise<PartitionOffsets[]>;
  /** Per partition, the first offset whose timestamp is at or after `at` (ms); "-1" when none is. */
  fetchTopicOffsetsByTimestamp(topic: string, at: number): Promise<{ partition: number; offset: string }[]>;
  disconnect(): Promise<void>;
}

export interface KafkaClient {
  producer(o?: { idempotent?: boolean; maxInFlightRequests?: number }): KafkaProducer;
  admin(): KafkaAdmin;
  /** Brokers and client id, for the consumers (kafka-consumer.ts). */
  readonly connection: KafkaConnection;
}

export interface KafkaConnection {
  clientId: string;
  bootstrapBrokers: string[];
  /** Per request, and the retries of a request a broker refused for a transient reason. */
  timeout: number;
  retries: number;
  retryDelay: number;
  log?: Logger;
}

/** Keys remembered per producer before the memo starts again (a batch of a busy PBX has a few thousand). */
const PARTITION_MEMO_KEYS = 50_000;
const JAVA_MURMUR2_MASK = 0x7fffffff;

/**
 * The Java client's partitioner (murmur2 of the key, sign bit cleared, modulo the partition
 * count, which the client applies), so a key lands where kafkajs, librdkafka's murmur2 mode and
 * the Java client put it: a call's events keep one partition whoever wrote them. The hash of a
 * string key is remembered per topic: murmur2 runs on BigInt here, and all raw records of a
 * batch share their PBX's key, a call's events theirs (docs/BENCHMARKS.md, "The partitioner,
 * remembered"). Keyless messages go round robin (the client's own counter).
 */
export function javaCompatiblePartitioner(): Partitioner<Buffer, Buffer, Buffer, Buffer> {
  let memo = new Map<string, number>();
  let next = 0;
  return (message, key) => {
    const k = (message as { key?: unknown }).key;
    if (typeof k === 'string') {
      const id = `${message.topic}\u0000${k}`;
      let h = memo.get(id);
      if (h === undefined) {
        h = murmur2(key ?? Buffer.from(k)) & JAVA_MURMUR2_MASK;
        if (memo.size >= PARTITION_MEMO_KEYS) memo = new Map();
        memo.set(id, h);
      }
      return h;
    }
    if (key && key.length > 0) return murmur2(key) & JAVA_MURMUR2_MASK;
    next = (next + 1) & JAVA_MURMUR2_MASK;
    return next;
  };
}

const asBuffer = (v: unknown): Buffer | undefined => (v === undefined || v === null ? undefined : Buffer.isBuffer(v) ? v : Buffer.from(String(v)));
const serializers = { key: asBuffer, value: asBuffer, headerKey: asBuffer, headerValue: asBuffer };

export function createKafka(cfg: Pick<CallboardConfig, 'kafka'>, log?: Logger, clientId?: string): KafkaClient {
  if (cfg.kafka.brokers.length === 0) throw new Error('KAFKA_BROKERS is empty: start the local broker first (resolveBrokers)');
  const connection: KafkaConnection = {
    clientId: clientId ?? cfg.kafka.clientId,
    bootstrapBrokers: cfg.kafka.brokers,
    timeout: 10_000,
    retries: 8,
    retryDelay: 250,
    ...(log ? { log } : {}),
  };
  const base = { clientId: connection.clientId, bootstrapBrokers: connection.bootstrapBrokers, timeout: connection.timeout, connectTimeout: 3000, retries: connection.retries, retryDelay: connection.retryDelay };
  return {
    connection,
    producer: (o = {}) => {
      const idempotent = o.idempotent ?? false;
      type Client = Producer<unknown, unknown, unknown, unknown>;
      const make = (compression?: 'gzip'): Client =>
        new Producer({
          ...base,
          idempotent,
          acks: ProduceAcks.ALL,
          ...(compression ? { compression } : {}),
          partitioner: javaCompatiblePartitioner() as Partitioner<unknown, unknown, unknown, unknown>,
          serializers: serializers as never,
          autocreateTopics: false,
        });
      // Compression is a producer's setting in this client, so GZIP sends have a client of their
      // own (made on first use). Each client is a lane: a send waits for the one before it. This
      // client reads a partition's sequence number when it builds a request and advances it only
      // on the answer, so two sends at once to one partition would carry the same numbers, and the
      // broker would take the second for a retry of the first and drop it (kafkajs held a lock
      // per broker for this; platform/test/kafka.int.spec.ts sends at once and counts).
      const lanes: Record<'plain' | 'gzip', { client: Client | null; tail: Promise<unknown> }> = {
        plain: { client: null, tail: Promise.resolve() },
        gzip: { client: null, tail: Promise.resolve() },
      };
      let closed = false;
      const disconnected = () => new Error(`Kafka producer ${connection.clientId} is disconnected: connect() it again first`);
      const clientOf = (lane: 'plain' | 'gzip') => (lanes[lane].client ??= make(lane === 'gzip' ? 'gzip' : undefined));
      const inLane = <T>(lane: 'plain' | 'gzip', f: (c: Client) => Promise<T>): Promise<T> => {
        const result = lanes[lane].tail.then(() => {
          if (closed) throw disconnected();
          return f(clientOf(lane));
        });
        lanes[lane].tail = result.catch(() => undefined);
        return result;
      };
      return {
        // Opens it again after a disconnect(), as kafkajs did.
        connect: async () => {
          closed = false;
          await clientOf('plain').metadata({ topics: [] });
        },
        send: async (r) => {
          if (r.messages.length === 0) return [];
          if (closed) throw disconnected();
          const lane = r.compression === 'gzip' ? 'gzip' : 'plain';
          const messages = r.messages.map((m) => ({
            topic: r.topic,
            key: m.key ?? undefined,
            value: m.value ?? undefined,
            ...(m.headers ? { headers: dropUndefined(m.headers) } : {}),
            ...(m.partition !== undefined ? { partition: m.partition } : {}),
          }));
          return inLane(lane, async (client) => {
            try {
              // acks per send: the client's default for a send is the leader's ack alone unless idempotent.
              const res = await client.send({ messages, acks: ProduceAcks.ALL } as never);
              return (res.offsets ?? []).map((x) => ({ topicName: x.topic, partition: x.partition, baseOffset: String(x.offset) }));
            } catch (e) {
              // The batch may or may not have been written, so the client's sequence numbers may no
              // longer be the broker's: the next send gets a new producer id. (A batch the caller
              // sends again can then be written twice; every reader of the log is idempotent.)
              if (idempotent && lanes[lane].client === client) {
                lanes[lane].client = null;
                client.close().catch(() => undefined);
              }
              throw e;
            }
          });
        },
        disconnect: async () => {
          closed = true;
          const clients = [lanes.plain.client, lanes.gzip.client];
          lanes.plain.client = lanes.gzip.client = null;
          await Promise.all(clients.map((c) => c?.close()));
        },
      };
    },
    admin: () => platformaticAdmin(new Admin(base)),
  };
}

function dropUndefined(h: Record<string, string | Buffer | undefined>): Record<string, string | Buffer> {
  const out: Record<string, string | Buffer> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = v;
  return out;
}

// ListOffsets' special timestamps.
const LATEST = -1n;
const EARLIEST = -2n;

function platformaticAdmin(admin: Admin): KafkaAdmin {
  const partitionsOf = async (topic: string): Promise<number[]> => {
    const meta = await admin.metadata({ topics: [topic], forceUpdate: true });
    const t = meta.topics.get(topic);
    if (!t) throw Object.assign(new Error(`topic ${topic} is not known to the cluster yet`), { retriable: true });
    return [...Array(t.partitionsCount).keys()];
  };
  const offsetsAt = async (topic: string, timestamp: bigint): Promise<Map<number, bigint>> => {
    const partitions = await partitionsOf(topic);
    const res = await admin.listOffsets({ topics: [{ name: topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp })) }] });
    return new Map((res.find((t) => t.name === topic)?.partitions ?? []).map((p) => [p.partitionIndex, p.offset]));
  };
  return {
    connect: async () => {
      await admin.metadata({ topics: [] });
    },
    listTopics: () => admin.listTopics(),
    createTopics: async ({ topics }) => {
      // One request per topic: this client applies partitions, replicas and configs to every topic of a request.
      for (const t of topics) {
        await admin.createTopics({ topics: [t.topic], partitions: t.numPartitions, replicas: t.replicationFactor, configs: t.configEntries ?? [] });
      }
      return true;
    },
    fetchTopicOffsets: async (topic) => {
      const [high, low] = await Promise.all([offsetsAt(topic, LATEST), offsetsAt(topic, EARLIEST)]);
      return [...high].map(([partition, h]) => ({ partition, offset: String(h), high: String(h), low: String(low.get(partition) ?? 0n) }));
    },
    fetchTopicOffsetsByTimestamp: async (topic, at) => [...(await offsetsAt(topic, BigInt(at)))].map(([partition, offset]) => ({ partition, offset: String(offset) })),
    disconnect: () => admin.close(),
  };
}

export interface KafkaRetryOptions {
  /** Give up after this long (default 60 s): a broker that stays unready is a real fault. */
  timeoutMs?: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** How the final error names its cause (default: the message, with an aggregate's parts). */
  describe?: (e: unknown) => string;
}

/** What a Kafka error carries, from either client, as `someKafkaError` hands it to a test. */
export interface KafkaErrorPart {
  /** The broker's error code by name: @platformatic/kafka's `apiId`, kafkajs' `type`. */
  broker?: string;
  code?: string;
  brokerGone?: boolean;
  error: object;
}

/**
 * Whether `e` or an error inside it passes `test`. @platformatic/kafka nests the broker's answer
 * as an aggregate per attempt or send, then a response error per request; kafkajs puts it behind
 * causes. Every question asked of an error (too large? coordinator lost? offset expired?) walks
 * the same way.
 */
export function someKafkaError(e: unknown, test: (part: KafkaErrorPart) => boolean, depth = 0): boolean {
  if (typeof e !== 'object' || e === null || depth > 5) return false;
  const x = e as { type?: unknown; apiId?: unknown; code?: unknown; brokerGone?: unknown; errors?: unknown; cause?: unknown };
  const broker = typeof x.apiId === 'string' ? x.apiId : typeof x.type === 'string' ? x.type : undefined;
  const part: KafkaErrorPart = { error: e, ...(broker ? { broker } : {}), ...(typeof x.code === 'string' ? { code: x.code } : {}), ...(x.brokerGone === true ? { brokerGone: true } : {}) };
  if (test(part)) return true;
  if (Array.isArray(x.errors) && x.errors.some((y) => someKafkaError(y, test, depth + 1))) return true;
  return x.cause !== e && someKafkaError(x.cause, test, depth + 1);
}

/** Whether the broker answered one of `codes` (e.g. MESSAGE_TOO_LARGE) anywhere inside `e`. */
export function kafkaErrorIs(e: unknown, ...codes: string[]): boolean {
  return someKafkaError(e, (p) => p.broker !== undefined && codes.includes(p.broker));
}

/**
 * Whether a Kafka error is transient: a leader election, a topic a broker does not serve yet, a
 * dropped connection, a coordinator loading. Both clients are understood: @platformatic/kafka
 * (the services) sets `canRetry`, and wraps per-topic or per-broker failures in an aggregate;
 * kafkajs (the tests' independent client) sets `retriable`. Either gives up after a fixed count
 * of its own, and a freshly created topic can fail a caller that would succeed a moment later.
 */
export function isRetriableKafkaError(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const x = e as { name?: string; type?: string; apiId?: string; code?: string; retriable?: boolean; canRetry?: boolean; cause?: unknown; errors?: unknown[] };
  if (x.retriable === true || x.canRetry === true) return true;
  // The client's own retries ran out on a transient error: our deadline is longer.
  if (x.name === 'KafkaJSNumberOfRetriesExceeded') return isRetriableKafkaError(x.cause);
  // Timeouts are not retried by the client itself (a request may have been applied), but every
  // caller of retryKafka is idempotent.
  if (e instanceof TimeoutError) return true;
  // One error per topic or broker; another service may have created some topics meanwhile.
  if (Array.isArray(x.errors) && x.errors.length > 0) {
    return x.errors.every((err) => {
      const y = err as { type?: string; apiId?: string };
      return y.type === 'TOPIC_ALREADY_EXISTS' || y.apiId === 'TOPIC_ALREADY_EXISTS' || isRetriableKafkaError(err);
    });
  }
  if (x.cause && x.cause !== e) return isRetriableKafkaError(x.cause);
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
      const describe = opts.describe ?? reason;
      if (!isRetriableKafkaError(e)) throw new Error(`${what}: ${describe(e)}`, { cause: e });
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${what}: still failing after ${n} attempts in ${timeoutMs / 1000} s: ${describe(e)}`, { cause: e });
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
  admin: Pick<KafkaAdmin, 'listTopics' | 'createTopics' | 'fetchTopicOffsets'>,
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
 * and kafkajs (the tests' client) then fails with a TypeError (`Cannot destructure property 'partitions'`) instead
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

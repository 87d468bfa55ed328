// Kafka client factory and topic set-up. Topics are created by the services at start-up
// (idempotent), with partitions and retention from config.
import { Kafka, logLevel as KafkaLogLevel, type Admin, type LogEntry } from 'kafkajs';
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

export function createKafka(cfg: Pick<CallboardConfig, 'kafka'>, log?: Logger, clientId?: string): Kafka {
  if (cfg.kafka.brokers.length === 0) throw new Error('KAFKA_BROKERS is empty: start the local broker first (resolveBrokers)');
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  return new Kafka({
    clientId: clientId ?? cfg.kafka.clientId,
    brokers: cfg.kafka.brokers,
    connectionTimeout: 3000,
    // kafkajs logs transient coordinator-loading errors at ERROR; they are retried, so warn.
    logLevel: KafkaLogLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        if (!log) return;
        const { message, ...rest } = entry;
        const lvl = LEVELS[level] ?? 'info';
        const transient = /coordinator|leadership|rebalanc|not available/i.test(String(rest.error ?? message));
        log[transient && lvl === 'error' ? 'warn' : lvl]({ kafka: rest }, message);
      },
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5000 },
  });
}

export async function ensureTopics(admin: Admin, cfg: Pick<CallboardConfig, 'kafka'>, names: TopicName[] = ['raw', 'events', 'dlq']): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const wanted = names.map((n) => topicName(cfg, n)).filter((t) => !existing.has(t));
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

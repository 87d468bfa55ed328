// What the scale-out test (projections/test/scale-out.int.spec.ts) and bench (bench/scale-out.ts)
// share: a 3-node local Kafka cluster, the one engine served over HTTP (clickhouse-front.ts),
// real `callboard projections` child processes in one consumer group, and the group's progress.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Admin, Kafka } from 'kafkajs';
import { createClickHouse, freePort, loadConfig, retryKafka, sleep, startLocalKafka, topicName, type CallboardConfig, type ClickHouse, type LocalKafka } from '@callboard/platform';
import { partitionKey, type CanonicalEvent } from '@callboard/schemas';
import { busyQueueDay } from '../projections/test/given.ts';
import { serveClickHouse, type ClickHouseFront } from './clickhouse-front.ts';

const CALLBOARD = fileURLToPath(new URL('../bin/callboard.mjs', import.meta.url));
export const PARTITIONS = 12;

/** Calls across queues and agents (the crash test's mix), plus agent state changes. */
export function scaleOutEvents(tenant: string, calls: number, base: number): CanonicalEvent[] {
  return busyQueueDay({ tenant, calls, prefix: 's', queues: ['sales', 'support', 'billing'], agentPrefix: '20', agents: 17, start: base, callEveryMs: 41_000, stateChanges: Math.ceil(calls / 3), stateEveryMs: 123_000 });
}

export interface ScaleOutRig {
  kafka: LocalKafka;
  /** The one engine, opened in this process; `front` serves it to the children. */
  ch: ClickHouse;
  front: ClickHouseFront;
  /** Environment of every projections child (brokers, prefix, 12 partitions, RF 3, the front's URL). */
  env: NodeJS.ProcessEnv;
  cfg: CallboardConfig;
  close(): Promise<void>;
}

/** Starts the 3-node cluster and the engine front in a throwaway dir. */
export async function startRig(opts: { prefix: string; database: string; log?: (m: string) => void }): Promise<ScaleOutRig> {
  const dir = mkdtempSync(join(tmpdir(), 'callboard-scale-out-'));
  const nodePorts = [];
  for (let i = 0; i < 3; i++) nodePorts.push({ port: await freePort(), controllerPort: await freePort() });
  // 384 MB each: three JVMs share the machine with the engine and the consumers.
  const kafka = await startLocalKafka({ port: 0, nodePorts, dataDir: join(dir, 'kafka'), heap: '384m', stopWithProcess: true, log: opts.log });
  try {
    const env = {
      KAFKA_BROKERS: kafka.brokers.join(','),
      KAFKA_TOPIC_PREFIX: opts.prefix,
      KAFKA_PARTITIONS: String(PARTITIONS),
      KAFKA_REPLICATION_FACTOR: '3',
      CLICKHOUSE_DATABASE: opts.database,
      CALLBOARD_DATA_DIR: join(dir, 'data'),
      LOG_LEVEL: 'warn',
    };
    const cfg = loadConfig({ env });
    const ch = await createClickHouse(cfg, { embeddedPath: join(dir, 'clickhouse') });
    const front = await serveClickHouse(ch);
    return {
      kafka,
      ch,
      front,
      cfg,
      env: { ...process.env, ...env, CLICKHOUSE_URL: front.url },
      close: async () => {
        await front.close();
        await ch.close();
        await kafka.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await kafka.stop();
    throw e;
  }
}

export interface ProjectionsProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
  /** Resolves once /readyz answers 200 (joined, fetched, ClickHouse up); rejects if it exits first. */
  ready: Promise<void>;
}

/** A real `callboard projections` process, returned before it is ready so a caller can always kill it. */
export async function spawnProjections(env: NodeJS.ProcessEnv, timeoutMs = 240_000): Promise<ProjectionsProcess> {
  let code: number | null | undefined;
  const port = await freePort();
  const child = spawn(process.execPath, [CALLBOARD, 'projections', '--ops-port', String(port)], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<number | null>((r) =>
    child.once('exit', (c) => {
      code = c;
      r(c);
    }),
  );
  const ready = (async () => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (code !== undefined) throw new Error(`callboard projections exited (${code}) before it was ready`);
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`callboard projections not ready within ${timeoutMs / 1000} s`);
      await sleep(200);
    }
  })();
  ready.catch(() => {});
  return { child, exited, ready };
}

export async function produce(kafka: Kafka, topic: string, events: CanonicalEvent[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let i = 0; i < events.length; i += 1000) {
      await producer.send({ topic, acks: -1, messages: events.slice(i, i + 1000).map((e) => ({ key: partitionKey(e), value: JSON.stringify(e) })) });
    }
  } finally {
    await producer.disconnect();
  }
}

/** Offsets the projections' events group has committed, summed over the 12 partitions. */
export async function committed(admin: Admin, cfg: CallboardConfig): Promise<number> {
  // The group's coordinator may still be loading (GROUP_LOAD_IN_PROGRESS) right after the group forms.
  const [o] = await retryKafka('reading the projections group offsets', () => admin.fetchOffsets({ groupId: `${cfg.kafka.topicPrefix}callboard-projections-events`, topics: [topicName(cfg, 'events')] }));
  return (o?.partitions ?? []).reduce((a, p) => a + Math.max(0, Number(p.offset)), 0);
}

export async function logEnd(admin: Admin, cfg: CallboardConfig): Promise<number> {
  return (await admin.fetchTopicOffsets(topicName(cfg, 'events'))).reduce((a, p) => a + Number(p.high), 0);
}

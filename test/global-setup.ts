// One broker for the whole run. KAFKA_BROKERS set: use it. CALLBOARD_TESTCONTAINERS=1 with a
// Docker engine: testcontainers' Kafka. Otherwise: the project's own local KRaft broker from
// Maven Central jars, started here on a free port with a throwaway data dir, stopped at the end.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startLocalKafka } from '../platform/src/kafka-local.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string[];
    clickhouseUrl: string;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

interface Shared {
  brokers: string[];
  clickhouseUrl: string;
  users: number;
  stop: () => Promise<void>;
}
// The int and e2e projects each run this setup in the same main process; share one broker.
const g = globalThis as { __callboardBroker?: Promise<Shared> };

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  g.__callboardBroker ??= startShared();
  const shared = await g.__callboardBroker;
  shared.users++;
  project.provide('kafkaBrokers', shared.brokers);
  project.provide('clickhouseUrl', shared.clickhouseUrl);
  return async () => {
    if (--shared.users === 0) {
      delete g.__callboardBroker;
      await shared.stop();
    }
  };
}

async function startShared(): Promise<Shared> {
  if (process.env.KAFKA_BROKERS) {
    return { brokers: process.env.KAFKA_BROKERS.split(','), clickhouseUrl: process.env.CLICKHOUSE_URL ?? '', users: 0, stop: async () => {} };
  }
  if (process.env.CALLBOARD_TESTCONTAINERS === '1') {
    const { KafkaContainer } = await import('@testcontainers/kafka');
    const { ClickHouseContainer } = await import('@testcontainers/clickhouse');
    const kafka = await new KafkaContainer('confluentinc/cp-kafka:7.9.0').withKraft().start();
    const ch = await new ClickHouseContainer('clickhouse/clickhouse-server:25.8').start();
    return {
      brokers: [`${kafka.getHost()}:${kafka.getMappedPort(9093)}`],
      clickhouseUrl: ch.getHttpUrl(),
      users: 0,
      stop: async () => {
        await kafka.stop();
        await ch.stop();
      },
    };
  }
  // Two ports in a row: the broker and its controller.
  let port = await freePort();
  while (port > 65000) port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'callboard-test-kafka-'));
  const kafka = await startLocalKafka({ port, controllerPort: await freePort(), dataDir, heap: '512m', log: (m) => console.log(`[kafka] ${m}`) });
  return {
    brokers: kafka.brokers,
    clickhouseUrl: '',
    users: 0,
    stop: async () => {
      await kafka.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// One broker for the whole run. KAFKA_BROKERS set: use it. CALLBOARD_TESTCONTAINERS=1 with a
// Docker engine: testcontainers' Kafka. Otherwise: the project's own local KRaft broker from
// Maven Central jars, started here on a free port with a throwaway data dir, stopped at the end.
//
// The run also gets its own temp dir, made the workers' TMPDIR: whatever the tests create there
// (data dirs, ClickHouse files, the broker's data and pid file) goes when the run ends, even a
// run cut short, and a broker left behind by a run that was killed outright can be found by its
// pid file there (.ci/run does) instead of by a process name other people's brokers share.
import { mkdtempSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { freePort, startLocalKafka } from '../platform/src/kafka-local.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string[];
    clickhouseUrl: string;
  }
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
  const outerTmp = process.env.TMPDIR;
  const runDir = mkdtempSync(join(tmpdir(), 'callboard-test-run-'));
  // Workers are forked after global setup with this environment, so os.tmpdir() is runDir there.
  process.env.TMPDIR = runDir;
  const removeRunDir = () => {
    if (outerTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = outerTmp;
    rmSync(runDir, { recursive: true, force: true });
  };
  // A run cut short (Ctrl-C, SIGTERM, a crash) skips the teardown below. Node runs no 'exit'
  // listeners when a signal kills it, so a signal becomes an exit here; then the broker's exit
  // hook (stopWithProcess) SIGKILLs it by its pid, and this one removes the run dir. Both are
  // prepended: vitest's own 'exit' and signal listeners call process.exit(), which ends the
  // process before the listeners after theirs run.
  const onSignal = (signal: NodeJS.Signals) => process.exit(128 + constants.signals[signal]);
  const watch = (on: boolean) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      if (on) process.prependOnceListener(signal, onSignal);
      else process.off(signal, onSignal);
    }
    if (on) process.prependOnceListener('exit', removeRunDir);
    else process.off('exit', removeRunDir);
  };
  watch(true);
  try {
    const broker = await startBroker(runDir);
    return {
      ...broker,
      users: 0,
      stop: async () => {
        try {
          await broker.stop();
        } finally {
          watch(false);
          removeRunDir();
        }
      },
    };
  } catch (e) {
    watch(false);
    removeRunDir();
    throw e;
  }
}

async function startBroker(runDir: string): Promise<Omit<Shared, 'users'>> {
  if (process.env.KAFKA_BROKERS) {
    return { brokers: process.env.KAFKA_BROKERS.split(','), clickhouseUrl: process.env.CLICKHOUSE_URL ?? '', stop: async () => {} };
  }
  if (process.env.CALLBOARD_TESTCONTAINERS === '1') {
    const { KafkaContainer } = await import('@testcontainers/kafka');
    const { ClickHouseContainer } = await import('@testcontainers/clickhouse');
    const kafka = await new KafkaContainer('confluentinc/cp-kafka:7.9.0').withKraft().start();
    const ch = await new ClickHouseContainer('clickhouse/clickhouse-server:25.8').start();
    return {
      brokers: [`${kafka.getHost()}:${kafka.getMappedPort(9093)}`],
      clickhouseUrl: ch.getHttpUrl(),
      stop: async () => {
        await kafka.stop();
        await ch.stop();
      },
    };
  }
  // Two ports in a row: the broker and its controller.
  let port = await freePort();
  while (port > 65000) port = await freePort();
  const kafka = await startLocalKafka({
    port,
    controllerPort: await freePort(),
    // startLocalKafka writes broker.pid here.
    dataDir: join(runDir, 'kafka'),
    heap: '512m',
    // Killed by its pid when this process exits without the teardown (interrupted, crashed).
    stopWithProcess: true,
    log: (m) => console.log(`[kafka] ${m}`),
  });
  return { brokers: kafka.brokers, clickhouseUrl: '', stop: () => kafka.stop() };
}

// Crash test on the real broker: a projections process is SIGKILLed at random moments (often
// between its ClickHouse writes and its offset commit), restarted, killed again; finally it runs
// to the end. The metrics must equal those of an uninterrupted fold of the same events.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_QUEUE_SETTINGS, createClickHouse, createKafka, ensureTopics, migrate, readMigrations, topicName, type ClickHouse } from '@callboard/platform';
import { partitionKey } from '@callboard/schemas';
import { MIGRATIONS_DIR } from '../src/migrations-dir.ts';
import { agentMetrics, callMetrics, queueMetrics } from '../src/queries.ts';
import { loadEvents } from '../src/report.ts';
import { ProjectionStore } from '../src/store.ts';
import { tableChecksum } from '../src/rebuild.ts';
import { eventually, testConfig, toolKafka, uniqueId } from '../../test/helpers.ts';
import { busyQueueDay, utc } from './given.ts';

const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
const KILLS = 6;

interface Child {
  child: ChildProcess;
  ready: Promise<void>;
  exited: Promise<number | null>;
  /** How many times the child has said `folding`: a batch written, its commit due. */
  folds(): number;
}

function startChild(env: NodeJS.ProcessEnv): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let folds = 0;
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => {
      const text = b.toString();
      if (text.includes('ready')) resolve();
      folds += text.split('folding').length - 1;
    });
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before it was ready`)));
  });
  ready.catch(() => {});
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, ready, exited, folds: () => folds };
}

let ch: ClickHouse | undefined;
let chDir: string | undefined;
afterAll(async () => {
  await ch?.close();
  if (chDir) rmSync(chDir, { recursive: true, force: true });
});

describe('crash test', () => {
  it('killing the consumer mid-batch many times loses and double-counts nothing', { timeout: 600_000 }, async () => {
    const cfg = testConfig();
    const tenant = uniqueId('crash');
    const events = busyQueueDay({ tenant, calls: 600, prefix: 'k', queues: ['support', 'sales', 'sales'], agentPrefix: '10', agents: 7, start: utc('2026-03-02T06:00:00Z'), callEveryMs: 97_000, stateChanges: 200, stateEveryMs: 290_000 });

    // The log's ends and the group's committed offsets are read by the tests' own client.
    const admin = toolKafka(cfg).admin();
    await admin.connect();
    await ensureTopics(admin, cfg);
    const producer = createKafka(cfg).producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const topic = topicName(cfg, 'events');
    for (let i = 0; i < events.length; i += 500) {
      await producer.send({ topic, acks: -1, messages: events.slice(i, i + 500).map((e) => ({ key: partitionKey(e), value: JSON.stringify(e) })) });
    }
    // Invalid input goes to the DLQ, never into the numbers.
    await producer.send({ topic, acks: -1, messages: [{ key: 'x', value: '{not json' }, { key: 'y', value: JSON.stringify({ ...events[0], payload: { bogus: 1 } }) }] });
    await producer.disconnect();

    const group = `${cfg.kafka.topicPrefix}proj`;
    chDir = mkdtempSync(join(tmpdir(), 'callboard-crash-'));
    const chPath = join(chDir, 'clickhouse');
    const env = {
      ...process.env,
      KAFKA_BROKERS: cfg.kafka.brokers.join(','),
      KAFKA_TOPIC_PREFIX: cfg.kafka.topicPrefix,
      KAFKA_PARTITIONS: String(cfg.kafka.partitions),
      CLICKHOUSE_DATABASE: cfg.clickhouse.database,
      CALLBOARD_DATA_DIR: cfg.dataDir,
      CRASH_CH_PATH: chPath,
      CRASH_GROUP: group,
      LOG_LEVEL: 'error',
    };
    const ends = async () => (await admin.fetchTopicOffsets(topic)).reduce((a, p) => a + Number(p.high), 0);
    const committed = async () => {
      const [o] = await admin.fetchOffsets({ groupId: `${group}-events`, topics: [topic] });
      return (o?.partitions ?? []).reduce((a, p) => a + Math.max(0, Number(p.offset)), 0);
    };
    const total = await ends();
    const progress: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      const c = startChild(env);
      await c.ready;
      // Killed between the ClickHouse writes and the commit of its (k+1)-th batch: where a lost
      // commit means the batch is delivered again. Earlier batches are committed, so kills land
      // further into the log each time; a consumer with fewer batches left finishes instead.
      await eventually(
        async () => (c.folds() > k || (await committed()) >= total ? true : undefined),
        120_000,
        `the restarted consumer to write its batch ${k + 1}`,
      );
      c.child.kill('SIGKILL');
      await c.exited;
      progress.push(await committed());
      if (progress[progress.length - 1] === total) break;
    }
    const last = startChild(env);
    await last.ready;
    await eventually(
      async () => {
        const n = await committed();
        if (n < total) throw new Error(`${n} of ${total} committed (after the kills: ${progress.join(', ')})`);
        return true;
      },
      240_000,
      'the restarted consumer to catch up',
    );
    const dlq = (await admin.fetchTopicOffsets(topicName(cfg, 'dlq'))).reduce((a, p) => a + Number(p.high), 0);
    expect(dlq).toBeGreaterThanOrEqual(2); // at least once: a kill may send a DLQ record again
    last.child.kill('SIGTERM');
    expect(await last.exited).toBe(0);
    await admin.disconnect();

    ch = await createClickHouse(cfg, { embeddedPath: chPath });
    const ref: ClickHouse = { ...ch, db: `${cfg.clickhouse.database}_ref` };
    await ch.client.command({ query: `CREATE DATABASE IF NOT EXISTS ${ref.db}` });
    await migrate(ref, readMigrations(MIGRATIONS_DIR));
    await loadEvents(new ProjectionStore(ref), events);

    const query = { tenant_id: tenant, timezone: 'Africa/Nairobi', week_start: 'monday' as const, period: { kind: 'MONTH' as const, date: '2026-03' }, settings: () => DEFAULT_QUEUE_SETTINGS, now: new Date('2026-06-01T00:00:00Z') };
    const crashed = [await queueMetrics(ch, { ...query, group_by: 'queue' }), await agentMetrics(ch, { ...query, group_by: 'agent' }), await callMetrics(ch, { ...query, group_by: 'none' })];
    const reference = [await queueMetrics(ref, { ...query, group_by: 'queue' }), await agentMetrics(ref, { ...query, group_by: 'agent' }), await callMetrics(ref, { ...query, group_by: 'none' })];
    expect(crashed).toEqual(reference);
    expect(crashed[0]!.reduce((a, r) => a + ('offered' in r ? r.offered : 0), 0)).toBe(600);
    for (const t of ['calls', 'queue_legs', 'agent_calls', 'agent_intervals']) expect(await tableChecksum(ch, t), t).toBe(await tableChecksum(ref, t));
    const rs = await ch.client.query({ query: `SELECT uniqExact(event_id) AS n FROM ${ch.db}.events`, format: 'JSONEachRow' });
    expect(Number(((await rs.json()) as { n: number }[])[0]!.n)).toBe(events.length);
    console.log(`crash test: ${progress.length} kills, committed offsets after each: ${progress.join(', ')} of ${total}`);
  });
});

// Projections readiness means consuming. A projections process is SIGKILLed while it holds the
// events group; a new one started right after is not ready while the broker still counts the dead
// member (until its session times out), and turns ready only once it has joined the group and
// fetched — then it folds what is produced.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createClickHouse, createKafka, createLogger, DEFAULT_QUEUE_SETTINGS, ensureTopics, Health, topicName, type ClickHouse } from '@callboard/platform';
import { partitionKey } from '@callboard/schemas';
import { startProjections, type Projections } from '../src/main.ts';
import { queueMetrics } from '../src/queries.ts';
import { eventually, testConfig, toolKafka, uniqueId } from '../../test/helpers.ts';
import { queuedCall, utc } from './given.ts';

// The crash test's child: a real projections process, session timeout 6 s.
const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));

let ch: ClickHouse | undefined;
let p: Projections | undefined;
let child: ChildProcess | undefined;
afterAll(async () => {
  child?.kill('SIGKILL');
  await p?.stop();
  await ch?.close();
});

describe('projections readiness', () => {
  it('is not ready after a restart until the consumer has rejoined its group and fetched', async () => {
    const cfg = testConfig();
    const group = `${cfg.kafka.topicPrefix}proj`;
    const kafka = createKafka(cfg, createLogger('readiness', 'silent'));
    // The group's members as the broker describes them, read by the tests' own client.
    const admin = toolKafka(cfg).admin();
    await admin.connect();
    await ensureTopics(admin, cfg);
    const members = async () => (await admin.describeGroups([`${group}-events`])).groups[0]!;

    child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      env: {
        ...process.env,
        KAFKA_BROKERS: cfg.kafka.brokers.join(','),
        KAFKA_TOPIC_PREFIX: cfg.kafka.topicPrefix,
        KAFKA_PARTITIONS: String(cfg.kafka.partitions),
        CLICKHOUSE_DATABASE: cfg.clickhouse.database,
        CALLBOARD_DATA_DIR: cfg.dataDir,
        CRASH_CH_PATH: join(mkdtempSync(join(tmpdir(), 'callboard-readiness-')), 'clickhouse'),
        CRASH_GROUP: group,
        LOG_LEVEL: 'error',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await eventually(async () => {
      const g = await members();
      return g.state === 'Stable' && g.members.length === 1 ? true : undefined;
    }, 60_000, 'the first projections process to hold the events group');
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    child = undefined;

    const health = new Health();
    ch = await createClickHouse(cfg);
    p = await startProjections({ cfg, log: createLogger('readiness', 'silent'), health, ch, groupId: group, fetch: { sessionTimeout: 6000 } });
    // The dead member still holds the partitions: consuming cannot have begun.
    expect(health.ready()).toBe(false);
    expect(health.get('projections-events')?.status).toBe('starting');

    await eventually(() => (health.ready() ? true : undefined), 60_000, 'projections ready');
    const g = await members();
    expect(g.members).toHaveLength(1);
    expect(g.members[0]!.clientId).toContain('-projections');
    expect(health.report()).toMatchObject({ status: 'ok', components: { 'projections-events': { status: 'ok' }, 'projections-raw': { status: 'ok' }, clickhouse: { status: 'ok' } } });

    // Ready means consuming: what is produced now is folded.
    const tenant = uniqueId('ready');
    const producer = kafka.producer();
    await producer.connect();
    const events = queuedCall({ tenant, call_id: 'r1', at: utc('2026-05-01T08:00:00Z'), outcome: 'answered', wait_s: 5 });
    await producer.send({ topic: topicName(cfg, 'events'), messages: events.map((e) => ({ key: partitionKey(e), value: JSON.stringify(e) })) });
    await producer.disconnect();
    await admin.disconnect();
    await eventually(async () => {
      const rows = await queueMetrics(ch!, { tenant_id: tenant, timezone: 'UTC', week_start: 'monday', period: { kind: 'DAY', date: '2026-05-01' }, group_by: 'none', settings: () => DEFAULT_QUEUE_SETTINGS });
      return rows[0]?.offered === 1 ? true : undefined;
    }, 30_000, 'the event folded');
  });
});

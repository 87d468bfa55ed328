// `callboard import asterisk` then `callboard reconcile`, end to end: each asterisk22 scenario's
// queue_log and Master.csv through the ingest shell, Kafka and the projections into ClickHouse,
// then compared with the same files (METRICS.md "Reconciliation"). Needs ../shared.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin, Consumer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_QUEUE_SETTINGS,
  Health,
  createClickHouse,
  createKafka,
  createLogger,
  ensureTopics,
  migrate,
  readMigrations,
  topicName,
  type ClickHouse,
  type CallboardConfig,
  type KafkaProducer,
} from '@callboard/platform';
import type { DlqRecord } from '@callboard/schemas';
import { importAsterisk } from '@callboard/ingest/import/asterisk';
import { replayAmi } from '@callboard/ingest/import/replay';
import { IngestPipeline } from '@callboard/ingest/pipeline';
import { IngestSink } from '@callboard/ingest/sink';
import { startProjections, type Projections } from '../src/main.ts';
import { MIGRATIONS_DIR } from '../src/migrations-dir.ts';
import { queueMetrics } from '../src/queries.ts';
import { runReconcile, renderTable, type ReconcileResult } from '../src/reconcile/run.ts';
import { eventually, testConfig, toolKafka, uniqueId } from '../../test/helpers.ts';

const FIXTURES = join(import.meta.dirname, '../../../shared/fixtures/ami/asterisk22');
const SCENARIOS = ['a_answered', 'b_abandon', 'c_ringnoanswer', 'f_hold_transfer', 'h_attended_transfer', 'i_membership_midcall', 'j_restart'];
const present = existsSync(FIXTURES);
if (!present) console.warn(`import-reconcile.int.spec.ts skipped: ${FIXTURES} (../shared) is absent`);

const log = createLogger('import-test', 'warn');
let cfg: CallboardConfig;
let ch: ClickHouse;
// The tests' own client (kafkajs) reads the log's ends, the group's offsets and the DLQ; the
// importer writes through the services' producer.
let admin: Admin;
let producer: KafkaProducer;
let projections: Projections;
const group = uniqueId('g');
const tenants = new Map<string, string>();

async function importFile(tenant: string, queueLog: string, cdr?: string) {
  const pipeline = new IngestPipeline({ source: 'ami', tenant_id: tenant, pbx_id: 'pbx1', sink: new IngestSink(producer, cfg), log });
  return importAsterisk({ queueLog, ...(cdr ? { cdr } : {}), tenant_id: tenant, pbx_id: 'pbx1', pipeline, received_at: Date.parse('2026-12-04T00:00:00Z') });
}

/** Until the projections have committed (so written to ClickHouse) everything on cc.events.v1. */
async function caughtUp(): Promise<void> {
  const topic = topicName(cfg, 'events');
  await eventually(
    async () => {
      const ends = await admin.fetchTopicOffsets(topic);
      const [o] = await admin.fetchOffsets({ groupId: `${group}-events`, topics: [topic] });
      const committed = new Map((o?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
      return ends.every((p) => Number(p.high) === 0 || committed.get(p.partition) === Number(p.high)) ? true : undefined;
    },
    90_000,
    'projections to commit every imported event',
  );
}

const firstDay = (s: string) => new Date(Number(readFileSync(join(FIXTURES, s, 'queue_log'), 'utf8').split('|')[0]) * 1000).toISOString().slice(0, 10);

function reconcileScenario(tenant: string, queueLog: string, cdr: string, date: string): Promise<ReconcileResult> {
  return runReconcile(ch, {
    tenant_id: tenant,
    timezone: 'UTC',
    week_start: 'monday',
    period: 'day',
    date,
    queueLog,
    cdr,
    settings: () => DEFAULT_QUEUE_SETTINGS,
  });
}

describe.skipIf(!present)('import asterisk → projections → reconcile (asterisk22 fixtures)', () => {
  beforeAll(async () => {
    cfg = testConfig();
    ch = await createClickHouse(cfg);
    await migrate(ch, readMigrations(MIGRATIONS_DIR));
    admin = toolKafka(cfg).admin();
    await admin.connect();
    await ensureTopics(admin, cfg);
    producer = createKafka(cfg, log).producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    projections = await startProjections({ cfg, log, health: new Health(), ch, groupId: group, fetch: { minBytes: 1, maxWaitTimeInMs: 100 } });
    for (const s of SCENARIOS) {
      const t = uniqueId(s.slice(0, 1));
      tenants.set(s, t);
      const summary = await importFile(t, join(FIXTURES, s, 'queue_log'), join(FIXTURES, s, 'cdr.csv'));
      expect(summary.rejectedLines).toEqual([]);
    }
    await caughtUp();
  });
  afterAll(async () => {
    await projections?.stop();
    await producer?.disconnect();
    await admin?.disconnect();
    await ch?.close();
  });

  it.each(SCENARIOS)('%s: every figure agrees or differs for a named reason', async (s) => {
    const r = await reconcileScenario(tenants.get(s)!, join(FIXTURES, s, 'queue_log'), join(FIXTURES, s, 'cdr.csv'), firstDay(s));
    const offered = readFileSync(join(FIXTURES, s, 'queue_log'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('|ENTERQUEUE|')).length;
    expect(
      r.rows.filter((x) => x.metric === 'offered').reduce((n, x) => n + (x.callboard ?? 0), 0),
      renderTable(r),
    ).toBe(offered);
    expect(r.unknown, renderTable(r)).toBe(0);
    // The importer reports a pause on a call (pause_reason), so pause time is wall time as in
    // queue_log: i_membership_midcall's 15 s of Coaching, 12 of them on a call, agree.
    expect(r.byClass.pause_during_call, renderTable(r)).toBe(0);
    for (const row of r.rows.filter((x) => x.metric.startsWith('pause_time['))) expect(row.explanations, renderTable(r)).toEqual([]);
  });

  it('importing the same files again changes nothing', async () => {
    const s = 'a_answered';
    const t = tenants.get(s)!;
    const args = [join(FIXTURES, s, 'queue_log'), join(FIXTURES, s, 'cdr.csv'), firstDay(s)] as const;
    const before = await reconcileScenario(t, ...args);
    const legsBefore = await ch.client
      .query({ query: `SELECT count() AS n FROM ${ch.db}.queue_legs FINAL WHERE tenant_id = {t:String}`, query_params: { t }, format: 'JSONEachRow' })
      .then((x) => x.json());
    await importFile(t, args[0], args[1]);
    await caughtUp();
    const after = await reconcileScenario(t, ...args);
    expect(after.rows).toEqual(before.rows);
    const legsAfter = await ch.client
      .query({ query: `SELECT count() AS n FROM ${ch.db}.queue_legs FINAL WHERE tenant_id = {t:String}`, query_params: { t }, format: 'JSONEachRow' })
      .then((x) => x.json());
    expect(legsAfter).toEqual(legsBefore);
  });

  it('a queue_log with one CONNECT removed: a difference of unknown cause naming the call', async () => {
    const s = 'a_answered';
    const dir = mkdtempSync(join(tmpdir(), 'callboard-reconcile-'));
    const lines = readFileSync(join(FIXTURES, s, 'queue_log'), 'utf8').split('\n');
    const i = lines.findIndex((l) => l.includes('|1795306507.9|sales|Agent 1002|CONNECT|'));
    expect(lines[i]).toContain('|CONNECT|');
    const altered = join(dir, 'queue_log');
    writeFileSync(altered, lines.filter((_, k) => k !== i).join('\n'));
    const r = await reconcileScenario(tenants.get(s)!, altered, join(FIXTURES, s, 'cdr.csv'), firstDay(s));
    expect(r.unknown).toBeGreaterThan(0);
    const unknown = r.rows.flatMap((x) => x.explanations.filter((e) => e.class === 'unknown').map((e) => `${x.metric} ${e.id}`));
    // 1795306507.9 is the queued Local ;2 channel; its call (Linkedid) is 1795306507.8.
    expect(unknown).toContain('answered call 1795306507.8 in sales (queue_log line 6)');
  });

  it('dead-letters a truncated line, an unknown verb, a bad timestamp and a non-UTF-8 byte with their line numbers, and loses nothing else', async () => {
    const t = uniqueId('dlq');
    const dir = mkdtempSync(join(tmpdir(), 'callboard-import-'));
    const good = readFileSync(join(FIXTURES, 'a_answered', 'queue_log'), 'utf8')
      .split('\n')
      .filter(Boolean);
    const bad = [
      Buffer.from('1795306509|1795306506.1|sal\n'),
      Buffer.from('1795306509|1795306506.1|sales|NONE|SOMETHINGNEW|x\n'),
      Buffer.from('17953x6509|1795306506.1|sales|NONE|ENTERQUEUE||5551001|1\n'),
      Buffer.concat([Buffer.from('1795306509|1795306599.1|sales|NONE|ENTERQUEUE||555'), Buffer.from([0xc3, 0x28]), Buffer.from('|1\n')]),
    ];
    // After line 6 (so the bad lines are lines 7 to 10), then the rest.
    const file = join(dir, 'queue_log');
    writeFileSync(file, Buffer.concat([Buffer.from(good.slice(0, 6).join('\n') + '\n'), ...bad, Buffer.from(good.slice(6).join('\n') + '\n')]));
    const summary = await importFile(t, file);
    expect(summary).toMatchObject({ lines: good.length + 4, rejectedLines: [7, 8, 9, 10], unknownVerbs: { SOMETHINGNEW: 1 } });

    const consumer: Consumer = toolKafka(cfg).consumer({ groupId: uniqueId('dlqread') });
    await consumer.connect();
    await consumer.subscribe({ topic: topicName(cfg, 'dlq'), fromBeginning: true });
    const seen: DlqRecord[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        const d = JSON.parse(message.value!.toString()) as DlqRecord;
        if (d.tenant_id === t) seen.push(d);
      },
    });
    await eventually(() => (seen.length >= 4 ? true : undefined), 30_000, 'four dead letters');
    await consumer.disconnect();
    expect(seen.map((d) => [d.reason_code, /line (\d+):/.exec(d.reason)?.[1]]).sort()).toEqual([
      ['BAD_TIMESTAMP', '9'],
      ['MISSING_FIELD', '7'],
      ['UNKNOWN_EVENT_TYPE', '8'],
      ['UNPARSEABLE_FRAME', '10'],
    ]);
    await caughtUp();
    const [m] = await queueMetrics(ch, {
      tenant_id: t,
      timezone: 'UTC',
      week_start: 'monday',
      period: { kind: 'DAY', date: firstDay('a_answered') },
      group_by: 'none',
      settings: () => DEFAULT_QUEUE_SETTINGS,
    });
    expect(m).toMatchObject({ offered: 5, answered: 5 });
  });

  it('replays a capture through the live adapter at --speed max: the same figures as the queue_log', async () => {
    const s = 'a_answered';
    const t = uniqueId('replay');
    await replayAmi({
      capture: join(FIXTURES, s, 'capture.ami'),
      speed: Infinity,
      cfg,
      tenant_id: t,
      pbx_id: 'pbx1',
      sink: new IngestSink(producer, cfg),
      log,
    });
    await caughtUp();
    const r = await reconcileScenario(t, join(FIXTURES, s, 'queue_log'), join(FIXTURES, s, 'cdr.csv'), firstDay(s));
    expect(r.rows.find((x) => x.metric === 'offered')?.callboard, renderTable(r)).toBe(5);
    expect(r.rows.find((x) => x.metric === 'answered')?.callboard, renderTable(r)).toBe(5);
    expect(r.unknown, renderTable(r)).toBe(0);
    expect(r.byClass.missing).toBe(0);
  });
});

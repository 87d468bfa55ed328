// `callboard import asterisk` (cli/import.ts, in process, through the real broker and the
// projections) then the GraphQL `reconciliation` query with no `callboard reconcile` in between:
// the import kept the PBX's own records. Imported twice, each record is stored once. Needs ../shared.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createClickHouse,
  createKafka,
  createLogger,
  ensureTopics,
  Health,
  migrate,
  type CallboardConfig,
  type ClickHouse,
} from '@callboard/platform';
import { startProjections, type Projections } from '@callboard/projections/main';
import { readPbx } from '@callboard/projections/reconcile';
import { startApi, type RunningApi } from '../../api/src/main.ts';
import { createToken } from '../../api/src/tokens.ts';
import { gql } from '../../api/test/client.ts';
import { importHistory } from '../import.ts';
import { allMigrations } from '../migrations.ts';
import { testConfig, uniqueId } from '../../test/helpers.ts';
import { caughtUp, countRows } from './import-harness.ts';

const SCENARIO = join(import.meta.dirname, '../../../shared/fixtures/ami/asterisk22/c_ringnoanswer');
const present = existsSync(SCENARIO);
const log = createLogger('import-reconciliation-test', 'warn');
const tenant = uniqueId('imp');
const group = uniqueId('g');
let cfg: CallboardConfig;
let ch: ClickHouse;
let admin: Admin;
let projections: Projections;
let api: RunningApi;
const saved = { ...process.env };

const queueLog = join(SCENARIO, 'queue_log');
const cdr = join(SCENARIO, 'cdr.csv');
const day = () => new Date(Number(readFileSync(queueLog, 'utf8').split('|')[0]) * 1000).toISOString().slice(0, 10);

describe.skipIf(!present)('import asterisk keeps the PBX records: GraphQL reconciliation right after', () => {
  beforeAll(async () => {
    cfg = testConfig({ tenants: [{ id: tenant, timezone: 'UTC' }] });
    // The command reads its configuration from the environment, as on a terminal.
    Object.assign(process.env, {
      KAFKA_BROKERS: cfg.kafka.brokers.join(','),
      KAFKA_TOPIC_PREFIX: cfg.kafka.topicPrefix,
      KAFKA_PARTITIONS: String(cfg.kafka.partitions),
      CLICKHOUSE_DATABASE: cfg.clickhouse.database,
      CALLBOARD_DATA_DIR: cfg.dataDir,
    });
    ch = await createClickHouse(cfg);
    await migrate(ch, allMigrations());
    admin = createKafka(cfg, log).admin();
    await admin.connect();
    await ensureTopics(admin, cfg);
    projections = await startProjections({ cfg, log, health: new Health(), ch, groupId: group, fetch: { minBytes: 1, maxWaitTimeInMs: 100 } });
    api = await startApi({ cfg, log, health: new Health(), ch, port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await api?.stop();
    await projections?.stop();
    await admin?.disconnect();
    await ch?.close();
    process.env = saved;
  });

  it('imported twice: the query sets the same figures side by side, each PBX record stored once', async () => {
    const argv = ['asterisk', '--queue-log', queueLog, '--cdr', cdr, '--tenant', tenant, '--pbx', 'pbx1'];
    expect(await importHistory(argv, ch)).toBe(0);
    expect(await importHistory(argv, ch)).toBe(0);
    await caughtUp(admin, cfg, group);
    const { records } = await readPbx(queueLog, cdr);
    expect(records.legs.length).toBeGreaterThan(0);
    expect(await countRows(ch, tenant, 'pbx_queue_legs')).toBe(records.legs.length);
    expect(await countRows(ch, tenant, 'pbx_agent_records')).toBe(records.missed.length + records.pauses.length + records.calls.length + records.transfers.length);
    expect(await countRows(ch, tenant, 'pbx_imports')).toBe(1);

    const token = (await createToken(ch, { tenant_id: tenant, role: 'analyst' })).token;
    const r = await gql<{
      reconciliation: {
        has_pbx_records: boolean;
        unknown: number;
        rows: { scope: string; key: string; metric: string; callboard: number; pbx: number; classes: string[] }[];
      };
    }>(
      api.url,
      token,
      `query($d: Date!) { reconciliation(period: DAY, date: $d) { has_pbx_records unknown rows { scope key metric callboard pbx classes } } }`,
      { d: day() },
    );
    expect(r.errors).toBeUndefined();
    const x = r.data!.reconciliation;
    expect(x.has_pbx_records).toBe(true);
    expect(x.unknown, JSON.stringify(x.rows.filter((row) => row.classes.includes('unknown')))).toBe(0);
    const offered = x.rows.filter((row) => row.scope === 'QUEUE' && row.metric === 'offered');
    expect(offered.reduce((n, row) => n + row.pbx, 0)).toBe(records.legs.length);
    // Imported twice, counted once on Callboard's side too.
    expect(offered.reduce((n, row) => n + row.callboard, 0)).toBe(records.legs.length);
    const missed = x.rows.filter((row) => row.scope === 'AGENT' && row.metric === 'missed');
    expect(missed.reduce((n, row) => n + row.pbx, 0)).toBe(records.missed.length);
  });
});

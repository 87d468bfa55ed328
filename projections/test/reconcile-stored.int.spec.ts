// Reconciliation against the PBX records stored in ClickHouse (migration 0010): what the GraphQL
// `reconciliation` query and the bi_reconciliation view answer must be what `callboard reconcile`
// answers from the files, per tenant. Import → fold → ClickHouse on the embedded engine, without
// Kafka (the import's events are collected from the ingest shell and loaded like gaps.int does).
// Needs ../shared.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_QUEUE_SETTINGS, createLogger, type ClickHouse } from '@callboard/platform';
import type { CanonicalEvent } from '@callboard/schemas';
import { importAsterisk } from '@callboard/ingest/import/asterisk';
import { IngestPipeline } from '@callboard/ingest/pipeline';
import { loadEvents } from '../src/report.ts';
import { readPbx, reconcileRecords, renderTable, type ReconcileScope } from '../src/reconcile/run.ts';
import { loadPbxRecords, reconcileStored, storePbxRecords } from '../src/reconcile/stored.ts';
import { ProjectionStore } from '../src/store.ts';
import { uniqueId } from '../../test/helpers.ts';
import { openProjections } from './engine.ts';

const FIXTURES = join(import.meta.dirname, '../../../shared/fixtures/ami/asterisk22');
const present = existsSync(FIXTURES);
const log = createLogger('reconcile-stored-test', 'warn');
let ch: ClickHouse;
let store: ProjectionStore;

beforeAll(async () => ({ ch, store } = await openProjections()));
afterAll(async () => ch?.close());

/** Imports a scenario's files into a tenant through the ingest shell, and folds what it produced. */
async function importScenario(tenant: string, s: string): Promise<void> {
  const events: CanonicalEvent[] = [];
  const sink = { raw: async () => [], canonical: async (e: CanonicalEvent[]) => void events.push(...e), dlq: async () => {} };
  const pipeline = new IngestPipeline({ source: 'ami', tenant_id: tenant, pbx_id: 'pbx1', sink, log });
  await importAsterisk({
    queueLog: join(FIXTURES, s, 'queue_log'),
    cdr: join(FIXTURES, s, 'cdr.csv'),
    tenant_id: tenant,
    pbx_id: 'pbx1',
    pipeline,
    received_at: Date.parse('2026-12-04T00:00:00Z'),
  });
  pipeline.close();
  await loadEvents(store, events, { rollupVersion: 'now' });
}

const firstDay = (s: string) => new Date(Number(readFileSync(join(FIXTURES, s, 'queue_log'), 'utf8').split('|')[0]) * 1000).toISOString().slice(0, 10);
const scope = (tenant: string, date: string): ReconcileScope => ({
  tenant_id: tenant,
  timezone: 'UTC',
  week_start: 'monday',
  period: 'day',
  date,
  settings: () => DEFAULT_QUEUE_SETTINGS,
});

async function biRows(tenant: string, date: string) {
  const rs = await ch.client.query({
    query: `SELECT queue, callboard_offered, pbx_offered, callboard_answered, pbx_answered, legs_ok, legs_truncation, legs_missing, legs_unknown, calls_to_check
              FROM ${ch.db}.bi_reconciliation(tenant = {t:String}, tz = 'UTC', sl_threshold_s = 20, from = {d:Date}, to = {d:Date})`,
    query_params: { t: tenant, d: date },
    format: 'JSONEachRow',
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
  });
  return rs.json<Record<string, unknown>>();
}

describe.skipIf(!present)('reconciliation against stored PBX records', () => {
  it.each(['a_answered', 'c_ringnoanswer', 'h_attended_transfer'])('%s: the stored records reconcile exactly as the files do', async (s) => {
    const t = uniqueId(`st-${s.slice(0, 1)}`);
    await importScenario(t, s);
    const { records, rejected } = await readPbx(join(FIXTURES, s, 'queue_log'), join(FIXTURES, s, 'cdr.csv'));
    expect(rejected).toEqual([]);
    await storePbxRecords(ch, { tenant_id: t, pbx_id: 'pbx1', source: 'queue_log' }, records);
    // stored twice (a re-import): each record is one row
    await storePbxRecords(ch, { tenant_id: t, pbx_id: 'pbx1', source: 'queue_log' }, records);
    const date = firstDay(s);
    const fromFiles = await reconcileRecords(ch, scope(t, date), records);
    const stored = await reconcileStored(ch, { ...scope(t, date), now: new Date('2027-01-01T00:00:00Z') });
    expect(stored.has_pbx_records).toBe(true);
    expect(stored.rows, renderTable(stored)).toEqual(fromFiles.rows);
    expect(stored.unknown).toBe(0);
    const bi = await biRows(t, date);
    const legs = records.legs.length;
    expect(bi.reduce((n, r) => n + Number(r.pbx_offered), 0)).toBe(legs);
    expect(bi.reduce((n, r) => n + Number(r.callboard_offered), 0)).toBe(legs);
    expect(
      bi.every((r) => Number(r.legs_unknown) === 0 && Number(r.legs_missing) === 0),
      JSON.stringify(bi),
    ).toBe(true);
  });

  it('a stored queue_log with one CONNECT removed: unknown in the query and the view, naming the call; another tenant sees none of it', async () => {
    const s = 'a_answered';
    const t = uniqueId('st-alt');
    const other = uniqueId('st-other');
    await importScenario(t, s);
    await importScenario(other, s);
    const { records } = await readPbx(join(FIXTURES, s, 'queue_log'), join(FIXTURES, s, 'cdr.csv'));
    const leg = records.legs.find((l) => l.call_id === '1795306507.8' && l.queue === 'sales')!;
    // What the queue_log says without the CONNECT of that leg: no outcome, though the call goes on.
    const altered = {
      ...records,
      legs: records.legs.map((l) => (l === leg ? { ...l, outcome: null, wait_s: null, agent_id: null, answered_at: null, talk_s: null } : l)),
    };
    await storePbxRecords(ch, { tenant_id: t, pbx_id: 'pbx1', source: 'queue_log' }, altered);
    const date = firstDay(s);
    const r = await reconcileStored(ch, { ...scope(t, date), now: new Date('2027-01-01T00:00:00Z') });
    expect(r.unknown).toBeGreaterThan(0);
    expect(r.rows.flatMap((x) => x.explanations.filter((e) => e.class === 'unknown').map((e) => `${x.metric} ${e.id}`))).toContain(
      'answered call 1795306507.8 in sales (queue_log line 6)',
    );
    const [sales] = (await biRows(t, date)).filter((x) => x.queue === 'sales');
    expect(sales).toMatchObject({ legs_unknown: 1, calls_to_check: ['1795306507.8 unknown'] });
    expect(Number(sales!.callboard_answered) - Number(sales!.pbx_answered)).toBe(1);

    // The other tenant has the same queue and call ids in its projections, but no PBX records.
    expect((await loadPbxRecords(ch, other, 0, Date.parse('2100-01-01'))).legs).toEqual([]);
    const o = await reconcileStored(ch, { ...scope(other, date), now: new Date('2027-01-01T00:00:00Z') });
    expect(o.has_pbx_records).toBe(false);
    expect(o.data_until).toBeNull();
    const ob = await biRows(other, date);
    expect(ob.reduce((n, x) => n + Number(x.pbx_offered), 0)).toBe(0);
    expect(ob.reduce((n, x) => n + Number(x.callboard_offered), 0)).toBe(records.legs.length);
  });

  it('queue and agent arguments narrow the rows', async () => {
    const s = 'c_ringnoanswer';
    const t = uniqueId('st-narrow');
    await importScenario(t, s);
    const { records } = await readPbx(join(FIXTURES, s, 'queue_log'), join(FIXTURES, s, 'cdr.csv'));
    await storePbxRecords(ch, { tenant_id: t, pbx_id: 'pbx1', source: 'queue_log' }, records);
    const date = firstDay(s);
    const q = await reconcileStored(ch, { ...scope(t, date), queue: 'sales' });
    expect(new Set(q.rows.map((x) => `${x.scope} ${x.key}`))).toEqual(new Set(['queue sales']));
    const a = await reconcileStored(ch, { ...scope(t, date), agent: '2001' });
    expect(new Set(a.rows.map((x) => `${x.scope} ${x.key}`))).toEqual(new Set(['agent 2001']));
    expect(a.rows.find((x) => x.metric === 'missed')).toMatchObject({ callboard: 2, pbx: 2, explanations: [] });
  });
});

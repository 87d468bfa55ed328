// What every metrics result states besides its figures (METRICS.md "Time and precision": gaps of
// the feed, data until) and the `reconciliation` query, through the API on the embedded
// ClickHouse and the real broker: each tenant sees its own gaps and PBX records only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse, createLogger, Health, migrate, type CallboardConfig, type ClickHouse } from '@callboard/platform';
import type { CanonicalEvent } from '@callboard/schemas';
import { ProjectionStore, touchedBy } from '@callboard/projections/store';
import { storePbxRecords } from '@callboard/projections/reconcile';
import { allMigrations } from '../../cli/migrations.ts';
import { eventually, testConfig, uniqueId } from '../../test/helpers.ts';
import { startApi, type RunningApi } from '../src/main.ts';
import { createToken } from '../src/tokens.ts';
import { codes, gql } from './client.ts';
import { ev, queueCall } from './events.ts';

let cfg: CallboardConfig;
let ch: ClickHouse;
let api: RunningApi;
const tok: Record<string, string> = {};
// Unique tenants: the engine is shared by the whole int run.
const A = uniqueId('rcA');
const B = uniqueId('rcB');
const DAY = '2026-04-14';
const at = (hhmm: string) => `${DAY}T${hhmm}:00.000Z`;

const gap = (tenant: string, from: string, to: string, reason: string): CanonicalEvent => ev('source.gap', to, {} as never, { from, to, reason }, tenant);

beforeAll(async () => {
  cfg = testConfig({
    tenants: [
      { id: A, timezone: 'UTC' },
      { id: B, timezone: 'UTC' },
    ],
  });
  ch = await createClickHouse(cfg);
  await migrate(ch, allMigrations());
  const history: CanonicalEvent[] = [
    ...queueCall({ tenant: A, call: 'c-1', queue: 'sales', at: at('09:00'), waitS: 10, outcome: 'answered', agent: '1001', talkS: 120 }),
    ...queueCall({ tenant: A, call: 'c-2', queue: 'sales', at: at('09:10'), waitS: 30, outcome: 'abandoned' }),
    gap(A, at('10:00'), at('10:02'), 'PBX restarted'),
    ...queueCall({ tenant: B, call: 'c-1', queue: 'sales', at: at('09:00'), waitS: 5, outcome: 'answered', agent: '1001', talkS: 60 }),
    gap(B, at('11:00'), at('11:05'), 'connection lost'),
  ];
  const store = new ProjectionStore(ch);
  await store.writeEvents(history.map((event, i) => ({ event, partition: 0, offset: i })));
  await store.derive(touchedBy(history));
  // A's PBX logged c-1 as the projections have it, and a leg Callboard never saw.
  const t9 = Date.parse(at('09:00'));
  await storePbxRecords(
    ch,
    { tenant_id: A, pbx_id: 'pbx1', source: 'queue_log' },
    {
      legs: [
        {
          callid: 'c-1',
          call_id: 'c-1',
          queue: 'sales',
          entered_at: t9,
          line: 1,
          outcome: 'answered',
          wait_s: 10,
          agent_id: '1001',
          answered_at: t9 + 10_000,
          talk_s: 120,
          call_continues: true,
        },
        {
          callid: 'c-2',
          call_id: 'c-2',
          queue: 'sales',
          entered_at: t9 + 600_000,
          line: 4,
          outcome: 'abandoned',
          wait_s: 30,
          agent_id: null,
          answered_at: null,
          talk_s: null,
          call_continues: false,
        },
        {
          callid: 'x-9',
          call_id: 'x-9',
          queue: 'sales',
          entered_at: t9 + 1_200_000,
          line: 6,
          outcome: 'abandoned',
          wait_s: 4,
          agent_id: null,
          answered_at: null,
          talk_s: null,
          call_continues: false,
        },
      ],
      transfers: [],
      missed: [],
      pauses: [],
      calls: [{ agent_id: '1001', from: t9 + 10_000, to: t9 + 130_000 }],
      data_until: t9 + 3_600_000,
    },
  );

  api = await startApi({ cfg, log: createLogger('api-reconcile-test', 'warn'), health: new Health(), ch, port: 0, host: '127.0.0.1' });
  await eventually(async () => ((await fetch(`${api.url}/readyz`)).status === 200 ? true : undefined), 60_000, 'API ready');
  for (const [name, tenant, role] of [
    ['analystA', A, 'analyst'],
    ['supA', A, 'supervisor'],
    ['analystB', B, 'analyst'],
  ] as const) {
    tok[name] = (await createToken(ch, { tenant_id: tenant, role })).token;
  }
});

afterAll(async () => {
  await api?.stop();
  await ch?.close();
});

interface Gap {
  pbx_id: string;
  from: string;
  to: string;
  reason: string;
}

describe('gaps of the feed and data until in GraphQL', () => {
  it("metrics and intraday list the own tenant's gaps over the period, never the other tenant's", async () => {
    const q = `{ metrics(period: {kind: DAY, date: "${DAY}"}, groupBy: QUEUE) { data_until gaps { pbx_id from to reason } rows { key } }
                 intraday(date: "${DAY}", interval: MIN_60) { data_until gaps { reason } } }`;
    const a = await gql<{ metrics: { data_until: string; gaps: Gap[] }; intraday: { data_until: string; gaps: { reason: string }[] } }>(
      api.url,
      tok.analystA!,
      q,
    );
    expect(a.errors).toBeUndefined();
    expect(a.data!.metrics.gaps).toEqual([{ pbx_id: `${A}-pbx`, from: at('10:00'), to: at('10:02'), reason: 'PBX restarted' }]);
    // a closed day: its data runs to the end of the day
    expect(a.data!.metrics.data_until).toBe('2026-04-15T00:00:00.000Z');
    expect(a.data!.intraday.gaps).toEqual([{ reason: 'PBX restarted' }]);
    const b = await gql<{ metrics: { gaps: Gap[] }; intraday: { gaps: { reason: string }[] } }>(api.url, tok.analystB!, q);
    expect(b.data!.metrics.gaps.map((g) => g.reason)).toEqual(['connection lost']);
    expect(b.data!.intraday.gaps).toEqual([{ reason: 'connection lost' }]);
    // a day without gaps lists none; a period that has not begun runs to now and lists none
    const other = await gql<{ metrics: { gaps: Gap[] } }>(api.url, tok.analystA!, '{ metrics(period: {kind: DAY, date: "2026-04-13"}) { gaps { reason } } }');
    expect(other.data!.metrics.gaps).toEqual([]);
    const future = await gql<{ metrics: { data_until: string; gaps: Gap[] } }>(
      api.url,
      tok.analystA!,
      '{ metrics(period: {kind: DAY, date: "2299-01-01"}) { data_until gaps { reason } } }',
    );
    expect(future.data!.metrics.gaps).toEqual([]);
    expect(Date.parse(future.data!.metrics.data_until)).toBeLessThanOrEqual(Date.now());
  });
});

describe('reconciliation', () => {
  const Q = `query($p: ReconciliationPeriod!, $d: Date!, $q: String) { reconciliation(period: $p, date: $d, queue: $q) {
      has_pbx_records pbx_data_until data_until period { from to } gaps { reason } differences unknown by_class { missing unknown truncation }
      rows { date scope key metric callboard pbx diff classes explanations { class amount id why } } } }`;
  type R = {
    reconciliation: {
      has_pbx_records: boolean;
      pbx_data_until: string | null;
      period: { from: string; to: string };
      gaps: { reason: string }[];
      differences: number;
      unknown: number;
      by_class: Record<string, number>;
      rows: {
        scope: string;
        key: string;
        metric: string;
        callboard: number;
        pbx: number;
        diff: number | null;
        classes: string[];
        explanations: { class: string; id: string | null }[];
      }[];
    };
  };

  it('sets Callboard beside the stored PBX records and classes the leg Callboard never saw as missing', async () => {
    const r = await gql<R>(api.url, tok.analystA!, Q, { p: 'DAY', d: DAY, q: 'sales' });
    expect(r.errors).toBeUndefined();
    const x = r.data!.reconciliation;
    expect(x).toMatchObject({
      has_pbx_records: true,
      pbx_data_until: at('10:00'),
      period: { from: DAY, to: DAY },
      gaps: [{ reason: 'PBX restarted' }],
      unknown: 0,
    });
    expect(x.rows.every((row) => row.scope === 'QUEUE' && row.key === 'sales')).toBe(true);
    const offered = x.rows.find((row) => row.metric === 'offered')!;
    expect(offered).toMatchObject({ callboard: 2, pbx: 3, diff: -1, classes: ['missing'] });
    expect(offered.explanations[0]!.id).toContain('x-9');
    expect(x.rows.find((row) => row.metric === 'answered')).toMatchObject({ callboard: 1, pbx: 1, classes: [] });
    expect(x.by_class.missing).toBeGreaterThan(0);
  });

  it("tenant B sees none of A's PBX records; supervisors may not reconcile", async () => {
    const r = await gql<R>(api.url, tok.analystB!, Q, { p: 'MONTH', d: DAY });
    expect(r.errors).toBeUndefined();
    const x = r.data!.reconciliation;
    expect(x.has_pbx_records).toBe(false);
    expect(x.pbx_data_until).toBeNull();
    expect(x.period).toEqual({ from: '2026-04-01', to: '2026-04-30' });
    expect(JSON.stringify(x)).not.toContain('x-9');
    expect(x.gaps).toEqual([{ reason: 'connection lost' }]);
    // B's own leg has nothing to pair with on the PBX side
    expect(x.rows.find((row) => row.metric === 'offered')).toMatchObject({ callboard: 1, pbx: 0, classes: ['missing'] });
    expect(codes(await gql(api.url, tok.supA!, Q, { p: 'DAY', d: DAY }))).toEqual(['FORBIDDEN']);
    expect(codes(await gql(api.url, tok.analystA!, Q, { p: 'DAY', d: '0000-01-01' }))).toEqual(['BAD_PERIOD']);
  });
});

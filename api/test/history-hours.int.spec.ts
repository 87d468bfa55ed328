// The metrics and intraday adapters' business-hours and comparison arguments (history.ts) on the
// embedded engine, with the schedules of a real config; and the schema accepting them.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as graphql from 'graphql';
import { createClickHouse, migrate, type CallboardConfig, type ClickHouse } from '@callboard/platform';
import { ProjectionStore, touchedBy } from '@callboard/projections/store';
import { allMigrations } from '../../cli/migrations.ts';
import { testConfig, uniqueId } from '../../test/helpers.ts';
import type { CanonicalEvent } from '@callboard/schemas';
import { createHistory, type History } from '../src/history.ts';
import { LiveStore } from '../src/live.ts';
import { liveEnv } from '../src/main.ts';
import { queueCall } from './events.ts';

let ch: ClickHouse;
let cfg: CallboardConfig;
let history: History;
let evs: CanonicalEvent[];
const tenant = uniqueId('hh');

type Row = { key: string; queue_metrics: Record<string, number | null> };
type Result = { hours: string | null; rows: Row[]; period: { from: string }; comparison: { compare: string; period: { from: string; to: string }; rows: Row[] } | null };

beforeAll(async () => {
  cfg = testConfig({
    tenants: [{ id: tenant, timezone: 'Africa/Nairobi', schedule: 'office' }],
    schedules: [{ tenant, name: 'office', weekly: { mon: ['08:00-13:00', '14:00-17:00'] } }],
    queues: [{ tenant, queue: 'support', ratio_hours: 'all' }],
  });
  ch = await createClickHouse(cfg);
  await migrate(ch, allMigrations());
  // Monday 2026-11-30 and Monday 2026-11-23 in Nairobi (UTC+3): 09:00 local = 06:00Z.
  evs = [
    ...queueCall({ tenant, call: 'm1', queue: 'sales', at: '2026-11-30T06:00:00.000Z', waitS: 5, outcome: 'answered' }), // 09:00 open
    ...queueCall({ tenant, call: 'm2', queue: 'sales', at: '2026-11-30T10:30:00.000Z', waitS: 50, outcome: 'abandoned' }), // 13:30 lunch
    ...queueCall({ tenant, call: 'm3', queue: 'support', at: '2026-11-30T17:00:00.000Z', waitS: 40, outcome: 'answered' }), // 20:00
    ...queueCall({ tenant, call: 'w1', queue: 'sales', at: '2026-11-23T06:30:00.000Z', waitS: 2, outcome: 'answered' }), // a week before
  ];
  const store = new ProjectionStore(ch);
  await store.writeEvents(evs.map((event, i) => ({ event, partition: 0, offset: i })));
  await store.derive(touchedBy(evs), 1);
  history = createHistory(ch, cfg, () => Date.parse('2026-12-04T12:00:00Z'));
});
afterAll(async () => ch?.close());

const t = () => cfg.tenants[0]!;
const day = { kind: 'DAY', date: '2026-11-30' };

describe('metrics and intraday with hours and compare', () => {
  it('OPEN and CLOSED add up to ALL per queue; unasked, ratios follow each queue\'s ratio_hours', async () => {
    const run = async (hours?: string) => (await history.metrics(tenant, t(), day, 'QUEUE', {}, hours ? { hours } : {})) as Result;
    const [open, closed, all, unasked] = await Promise.all([run('OPEN'), run('CLOSED'), run('ALL'), run()]);
    const by = (r: Result) => Object.fromEntries(r.rows.map((x) => [x.key, x.queue_metrics]));
    expect([by(open).sales!.offered, by(closed).sales!.offered, by(all).sales!.offered]).toEqual([1, 1, 2]);
    expect([by(open).support!.offered, by(closed).support!.offered, by(all).support!.offered]).toEqual([0, 1, 1]);
    expect([open.hours, unasked.hours]).toEqual(['OPEN', null]);
    // sales (ratio_hours open): the lunch-time abandon is out of its service level; support (all) keeps its evening leg.
    expect([by(unasked).sales!.service_level, by(unasked).sales!.abandon_rate, by(unasked).sales!.closed]).toEqual([1, 0, 1]);
    expect([by(unasked).support!.service_level, by(unasked).support!.asa, by(unasked).support!.closed]).toEqual([0, 40, 1]);
  });

  it('the live board counts the day as the history does without hours: counts, closed and the ratios (two witnesses)', async () => {
    // The API's own wiring (main.ts liveEnv: the config's schedules and ratio_hours), at the
    // day's last local minute, over the same events the engine holds.
    const live = new LiveStore(liveEnv(cfg));
    const now = Date.parse('2026-11-30T20:59:00Z');
    for (const e of evs) live.apply(e, now);
    const snap = live.snapshot(tenant, now);
    const FIGURES = ['offered', 'answered', 'abandoned', 'closed', 'service_level', 'abandon_rate', 'asa'] as const;
    const pick = (m: Record<string, unknown>) => Object.fromEntries(FIGURES.map((k) => [k, m[k]]));
    const byQueue = (await history.metrics(tenant, t(), day, 'QUEUE', {}, {})) as Result;
    const whole = (await history.metrics(tenant, t(), day, 'TENANT', {}, {})) as Result;
    expect(Object.fromEntries(snap.queues.map((q) => [q.queue, pick(q.today)]))).toEqual(Object.fromEntries(byQueue.rows.map((r) => [r.key, pick(r.queue_metrics)])));
    expect(pick(snap.today)).toEqual(pick(whole.rows[0]!.queue_metrics));
    // Not equal by both being empty: sales' lunch-time abandon is counted and out of its ratios.
    expect(pick(snap.queues.find((q) => q.queue === 'sales')!.today)).toMatchObject({ offered: 2, abandoned: 1, closed: 1, service_level: 1, abandon_rate: 0 });
  });

  it('compares with the same day last week, a Monday against a Monday', async () => {
    const r = (await history.metrics(tenant, t(), day, 'TENANT', {}, { hours: 'OPEN', compare: 'SAME_DAY_LAST_WEEK' })) as Result;
    expect(r.comparison!.compare).toBe('SAME_DAY_LAST_WEEK');
    expect(r.comparison!.period).toMatchObject({ from: '2026-11-23', to: '2026-11-23' });
    expect([r.rows[0]!.queue_metrics.offered, r.comparison!.rows[0]!.queue_metrics.offered]).toEqual([1, 1]);
    expect(((await history.metrics(tenant, t(), day, 'TENANT', {})) as Result).comparison).toBeNull();
  });

  it('marks intraday intervals open, closed or partly open, and compares them', async () => {
    const s = (await history.intraday(tenant, t(), '2026-11-30', 'MIN_60', {}, { compare: 'PREVIOUS' })) as {
      points: { local_time: string; business_hours: string; queue_metrics: { offered: number; closed: number } }[];
      comparison: { date: string; compare: string } | null;
    };
    const at = (hh: string) => s.points.find((p) => p.local_time === hh)!;
    expect([at('07:00').business_hours, at('09:00').business_hours, at('13:00').business_hours, at('20:00').business_hours]).toEqual(['CLOSED', 'OPEN', 'CLOSED', 'CLOSED']);
    expect([at('13:00').queue_metrics.closed, at('20:00').queue_metrics.closed]).toEqual([1, 1]);
    expect(s.comparison).toMatchObject({ date: '2026-11-29', compare: 'PREVIOUS' });
  });

  it('refuses unknown hours and comparisons, naming the argument', async () => {
    await expect(history.metrics(tenant, t(), day, 'TENANT', {}, { hours: 'SOMETIMES' })).rejects.toMatchObject({ extensions: { code: 'BAD_INPUT' } });
    await expect(history.intraday(tenant, t(), null, 'MIN_60', {}, { compare: 'LAST_CENTURY' })).rejects.toMatchObject({ extensions: { code: 'BAD_INPUT' } });
  });

  it('the schema takes the arguments and the fields', () => {
    const schema = graphql.buildSchema(readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8'));
    const doc = graphql.parse(`{ metrics(period: {kind: TODAY}, hours: OPEN, compare: SAME_PERIOD_LAST_YEAR) { hours rows { queue_metrics { closed open_fraction } } comparison { compare period { from } rows { key } } }
      intraday(hours: CLOSED, compare: SAME_DAY_LAST_WEEK) { hours points { business_hours } comparison { compare date } } }`);
    expect(graphql.validate(schema, doc)).toEqual([]);
  });
});

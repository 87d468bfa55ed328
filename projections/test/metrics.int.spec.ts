// Regression and property tests of the whole fold → ClickHouse → query path, on the embedded
// engine (one per file). Each test uses its own tenant, so tests never see each other's rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { DEFAULT_QUEUE_SETTINGS, type ClickHouse, type QueueSettings } from '@callboard/platform';
import type { CanonicalEvent } from '@callboard/schemas';
import { agentMetrics, callMetrics, queueMetrics, type QueueMetricsRow } from '../src/queries.ts';
import { rebuild, tableChecksum, DERIVED_TABLES } from '../src/rebuild.ts';
import { loadEvents } from '../src/report.ts';
import { ProjectionStore } from '../src/store.ts';
import { resolvePeriod, type PeriodSpec } from '../src/periods.ts';
import { uniqueId } from '../../test/helpers.ts';
import { agentState, ev, queuedCall, utc } from './given.ts';
import { openProjections } from './engine.ts';

let ch: ClickHouse;
let store: ProjectionStore;
const settings = (): QueueSettings => DEFAULT_QUEUE_SETTINGS;

beforeAll(async () => ({ ch, store } = await openProjections()));
afterAll(async () => ch?.close());

async function given(events: CanonicalEvent[]): Promise<void> {
  await loadEvents(store, events, { rollupVersion: 'now' });
}

function q(tenant: string, timezone: string, period: PeriodSpec, extra: Partial<Parameters<typeof queueMetrics>[1]> = {}) {
  return queueMetrics(ch, { tenant_id: tenant, timezone, week_start: 'monday', period, group_by: 'none', settings, now: new Date('2027-01-01T00:00:00Z'), ...extra });
}

describe('regressions users suffered', () => {
  it('a call at 00:30 local in Africa/Nairobi counts on that local day', async () => {
    const t = uniqueId('nbo');
    await given(queuedCall({ tenant: t, call_id: 'c1', at: utc('2026-03-09T21:30:00Z'), outcome: 'answered', wait_s: 5 }));
    const [d10] = await q(t, 'Africa/Nairobi', { kind: 'DAY', date: '2026-03-10' });
    const [d09] = await q(t, 'Africa/Nairobi', { kind: 'DAY', date: '2026-03-09' });
    expect([d10!.offered, d09!.offered]).toEqual([1, 0]);
    const [calls] = await callMetrics(ch, { tenant_id: t, timezone: 'Africa/Nairobi', week_start: 'monday', period: { kind: 'DAY', date: '2026-03-10' }, group_by: 'none', settings });
    expect(calls!.calls).toBe(1);
  });

  it('"this month" is the calendar month, not 30 days', async () => {
    const t = uniqueId('month');
    await given([
      ...queuedCall({ tenant: t, call_id: 'feb28', at: utc('2026-02-28T10:00:00Z'), outcome: 'answered', wait_s: 1 }),
      ...queuedCall({ tenant: t, call_id: 'mar01', at: utc('2026-03-01T10:00:00Z'), outcome: 'answered', wait_s: 1 }),
      ...queuedCall({ tenant: t, call_id: 'mar31', at: utc('2026-03-31T10:00:00Z'), outcome: 'answered', wait_s: 1 }),
    ]);
    const [m] = await q(t, 'Africa/Nairobi', { kind: 'THIS_MONTH' }, { now: new Date('2026-03-31T18:00:00Z') });
    expect(m!.offered).toBe(2);
    expect(m!.start).toBe('2026-02-28T21:00:00.000Z');
  });

  it('a week that starts in the previous month is reported whole and the month is not capped', async () => {
    const t = uniqueId('week');
    await given([
      ...queuedCall({ tenant: t, call_id: 'mon', at: utc('2026-03-30T08:00:00Z'), outcome: 'abandoned', wait_s: 30 }),
      ...queuedCall({ tenant: t, call_id: 'thu', at: utc('2026-04-02T08:00:00Z'), outcome: 'answered', wait_s: 10 }),
      ...queuedCall({ tenant: t, call_id: 'apr20', at: utc('2026-04-20T08:00:00Z'), outcome: 'answered', wait_s: 10 }),
    ]);
    const now = new Date('2026-04-02T12:00:00Z');
    const [week] = await q(t, 'Africa/Nairobi', { kind: 'THIS_WEEK' }, { now });
    const [month] = await q(t, 'Africa/Nairobi', { kind: 'MONTH', date: '2026-04' }, { now });
    expect(week!.offered).toBe(2);
    expect(month!.offered).toBe(2); // thu + apr20: the month is its own total, not min(week, month)
    expect(week!.abandoned).toBe(1);
  });

  it('answered + abandoned + exited + waiting = offered in every bucket', async () => {
    const t = uniqueId('inv');
    const outcomes = ['answered', 'abandoned', 'exited', 'waiting'] as const;
    const evs = Array.from({ length: 60 }, (_, i) =>
      queuedCall({ tenant: t, call_id: `c${i}`, at: utc('2026-05-04T06:00:00Z') + i * 7 * 60_000, outcome: outcomes[i % 4]!, wait_s: (i * 3) % 50 }),
    ).flat();
    await given(evs);
    const rows = await q(t, 'Asia/Kolkata', { kind: 'DAY', date: '2026-05-04' }, { group_by: 'interval', interval_minutes: 15 });
    expect(rows).toHaveLength(96);
    for (const r of rows) expect(r.answered + r.abandoned + r.exited + r.waiting).toBe(r.offered);
    expect(rows.reduce((a, r) => a + r.offered, 0)).toBe(60);
    expect(rows.reduce((a, r) => a + r.waiting, 0)).toBe(15);
  });

  it('Local-channel duplicates (same event twice, or a duplicate leg) count once', async () => {
    const t = uniqueId('dup');
    const at = utc('2026-05-05T09:00:00Z');
    const evs = queuedCall({ tenant: t, call_id: 'c1', at, outcome: 'abandoned', wait_s: 40 });
    const dupLeg = [
      ev('call.queued', t, at + 20, { call_id: 'c1' }, { queue: 'sales', leg_id: 'c1;2:sales:1', position: 1 }),
      ev('call.abandoned', t, at + 40_000, { call_id: 'c1' }, { queue: 'sales', leg_id: 'c1;2:sales:1', wait_ms: 39_980, position: 1 }),
    ];
    await given([...evs, ...evs, ...dupLeg]);
    await given(evs); // re-delivered later, in another batch
    const [r] = await q(t, 'Africa/Nairobi', { kind: 'DAY', date: '2026-05-05' });
    expect(r).toMatchObject({ offered: 1, abandoned: 1, abandon_rate: 1 });
  });

  it('old disposition names map to canonical ones', async () => {
    const t = uniqueId('disp');
    await given([
      ...queuedCall({ tenant: t, call_id: 'old', at: utc('2026-05-06T09:00:00Z'), outcome: 'answered', wait_s: 2, raw_disposition: 'NORMAL' }),
      ...queuedCall({ tenant: t, call_id: 'new', at: utc('2026-05-06T10:00:00Z'), outcome: 'answered', wait_s: 2, raw_disposition: 'ANSWERED' }),
    ]);
    const [c] = await callMetrics(ch, { tenant_id: t, timezone: 'UTC', week_start: 'monday', period: { kind: 'DAY', date: '2026-05-06' }, group_by: 'none', settings });
    expect(c).toMatchObject({ calls: 2, answered: 2, no_answer: 0 });
  });

  it('per-queue settings apply at query time; zero denominators give null', async () => {
    const t = uniqueId('sl');
    const at = utc('2026-05-07T09:00:00Z');
    await given([
      ...queuedCall({ tenant: t, call_id: 'a', at, outcome: 'answered', wait_s: 15, talk_s: 60 }),
      ...queuedCall({ tenant: t, call_id: 'b', at: at + 60_000, outcome: 'answered', wait_s: 25, talk_s: 60 }),
      ...queuedCall({ tenant: t, call_id: 'c', at: at + 120_000, outcome: 'abandoned', wait_s: 4 }),
      ...queuedCall({ tenant: t, call_id: 'd', at: at + 180_000, outcome: 'abandoned', wait_s: 10 }),
    ]);
    const base = { sl_threshold_s: 20, short_abandon_s: 5, sl_formula: 'answered_within_T_over_offered_excl_short' as const, wrap_up_s: 10 };
    const [r] = await q(t, 'UTC', { kind: 'DAY', date: '2026-05-07' }, { settings: () => base });
    expect(r).toMatchObject({ offered: 4, answered_within_sl: 1, short_abandoned: 1, abandoned_within_sl: 2, asa: 20, wrap_time: 20 });
    expect(r!.service_level).toBeCloseTo(1 / 3);
    expect(r!.abandon_rate).toBeCloseTo(1 / 3);
    // Percentiles of answered waits (15 s, 25 s) from the 0.1 s wait sketch; max over finished legs.
    expect([r!.wait_p50, r!.wait_p90, r!.wait_p99, r!.max_wait, r!.avg_abandon_wait]).toEqual([15, 25, 25, 25, 7]);
    const [r30] = await q(t, 'UTC', { kind: 'DAY', date: '2026-05-07' }, { settings: () => ({ ...base, sl_threshold_s: 30, sl_formula: 'answered_within_T_over_answered' }) });
    expect(r30!.service_level).toBe(1);
    const [empty] = await q(t, 'UTC', { kind: 'DAY', date: '2026-05-08' });
    expect(empty).toMatchObject({ offered: 0, service_level: null, abandon_rate: null, asa: null, aht: null, wait_p50: null });
  });

  it('late and out-of-order events (separate batches) land in the right bucket', async () => {
    const t = uniqueId('late');
    const at = utc('2026-05-10T20:55:00Z'); // 23:55 in Nairobi: the leg belongs to the 10th
    const evs = queuedCall({ tenant: t, call_id: 'l1', at, outcome: 'answered', wait_s: 600, talk_s: 120 });
    const queued = evs.find((e) => e.type === 'call.queued')!;
    await given(evs.filter((e) => e !== queued)); // the answer (on the 11th) arrives first
    expect((await q(t, 'Africa/Nairobi', { kind: 'DAY', date: '2026-05-11' }))[0]!.offered).toBe(0);
    await given([queued]); // minutes late
    const [d10] = await q(t, 'Africa/Nairobi', { kind: 'DAY', date: '2026-05-10' });
    const [d11] = await q(t, 'Africa/Nairobi', { kind: 'DAY', date: '2026-05-11' });
    expect([d10!.offered, d10!.answered, d10!.asa, d11!.offered]).toEqual([1, 1, 600, 0]);
    // A late agent state change splits the interval it falls in.
    await given([agentState(t, 'a1', utc('2026-05-10T08:00:00Z'), 'available'), agentState(t, 'a1', utc('2026-05-10T10:00:00Z'), 'offline')]);
    await given([agentState(t, 'a1', utc('2026-05-10T09:00:00Z'), 'paused', 'Lunch')]);
    const [a] = await agentMetrics(ch, { tenant_id: t, timezone: 'UTC', week_start: 'monday', period: { kind: 'DAY', date: '2026-05-10' }, group_by: 'agent', filter: { agents: ['a1'] }, settings, now: new Date('2026-05-10T12:00:00Z') });
    expect([a!.state_time.available, a!.state_time.paused, a!.logged_in_time, a!.pause_time_by_reason]).toEqual([3600, 3600, 7200, { Lunch: 3600 }]);
  });

  it('tenants never see each other', async () => {
    const a = uniqueId('ta');
    const b = uniqueId('tb');
    await given([...queuedCall({ tenant: a, call_id: 'same', at: utc('2026-05-09T09:00:00Z'), outcome: 'answered', wait_s: 1 })]);
    const [rb] = await q(b, 'UTC', { kind: 'DAY', date: '2026-05-09' });
    expect(rb!.offered).toBe(0);
  });
});

const ZONES = ['Africa/Nairobi', 'America/New_York', 'Europe/London', 'Asia/Kolkata', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'Pacific/Chatham'];
// Months holding a DST change in the zones above (north: March/October-November, south: April/October).
const MONTHS = ['2026-03', '2026-04', '2026-10', '2026-11'];
const ADDITIVE = ['offered', 'answered', 'abandoned', 'short_abandoned', 'exited', 'waiting', 'answered_within_sl', 'abandoned_within_sl', 'transferred'] as const;
const ADDITIVE_TIME = ['talk_time', 'hold_time', 'wrap_time'] as const;

function sumRows(rows: QueueMetricsRow[]) {
  return Object.fromEntries([...ADDITIVE, ...ADDITIVE_TIME].map((k) => [k, rows.reduce((a, r) => a + r[k], 0)]));
}

describe('properties across zones and DST changes', () => {
  it('days sum to their week and month, contained periods are never larger, ClickHouse days agree with luxon days', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          zone: fc.constantFrom(...ZONES),
          month: fc.constantFrom(...MONTHS),
          calls: fc.array(
            fc.record({
              minute: fc.integer({ min: -3 * 1440, max: 34 * 1440 }),
              second: fc.integer({ min: 0, max: 59 }),
              outcome: fc.constantFrom('answered' as const, 'abandoned' as const, 'exited' as const, 'waiting' as const),
              wait_s: fc.integer({ min: 0, max: 120 }),
              talk_s: fc.integer({ min: 1, max: 900 }),
              hold_s: fc.integer({ min: 0, max: 60 }),
              queue: fc.constantFrom('sales', 'support'),
              transfer: fc.boolean(),
            }),
            { minLength: 1, maxLength: 80 },
          ),
          agentChanges: fc.array(fc.record({ minute: fc.integer({ min: -1440, max: 33 * 1440 }), state: fc.constantFrom('available' as const, 'on_call' as const, 'paused' as const, 'offline' as const) }), {
            maxLength: 30,
          }),
        }),
        async ({ zone, month, calls, agentChanges }) => {
          const t = uniqueId('prop');
          const origin = DateTime.fromISO(`${month}-01`, { zone }).toMillis();
          const evs = calls.flatMap((c, i) =>
            queuedCall({
              tenant: t,
              call_id: `p${i}`,
              queue: c.queue,
              at: origin + c.minute * 60_000 + c.second * 1000,
              outcome: c.outcome,
              wait_s: c.wait_s,
              talk_s: c.talk_s + c.hold_s,
              hold_s: c.hold_s,
              transfer: c.transfer,
            }),
          );
          const agentEvs = agentChanges.map((a) => agentState(t, '1001', origin + a.minute * 60_000, a.state, a.state === 'paused' ? 'Break' : undefined));
          await given([...evs, ...agentEvs]);
          const tenant = { timezone: zone, week_start: 'monday' as const };
          const now = new Date('2027-06-01T00:00:00Z');
          const monthRow = (await q(t, zone, { kind: 'MONTH', date: month }, { now }))[0]!;
          const byDayCh = await q(t, zone, { kind: 'MONTH', date: month }, { now, group_by: 'day' });
          const mp = resolvePeriod({ kind: 'MONTH', date: month }, tenant);
          const days: QueueMetricsRow[] = [];
          let d = DateTime.fromJSDate(mp.start, { zone });
          while (d.toMillis() < mp.end.getTime()) {
            const date = d.toFormat('yyyy-MM-dd');
            const [dayRow] = await q(t, zone, { kind: 'DAY', date }, { now });
            days.push(dayRow!);
            const [weekRow] = await q(t, zone, { kind: 'WEEK', date }, { now });
            expect(dayRow!.offered).toBeLessThanOrEqual(weekRow!.offered);
            expect(dayRow!.offered).toBeLessThanOrEqual(monthRow.offered);
            d = d.plus({ days: 1 });
          }
          const sum = sumRows(days);
          for (const k of ADDITIVE) expect(sum[k], k).toBe(monthRow[k]);
          for (const k of ADDITIVE_TIME) expect(sum[k]!, k).toBeCloseTo(monthRow[k], 3);
          // ClickHouse's toDate(bucket, zone) grouping gives the same days as luxon's boundaries.
          expect(byDayCh.map((r) => [r.interval, r.offered, r.answered])).toEqual(days.map((r) => [r.start && DateTime.fromISO(r.start, { zone }).toFormat('yyyy-MM-dd'), r.offered, r.answered]));
          // Ground truth straight from the events: legs whose offer instant is in the month.
          const expected = evs.filter((e) => e.type === 'call.queued' && Date.parse(e.occurred_at) >= mp.start.getTime() && Date.parse(e.occurred_at) < mp.end.getTime()).length;
          expect(monthRow.offered).toBe(expected);
          // Agent state time is additive too.
          const agentMonth = await agentMetrics(ch, { tenant_id: t, ...tenant, period: { kind: 'MONTH', date: month }, group_by: 'none', settings, now });
          const agentDays = await agentMetrics(ch, { tenant_id: t, ...tenant, period: { kind: 'MONTH', date: month }, group_by: 'day', settings, now });
          expect(agentDays.reduce((a, r) => a + r.logged_in_time, 0)).toBeCloseTo(agentMonth[0]!.logged_in_time, 3);
          expect(agentDays.reduce((a, r) => a + r.handled, 0)).toBe(agentMonth[0]!.handled);
        },
      ),
      { numRuns: 10 },
    );
  });
});

describe('rebuild', () => {
  it('replays the events into fresh tables, swaps them in, and two rebuilds give identical tables', async () => {
    const t = uniqueId('rb');
    await given([
      ...queuedCall({ tenant: t, call_id: 'r1', at: utc('2026-06-01T09:00:00Z'), outcome: 'answered', wait_s: 8, hold_s: 5, hold_events: true }),
      ...queuedCall({ tenant: t, call_id: 'r2', at: utc('2026-06-01T09:20:00Z'), outcome: 'abandoned', wait_s: 12 }),
      agentState(t, '1001', utc('2026-06-01T08:00:00Z'), 'available'),
      agentState(t, '1001', utc('2026-06-01T12:00:00Z'), 'offline'),
    ]);
    const before = await q(t, 'UTC', { kind: 'DAY', date: '2026-06-01' });
    expect(before[0]!.offered).toBe(2);
    // Lose a projection entirely: the rebuild restores it from the log.
    await ch.client.command({ query: `TRUNCATE TABLE ${ch.db}.queue_15m` });
    expect((await q(t, 'UTC', { kind: 'DAY', date: '2026-06-01' }))[0]!.offered).toBe(0);
    await rebuild(ch);
    const first = await Promise.all(DERIVED_TABLES.map((x) => tableChecksum(ch, x)));
    await rebuild(ch, undefined, { pageEvents: 7 }); // many small pages: no call or agent split across pages
    const second = await Promise.all(DERIVED_TABLES.map((x) => tableChecksum(ch, x)));
    expect(first.join(' ')).toMatch(new RegExp(`^([1-9]\\d*:\\d+ ?){${DERIVED_TABLES.length}}$`));
    expect(second).toEqual(first);
    expect(await q(t, 'UTC', { kind: 'DAY', date: '2026-06-01' })).toEqual(before);
  });
});

describe('BI views', () => {
  it('bi_queue_daily agrees with the query API, and every BI column carries a comment', async () => {
    const t = uniqueId('bi');
    const evs = Array.from({ length: 40 }, (_, i) =>
      queuedCall({ tenant: t, call_id: `b${i}`, at: utc('2026-03-28T18:00:00Z') + i * 37 * 60_000, outcome: (['answered', 'abandoned', 'exited'] as const)[i % 3]!, wait_s: (i * 5) % 40 }),
    ).flat();
    await given(evs);
    const zone = 'Europe/London'; // DST starts on 2026-03-29
    const api = await q(t, zone, { kind: 'WEEK', date: '2026-03-29' }, { group_by: 'day' });
    const rs = await ch.client.query({
      query: `SELECT toString(day) AS day, sum(offered) AS offered, sum(answered_within_sl) AS sl, sum(short_abandoned) AS short
              FROM ${ch.db}.bi_queue_daily(tenant = ${"'"}${t}${"'"}, tz = '${zone}', sl_threshold_s = 20, short_abandon_s = 5) GROUP BY day ORDER BY day`,
      format: 'JSONEachRow',
    });
    const bi = (await rs.json()) as { day: string; offered: number; sl: number; short: number }[];
    const fromApi = api.filter((r) => r.offered > 0).map((r) => ({ day: r.interval, offered: r.offered, sl: r.answered_within_sl, short: r.short_abandoned }));
    expect(bi.map((r) => ({ ...r, offered: Number(r.offered), sl: Number(r.sl), short: Number(r.short) }))).toEqual(fromApi);
    const cols = await ch.client.query({
      query: `SELECT table, name FROM system.columns WHERE database = '${ch.db}' AND table IN ('bi_calls', 'bi_queue_legs', 'bi_agent_intervals', 'bi_queue_15m', 'bi_gaps') AND comment = ''`,
      format: 'JSONEachRow',
    });
    expect(await cols.json()).toEqual([]);
  });
});

// Business hours through fold → embedded ClickHouse → queries (METRICS.md "Business hours"):
// OPEN + CLOSED = ALL for every additive queue metric and every period, in the seven zones, over
// DST changes, holidays and exceptions; each side checked against a wall-clock oracle built from
// luxon alone; the rollup path and the leg-by-leg path both exercised.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { DEFAULT_QUEUE_SETTINGS, type ClickHouse, type OpenInterval, type QueueSettings, type ScheduleConfig, type TenantHours } from '@callboard/platform';
import type { CanonicalEvent } from '@callboard/schemas';
import { queueMetrics, type Hours, type QueueMetricsRow, type QueueSource } from '../src/queries.ts';
import { loadEvents } from '../src/report.ts';
import { syncBusinessHours } from '../src/schedule/sync.ts';
import { ProjectionStore } from '../src/store.ts';
import type { PeriodSpec } from '../src/periods.ts';
import { uniqueId } from '../../test/helpers.ts';
import { queuedCall, utc } from './given.ts';
import { openProjections } from './engine.ts';

let ch: ClickHouse;
let store: ProjectionStore;

beforeAll(async () => ({ ch, store } = await openProjections()));
afterAll(async () => ch?.close());

const ZONES = ['Africa/Nairobi', 'America/New_York', 'Europe/London', 'Asia/Kolkata', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'Pacific/Chatham'];
const MONTHS = ['2026-03', '2026-04', '2026-10', '2026-11'];
const ADDITIVE = ['offered', 'answered', 'abandoned', 'short_abandoned', 'exited', 'waiting', 'answered_within_sl', 'abandoned_within_sl', 'transferred', 'closed'] as const;
const ADDITIVE_TIME = ['talk_time', 'hold_time', 'wrap_time'] as const;
const NOW = new Date('2027-06-01T00:00:00Z');

/** The oracle: is `t` in hours, read straight off the local wall clock (no span arithmetic). */
function openAt(s: ScheduleConfig | null, zone: string, t: number): boolean {
  if (!s) return true;
  const l = DateTime.fromMillis(t, { zone });
  const date = l.toFormat('yyyy-MM-dd');
  const x = s.exceptions.find((e) => e.date === date);
  const hours = s.holidays.some((h) => h.date === date) ? [] : x ? x.hours : s.weekly[l.weekday - 1]!;
  const wall = l.hour * 60 + l.minute + (l.second + l.millisecond / 1000) / 60;
  return hours.some((h) => wall >= h.from && wall < h.to);
}

// Edges on 15-minute marks, or 5 minutes past them (never a bucket edge), ending by 22:00 so
// the 23:05–23:25 interval every 5-minute schedule holds is never dropped as an overlap.
const interval = (step: number) =>
  step === 15
    ? fc.tuple(fc.integer({ min: 0, max: 95 }), fc.integer({ min: 1, max: 40 })).map(([a, n]): OpenInterval => ({ from: a * 15, to: Math.min(1440, (a + n) * 15) }))
    : fc.tuple(fc.integer({ min: 0, max: 86 }), fc.integer({ min: 1, max: 40 })).map(([a, n]): OpenInterval => ({ from: a * 15 + 5, to: Math.min(1320, a * 15 + 5 + n * 15) }));
const disjoint = (xs: OpenInterval[]) => {
  const out: OpenInterval[] = [];
  for (const x of [...xs].sort((a, b) => a.from - b.from)) if (!out.length || x.from >= out[out.length - 1]!.to) out.push(x);
  return out;
};

function schedule(month: string, step: number) {
  return fc
    .record({
      weekly: fc.array(fc.array(interval(step), { maxLength: 3 }), { minLength: 7, maxLength: 7 }),
      dst: fc.boolean(),
      holidays: fc.uniqueArray(fc.integer({ min: 1, max: 28 }), { maxLength: 3 }),
      exceptions: fc.uniqueArray(fc.tuple(fc.integer({ min: 1, max: 28 }), fc.array(interval(step), { maxLength: 2 })), { maxLength: 3, selector: ([d]) => d }),
    })
    .map(({ weekly, dst, holidays, exceptions }): ScheduleConfig => {
      const day = (d: number) => `${month}-${String(d).padStart(2, '0')}`;
      const ex = exceptions.filter(([d]) => !holidays.includes(d));
      return {
        tenant: 't',
        name: `every-${step}`,
        // 01:30–02:30 every day crosses the DST change of the northern and southern zones.
        weekly: weekly.map((w) => disjoint([...(dst ? [{ from: 90, to: 150 }] : []), ...(step === 5 ? [{ from: 1385, to: 1405 }] : []), ...w])),
        holidays: holidays.map((d) => ({ date: day(d), name: `holiday ${d}` })),
        exceptions: ex.map(([d, h]) => ({ date: day(d), hours: disjoint(h) })),
      };
    });
}

const calls = fc.array(
  fc.record({
    minute: fc.integer({ min: -2 * 1440, max: 33 * 1440 }),
    second: fc.integer({ min: 0, max: 59 }),
    outcome: fc.constantFrom('answered' as const, 'abandoned' as const, 'exited' as const),
    wait_s: fc.integer({ min: 0, max: 60 }),
    talk_s: fc.integer({ min: 1, max: 600 }),
    queue: fc.constantFrom('sales', 'support'),
  }),
  { minLength: 1, maxLength: 60 },
);

function sums(rows: QueueMetricsRow[]) {
  return Object.fromEntries([...ADDITIVE, ...ADDITIVE_TIME].map((k) => [k, rows.reduce((a, r) => a + r[k], 0)]));
}

describe('OPEN + CLOSED = ALL (property, seven zones, DST months, holidays, exceptions)', () => {
  for (const step of [15, 5]) {
    it(`schedules on ${step}-minute edges: ${step === 15 ? 'answered from the rollups' : 'answered leg by leg'}`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...ZONES).chain((zone) => fc.constantFrom(...MONTHS).chain((month) => fc.record({ zone: fc.constant(zone), month: fc.constant(month), sales: schedule(month, step), support: schedule(month, step), calls }))),
          async ({ zone, month, sales, support, calls: cs }) => {
            const t = uniqueId('bh');
            const origin = DateTime.fromISO(`${month}-01`, { zone }).toMillis();
            const random = cs.map((c) => ({ ...c, at: origin + c.minute * 60_000 + c.second * 1000 }));
            // Legs a few minutes either side of each opening and closing on four days, where a
            // 15-minute bucket is split (random instants would seldom land there).
            const nearEdges = [1, 8, 15, 22].flatMap((d) => {
              const date = DateTime.fromISO(`${month}-${String(d).padStart(2, '0')}`, { zone });
              return [sales, support].flatMap((sch, k) =>
                sch.weekly[date.weekday - 1]!.flatMap((h) =>
                  [h.from, h.to].flatMap((edge) => [-3, 2].map((dm) => ({ queue: k ? 'support' : 'sales', outcome: 'answered' as const, wait_s: 3, talk_s: 30, at: date.plus({ minutes: edge + dm, seconds: 30 }).toMillis() }))),
                ),
              );
            });
            const evs = [...random, ...nearEdges].flatMap((c, i) => queuedCall({ tenant: t, call_id: `b${i}`, queue: c.queue, at: c.at, outcome: c.outcome, wait_s: c.wait_s, talk_s: c.talk_s }));
            await loadEvents(store, evs, { rollupVersion: 'now' });
            // sales uses the tenant's default schedule, support its own.
            const hours: TenantHours = { default: sales, queues: { support: { ...support, name: 'support-hours' } } };
            const sources = new Set<QueueSource>();
            const run = (period: PeriodSpec, h: Hours | undefined, group_by: 'none' | 'day' | 'queue' = 'none') =>
              queueMetrics(ch, { tenant_id: t, timezone: zone, week_start: 'monday', period, group_by, settings: () => DEFAULT_QUEUE_SETTINGS, now: NOW, business_hours: hours, ...(h ? { hours: h } : {}) }, { onSource: (s) => sources.add(s) });
            const month1: PeriodSpec = { kind: 'MONTH', date: month };
            const local = (iso: string) => DateTime.fromISO(iso, { zone }).toFormat('yyyy-MM-dd');
            // Every local day of the month (DST days, holidays, exceptions among them) as day rows,
            // then the month and a week as one row each.
            const shapes: { period: PeriodSpec; group_by: 'none' | 'day' }[] = [
              { period: month1, group_by: 'day' },
              { period: month1, group_by: 'none' },
              { period: { kind: 'WEEK', date: `${month}-08` }, group_by: 'none' },
            ];
            for (const { period, group_by } of shapes) {
              const [open, closed, all, dflt] = await Promise.all([run(period, 'open', group_by), run(period, 'closed', group_by), run(period, 'all', group_by), run(period, undefined, group_by)]);
              all.forEach((a, i) => {
                const [o, c, d] = [open[i]!, closed[i]!, dflt[i]!];
                const what = `${JSON.stringify(period)} ${a.interval ?? ''}`;
                const both = sums([o, c]);
                for (const k of ADDITIVE) expect(both[k], `${k} ${what}`).toBe(a[k]);
                for (const k of ADDITIVE_TIME) expect(both[k]!, `${k} ${what}`).toBeCloseTo(a[k], 3);
                expect([o.closed, c.closed], what).toEqual([0, c.offered]);
                // Oracle: legs offered in the row's span, in and out of hours by the wall clock.
                const legs = evs.filter((e) => e.type === 'call.queued' && Date.parse(e.occurred_at) >= Date.parse(a.start) && Date.parse(e.occurred_at) < Date.parse(a.end));
                const inHours = legs.filter((e) => openAt(e.type === 'call.queued' && e.payload.queue === 'support' ? support : sales, zone, Date.parse(e.occurred_at))).length;
                expect([o.offered, c.offered], what).toEqual([inHours, legs.length - inHours]);
                // Unasked: counts over all legs, the ratios over in-hours legs (ratio_hours open).
                expect([d.offered, d.closed], what).toEqual([a.offered, c.offered]);
                expect([d.service_level, d.abandon_rate, d.asa], what).toEqual([o.service_level, o.abandon_rate, o.asa]);
                if (group_by === 'day') expect(a.interval).toBe(local(a.start));
              });
            }
            // Days add up to the month on each side, and per-queue rows to the tenant row.
            for (const h of ['open', 'closed'] as const) {
              const [m] = await run(month1, h);
              const byDay = await run(month1, h, 'day');
              const byQueue = await run(month1, h, 'queue');
              for (const k of ADDITIVE) expect([sums(byDay)[k], sums(byQueue)[k]], k).toEqual([m![k], m![k]]);
            }
            // A day whose spans all fall on bucket edges (a holiday) may use the rollup either way.
            expect(sources.has(step === 15 ? 'rollup' : 'legs')).toBe(true);
            if (step === 15) expect(sources.has('legs')).toBe(false);
          },
        ),
        { numRuns: 10 },
      );
    }, 600_000);
  }
});

describe('business hours in queue rows', () => {
  const lunch: ScheduleConfig = {
    tenant: 't',
    name: 'office',
    weekly: Array.from({ length: 7 }, () => [
      { from: 8 * 60, to: 12 * 60 + 30 },
      { from: 13 * 60 + 30, to: 17 * 60 },
    ]),
    holidays: [{ date: '2026-12-25', name: 'Christmas Day' }],
    exceptions: [],
  };

  it('a queue whose ratio_hours is all keeps every leg in its service level; intraday intervals say when they were open', async () => {
    const t = uniqueId('bhr');
    const zone = 'Africa/Nairobi';
    await loadEvents(
      store,
      [
        // 09:00 local: in hours, answered in 5 s; 12:45 (lunch): abandoned after 40 s; 20:00: answered in 60 s.
        ...queuedCall({ tenant: t, call_id: 'in', at: utc('2026-12-23T06:00:00Z'), outcome: 'answered', wait_s: 5 }),
        ...queuedCall({ tenant: t, call_id: 'lunch', at: utc('2026-12-23T09:45:00Z'), outcome: 'abandoned', wait_s: 40 }),
        ...queuedCall({ tenant: t, call_id: 'night', at: utc('2026-12-23T17:00:00Z'), outcome: 'answered', wait_s: 60 }),
      ] as CanonicalEvent[],
      { rollupVersion: 'now' },
    );
    const base = { tenant_id: t, timezone: zone, week_start: 'monday' as const, period: { kind: 'DAY', date: '2026-12-23' } as PeriodSpec, now: NOW, business_hours: { default: lunch, queues: {} } };
    const ratio = (r: QueueSettings['ratio_hours']) => () => ({ ...DEFAULT_QUEUE_SETTINGS, ratio_hours: r });
    const [openOnly] = await queueMetrics(ch, { ...base, group_by: 'none', settings: ratio('open') });
    const [allLegs] = await queueMetrics(ch, { ...base, group_by: 'none', settings: ratio('all') });
    expect([openOnly!.offered, openOnly!.closed, openOnly!.service_level, openOnly!.abandon_rate, openOnly!.asa]).toEqual([3, 2, 1, 0, 5]);
    expect([allLegs!.offered, allLegs!.closed, allLegs!.service_level, allLegs!.abandon_rate, allLegs!.asa]).toEqual([3, 2, 1 / 3, 1 / 3, 32.5]);
    const series = await queueMetrics(ch, { ...base, group_by: 'interval', interval_minutes: 60, settings: ratio('open') });
    const at = (hh: string) => series.find((r) => r.interval === `2026-12-23T${hh}`)!;
    expect([at('07:00').open_fraction, at('08:00').open_fraction, at('12:00').open_fraction, at('13:00').open_fraction, at('20:00').open_fraction]).toEqual([0, 1, 0.5, 0.5, 0]);
    expect([at('12:00').offered, at('12:00').closed]).toEqual([1, 1]);
    const [holiday] = await queueMetrics(ch, { ...base, period: { kind: 'DAY', date: '2026-12-25' }, group_by: 'none', settings: ratio('open') });
    expect(holiday!.open_fraction).toBe(0);
  });
});

describe('callboard report --hours', () => {
  it('reports in-hours and out-of-hours legs by the schedule in the config file, summing to all', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'callboard-hours-report-'));
    try {
      const events = join(dir, 'events.ndjson');
      const config = join(dir, 'callboard.yaml');
      const evs = [
        ...queuedCall({ call_id: 'h1', at: utc('2026-12-23T06:00:00Z'), outcome: 'answered', wait_s: 5 }), // 09:00 Nairobi
        ...queuedCall({ call_id: 'h2', at: utc('2026-12-23T09:45:00Z'), outcome: 'abandoned', wait_s: 40 }), // 12:45: lunch
        ...queuedCall({ call_id: 'h3', at: utc('2026-12-23T17:00:00Z'), outcome: 'answered', wait_s: 60 }), // 20:00
      ];
      writeFileSync(events, `${evs.map((e) => JSON.stringify(e)).join('\n')}\n`);
      writeFileSync(
        config,
        'tenants: [{ id: acme, timezone: Africa/Nairobi, schedule: office }]\n' +
          'schedules:\n  - { tenant: acme, name: office, weekly: { wed: [08:00-12:30, 13:30-17:00] } }\n',
      );
      const BIN = fileURLToPath(new URL('../../bin/callboard.mjs', import.meta.url));
      const report = async (hours?: string) => {
        const args = [BIN, 'report', '--events', events, '--tenant', 'acme', '--tz', 'Africa/Nairobi', '--period', 'day', '--date', '2026-12-23', '--config', config, ...(hours ? ['--hours', hours] : [])];
        const { stdout } = await promisify(execFile)(process.execPath, args, { env: { ...process.env, LOG_LEVEL: 'warn' }, timeout: 120_000 });
        return JSON.parse(stdout) as { hours: string | null; queue_metrics: QueueMetricsRow[] };
      };
      const [open, closed, all, unasked] = await Promise.all([report('open'), report('closed'), report('all'), report()]);
      const row = (r: { queue_metrics: QueueMetricsRow[] }) => r.queue_metrics[0]!;
      expect([row(open).offered, row(closed).offered, row(all).offered]).toEqual([1, 2, 3]);
      expect([row(open).closed, row(closed).closed, row(all).closed, row(unasked).closed]).toEqual([0, 2, 2, 2]);
      expect([open.hours, unasked.hours]).toEqual(['open', null]);
      expect([row(unasked).offered, row(unasked).service_level, row(all).service_level]).toEqual([3, 1, 1 / 3]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});

describe('bi_queue_legs_hours', () => {
  it('classes legs as the queries do, from the intervals the sync wrote; a new sync replaces the old version', async () => {
    const t = uniqueId('bhbi');
    const zone = 'Europe/London';
    // Spring forward on 2026-03-29: 01:30–02:30 is open 30 minutes (01:00–01:30 UTC).
    const evs = [
      ...queuedCall({ tenant: t, call_id: 'a', queue: 'sales', at: utc('2026-03-29T01:10:00Z'), outcome: 'answered', wait_s: 1 }), // 02:10 BST: open
      ...queuedCall({ tenant: t, call_id: 'b', queue: 'sales', at: utc('2026-03-29T01:40:00Z'), outcome: 'answered', wait_s: 1 }), // 02:40 BST: closed
      ...queuedCall({ tenant: t, call_id: 'c', queue: 'night', at: utc('2026-03-29T01:40:00Z'), outcome: 'abandoned', wait_s: 9 }), // night: open
      ...queuedCall({ tenant: t, call_id: 'd', queue: 'night', at: utc('2026-03-29T12:00:00Z'), outcome: 'answered', wait_s: 1 }), // night: closed
    ];
    await loadEvents(store, evs, { rollupVersion: 'now' });
    const early: ScheduleConfig = { tenant: t, name: 'early', weekly: Array.from({ length: 7 }, () => [{ from: 90, to: 150 }]), holidays: [], exceptions: [] };
    const night: ScheduleConfig = { tenant: t, name: 'night', weekly: Array.from({ length: 7 }, () => [{ from: 0, to: 360 }]), holidays: [], exceptions: [] };
    const tenant = { id: t, name: t, timezone: zone, week_start: 'monday' as const, locale: 'en-GB' };
    const cfg = { tenants: [{ ...tenant, schedule: 'early' }], queues: [{ tenant: t, queue: 'night', name: 'night', schedule: 'night', ...DEFAULT_QUEUE_SETTINGS }], schedules: [early, night] };
    const byView = async () => {
      const rs = await ch.client.query({ query: `SELECT queue, in_hours, count() AS n FROM ${ch.db}.bi_queue_legs_hours WHERE tenant_id = {t:String} GROUP BY queue, in_hours ORDER BY queue, in_hours`, query_params: { t }, format: 'JSONEachRow', clickhouse_settings: { output_format_json_quote_64bit_integers: 0 } });
      return rs.json();
    };
    await syncBusinessHours(ch, cfg, Date.parse('2026-12-01T00:00:00Z'));
    expect(await byView()).toEqual([
      { queue: 'night', in_hours: 0, n: 1 },
      { queue: 'night', in_hours: 1, n: 1 },
      { queue: 'sales', in_hours: 0, n: 1 },
      { queue: 'sales', in_hours: 1, n: 1 },
    ]);
    const rows = await queueMetrics(ch, { tenant_id: t, timezone: zone, week_start: 'monday', period: { kind: 'DAY', date: '2026-03-29' }, group_by: 'queue', settings: () => DEFAULT_QUEUE_SETTINGS, now: NOW, business_hours: { default: early, queues: { night } }, hours: 'open' });
    expect(rows.map((r) => [r.queue, r.offered])).toEqual([['night', 1], ['sales', 1]]);
    // A queue with no leg in hours still has its row, at 0.
    const evening = await queueMetrics(ch, { tenant_id: t, timezone: zone, week_start: 'monday', period: { kind: 'DAY', date: '2026-03-29' }, group_by: 'queue', filter: { queues: ['night'] }, settings: () => DEFAULT_QUEUE_SETTINGS, now: NOW, business_hours: { default: early, queues: { night: early } }, hours: 'open' });
    expect(evening.map((r) => [r.queue, r.offered, r.closed])).toEqual([['night', 0, 0]]);
    // The tenant drops its schedules: after the next sync every leg is in hours.
    await syncBusinessHours(ch, { tenants: [tenant], queues: [], schedules: [] }, Date.parse('2026-12-02T00:00:00Z'));
    expect(await byView()).toEqual([
      { queue: 'night', in_hours: 1, n: 2 },
      { queue: 'sales', in_hours: 1, n: 2 },
    ]);
  });
});

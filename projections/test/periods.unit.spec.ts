import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { PeriodError, intervals, parsePeriod, resolvePeriod } from '../src/periods.ts';
import { BUCKET_MS } from '../src/metrics/index.ts';

const nairobi = { timezone: 'Africa/Nairobi', week_start: 'monday' as const };
const iso = (d: Date) => d.toISOString();

describe('resolvePeriod', () => {
  it('a call at 00:30 local in Africa/Nairobi falls in that local day, not the UTC day before', () => {
    const p = resolvePeriod({ kind: 'DAY', date: '2026-03-10' }, nairobi);
    expect(iso(p.start)).toBe('2026-03-09T21:00:00.000Z');
    expect(iso(p.end)).toBe('2026-03-10T21:00:00.000Z');
    const call = Date.parse('2026-03-09T21:30:00Z'); // 00:30 EAT on the 10th
    expect(call >= p.start.getTime() && call < p.end.getTime()).toBe(true);
  });

  it('"this month" is the calendar month, not the last 30 days', () => {
    const p = resolvePeriod({ kind: 'THIS_MONTH' }, nairobi, new Date('2026-03-31T12:00:00Z'));
    expect([iso(p.start), iso(p.end), p.label]).toEqual(['2026-02-28T21:00:00.000Z', '2026-03-31T21:00:00.000Z', '2026-03']);
    const feb = resolvePeriod({ kind: 'THIS_MONTH' }, nairobi, new Date('2026-02-15T12:00:00Z'));
    expect((feb.end.getTime() - feb.start.getTime()) / 86_400_000).toBe(28);
  });

  it('a week that starts in the previous month is reported whole', () => {
    const w = resolvePeriod({ kind: 'THIS_WEEK' }, nairobi, new Date('2026-04-02T09:00:00Z'));
    expect(w.label).toBe('2026-03-30/2026-04-05');
    const m = resolvePeriod({ kind: 'THIS_MONTH' }, nairobi, new Date('2026-04-02T09:00:00Z'));
    expect(w.start < m.start).toBe(true);
  });

  it('sunday week start', () => {
    const w = resolvePeriod({ kind: 'WEEK', date: '2026-04-02' }, { timezone: 'America/New_York', week_start: 'sunday' });
    expect(w.label).toBe('2026-03-29/2026-04-04');
    expect(iso(w.start)).toBe('2026-03-29T04:00:00.000Z');
  });

  it('DST days are 23 and 25 hours long', () => {
    const tz = { timezone: 'Europe/London', week_start: 'monday' as const };
    const spring = resolvePeriod({ kind: 'DAY', date: '2026-03-29' }, tz);
    const autumn = resolvePeriod({ kind: 'DAY', date: '2026-10-25' }, tz);
    expect((spring.end.getTime() - spring.start.getTime()) / 3_600_000).toBe(23);
    expect((autumn.end.getTime() - autumn.start.getTime()) / 3_600_000).toBe(25);
    expect(intervals(spring, 'Europe/London', 15)).toHaveLength(92);
    expect(intervals(autumn, 'Europe/London', 15)).toHaveLength(100);
    expect(intervals(autumn, 'Europe/London', 60)).toHaveLength(25);
  });

  it('Lord Howe shifts by 30 minutes: the day is 23.5 hours', () => {
    const p = resolvePeriod({ kind: 'DAY', date: '2026-10-04' }, { timezone: 'Australia/Lord_Howe', week_start: 'monday' });
    expect((p.end.getTime() - p.start.getTime()) / 3_600_000).toBe(23.5);
    const hours = intervals(p, 'Australia/Lord_Howe', 60);
    expect(hours.reduce((a, h) => a + (h.end.getTime() - h.start.getTime()), 0)).toBe(p.end.getTime() - p.start.getTime());
  });

  it('yesterday, last week and last month', () => {
    const now = new Date('2026-03-01T22:00:00Z'); // 01:00 on 2 March in Nairobi
    expect(resolvePeriod({ kind: 'YESTERDAY' }, nairobi, now).label).toBe('2026-03-01');
    expect(resolvePeriod({ kind: 'LAST_WEEK' }, nairobi, now).label).toBe('2026-02-23/2026-03-01');
    expect(resolvePeriod({ kind: 'LAST_MONTH' }, nairobi, now).label).toBe('2026-02');
    expect(resolvePeriod({ kind: 'RANGE', from: '2026-02-27', to: '2026-03-02' }, nairobi).label).toBe('2026-02-27/2026-03-02');
  });

  it('bad input is a typed PeriodError with code BAD_PERIOD', () => {
    const bad = [
      () => resolvePeriod({ kind: 'DAY', date: '2026-02-30' }, nairobi),
      () => resolvePeriod({ kind: 'DAY', date: 'yesterday' }, nairobi),
      () => resolvePeriod({ kind: 'RANGE', from: '2026-03-02', to: '2026-03-01' }, nairobi),
      () => resolvePeriod({ kind: 'TODAY' }, { timezone: 'UTC+3', week_start: 'monday' }),
      () => resolvePeriod({ kind: 'NEXT_YEAR' } as never, nairobi),
      () => parsePeriod('DAY()'),
    ];
    for (const f of bad) {
      try {
        f();
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(PeriodError);
        expect((e as PeriodError).code).toBe('BAD_PERIOD');
      }
    }
  });

  it('parses the text form', () => {
    expect(parsePeriod('today')).toEqual({ kind: 'TODAY' });
    expect(parsePeriod('MONTH(2026-03)')).toEqual({ kind: 'MONTH', date: '2026-03' });
    expect(parsePeriod('RANGE(2026-03-01, 2026-03-15)')).toEqual({ kind: 'RANGE', from: '2026-03-01', to: '2026-03-15' });
  });
});

const ZONES = ['Africa/Nairobi', 'America/New_York', 'Europe/London', 'Asia/Kolkata', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'Pacific/Chatham'];

describe('period properties', () => {
  const arb = fc.record({
    zone: fc.constantFrom(...ZONES),
    ws: fc.constantFrom('monday' as const, 'sunday' as const),
    day: fc.integer({ min: 0, max: 2 * 366 }),
  });

  it('days tile their week and month exactly, on 15-minute UTC edges', () => {
    fc.assert(
      fc.property(arb, ({ zone, ws, day }) => {
        const date = DateTime.fromISO('2025-01-01', { zone: 'UTC' }).plus({ days: day }).toFormat('yyyy-MM-dd');
        const t = { timezone: zone, week_start: ws };
        for (const kind of ['WEEK', 'MONTH'] as const) {
          const p = resolvePeriod({ kind, date }, t);
          let cursor = p.start.getTime();
          let d = DateTime.fromJSDate(p.start, { zone });
          while (cursor < p.end.getTime()) {
            const dp = resolvePeriod({ kind: 'DAY', date: d.toFormat('yyyy-MM-dd') }, t);
            expect(dp.start.getTime()).toBe(cursor);
            expect(dp.start.getTime() % BUCKET_MS).toBe(0);
            cursor = dp.end.getTime();
            d = d.plus({ days: 1 });
          }
          expect(cursor).toBe(p.end.getTime());
        }
        const dayP = resolvePeriod({ kind: 'DAY', date }, t);
        const ivs = intervals(dayP, zone, 30);
        expect(ivs[0]!.start.getTime()).toBe(dayP.start.getTime());
        expect(ivs[ivs.length - 1]!.end.getTime()).toBe(dayP.end.getTime());
      }),
      { numRuns: 200 },
    );
    // Each run resolves ~40 periods with luxon: seconds of CPU, far more on a loaded shared machine.
  }, 180_000);
});

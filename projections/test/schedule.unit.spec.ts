// The business-hours module (schedule/hours.ts) without I/O: wall-clock intervals over DST
// changes, holidays and exceptions, in the seven zones of the projections' suite.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import type { OpenInterval, ScheduleConfig } from '@callboard/platform';
import { complementSpans, inSpans, offsetSegments, onBucketEdges, openSpans, overlapMs, wholeBuckets } from '../src/schedule/hours.ts';
import { comparisonPeriod, resolvePeriod, type Comparison, type PeriodSpec } from '../src/periods.ts';

const ZONES = ['Africa/Nairobi', 'America/New_York', 'Europe/London', 'Asia/Kolkata', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'Pacific/Chatham'];
const hm = (s: string): OpenInterval => {
  const [a, b] = s.split('-').map((x) => Number(x.slice(0, 2)) * 60 + Number(x.slice(3)));
  return { from: a!, to: b! };
};
const everyDay = (...ranges: string[]): ScheduleConfig => ({ tenant: 't', name: 's', weekly: Array.from({ length: 7 }, () => ranges.map(hm)), holidays: [], exceptions: [] });
const dayOf = (date: string, zone: string) => {
  const p = resolvePeriod({ kind: 'DAY', date }, { timezone: zone, week_start: 'monday' });
  return [p.start.getTime(), p.end.getTime()] as const;
};
const minutesOpen = (s: ScheduleConfig, zone: string, date: string) => {
  const [a, b] = dayOf(date, zone);
  return overlapMs(openSpans(s, zone, a, b), a, b) / 60_000;
};

describe('open spans of a schedule', () => {
  it('01:30–02:30 is 30 minutes on a spring-forward day and 90 on a fall-back day (America/New_York)', () => {
    const s = everyDay('01:30-02:30');
    expect(minutesOpen(s, 'America/New_York', '2026-03-08')).toBe(30);
    expect(minutesOpen(s, 'America/New_York', '2026-11-01')).toBe(90);
    expect(minutesOpen(s, 'America/New_York', '2026-03-09')).toBe(60);
  });

  it('an interval across Lord Howe\'s 30-minute shift and Chatham\'s 01:45 / 02:45 change', () => {
    // Lord Howe: 02:00 → 02:30 on 2026-10-04, 02:00 → 01:30 on 2026-04-05.
    expect(minutesOpen(everyDay('01:30-03:00'), 'Australia/Lord_Howe', '2026-10-04')).toBe(60);
    expect(minutesOpen(everyDay('01:30-03:00'), 'Australia/Lord_Howe', '2026-04-05')).toBe(120);
    // Chatham: 02:45 → 03:45 on 2026-09-27, 03:45 → 02:45 on 2026-04-05.
    expect(minutesOpen(everyDay('02:00-04:00'), 'Pacific/Chatham', '2026-09-27')).toBe(60);
    expect(minutesOpen(everyDay('02:00-04:00'), 'Pacific/Chatham', '2026-04-05')).toBe(180);
  });

  it('a lunch break is closed; holidays are closed all day; exceptions replace the weekday', () => {
    const s: ScheduleConfig = {
      ...everyDay('08:00-12:30', '13:30-17:00'),
      holidays: [{ date: '2026-12-25', name: 'Christmas Day' }],
      exceptions: [{ date: '2026-12-24', hours: [hm('08:00-12:00')] }, { date: '2026-12-26', hours: [] }],
    };
    const zone = 'Africa/Nairobi';
    expect(minutesOpen(s, zone, '2026-12-23')).toBe(8 * 60);
    expect(minutesOpen(s, zone, '2026-12-24')).toBe(4 * 60);
    expect(minutesOpen(s, zone, '2026-12-25')).toBe(0);
    expect(minutesOpen(s, zone, '2026-12-26')).toBe(0);
    const [a, b] = dayOf('2026-12-23', zone);
    const spans = openSpans(s, zone, a, b);
    expect(spans.map((x) => [new Date(x.start).toISOString(), new Date(x.end).toISOString()])).toEqual([
      ['2026-12-23T05:00:00.000Z', '2026-12-23T09:30:00.000Z'],
      ['2026-12-23T10:30:00.000Z', '2026-12-23T14:00:00.000Z'],
    ]);
    expect(inSpans(spans, Date.parse('2026-12-23T09:45:00Z'))).toBe(false);
    expect(inSpans(spans, Date.parse('2026-12-23T05:00:00Z'))).toBe(true);
    expect(inSpans(spans, Date.parse('2026-12-23T14:00:00Z'))).toBe(false);
  });

  it('weekdays are the local ones: Sunday closed, Monday open, at the zone\'s midnight', () => {
    const s: ScheduleConfig = { tenant: 't', name: 's', weekly: [[hm('00:00-24:00')], [], [], [], [], [], []], holidays: [], exceptions: [] };
    const zone = 'Pacific/Chatham';
    const [a, b] = dayOf('2026-03-02', zone);
    expect(openSpans(s, zone, a - 86_400_000, b + 86_400_000)).toEqual([{ start: a, end: b }]);
  });

  it('a null schedule is always open; buckets and edges', () => {
    expect(openSpans(null, 'UTC', 0, 100)).toEqual([{ start: 0, end: 100 }]);
    expect(complementSpans([{ start: 10, end: 20 }], 0, 30)).toEqual([{ start: 0, end: 10 }, { start: 20, end: 30 }]);
    const Q = 900_000;
    expect(onBucketEdges([{ start: Q, end: 3 * Q }])).toBe(true);
    expect(onBucketEdges([{ start: Q + 600_000, end: 3 * Q }])).toBe(false);
    expect(wholeBuckets([{ start: Q + 600_000, end: 3 * Q }])).toEqual([2 * Q]);
  });

  it('the offset segments agree with luxon at every instant (property, seven zones)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), fc.integer({ min: Date.parse('2025-01-01T00:00:00Z'), max: Date.parse('2028-01-01T00:00:00Z') }), (zone, t0) => {
        const segs = offsetSegments(zone, t0, t0 + 5 * 86_400_000);
        for (const s of segs) {
          expect(DateTime.fromMillis(s.start, { zone }).offset).toBe(s.offset);
          expect(DateTime.fromMillis(s.end - 1, { zone }).offset).toBe(s.offset);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('an instant is open exactly when its local wall clock lies in its date\'s intervals (property, seven zones, DST months)', () => {
    const range = fc.tuple(fc.integer({ min: 0, max: 95 }), fc.integer({ min: 1, max: 96 })).map(([a, n]) => ({ from: a * 15 + 5 * (a % 3), to: Math.min(1440, a * 15 + n * 15) }));
    fc.assert(
      fc.property(
        fc.constantFrom(...ZONES),
        fc.constantFrom('2026-03-', '2026-04-', '2026-09-', '2026-10-', '2026-11-'),
        fc.integer({ min: 1, max: 28 }),
        range,
        fc.array(fc.integer({ min: 0, max: 3 * 86_400 - 1 }), { minLength: 20, maxLength: 40 }),
        (zone, month, day, r, probes) => {
          if (r.from >= r.to) return;
          const s = everyDay(`${String(Math.floor(r.from / 60)).padStart(2, '0')}:${String(r.from % 60).padStart(2, '0')}-${String(Math.floor(r.to / 60)).padStart(2, '0')}:${String(r.to % 60).padStart(2, '0')}`);
          const date = `${month}${String(day).padStart(2, '0')}`;
          const [a] = dayOf(date, zone);
          const b = a + 3 * 86_400_000;
          const spans = openSpans(s, zone, a, b);
          for (const sec of probes) {
            const t = a + sec * 1000;
            const l = DateTime.fromMillis(t, { zone });
            const wall = l.hour * 60 + l.minute + l.second / 60;
            expect(inSpans(spans, t), `${zone} ${l.toISO()}`).toBe(wall >= r.from && wall < r.to);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('comparison periods', () => {
  const tenant = (timezone: string) => ({ timezone, week_start: 'monday' as const });
  const cmp = (spec: PeriodSpec, kind: Comparison, zone = 'Europe/London') => comparisonPeriod(spec, kind, tenant(zone), new Date('2026-12-04T12:00:00Z'));

  it('a Monday against a Monday, a month against a month, a week against a week', () => {
    expect(cmp({ kind: 'DAY', date: '2026-11-30' }, 'SAME_DAY_LAST_WEEK')).toEqual({ kind: 'DAY', date: '2026-11-23' });
    expect(cmp({ kind: 'DAY', date: '2026-11-30' }, 'PREVIOUS')).toEqual({ kind: 'DAY', date: '2026-11-29' });
    expect(cmp({ kind: 'DAY', date: '2026-11-30' }, 'SAME_PERIOD_LAST_YEAR')).toEqual({ kind: 'DAY', date: '2025-12-01' });
    expect(cmp({ kind: 'TODAY' }, 'SAME_DAY_LAST_WEEK')).toEqual({ kind: 'DAY', date: '2026-11-27' });
    expect(cmp({ kind: 'THIS_MONTH' }, 'PREVIOUS')).toEqual({ kind: 'MONTH', date: '2026-11' });
    expect(cmp({ kind: 'MONTH', date: '2026-03' }, 'SAME_PERIOD_LAST_YEAR')).toEqual({ kind: 'MONTH', date: '2025-03' });
    expect(cmp({ kind: 'MONTH', date: '2026-03' }, 'SAME_DAY_LAST_WEEK')).toEqual({ kind: 'RANGE', from: '2026-02-22', to: '2026-03-24' });
    expect(cmp({ kind: 'THIS_WEEK' }, 'PREVIOUS')).toEqual({ kind: 'WEEK', date: '2026-11-23' });
    expect(cmp({ kind: 'RANGE', from: '2026-03-01', to: '2026-03-10' }, 'PREVIOUS')).toEqual({ kind: 'RANGE', from: '2026-02-19', to: '2026-02-28' });
  });

  it('a DST day is compared whole, and weekdays line up, in the seven zones (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ZONES),
        fc.integer({ min: 0, max: 3 * 365 }),
        fc.constantFrom<Comparison>('PREVIOUS', 'SAME_DAY_LAST_WEEK', 'SAME_PERIOD_LAST_YEAR'),
        fc.constantFrom('DAY', 'WEEK', 'MONTH'),
        (zone, n, kind, pk) => {
          const date = DateTime.fromISO('2025-01-01', { zone: 'UTC' }).plus({ days: n }).toFormat('yyyy-MM-dd');
          const spec = { kind: pk, date } as PeriodSpec;
          const c = comparisonPeriod(spec, kind, tenant(zone));
          const p = resolvePeriod(spec, tenant(zone));
          const cp = resolvePeriod(c, tenant(zone));
          const local = (d: Date) => DateTime.fromJSDate(d, { zone });
          // Whole local days: both periods start and end at a local midnight (or the first instant after it).
          for (const x of [cp.start, cp.end]) expect(local(x).startOf('day').toMillis()).toBe(local(x).toMillis());
          if (kind === 'PREVIOUS') expect(cp.end.getTime()).toBe(p.start.getTime());
          else expect(cp.start.getTime()).toBeLessThan(p.start.getTime());
          const days = (q: { start: Date; end: Date }) => Math.round(local(q.end).diff(local(q.start), 'days').days);
          if (pk !== 'MONTH') expect(days(cp)).toBe(days(p));
          if (pk !== 'MONTH' && (kind !== 'PREVIOUS' || pk === 'WEEK')) expect(local(cp.start).weekday).toBe(local(p.start).weekday);
        },
      ),
      { numRuns: 500 },
    );
  });
});

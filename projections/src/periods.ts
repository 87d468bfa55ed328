// The period engine: a tenant's local calendar period (METRICS.md "Periods") as a UTC half-open
// interval [start, end). Pure, luxon only. Every real zone offset is a multiple of 15 minutes,
// so every start and end computed here falls on a 15-minute UTC bucket edge, and a period is
// answered exactly by the buckets in it (DESIGN.md "Time").
import { DateTime } from 'luxon';
import { isIanaZone, type WeekStart } from '@callboard/platform';
import { BUCKET_MS } from './metrics/bucket.ts';

export type PeriodSpec =
  | { kind: 'TODAY' }
  | { kind: 'YESTERDAY' }
  | { kind: 'THIS_WEEK' }
  | { kind: 'LAST_WEEK' }
  | { kind: 'THIS_MONTH' }
  | { kind: 'LAST_MONTH' }
  /** The local day `date` (YYYY-MM-DD). */
  | { kind: 'DAY'; date: string }
  /** The local week (from the tenant's week start) that contains `date`. */
  | { kind: 'WEEK'; date: string }
  /** The calendar month that contains `date` (YYYY-MM-DD or YYYY-MM). */
  | { kind: 'MONTH'; date: string }
  /** Local dates `from` to `to`, both included. */
  | { kind: 'RANGE'; from: string; to: string };

export type PeriodKind = PeriodSpec['kind'];

export interface TenantTime {
  timezone: string;
  week_start: WeekStart;
}

export interface Period {
  /** First instant in the period (UTC). */
  start: Date;
  /** First instant after the period (UTC): the interval is [start, end). */
  end: Date;
  /** Human label in the tenant's calendar: 2026-03-29, 2026-03-23/2026-03-29, 2026-03. */
  label: string;
}

export type IntervalMinutes = 15 | 30 | 60;

export interface Interval extends Period {
  /** Local wall-clock start with its offset, e.g. 2026-03-29T01:00+01:00. */
  local_start: string;
}

export class PeriodError extends Error {
  readonly code = 'BAD_PERIOD';
  constructor(
    message: string,
    readonly input?: unknown,
  ) {
    super(message);
    this.name = 'PeriodError';
  }
}

/** Longest custom range accepted: a bound on work, not a business rule. */
export const MAX_RANGE_DAYS = 3 * 366;

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const MONTH_RE = /^\d{4}-\d{2}$/;

function checkTenant(t: TenantTime): void {
  if (!isIanaZone(t.timezone)) throw new PeriodError(`time zone ${JSON.stringify(t.timezone)} is not an IANA zone such as Africa/Nairobi`, t.timezone);
  if (t.week_start !== 'monday' && t.week_start !== 'sunday') throw new PeriodError(`week start ${JSON.stringify(t.week_start)} is not monday or sunday`, t.week_start);
}

function localDate(s: string, zone: string, what: string): DateTime {
  if (typeof s !== 'string' || !DATE_RE.test(s)) throw new PeriodError(`${what} ${JSON.stringify(s)} is not a date YYYY-MM-DD`, s);
  const d = DateTime.fromISO(s, { zone });
  if (!d.isValid) throw new PeriodError(`${what} ${JSON.stringify(s)} is not a real date (${d.invalidExplanation ?? d.invalidReason})`, s);
  return d.startOf('day');
}

/** Start of the local week containing `d`. luxon weeks are ISO (Monday); Sunday starts shift by one day. */
function startOfWeek(d: DateTime, ws: WeekStart): DateTime {
  const day = d.startOf('day');
  const back = ws === 'monday' ? day.weekday - 1 : day.weekday % 7;
  return day.minus({ days: back }).startOf('day');
}

function period(start: DateTime, end: DateTime, label: string): Period {
  return { start: start.toUTC().toJSDate(), end: end.toUTC().toJSDate(), label };
}

const d = (x: DateTime) => x.toFormat('yyyy-MM-dd');

function dayPeriod(day: DateTime): Period {
  return period(day, day.plus({ days: 1 }).startOf('day'), d(day));
}
function weekPeriod(first: DateTime): Period {
  const next = first.plus({ days: 7 }).startOf('day');
  return period(first, next, `${d(first)}/${d(next.minus({ days: 1 }))}`);
}
function monthPeriod(first: DateTime): Period {
  return period(first, first.plus({ months: 1 }).startOf('month'), first.toFormat('yyyy-MM'));
}

/**
 * Resolves a period for a tenant at `now`. Local days start at local midnight (or the first
 * instant after it where midnight does not exist), so DST days are 23 or 25 hours long.
 */
export function resolvePeriod(spec: PeriodSpec, tenant: TenantTime, now: Date = new Date()): Period {
  checkTenant(tenant);
  const zone = tenant.timezone;
  const today = DateTime.fromJSDate(now, { zone }).startOf('day');
  switch (spec?.kind) {
    case 'TODAY':
      return dayPeriod(today);
    case 'YESTERDAY':
      return dayPeriod(today.minus({ days: 1 }).startOf('day'));
    case 'THIS_WEEK':
      return weekPeriod(startOfWeek(today, tenant.week_start));
    case 'LAST_WEEK':
      return weekPeriod(startOfWeek(today, tenant.week_start).minus({ days: 7 }).startOf('day'));
    case 'THIS_MONTH':
      return monthPeriod(today.startOf('month'));
    case 'LAST_MONTH':
      return monthPeriod(today.startOf('month').minus({ months: 1 }).startOf('month'));
    case 'DAY':
      return dayPeriod(localDate(spec.date, zone, 'DAY date'));
    case 'WEEK':
      return weekPeriod(startOfWeek(localDate(spec.date, zone, 'WEEK date'), tenant.week_start));
    case 'MONTH': {
      const s = typeof spec.date === 'string' && MONTH_RE.test(spec.date) ? `${spec.date}-01` : spec.date;
      return monthPeriod(localDate(s, zone, 'MONTH date').startOf('month'));
    }
    case 'RANGE': {
      const from = localDate(spec.from, zone, 'RANGE from');
      const to = localDate(spec.to, zone, 'RANGE to');
      if (to < from) throw new PeriodError(`RANGE ends (${spec.to}) before it starts (${spec.from})`, spec);
      const days = Math.round(to.diff(from, 'days').days) + 1;
      if (days > MAX_RANGE_DAYS) throw new PeriodError(`RANGE of ${days} days is longer than ${MAX_RANGE_DAYS} days`, spec);
      return period(from, to.plus({ days: 1 }).startOf('day'), `${d(from)}/${d(to)}`);
    }
    default:
      throw new PeriodError(`unknown period ${JSON.stringify(spec)}: expected TODAY, YESTERDAY, THIS_WEEK, LAST_WEEK, THIS_MONTH, LAST_MONTH, DAY, WEEK, MONTH or RANGE`, spec);
  }
}

/**
 * Parses the text form used on the command line and in URLs: TODAY, DAY(2026-03-29),
 * WEEK(2026-03-29), MONTH(2026-03), RANGE(2026-03-01,2026-03-15).
 */
export function parsePeriod(text: string): PeriodSpec {
  const m = /^\s*([A-Z_]+)\s*(?:\(\s*([^,)]*?)\s*(?:,\s*([^)]*?)\s*)?\))?\s*$/.exec(String(text).toUpperCase());
  if (!m) throw new PeriodError(`cannot read period ${JSON.stringify(text)}`, text);
  const [, kind, a, b] = m;
  switch (kind) {
    case 'TODAY':
    case 'YESTERDAY':
    case 'THIS_WEEK':
    case 'LAST_WEEK':
    case 'THIS_MONTH':
    case 'LAST_MONTH':
      if (a !== undefined) throw new PeriodError(`${kind} takes no date`, text);
      return { kind };
    case 'DAY':
    case 'WEEK':
    case 'MONTH':
      if (!a || b !== undefined) throw new PeriodError(`${kind} takes one date, e.g. ${kind}(2026-03-29)`, text);
      return { kind, date: a };
    case 'RANGE':
      if (!a || !b) throw new PeriodError('RANGE takes two dates, e.g. RANGE(2026-03-01,2026-03-15)', text);
      return { kind, from: a, to: b };
    default:
      throw new PeriodError(`unknown period kind ${kind}`, text);
  }
}

/**
 * Intraday intervals of 15, 30 or 60 local minutes covering [start, end). A boundary is every
 * 15-minute UTC instant whose local wall clock is a multiple of `minutes`: on a spring-forward
 * day the interval across the gap is shorter, on a fall-back day the repeated hour appears twice
 * (each with its own offset), and Lord Howe's 30-minute shift gives a 90- or 30-minute interval.
 */
export function intervals(p: Pick<Period, 'start' | 'end'>, timezone: string, minutes: IntervalMinutes): Interval[] {
  if (minutes !== 15 && minutes !== 30 && minutes !== 60) throw new PeriodError(`interval of ${minutes} minutes: expected 15, 30 or 60`, minutes);
  if (!isIanaZone(timezone)) throw new PeriodError(`time zone ${JSON.stringify(timezone)} is not an IANA zone`, timezone);
  const q = BUCKET_MS;
  const s = p.start.getTime();
  const e = p.end.getTime();
  if (s % q !== 0 || e % q !== 0) throw new PeriodError('interval bounds must fall on 15-minute UTC edges', p);
  if ((e - s) / q > 96 * 400) throw new PeriodError('too many intervals requested (more than 400 days of 15-minute intervals)', p);
  const starts: number[] = [];
  for (let t = s; t < e; t += q) {
    const local = DateTime.fromMillis(t, { zone: timezone });
    if (t === s || (local.hour * 60 + local.minute) % minutes === 0) starts.push(t);
  }
  return starts.map((t, i) => {
    const local = DateTime.fromMillis(t, { zone: timezone });
    return {
      start: new Date(t),
      end: new Date(starts[i + 1] ?? e),
      label: local.toFormat("yyyy-MM-dd'T'HH:mm"),
      local_start: local.toFormat("yyyy-MM-dd'T'HH:mmZZ"),
    };
  });
}

/** The comparison period a metrics query may ask for beside its own. */
export type Comparison = 'PREVIOUS' | 'SAME_DAY_LAST_WEEK' | 'SAME_PERIOD_LAST_YEAR';
export const COMPARISONS: readonly Comparison[] = ['PREVIOUS', 'SAME_DAY_LAST_WEEK', 'SAME_PERIOD_LAST_YEAR'];

/**
 * The period `spec` is compared with, aligned by the local calendar so a Monday meets a Monday
 * and a 23- or 25-hour DST day is compared whole (periods are local dates, resolved afterwards):
 * - PREVIOUS: the period of the same kind just before (the day before, the week before, the
 *   month before; a RANGE of n days: the n days before it);
 * - SAME_DAY_LAST_WEEK: every date 7 days earlier;
 * - SAME_PERIOD_LAST_YEAR: a calendar month: the same month a year earlier; anything else: 52
 *   weeks (364 days) earlier, so weekdays line up (a year and a day would not).
 */
export function comparisonPeriod(spec: PeriodSpec, kind: Comparison, tenant: TenantTime, now: Date = new Date()): PeriodSpec {
  const p = resolvePeriod(spec, tenant, now);
  const zone = tenant.timezone;
  const from = DateTime.fromJSDate(p.start, { zone }).startOf('day');
  const to = DateTime.fromMillis(p.end.getTime() - 1, { zone }).startOf('day');
  const isMonth = spec.kind === 'MONTH' || spec.kind === 'THIS_MONTH' || spec.kind === 'LAST_MONTH';
  const isWeek = spec.kind === 'WEEK' || spec.kind === 'THIS_WEEK' || spec.kind === 'LAST_WEEK';
  const range = (days: number): PeriodSpec => {
    const f = from.minus({ days });
    const t = to.minus({ days });
    return f.hasSame(t, 'day') ? { kind: 'DAY', date: d(f) } : { kind: 'RANGE', from: d(f), to: d(t) };
  };
  switch (kind) {
    case 'PREVIOUS':
      if (isMonth) return { kind: 'MONTH', date: from.minus({ months: 1 }).toFormat('yyyy-MM') };
      if (isWeek) return { kind: 'WEEK', date: d(from.minus({ days: 7 })) };
      return range(Math.round(to.diff(from, 'days').days) + 1);
    case 'SAME_DAY_LAST_WEEK':
      return isWeek ? { kind: 'WEEK', date: d(from.minus({ days: 7 })) } : range(7);
    case 'SAME_PERIOD_LAST_YEAR':
      if (isMonth) return { kind: 'MONTH', date: from.minus({ years: 1 }).toFormat('yyyy-MM') };
      return isWeek ? { kind: 'WEEK', date: d(from.minus({ days: 364 })) } : range(364);
    default:
      throw new PeriodError(`unknown comparison ${JSON.stringify(kind)}: expected ${COMPARISONS.join(', ')}`, kind);
  }
}

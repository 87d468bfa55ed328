// Numbers and times in the tenant's locale and zone. A ratio with a zero denominator arrives as
// null (METRICS.md) and is shown as "—", never as 0 % or NaN.
import { DateTime } from 'luxon';
import { formatDuration } from './clock.ts';

export const NONE = '—';

export interface Locale {
  locale: string;
  timezone: string;
}

const cache = new Map<string, Intl.NumberFormat>();
function nf(locale: string, opts: Intl.NumberFormatOptions): Intl.NumberFormat {
  // Intl formatters are costly to build and a board re-renders several times a second.
  const key = `${locale}|${JSON.stringify(opts)}`;
  let f = cache.get(key);
  if (!f) {
    try {
      f = new Intl.NumberFormat(locale, opts);
    } catch {
      f = new Intl.NumberFormat('en', opts);
    }
    cache.set(key, f);
  }
  return f;
}

export function formatCount(n: number | null | undefined, locale: string): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return NONE;
  return nf(locale, { maximumFractionDigits: 0 }).format(n);
}

/** A ratio in [0, 1] as a percentage with one decimal, so 79.6 % under an 80 % target reads as below. */
export function formatRatio(r: number | null | undefined, locale: string): string {
  if (r === null || r === undefined || !Number.isFinite(r)) return NONE;
  return nf(locale, { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(r);
}

/**
 * A ratio shown beside the limits it is compared with: one decimal, or as many more (up to three)
 * as it takes not to print the same as any of them, so an SL of 59.96 % under a 60 % target never
 * reads "60.0 % (under 60.0 %)" on a wall screen. A figure equal to a limit prints as that limit.
 */
export function formatRatioBeside(r: number | null | undefined, limits: number | readonly number[], locale: string): string {
  const others = (typeof limits === 'number' ? [limits] : limits).filter((l) => l !== r);
  if (r === null || r === undefined || !Number.isFinite(r) || others.length === 0) return formatRatio(r, locale);
  let shown = '';
  for (let digits = 1; digits <= 3; digits++) {
    const f = nf(locale, { style: 'percent', minimumFractionDigits: digits, maximumFractionDigits: digits });
    shown = f.format(r);
    if (others.every((l) => shown !== f.format(l))) break;
  }
  return shown;
}

/**
 * Seconds beside the limits they are compared with: m:ss, or with tenths ("0:19.5") where m:ss
 * would print the same as a limit (m:ss drops the fraction: 19.5 s and 19 s both read 0:19).
 */
export function formatSecondsBeside(s: number | null | undefined, limits: readonly number[]): string {
  const whole = formatSeconds(s);
  if (s === null || s === undefined || !Number.isFinite(s) || limits.every((l) => l === s || formatSeconds(l) !== whole)) return whole;
  const tenths = Math.floor(Math.max(0, s) * 10 + 1e-6);
  return `${formatDuration(Math.floor(tenths / 10) * 1000)}.${tenths % 10}`;
}

/** Seconds (ASA, waits) as m:ss. */
export function formatSeconds(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return NONE;
  return formatDuration(s * 1000);
}

/** A wall-clock time in the tenant's zone, e.g. "14:05" or "2:05 PM". */
export function formatClock(iso: string | number | null | undefined, loc: Locale, withSeconds = false): string {
  if (iso === null || iso === undefined) return NONE;
  const dt = typeof iso === 'number' ? DateTime.fromMillis(iso) : DateTime.fromISO(iso);
  if (!dt.isValid) return NONE;
  return dt.setZone(loc.timezone).setLocale(loc.locale).toLocaleString(withSeconds ? DateTime.TIME_WITH_SECONDS : DateTime.TIME_SIMPLE);
}

export function formatDateTime(iso: string | null | undefined, loc: Locale): string {
  if (!iso) return NONE;
  const dt = DateTime.fromISO(iso);
  if (!dt.isValid) return NONE;
  return dt.setZone(loc.timezone).setLocale(loc.locale).toLocaleString(DateTime.DATETIME_SHORT_WITH_SECONDS);
}

export function formatDate(iso: string | number, loc: Locale): string {
  const dt = typeof iso === 'number' ? DateTime.fromMillis(iso) : DateTime.fromISO(iso);
  return dt.setZone(loc.timezone).setLocale(loc.locale).toLocaleString({ weekday: 'short', day: 'numeric', month: 'short' });
}

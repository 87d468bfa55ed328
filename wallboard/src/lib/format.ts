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
 * A ratio shown beside the limit it is compared with: one decimal, or as many more (up to three)
 * as it takes not to print the same as the limit, so an SL of 59.96 % under a 60 % target never
 * reads "60.0 % (under 60.0 %)" on a wall screen.
 */
export function formatRatioBeside(r: number | null | undefined, limit: number, locale: string): string {
  if (r === null || r === undefined || !Number.isFinite(r) || r === limit) return formatRatio(r, locale);
  let shown = '';
  for (let digits = 1; digits <= 3; digits++) {
    const f = nf(locale, { style: 'percent', minimumFractionDigits: digits, maximumFractionDigits: digits });
    shown = f.format(r);
    if (shown !== f.format(limit)) break;
  }
  return shown;
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

// Business hours and comparisons on the board (docs/business-hours.md): the words a queue's
// open state is shown with, and a KPI tile's change against its comparison period. Pure: the API
// computes open/opens_at from the schedule and the comparison figure; this only presents them.
import { DateTime } from 'luxon';
import { formatClock, formatCount, formatRatio, formatSeconds, type Locale } from './format.ts';
import { metricDoc } from './metrics.ts';
import type { BoardQueue, BoardUpdate } from './model.ts';

export type QueueHours = Pick<BoardQueue, 'open' | 'opens_at'>;

/** A later time in the tenant's zone: the clock time today, with the weekday on another day. */
export function formatWhen(iso: string, nowMs: number, loc: Locale): string {
  const at = DateTime.fromISO(iso).setZone(loc.timezone);
  const today = DateTime.fromMillis(nowMs).setZone(loc.timezone);
  const clock = formatClock(iso, loc);
  if (at.hasSame(today, 'day')) return clock;
  return `${at.setLocale(loc.locale).toLocaleString({ weekday: 'short' })} ${clock}`;
}

/** "Closed · opens 14:00", or "" while open (an open queue is the normal state: nothing to say). */
export function closedLabel(q: QueueHours | undefined, nowMs: number, loc: Locale): string {
  if (!q || q.open) return '';
  return q.opens_at ? `Closed · opens ${formatWhen(q.opens_at, nowMs, loc)}` : 'Closed';
}

export interface KpiChange {
  /** ▲ up, ▼ down, = unchanged: the direction only; thresholds alone say good or bad. */
  arrow: '▲' | '▼' | '=';
  /** The change in the metric's unit: "+4.2 pt", "−0:07", "+12". */
  text: string;
  /** What it is compared with, for the tooltip and screen readers. */
  label: string;
}

const COMPARE_WORDS: Record<string, string> = { PREVIOUS: 'yesterday', SAME_DAY_LAST_WEEK: 'same day last week', SAME_PERIOD_LAST_YEAR: 'same day last year' };

/**
 * A KPI tile's change against its comparison figure; null when either side is unknown (a null
 * ratio has nothing to compare). Ratios change in percentage points, not in percent of themselves.
 */
export function kpiChange(metric: string, value: number | null, against: number | null | undefined, compare: string, locale: string): KpiChange | null {
  if (value === null || against === null || against === undefined || !Number.isFinite(value) || !Number.isFinite(against)) return null;
  const doc = metricDoc(metric);
  const delta = value - against;
  const arrow = delta > 0 ? '▲' : delta < 0 ? '▼' : '=';
  const sign = delta > 0 ? '+' : delta < 0 ? '−' : '±';
  const mag = Math.abs(delta);
  const text =
    doc.format === 'ratio'
      ? `${sign}${new Intl.NumberFormat(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(mag * 100)} pt`
      : doc.format === 'seconds'
        ? `${sign}${formatSeconds(mag)}`
        : `${sign}${formatCount(mag, locale)}`;
  const was = doc.format === 'ratio' ? formatRatio(against, locale) : doc.format === 'seconds' ? formatSeconds(against) : formatCount(against, locale);
  return { arrow, text, label: `${text} against ${COMPARE_WORDS[compare] ?? compare} (${was})` };
}

/** The comparison figure the board update carries for a tile, if it asks for one. */
export function tileComparison(tileId: string, comparisons: BoardUpdate['comparisons'] | undefined): BoardUpdate['comparisons'][number] | null {
  return comparisons?.find((c) => c.tile_id === tileId) ?? null;
}

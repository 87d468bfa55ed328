// Business hours (METRICS.md "Business hours"): a tenant's schedule, read in its own zone, as the
// UTC instants it is open over a period. Pure: luxon only, no I/O, no clock.
//
// An open interval is local wall-clock time: an instant is open when its local wall clock on its
// local date lies in one of that date's intervals. So on a spring-forward day 01:30–02:30 is open
// 30 minutes (02:00–03:00 never shows on the clock), on a fall-back day 90 minutes (01:30–02:00
// shows twice); every instant is still either open or closed, once.
import { DateTime, IANAZone } from 'luxon';
import type { OpenInterval, ScheduleConfig } from '@callboard/platform';
import { BUCKET_MS } from '../metrics/bucket.ts';

/** A UTC half-open interval [start, end) in epoch ms. */
export interface Span {
  start: number;
  end: number;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** Stretches of [start, end) over which the zone keeps one UTC offset (minutes). */
export function offsetSegments(zone: string, start: number, end: number): (Span & { offset: number })[] {
  const z = IANAZone.create(zone);
  const out: (Span & { offset: number })[] = [];
  let segStart = start;
  let offset = z.offset(start);
  // No zone changes its offset twice within an hour, so hourly probes find every change and a
  // bisection to the millisecond places it.
  for (let t = start; t < end; ) {
    const next = Math.min(t + HOUR_MS, end);
    const o = z.offset(next === end ? end - 1 : next);
    if (o !== offset) {
      let lo = t;
      let hi = next === end ? end - 1 : next;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (z.offset(mid) === offset) lo = mid;
        else hi = mid;
      }
      out.push({ start: segStart, end: hi, offset });
      segStart = hi;
      offset = o;
    }
    t = next;
  }
  out.push({ start: segStart, end, offset });
  return out;
}

/** The open intervals a schedule gives one local date (holiday, exception, else its weekday). */
export function hoursOfDate(s: ScheduleConfig, date: DateTime): OpenInterval[] {
  const iso = date.toFormat('yyyy-MM-dd');
  if (s.holidays.some((h) => h.date === iso)) return [];
  const x = s.exceptions.find((e) => e.date === iso);
  return x ? x.hours : (s.weekly[date.weekday - 1] ?? []);
}

/** Sorted, overlapping or touching spans joined. */
export function mergeSpans(spans: Span[]): Span[] {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  const out: Span[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s.start <= last.end) last.end = Math.max(last.end, s.end);
    else out.push({ ...s });
  }
  return out;
}

/**
 * The instants of [start, end) when the schedule is open, as sorted disjoint UTC spans. A null
 * schedule is always open (a tenant without business hours).
 */
export function openSpans(schedule: ScheduleConfig | null, zone: string, start: number, end: number): Span[] {
  if (end <= start) return [];
  if (!schedule) return [{ start, end }];
  // Local dates reach up to 14 h either side of UTC; a day of margin covers every zone.
  const segs = offsetSegments(zone, start - DAY_MS, end + DAY_MS);
  const out: Span[] = [];
  let date = DateTime.fromMillis(start, { zone }).startOf('day').minus({ days: 1 });
  const lastDate = DateTime.fromMillis(end, { zone }).startOf('day').plus({ days: 1 });
  while (date <= lastDate) {
    // The local date's midnight read as if it were UTC: wall-clock ms of that date.
    const wall0 = Date.UTC(date.year, date.month - 1, date.day);
    for (const h of hoursOfDate(schedule, date)) {
      for (const seg of segs) {
        // Instants of this segment whose wall clock (t + offset) lies in [from, to) of the date.
        const o = seg.offset * MINUTE_MS;
        const s = Math.max(wall0 + h.from * MINUTE_MS - o, seg.start, start);
        const e = Math.min(wall0 + h.to * MINUTE_MS - o, seg.end, end);
        if (e > s) out.push({ start: s, end: e });
      }
    }
    date = date.plus({ days: 1 }).startOf('day');
  }
  return mergeSpans(out);
}

/** [start, end) minus `spans` (sorted, disjoint). */
export function complementSpans(spans: Span[], start: number, end: number): Span[] {
  const out: Span[] = [];
  let t = start;
  for (const s of spans) {
    if (s.start > t) out.push({ start: t, end: Math.min(s.start, end) });
    t = Math.max(t, s.end);
  }
  if (t < end) out.push({ start: t, end });
  return out.filter((s) => s.end > s.start);
}

/** Milliseconds of [start, end) covered by `spans` (sorted, disjoint). */
export function overlapMs(spans: Span[], start: number, end: number): number {
  let ms = 0;
  for (const s of spans) ms += Math.max(0, Math.min(s.end, end) - Math.max(s.start, start));
  return ms;
}

/**
 * True when every edge of `spans` is a 15-minute UTC bucket edge: each bucket is then wholly
 * open or wholly closed, and the rollups can answer by bucket.
 */
export const onBucketEdges = (spans: Span[]): boolean => spans.every((s) => s.start % BUCKET_MS === 0 && s.end % BUCKET_MS === 0);

/** Start (epoch ms) of every bucket that lies wholly inside `spans`. */
export function wholeBuckets(spans: Span[]): number[] {
  const out: number[] = [];
  for (const s of spans) {
    for (let b = Math.ceil(s.start / BUCKET_MS) * BUCKET_MS; b + BUCKET_MS <= s.end; b += BUCKET_MS) out.push(b);
  }
  return out;
}

/** Whether `t` lies in `spans` (sorted, disjoint): a binary search. */
export function inSpans(spans: Span[], t: number): boolean {
  let lo = 0;
  let hi = spans.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = spans[mid]!;
    if (t < s.start) hi = mid - 1;
    else if (t >= s.end) lo = mid + 1;
    else return true;
  }
  return false;
}

// Business hours at query time (docs/business-hours.md): the tenant's schedules are turned into
// the UTC open spans of the period (schedule/hours.ts) and then into one SQL expression that
// says, per row, whether a leg was offered in hours. Applied at query time, not in the tables,
// so a changed schedule changes history's figures on the next query, with no rebuild.
import type { ScheduleConfig, TenantHours } from '@callboard/platform';
import { BUCKET_MS } from '../metrics/bucket.ts';
import { mergeSpans, onBucketEdges, openSpans, overlapMs, wholeBuckets, type Span } from '../schedule/hours.ts';
import type { Params } from './scope.ts';

export interface HoursPlan {
  /** False when no schedule applies: every leg is in hours and nothing needs classifying. */
  active: boolean;
  /**
   * True when every open span starts and ends on a 15-minute bucket edge, so the rollup can
   * answer (each bucket wholly open or closed); otherwise the legs must be read one by one.
   */
  rollupOk: boolean;
  /** `in_hours` (1 / 0) of a row, over its `bucket` column and, for legs, its `offered_at`. */
  sql(legs: boolean): string;
  /** Share of [start, end) during which the queue's schedule (null: any queue's asked for) was open. */
  openFraction(queue: string | null, start: number, end: number): number;
}

interface Planned {
  queues: string[];
  spans: Span[];
  /** Buckets wholly open; buckets partly open; spans that touch the partly open ones. */
  whole: number[];
  partial: number[];
}

const ALWAYS_OPEN: HoursPlan = { active: false, rollupOk: true, sql: () => '1', openFraction: () => 1 };

/**
 * The plan for a query over [start, end). `queues`: the queues asked for (a filter), or null for
 * every queue; only their schedules decide the open share of a row over several queues.
 */
export function planHours(hours: TenantHours | undefined, zone: string, start: number, end: number, queues: string[] | null, params: Params): HoursPlan {
  if (!hours || (!hours.default && Object.keys(hours.queues).length === 0)) return ALWAYS_OPEN;
  const bySchedule = new Map<ScheduleConfig, string[]>();
  for (const [queue, s] of Object.entries(hours.queues)) bySchedule.set(s, [...(bySchedule.get(s) ?? []), queue]);
  const plan = (s: ScheduleConfig | null, qs: string[]): Planned => {
    const spans = openSpans(s, zone, start, end);
    const whole = wholeBuckets(spans);
    const wholeSet = new Set(whole);
    const partial = new Set<number>();
    for (const sp of spans) {
      for (const edge of [sp.start, sp.end]) {
        const b = Math.floor(edge / BUCKET_MS) * BUCKET_MS;
        if (edge % BUCKET_MS !== 0 && !wholeSet.has(b)) partial.add(b);
      }
    }
    return { queues: qs, spans, whole, partial: [...partial] };
  };
  const named = [...bySchedule.entries()].map(([s, qs]) => plan(s, qs));
  const fallback = plan(hours.default, []);
  const all = [...named, fallback];
  const scheduleOf = (queue: string) => named.find((n) => n.queues.includes(queue)) ?? fallback;

  let n = 0;
  const inSchedule = (p: Planned, legs: boolean): string => {
    if (p.spans.length === 1 && p.spans[0]!.start <= start && p.spans[0]!.end >= end) return '1';
    const k = n++;
    const bucketS = 'toUInt32(toUnixTimestamp(bucket))';
    params[`hw${k}`] = p.whole.map((b) => b / 1000);
    const whole = p.whole.length ? `${bucketS} IN {hw${k}:Array(UInt32)}` : '0';
    if (!legs || p.partial.length === 0) return whole;
    params[`hp${k}`] = p.partial.map((b) => b / 1000);
    params[`hs${k}`] = p.spans.map((s) => s.start);
    params[`he${k}`] = p.spans.map((s) => s.end);
    const exact = `arrayExists((s, e) -> toUnixTimestamp64Milli(offered_at) >= s AND toUnixTimestamp64Milli(offered_at) < e, {hs${k}:Array(Int64)}, {he${k}:Array(Int64)})`;
    return `multiIf(${whole}, 1, ${bucketS} IN {hp${k}:Array(UInt32)}, ${exact}, 0)`;
  };

  return {
    active: true,
    rollupOk: all.every((p) => onBucketEdges(p.spans)),
    sql(legs) {
      const branches = named.flatMap((p) => {
        const k = n++;
        params[`hq${k}`] = p.queues;
        return [`queue IN {hq${k}:Array(String)}`, inSchedule(p, legs)];
      });
      const otherwise = inSchedule(fallback, legs);
      return `toUInt8(${branches.length ? `multiIf(${branches.join(', ')}, ${otherwise})` : otherwise})`;
    },
    openFraction(queue, s, e) {
      if (e <= s) return 0;
      const which = queue !== null ? [scheduleOf(queue)] : queues ? [...new Set(queues.map(scheduleOf))] : all;
      return overlapMs(mergeSpans(which.flatMap((p) => p.spans)), s, e) / (e - s);
    },
  };
}

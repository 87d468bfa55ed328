// Every formula of ../shared/METRICS.md, once. The projections' queries, the api's live fold and
// anything else that turns counts into METRICS.md figures call these, so the history and the
// wallboard cannot drift apart (issue #12: they had three copies). Pure: no I/O, no clock.
import type { QueueSettings, SlFormula } from '@callboard/platform';
import type { AgentState } from '@callboard/schemas';
import type { QueueMetricsRow, StateTime } from '../metrics-types.ts';

// The base grain lives in a leaf module (bucket.ts) so periods.ts can use it without a circle.
export { BUCKET_MINUTES, BUCKET_MS, BUCKET_S, DAY_MS, HOUR_MS, bucketStartMs, inMonthCore, inMonthCoreSql, monthStartDay, nextMonthStartDay } from './bucket.ts';

// ---- ratios and thresholds -------------------------------------------------------------------

/** A ratio with a zero denominator is null, never 0 and never NaN. */
export function ratio(num: number, den: number): number | null {
  return den > 0 ? num / den : null;
}

const seconds = (ms: number): number => ms / 1000;

/** `answered_within_sl` / `abandoned_within_sl`: wait ≤ T, on the precise wait (20.021 s is not within 20 s). */
export function withinSl(waitMs: number, s: Pick<QueueSettings, 'sl_threshold_s'>): boolean {
  return waitMs <= s.sl_threshold_s * 1000;
}

/** `short_abandoned`: an abandon with wait < short_abandon_s. */
export function isShortAbandon(waitMs: number, s: Pick<QueueSettings, 'short_abandon_s'>): boolean {
  return waitMs < s.short_abandon_s * 1000;
}

/** Wrap time of an answered leg the PBX finished: its own, else the queue's `wrap_up_s`. */
export function wrapMs(reportedMs: number | null | undefined, s: Pick<QueueSettings, 'wrap_up_s'>): number {
  return reportedMs ?? s.wrap_up_s * 1000;
}

/**
 * `talk_time` and `hold_time` of one answered segment: connected time minus hold. Hold can't be
 * longer than the connection it happened in.
 */
export function talkAndHold(connectedMs: number, holdMs: number): { talk_ms: number; hold_ms: number } {
  const hold = Math.min(Math.max(0, holdMs), connectedMs);
  return { talk_ms: connectedMs - hold, hold_ms: hold };
}

// ---- queue metrics ---------------------------------------------------------------------------

/** The additive counters a queue row is computed from: its counts, and its times in milliseconds. */
const COUNTERS = [
  'offered',
  'answered',
  'abandoned',
  'short_abandoned',
  'exited',
  'waiting',
  'answered_within_sl',
  'abandoned_within_sl',
  'transferred',
  'answered_wait_ms',
  'abandoned_wait_ms',
  'talk_ms',
  'hold_ms',
  'wrap_ms',
] as const;
type QueueCount = Extract<(typeof COUNTERS)[number], keyof QueueMetricsRow>;

/** Additive counters of queue legs; `waiting` is live-only state. */
export type QueueCounters = Pick<QueueMetricsRow, QueueCount> & Record<Exclude<(typeof COUNTERS)[number], QueueCount>, number>;

export const emptyQueueCounters = (): QueueCounters => Object.fromEntries(COUNTERS.map((k) => [k, 0])) as QueueCounters;

/** `a += b`, field by field (all counters are additive). */
export function addQueueCounters(a: QueueCounters, b: QueueCounters): QueueCounters {
  for (const k of COUNTERS) a[k] += b[k];
  return a;
}

/** The denominator of the default service level and of abandon_rate. */
const offeredExclShort = (c: QueueCounters): number => c.offered - c.short_abandoned - c.waiting;

/** The four `service_level` formulas, by their `sl_formula` names. */
export const SERVICE_LEVEL: Readonly<Record<SlFormula, (c: QueueCounters) => number | null>> = {
  answered_within_T_over_offered_excl_short: (c) => ratio(c.answered_within_sl, offeredExclShort(c)),
  answered_within_T_over_answered: (c) => ratio(c.answered_within_sl, c.answered),
  answered_within_T_over_answered_and_abandoned: (c) => ratio(c.answered_within_sl, c.answered + c.abandoned),
  within_T_over_answered_and_abandoned: (c) => ratio(c.answered_within_sl + c.abandoned_within_sl, c.answered + c.abandoned),
};

/** The METRICS.md default, also used for a group of queues whose formulas differ. */
export const DEFAULT_SL_FORMULA: SlFormula = 'answered_within_T_over_offered_excl_short';

/** The SL formula of a row over several queues: theirs when they share one, else `fallback`. */
export function groupFormula(formulas: ReadonlySet<SlFormula>, fallback: SlFormula = DEFAULT_SL_FORMULA): SlFormula {
  return formulas.size === 1 ? [...formulas][0]! : fallback;
}

/**
 * A row whose service_level, abandon_rate and asa are those of `inHours` (METRICS.md "Business
 * hours": the ratios default to in-hours legs; counts and times stay over every leg). The history
 * (queries.ts) and the live fold (api/src/live.ts) both build their rows with it.
 */
export function withInHoursRatios<R extends Pick<QueueFigures, 'service_level' | 'abandon_rate' | 'asa'>>(row: R, inHours: Pick<QueueFigures, 'service_level' | 'abandon_rate' | 'asa'>): R {
  return { ...row, service_level: inHours.service_level, abandon_rate: inHours.abandon_rate, asa: inHours.asa };
}

export const serviceLevel = (c: QueueCounters, formula: SlFormula): number | null => SERVICE_LEVEL[formula](c);
export const abandonRate = (c: QueueCounters): number | null => ratio(c.abandoned - c.short_abandoned, offeredExclShort(c));
/** A mean duration in seconds over `n` legs (asa, avg_abandon_wait, avg_talk, avg_hold). */
export const meanSeconds = (totalMs: number, n: number): number | null => ratio(seconds(totalMs), n);
/** `asa`: mean wait of answered legs, seconds. */
export const asa = (c: QueueCounters): number | null => meanSeconds(c.answered_wait_ms, c.answered);
export const avgAbandonWait = (c: QueueCounters): number | null => meanSeconds(c.abandoned_wait_ms, c.abandoned);
/** `aht` = (talk_time + hold_time + wrap_time) / legs (answered for queues, handled for agents), seconds. */
export const aht = (talkMs: number, holdMs: number, wrapMs: number, legs: number): number | null => ratio(seconds(talkMs + holdMs + wrapMs), legs);

// ---- wait percentiles ------------------------------------------------------------------------

/**
 * Wait histogram keys in whole seconds, for the thresholds: "ceil" keys make `wait ≤ T` exact for
 * a whole-second T up to 3600 s (a key k holds waits in (k − 1, k] s), "floor" keys make
 * `wait < S` exact. Above an hour the keys step by 60 s, so a histogram stays small whatever the
 * waits. Percentiles use the finer WaitSketch below.
 */
export const FINE_WAIT_S = 3600;
export const COARSE_WAIT_STEP_S = 60;
export function waitCeilKey(waitMs: number): number {
  const s = Math.ceil(waitMs / 1000);
  return waitMs <= FINE_WAIT_S * 1000 ? s : FINE_WAIT_S + Math.ceil((s - FINE_WAIT_S) / COARSE_WAIT_STEP_S) * COARSE_WAIT_STEP_S;
}
export function waitFloorKey(waitMs: number): number {
  const s = Math.floor(waitMs / 1000);
  return waitMs < FINE_WAIT_S * 1000 ? s : FINE_WAIT_S + Math.floor((s - FINE_WAIT_S) / COARSE_WAIT_STEP_S) * COARSE_WAIT_STEP_S;
}

/** Adds `n` legs under `key`. */
export function addToHistogram(h: Map<number, number>, key: number, n = 1): void {
  h.set(key, (h.get(key) ?? 0) + n);
}

/**
 * The wait sketch behind `wait_p50/p90/p99`: answered waits by decisecond key (a key k holds
 * waits in ((k − 1) / 10, k / 10] s) plus the shortest and longest wait. Keys are bounded by
 * distinct tenths of a second, not by calls, and sketches merge by adding keys, so any period is
 * answered from its 15-minute buckets. A percentile is the upper edge of its key clamped into
 * [min, max], so it is at most WAIT_PERCENTILE_ERROR_S above the exact nearest-rank wait and
 * never outside the period's answered waits.
 */
export interface WaitSketch {
  keys: Map<number, number>;
  /** Shortest and longest answered wait, ms; null while empty. */
  min_ms: number | null;
  max_ms: number | null;
}

/** The error bound (seconds) of percentiles read from a wait sketch. */
export const WAIT_PERCENTILE_ERROR_S = 0.1;
export const WAIT_KEY_MS = 100;

export function waitDeciKey(waitMs: number): number {
  return Math.ceil(waitMs / WAIT_KEY_MS);
}

export const emptyWaitSketch = (): WaitSketch => ({ keys: new Map(), min_ms: null, max_ms: null });

/** One answered wait. */
export function addWait(s: WaitSketch, waitMs: number): void {
  addToHistogram(s.keys, waitDeciKey(waitMs));
  s.min_ms = s.min_ms === null ? waitMs : Math.min(s.min_ms, waitMs);
  s.max_ms = s.max_ms === null ? waitMs : Math.max(s.max_ms, waitMs);
}

/** `a += b`: keys added, range widened. `b` may come from a rollup row (keys as object entries). */
export function mergeWaitSketch(a: WaitSketch, b: { keys: Iterable<[number, number]>; min_ms: number | null; max_ms: number | null }): WaitSketch {
  let n = 0;
  for (const [k, v] of b.keys) {
    addToHistogram(a.keys, k, v);
    n += v;
  }
  if (n > 0 && b.min_ms !== null && b.max_ms !== null) {
    a.min_ms = a.min_ms === null ? b.min_ms : Math.min(a.min_ms, b.min_ms);
    a.max_ms = a.max_ms === null ? b.max_ms : Math.max(a.max_ms, b.max_ms);
  }
  return a;
}

/** Nearest-rank percentile (0 < p ≤ 1) of a sketch, in seconds, within [min, max]. */
export function waitPercentile(s: WaitSketch, p: number): number | null {
  return waitPercentiles(s, [p])[0]!;
}

/** waitPercentile for several p at once: the keys are sorted once. */
export function waitPercentiles(s: WaitSketch, ps: readonly number[]): (number | null)[] {
  return histogramPercentiles(s.keys, ps).map((k) => {
    if (k === null) return null;
    const upper = k * WAIT_KEY_MS;
    const clamped = Math.min(Math.max(upper, s.min_ms ?? upper), s.max_ms ?? upper);
    return clamped / 1000;
  });
}

/** Nearest-rank percentile (0 < p ≤ 1) of a histogram: the key holding that rank. */
export function histogramPercentile(h: ReadonlyMap<number, number>, p: number): number | null {
  return histogramPercentiles(h, [p])[0]!;
}

/** histogramPercentile for several p at once: the keys are sorted once. waitPercentileMsSql (sql.ts) is the same in SQL. */
export function histogramPercentiles(h: ReadonlyMap<number, number>, ps: readonly number[]): (number | null)[] {
  const keys = [...h.keys()].sort((a, b) => a - b);
  let total = 0;
  for (const k of keys) total += h.get(k)!;
  if (total === 0) return ps.map(() => null);
  return ps.map((p) => {
    const rank = Math.max(1, Math.ceil(p * total));
    let seen = 0;
    for (const k of keys) {
      seen += h.get(k)!;
      if (seen >= rank) return k;
    }
    return keys[keys.length - 1]!;
  });
}

/** The ranks of wait_p50, wait_p90 and wait_p99. */
export const WAIT_PERCENTILE_RANKS = [0.5, 0.9, 0.99] as const;

/** wait_p50/p90/p99 in seconds, computed already (in the engine: sql.ts waitPercentileMsSql). */
export interface WaitPercentiles {
  p50: number | null;
  p90: number | null;
  p99: number | null;
}

/** A queue row's figures without its group key; durations in seconds. */
export type QueueFigures = Omit<QueueMetricsRow, 'queue' | 'agent_id' | 'interval' | 'start' | 'end' | 'closed' | 'open_fraction'>;

/**
 * Every queue metric from counters. `answeredWaits`: the sketch, or its percentiles already
 * computed by the engine. `maxWaitMs` is the caller's: the longest finished wait for a
 * period, the longest current wait for the live view.
 */
export function queueFigures(c: QueueCounters, o: { formula: SlFormula; answeredWaits: WaitSketch | WaitPercentiles; maxWaitMs: number | null }): QueueFigures {
  const w = o.answeredWaits;
  const [p50, p90, p99] = 'keys' in w ? waitPercentiles(w, WAIT_PERCENTILE_RANKS) : [w.p50, w.p90, w.p99];
  return {
    offered: c.offered,
    answered: c.answered,
    abandoned: c.abandoned,
    short_abandoned: c.short_abandoned,
    exited: c.exited,
    waiting: c.waiting,
    answered_within_sl: c.answered_within_sl,
    abandoned_within_sl: c.abandoned_within_sl,
    service_level: serviceLevel(c, o.formula),
    abandon_rate: abandonRate(c),
    asa: asa(c),
    avg_abandon_wait: avgAbandonWait(c),
    wait_p50: p50 ?? null,
    wait_p90: p90 ?? null,
    wait_p99: p99 ?? null,
    max_wait: o.maxWaitMs === null ? null : seconds(o.maxWaitMs),
    talk_time: seconds(c.talk_ms),
    hold_time: seconds(c.hold_ms),
    wrap_time: seconds(c.wrap_ms),
    aht: aht(c.talk_ms, c.hold_ms, c.wrap_ms, c.answered),
    transferred: c.transferred,
  };
}

// ---- agent metrics ---------------------------------------------------------------------------

export const AGENT_STATES: readonly AgentState[] = ['available', 'ringing', 'on_call', 'on_hold', 'wrap_up', 'paused', 'offline'];

/** Milliseconds per agent state, all zero. */
export const emptyStateTime = (): StateTime => Object.fromEntries(AGENT_STATES.map((s) => [s, 0])) as StateTime;

/** `logged_in_time`: every state except offline. */
export const loggedInTime = (st: StateTime): number => st.available + st.ringing + st.on_call + st.on_hold + st.wrap_up + st.paused;
const busyTime = (st: StateTime): number => st.on_call + st.on_hold + st.wrap_up;
/** `occupancy` = (on_call + on_hold + wrap_up) / (logged_in_time − paused). */
export const occupancy = (st: StateTime): number | null => ratio(busyTime(st), loggedInTime(st) - st.paused);
/** `utilization` = (on_call + on_hold + wrap_up) / logged_in_time. */
export const utilization = (st: StateTime): number | null => ratio(busyTime(st), loggedInTime(st));

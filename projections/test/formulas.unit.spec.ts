// The metrics module (src/metrics) against METRICS.md, by hand-computed examples.
import { describe, expect, it } from 'vitest';
import { DEFAULT_QUEUE_SETTINGS } from '@callboard/platform';
import {
  BUCKET_MS,
  SERVICE_LEVEL,
  WAIT_PERCENTILE_ERROR_S,
  abandonRate,
  addWait,
  aht,
  asa,
  bucketStartMs,
  emptyQueueCounters,
  emptyStateTime,
  emptyWaitSketch,
  histogramPercentile,
  isShortAbandon,
  mergeWaitSketch,
  occupancy,
  queueFigures,
  talkAndHold,
  utilization,
  waitCeilKey,
  waitFloorKey,
  waitPercentile,
  withinSl,
  type QueueCounters,
} from '../src/metrics/index.ts';

// offered 10 = answered 6 + abandoned 3 (1 short) + exited 0 + waiting 1; 4 answered and 1 abandoned within T
const c: QueueCounters = {
  ...emptyQueueCounters(),
  offered: 10,
  answered: 6,
  abandoned: 3,
  short_abandoned: 1,
  waiting: 1,
  answered_within_sl: 4,
  abandoned_within_sl: 1,
  answered_wait_ms: 60_000,
  talk_ms: 500_000,
  hold_ms: 40_000,
  wrap_ms: 60_000,
};

describe('metrics module', () => {
  it('the four service-level formulas', () => {
    expect(SERVICE_LEVEL.answered_within_T_over_offered_excl_short(c)).toBe(4 / (10 - 1 - 1));
    expect(SERVICE_LEVEL.answered_within_T_over_answered(c)).toBe(4 / 6);
    expect(SERVICE_LEVEL.answered_within_T_over_answered_and_abandoned(c)).toBe(4 / 9);
    expect(SERVICE_LEVEL.within_T_over_answered_and_abandoned(c)).toBe(5 / 9);
  });

  it('abandon_rate, asa and aht', () => {
    expect(abandonRate(c)).toBe((3 - 1) / 8);
    expect(asa(c)).toBe(10);
    expect(aht(c.talk_ms, c.hold_ms, c.wrap_ms, c.answered)).toBe(100);
  });

  it('a ratio with a zero denominator is null, never 0 or NaN', () => {
    const none = emptyQueueCounters();
    for (const f of Object.values(SERVICE_LEVEL)) expect(f(none)).toBeNull();
    expect([abandonRate(none), asa(none), aht(0, 0, 0, 0), occupancy(emptyStateTime()), utilization(emptyStateTime())]).toEqual([null, null, null, null, null]);
    const figures = queueFigures(none, { formula: DEFAULT_QUEUE_SETTINGS.sl_formula, answeredWaits: emptyWaitSketch(), maxWaitMs: null });
    expect([figures.service_level, figures.wait_p50, figures.max_wait]).toEqual([null, null, null]);
  });

  it('thresholds compare the precise wait: ≤ T for service level, < S for short abandons', () => {
    const s = { sl_threshold_s: 20, short_abandon_s: 5 };
    expect([withinSl(20_000, s), withinSl(20_001, s)]).toEqual([true, false]);
    expect([isShortAbandon(4_999, s), isShortAbandon(5_000, s)]).toEqual([true, false]);
    // the histogram keys answer the same questions exactly for whole-second thresholds
    for (const w of [0, 19_001, 20_000, 20_001, 4_999, 5_000]) {
      expect(withinSl(waitCeilKey(w) * 1000, s)).toBe(withinSl(w, s));
      expect(isShortAbandon(waitFloorKey(w) * 1000, s)).toBe(isShortAbandon(w, s));
    }
  });

  it('occupancy and utilization from state time', () => {
    const st = { ...emptyStateTime(), available: 100, on_call: 200, on_hold: 50, wrap_up: 50, paused: 100, offline: 1000 };
    expect(utilization(st)).toBe(300 / 500);
    expect(occupancy(st)).toBe(300 / 400);
  });

  it('hold is part of the connection: talk = connected − hold, hold never longer than the connection', () => {
    expect(talkAndHold(60_000, 20_000)).toEqual({ talk_ms: 40_000, hold_ms: 20_000 });
    expect(talkAndHold(10_000, 30_000)).toEqual({ talk_ms: 0, hold_ms: 10_000 });
  });

  it('nearest-rank percentiles over the wait histogram', () => {
    const h = new Map([
      [3, 5],
      [10, 4],
      [40, 1],
    ]);
    expect([histogramPercentile(h, 0.5), histogramPercentile(h, 0.9), histogramPercentile(h, 0.99)]).toEqual([3, 10, 40]);
  });

  it('a single 2.004 s wait: every percentile is 2.004 s (within 0.1 s, never above max_wait)', () => {
    const s = emptyWaitSketch();
    addWait(s, 2_004);
    const f = queueFigures({ ...emptyQueueCounters(), offered: 1, answered: 1, answered_wait_ms: 2_004 }, { formula: DEFAULT_QUEUE_SETTINGS.sl_formula, answeredWaits: s, maxWaitMs: 2_004 });
    for (const p of [f.wait_p50, f.wait_p90, f.wait_p99]) {
      expect(Math.abs(p! - 2.004)).toBeLessThanOrEqual(WAIT_PERCENTILE_ERROR_S);
      expect(p!).toBeLessThanOrEqual(f.max_wait!);
    }
    expect(WAIT_PERCENTILE_ERROR_S).toBeLessThanOrEqual(0.1);
  });

  it('wait percentiles: at most 0.1 s above the exact nearest rank, inside [min, max], the same from merged sketches', () => {
    // deterministic pseudo-random waits, 0 to 90 s, millisecond precision
    let x = 12345;
    const waits = Array.from({ length: 997 }, () => ((x = (x * 1103515245 + 12345) % 2 ** 31), x % 90_000));
    const whole = emptyWaitSketch();
    const parts = [emptyWaitSketch(), emptyWaitSketch(), emptyWaitSketch()];
    waits.forEach((w, i) => {
      addWait(whole, w);
      addWait(parts[i % 3]!, w);
    });
    const merged = parts.reduce((a, b) => mergeWaitSketch(a, b), emptyWaitSketch());
    const sorted = [...waits].sort((a, b) => a - b);
    for (const p of [0.01, 0.5, 0.9, 0.99, 1]) {
      const exact = sorted[Math.max(1, Math.ceil(p * sorted.length)) - 1]! / 1000;
      const got = waitPercentile(whole, p)!;
      expect(got).toBeGreaterThanOrEqual(exact);
      expect(got - exact).toBeLessThanOrEqual(WAIT_PERCENTILE_ERROR_S + 1e-9);
      expect(got).toBeGreaterThanOrEqual(sorted[0]! / 1000);
      expect(got).toBeLessThanOrEqual(sorted[sorted.length - 1]! / 1000);
      expect(waitPercentile(merged, p)).toBe(got);
    }
    expect(waitPercentile(emptyWaitSketch(), 0.5)).toBeNull();
  });

  it('15-minute buckets, before the epoch too', () => {
    expect(BUCKET_MS).toBe(15 * 60_000);
    expect(bucketStartMs(Date.parse('2026-03-10T06:14:59.999Z'))).toBe(Date.parse('2026-03-10T06:00:00.000Z'));
    expect(bucketStartMs(-1)).toBe(-BUCKET_MS);
  });
});

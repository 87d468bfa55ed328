// METRICS.md formulas over leg counters: the one place the API turns counts into ratios, so
// live KPIs and any counters read back from ClickHouse give the same numbers.
import type { QueueSettings, SlFormula } from '@callboard/platform';
import type { GroupKey, QueueMetricsRow } from '@callboard/projections/metrics-types';

/** Additive counters of queue legs (METRICS.md queue metrics); times in milliseconds. */
export interface LegCounters {
  offered: number;
  answered: number;
  abandoned: number;
  short_abandoned: number;
  exited: number;
  answered_within_sl: number;
  abandoned_within_sl: number;
  answered_wait_ms: number;
  abandoned_wait_ms: number;
  /** longest wait of any finished leg */
  max_wait_ms: number | null;
  talk_ms: number;
  hold_ms: number;
  wrap_ms: number;
  transferred: number;
}

export function emptyCounters(): LegCounters {
  return {
    offered: 0,
    answered: 0,
    abandoned: 0,
    short_abandoned: 0,
    exited: 0,
    answered_within_sl: 0,
    abandoned_within_sl: 0,
    answered_wait_ms: 0,
    abandoned_wait_ms: 0,
    max_wait_ms: null,
    talk_ms: 0,
    hold_ms: 0,
    wrap_ms: 0,
    transferred: 0,
  };
}

export function addCounters(a: LegCounters, b: LegCounters): LegCounters {
  return {
    offered: a.offered + b.offered,
    answered: a.answered + b.answered,
    abandoned: a.abandoned + b.abandoned,
    short_abandoned: a.short_abandoned + b.short_abandoned,
    exited: a.exited + b.exited,
    answered_within_sl: a.answered_within_sl + b.answered_within_sl,
    abandoned_within_sl: a.abandoned_within_sl + b.abandoned_within_sl,
    answered_wait_ms: a.answered_wait_ms + b.answered_wait_ms,
    abandoned_wait_ms: a.abandoned_wait_ms + b.abandoned_wait_ms,
    max_wait_ms: a.max_wait_ms === null ? b.max_wait_ms : b.max_wait_ms === null ? a.max_wait_ms : Math.max(a.max_wait_ms, b.max_wait_ms),
    talk_ms: a.talk_ms + b.talk_ms,
    hold_ms: a.hold_ms + b.hold_ms,
    wrap_ms: a.wrap_ms + b.wrap_ms,
    transferred: a.transferred + b.transferred,
  };
}

/** A ratio with a zero denominator is null, never 0 and never NaN (METRICS.md). */
export function ratio(num: number, den: number): number | null {
  return den > 0 ? num / den : null;
}

export function serviceLevel(c: LegCounters, waiting: number, formula: SlFormula): number | null {
  switch (formula) {
    case 'answered_within_T_over_offered_excl_short':
      return ratio(c.answered_within_sl, c.offered - c.short_abandoned - waiting);
    case 'answered_within_T_over_answered':
      return ratio(c.answered_within_sl, c.answered);
    case 'answered_within_T_over_answered_and_abandoned':
      return ratio(c.answered_within_sl, c.answered + c.abandoned);
    case 'within_T_over_answered_and_abandoned':
      return ratio(c.answered_within_sl + c.abandoned_within_sl, c.answered + c.abandoned);
  }
}

/** The METRICS.md queue row without its group key (the shape is the projections' own). */
export type QueueMetricsOut = Omit<QueueMetricsRow, keyof GroupKey> & {
  /** relative error bound of the wait percentiles (0 when exact) */
  wait_percentile_error: number | null;
};

const s = (ms: number | null): number | null => (ms === null ? null : ms / 1000);

export interface Percentiles {
  p50: number | null;
  p90: number | null;
  p99: number | null;
  /** relative error bound of the percentiles (0 when exact) */
  error: number | null;
}

/** QueueMetrics (seconds) from counters; `waiting` and `max_wait_ms` override for live state. */
export function queueMetrics(c: LegCounters, opts: { waiting?: number; formula: SlFormula; percentilesMs?: Percentiles; maxWaitMs?: number | null }): QueueMetricsOut {
  const waiting = opts.waiting ?? 0;
  const den = c.offered - c.short_abandoned - waiting;
  const p = opts.percentilesMs;
  return {
    offered: c.offered,
    answered: c.answered,
    abandoned: c.abandoned,
    short_abandoned: c.short_abandoned,
    exited: c.exited,
    waiting,
    answered_within_sl: c.answered_within_sl,
    abandoned_within_sl: c.abandoned_within_sl,
    service_level: serviceLevel(c, waiting, opts.formula),
    abandon_rate: ratio(c.abandoned - c.short_abandoned, den),
    asa: s(ratio(c.answered_wait_ms, c.answered)),
    avg_abandon_wait: s(ratio(c.abandoned_wait_ms, c.abandoned)),
    wait_p50: s(p?.p50 ?? null),
    wait_p90: s(p?.p90 ?? null),
    wait_p99: s(p?.p99 ?? null),
    wait_percentile_error: p?.error ?? null,
    max_wait: s(opts.maxWaitMs !== undefined ? opts.maxWaitMs : c.max_wait_ms),
    talk_time: c.talk_ms / 1000,
    hold_time: c.hold_ms / 1000,
    wrap_time: c.wrap_ms / 1000,
    aht: s(ratio(c.talk_ms + c.hold_ms + c.wrap_ms, c.answered)),
    transferred: c.transferred,
  };
}

export type { QueueSettings };

// Row shapes returned by the metric queries (queries.ts). Field names are exactly the names in
// ../shared/METRICS.md. Units: every duration and time is in SECONDS (float, millisecond
// precision); counts are integers; ratios are 0..1 and null when the denominator is zero.
import type { AgentState } from '@callboard/schemas';
import type { QueueSettings, TenantHours, WeekStart } from '@callboard/platform';
import type { IntervalMinutes, PeriodSpec } from './periods.ts';

export type QueueGroupBy = 'none' | 'queue' | 'agent' | 'interval' | 'day';
export type AgentGroupBy = 'none' | 'agent' | 'interval' | 'day';
export type CallGroupBy = 'none' | 'extension' | 'interval' | 'day';

export interface MetricsFilter {
  queues?: string[];
  agents?: string[];
}

export interface MetricsQuery<G extends string> {
  tenant_id: string;
  timezone: string;
  week_start: WeekStart;
  period: PeriodSpec;
  group_by: G;
  /** For group_by 'interval': 15, 30 or 60 local minutes (default 60). */
  interval_minutes?: IntervalMinutes;
  filter?: MetricsFilter;
  /** Per-queue settings (thresholds, SL formula, default wrap-up), applied at query time. */
  settings: (queue: string) => QueueSettings;
  /**
   * Optional: the tenant's queues as far as the caller knows them (the config's). Queue metrics
   * apply the thresholds of these queues and of the filter's (from `settings`) in the engine, whose
   * rows then come back as counts instead of per-second wait histograms; other queues' histograms
   * are counted in TypeScript. The figures are the same either way: it saves bytes, not meaning.
   */
  queues?: readonly string[];
  /** Instant used for TODAY / THIS_WEEK and friends; defaults to now. */
  now?: Date;
  /**
   * Which queue legs queue metrics count (METRICS.md "Business hours"): offered in business hours
   * (`open`), outside them (`closed`) or `all`. Unset: all legs, except that service_level,
   * abandon_rate and asa count in-hours legs for queues whose ratio_hours is `open` (the default).
   */
  hours?: Hours;
  /** The tenant's business-hours schedules, applied at query time; unset: always open. */
  business_hours?: TenantHours;
}

export type Hours = 'open' | 'closed' | 'all';

/** The group a row stands for; keys not grouped by are null. */
export interface GroupKey {
  queue: string | null;
  agent_id: string | null;
  /** group_by interval: the interval's local start (yyyy-MM-ddTHH:mm); group_by day: the local date. */
  interval: string | null;
  /** UTC start and end of the row's time span (the period, the interval or the day). */
  start: string;
  end: string;
}

export interface QueueMetricsRow extends GroupKey {
  offered: number;
  answered: number;
  abandoned: number;
  short_abandoned: number;
  exited: number;
  /** Legs with no outcome yet (live only; 0 for closed periods once calls have finished). */
  waiting: number;
  answered_within_sl: number;
  abandoned_within_sl: number;
  service_level: number | null;
  abandon_rate: number | null;
  /** Seconds. */
  asa: number | null;
  avg_abandon_wait: number | null;
  /** Seconds, nearest rank, from a 0.1 s wait sketch: at most 0.1 s above the exact wait, never outside [min, max] answered wait. */
  wait_p50: number | null;
  wait_p90: number | null;
  wait_p99: number | null;
  max_wait: number | null;
  talk_time: number;
  hold_time: number;
  wrap_time: number;
  aht: number | null;
  transferred: number;
  /** Legs offered while the queue's business hours were closed (of the legs the row counts). */
  closed: number;
  /**
   * Share (0..1) of the row's time span during which business hours were open: the row's queue's
   * schedule, or for rows over several queues any schedule of the queues asked for (so an
   * intraday interval reads 0 when closed, 1 when open, between when it opens or closes inside).
   */
  open_fraction: number;
}

export type StateTime = Record<AgentState, number>;

export interface AgentMetricsRow extends GroupKey {
  /** Seconds per agent state, state intervals clipped to the span. */
  state_time: StateTime;
  logged_in_time: number;
  handled: number;
  missed: number;
  occupancy: number | null;
  utilization: number | null;
  talk_time: number;
  hold_time: number;
  wrap_time: number;
  avg_talk: number | null;
  avg_hold: number | null;
  aht: number | null;
  /** Seconds paused per pause reason ("" when the PBX gave none). */
  pause_time_by_reason: Record<string, number>;
}

export interface CallMetricsRow extends Omit<GroupKey, 'queue' | 'agent_id'> {
  extension: string | null;
  calls: number;
  inbound: number;
  outbound: number;
  internal: number;
  answered: number;
  no_answer: number;
  busy: number;
  failed: number;
  congestion: number;
  /** Seconds, summed: start to end. */
  duration: number;
  /** Seconds, summed: answer to end. */
  billsec: number;
  /** Seconds the extension spent on calls (sum of duration of its calls). */
  busy_time: number;
}

// The read path: everything a reader of the projections (the api, reports, tests) may ask, in one
// place. Metrics and intraday series (queries.ts), calls and call timelines (read/calls.ts),
// dimension lists (read/dimensions.ts), and the data until and gaps of the feed every metrics
// result states (read/gaps.ts); queue metrics in or out of business hours (read/hours.ts, applied
// at query time from the config's schedules). All of it binds its values as query parameters and is
// scoped to one tenant by read/scope.ts; callers hold no SQL on the projection tables.
import type { ClickHouse } from '@callboard/platform';
import type { IntervalMinutes } from './periods.ts';
import { queueMetrics, type MetricsQuery, type QueueMetricsRow } from './queries.ts';

export { agentMetrics, callMetrics, queueMetrics } from './queries.ts';
export type * from './metrics-types.ts';
export { COMPARISONS, PeriodError, comparisonPeriod, resolvePeriod, type Comparison, type IntervalMinutes, type Period, type PeriodSpec } from './periods.ts';
export { callLegs, callTimeline, getCall, searchCalls, MAX_CALLS_PAGE, type CallFilter, type CallLegOut, type CallOutcome, type CallPosition, type CallRowOut } from './read/calls.ts';
export { listAgents, listExtensions, listQueues } from './read/dimensions.ts';
export { dataUntilMs, feedGaps, lastEventAt, resultCoverage, type FeedGap, type ResultCoverage } from './read/gaps.ts';
export { ReadError, withReadLimits, type ReadLimits } from './read/scope.ts';

/** Queue metrics of each local 15, 30 or 60 minute interval of the period (every interval, empty ones included). */
export function intraday(ch: ClickHouse, q: Omit<MetricsQuery<'interval'>, 'group_by' | 'interval_minutes'>, minutes: IntervalMinutes): Promise<QueueMetricsRow[]> {
  return queueMetrics(ch, { ...q, group_by: 'interval', interval_minutes: minutes });
}

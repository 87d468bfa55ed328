// The api's KPI row: the METRICS.md figures of the metrics module (projections/src/metrics) plus
// the one field the api adds, the error bound of the wait percentiles. Live KPIs and history rows
// both go through here, so the two cannot describe the same figures differently.
import { WAIT_PERCENTILE_ERROR_S, type QueueFigures } from '@callboard/projections/metrics';

export type QueueMetricsOut = QueueFigures & {
  /** error bound (seconds) of wait_p50/p90/p99; null when no leg was answered */
  wait_percentile_error: number | null;
};

export function kpiRow<R extends QueueFigures>(figures: R): R & Pick<QueueMetricsOut, 'wait_percentile_error'> {
  return { ...figures, wait_percentile_error: figures.answered > 0 ? WAIT_PERCENTILE_ERROR_S : null };
}

// Queue metrics per answering agent from the per-agent rollup (queue_agent_15m, migration 0012)
// instead of every leg of the period through `queue_legs FINAL` (issue #17: a month by agent over
// 10 M legs read ~850,000 legs, p95 0.5–0.7 s).
//
// No FINAL: each rollup recompute writes all (queue, agent) rows of a bucket with one version
// (store.ts ROLLUPS), so the rows of a bucket's highest version are its current snapshot. The
// read keeps only those: rows an older snapshot had (before a merge replaced them, or for an
// agent no longer in the bucket) are left out, and nothing is merged at read time.
import { ROLLUP_AGGREGATES } from '../metrics/index.ts';
import type { TenantReader } from './scope.ts';

/**
 * The SELECT of queue metrics by queue, agent and span over the period `during` (bucket
 * conditions, ` AND …`) with `filter` (` AND …`); the same columns and groups as the legs' query.
 */
export function agentRollupSql(r: TenantReader, spanExpr: string, during: string, filter: string): string {
  const rows = r.from('queue_agent_15m', false);
  return `SELECT queue, agent_id, ${spanExpr}, ${ROLLUP_AGGREGATES} FROM ${rows}${during}${filter}
      AND (bucket, version) IN (SELECT bucket, max(version) FROM ${rows}${during} GROUP BY bucket)
    GROUP BY queue, agent_id, span`;
}

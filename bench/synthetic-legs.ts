// Synthetic queue legs for query benchmarks: `legs` rows spread evenly over 2025, 20 queues,
// 200 agents, 70 % answered / 20 % abandoned / 10 % exited, then the 15-minute rollups over them
// (per queue, and per queue and agent by 15 minutes, UTC hour, UTC day and UTC month core).
// Written straight into the projections' tables with INSERT … SELECT so millions take seconds.
import type { ClickHouse } from '@callboard/platform';
import { LEG_AGGREGATES } from '@callboard/projections/metrics';
import { ROLLUPS, agentDaysSql, agentHoursSql, agentMonthsSql } from '@callboard/projections/store';

export async function generateQueueLegs(ch: ClickHouse, tenant: string, legs: number): Promise<{ legsS: number; rollupS: number; agentRollupsS: number }> {
  const db = ch.db;
  const spacing = (365 * 86400) / legs; // seconds between legs over one year
  let t = Date.now();
  await ch.client.command({
    query: `INSERT INTO ${db}.queue_legs
      SELECT {tenant:String} AS tenant_id, toStartOfFifteenMinutes(offered_at) AS bucket, concat('q', toString(number % 20)) AS queue,
        concat('c', toString(number)) AS call_id, concat('c', toString(number), ':q:1') AS leg_id, 'pbx' AS pbx_id,
        toDateTime64('2025-01-01 00:00:00', 3, 'UTC') + toIntervalMillisecond(toUInt64(number * ${spacing * 1000})) AS offered_at,
        1 AS position, '' AS caller_number,
        CAST(multiIf(number % 10 < 7, 'answered', number % 10 < 9, 'abandoned', 'exited'), 'Enum8(\\'waiting\\' = 0, \\'answered\\' = 1, \\'abandoned\\' = 2, \\'exited\\' = 3)') AS outcome,
        if(number % 10 = 9, 'timeout', '') AS exit_reason, offered_at AS ended_wait_at, (number * 7919) % 120000 AS wait_ms,
        if(number % 10 < 7, concat('a', toString(number % 200)), '') AS agent_id, NULL AS answered_at, NULL AS completed_at,
        if(number % 10 < 7, 30000 + (number * 131) % 600000, 0) AS talk_ms, if(number % 10 < 7 AND number % 4 = 0, 15000, 0) AS hold_ms,
        NULL AS wrap_ms, toUInt8(number % 10 = 0) AS transferred, 1 AS rung, 0 AS missed, 5 AS version
      FROM numbers(${legs})`,
    query_params: { tenant },
    clickhouse_settings: { max_insert_threads: '2' },
  });
  const legsS = (Date.now() - t) / 1000;
  t = Date.now();
  // Both rollups, as the consumer's recompute and the rebuild write them.
  for (const { table, keys } of ROLLUPS) {
    await ch.client.command({
      query: `INSERT INTO ${db}.${table} SELECT ${keys}, ${LEG_AGGREGATES}, toUInt64(1) AS version FROM ${db}.queue_legs GROUP BY ${keys}`,
      clickhouse_settings: { prefer_column_name_to_alias: 1 },
    });
  }
  // The per-agent hour, day and month-core rows (migrations 0012, 0016), in the consumer's order:
  // days are read from the hours, months from the days. Timed on their own: what they add.
  const t1 = Date.now();
  const tenantOnly = { query_params: { tenant }, clickhouse_settings: { prefer_column_name_to_alias: 1 as const } };
  for (const sql of [agentHoursSql, agentDaysSql, agentMonthsSql]) await ch.client.command({ query: sql(db, '', 'toUInt64(1)', `tenant_id = {tenant:String}`), ...tenantOnly });
  const agentRollupsS = (Date.now() - t1) / 1000;
  // Each table is built from the one before it: an empty one means the reports would read nothing
  // (as when the days were built before the hours they are read from), and measure the wrong thing.
  // The month table is what MONTH by agent reads; it may rightly be empty only for a handful of
  // legs, which can miss every month's core days (1,000 over the year give ~80 a month).
  const tables = ['queue_15m', 'queue_agent_15m', 'queue_agent_1h', 'queue_agent_1d', ...(legs >= 1000 ? ['queue_agent_1mo'] : [])];
  for (const table of tables) {
    const rs = await ch.client.query({ query: `SELECT count() AS n FROM ${db}.${table} WHERE tenant_id = {tenant:String}`, query_params: { tenant }, format: 'JSONEachRow' });
    if (Number(((await rs.json()) as { n: number | string }[])[0]?.n ?? 0) === 0) throw new Error(`synthetic legs: ${db}.${table} has no rows for tenant ${tenant} after the rollups were built`);
  }
  return { legsS, rollupS: (Date.now() - t) / 1000, agentRollupsS };
}

// p50/p95 latency of day, week and month queue reports (queueMetrics) over N queue legs in the
// embedded ClickHouse. Legs are generated with INSERT … SELECT FROM numbers() (one tenant, 20
// queues, 200 agents, spread over 2025), the 15-minute rollup is computed from them the way
// the consumer does, then each report runs R times for random dates. Peers in the same run,
// interleaved query by query on the same dates: MONTH by agent is run without wait percentiles (the
// wait sketch not read, queries.ts `percentiles`) against the same report with them (the read before
// that option: every field); for MONTH by queue, the same rollup SQL straight on the engine (no
// period resolution, no settings, no JS accumulation). `--only` runs the reports named (comma-separated).
//   npx tsx bench/projections-queries.ts [--legs 10000000] [--runs 40] [--only 'MONTH by queue,MONTH by agent']
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { DEFAULT_QUEUE_SETTINGS, createClickHouse, loadConfig } from '@callboard/platform';
import { ROLLUP_AGGREGATES } from '@callboard/projections/metrics';
import { queueMetrics, type QueueGroupBy } from '@callboard/projections/read';
import { percentile as pct } from './peers.ts';
import { generateQueueLegs } from './synthetic-legs.ts';
import { migrateAll } from '../cli/migrations.ts';

const { values } = parseArgs({ options: { legs: { type: 'string', default: '10000000' }, runs: { type: 'string', default: '40' }, only: { type: 'string' } } });
const only = values.only?.split(',').map((s) => s.trim());
const legs = Number(values.legs);
const runs = Number(values.runs);
const dir = mkdtempSync(join(tmpdir(), 'callboard-bench-q-'));
const cfg = loadConfig({ env: { CALLBOARD_DATA_DIR: dir, CLICKHOUSE_DATABASE: 'benchq', LOG_LEVEL: 'warn' } });
const ch = await createClickHouse(cfg);
await migrateAll(ch);
const db = ch.db;
const { legsS: genLegs, rollupS: genRollup } = await generateQueueLegs(ch, 'bench', legs);
const rs = await ch.client.query({ query: `SELECT (SELECT count() FROM ${db}.queue_legs) AS legs, (SELECT count() FROM ${db}.queue_15m) AS rollup_rows, (SELECT count() FROM ${db}.queue_agent_15m) AS agent_rollup_rows`, format: 'JSONEachRow' });
const counts = ((await rs.json()) as Record<string, number>[])[0]!;

// The peers: plain SQL over the same month (Nairobi is UTC+3 all year, so the local month is
// [first day − 3 h, next first day − 3 h) in UTC).
const monthOf = (date: string) => {
  const [y, m] = date.split('-').map(Number) as [number, number];
  return { start: Date.UTC(y, m - 1, 1) - 3 * 3_600_000, end: Date.UTC(y, m, 1) - 3 * 3_600_000 };
};
const during = `tenant_id = 'bench' AND bucket >= fromUnixTimestamp64Milli({start:Int64}, 'UTC') AND bucket < fromUnixTimestamp64Milli({end:Int64}, 'UTC')`;
const report = (kind: 'DAY' | 'WEEK' | 'MONTH', group: QueueGroupBy, date: string, percentiles = true) =>
  queueMetrics(
    ch,
    { tenant_id: 'bench', timezone: 'Africa/Nairobi', week_start: 'monday', period: { kind, date }, group_by: group, settings: () => DEFAULT_QUEUE_SETTINGS },
    { percentiles },
  );
const PEERS: Record<string, { name: string; run: (date: string) => Promise<unknown> }> = {
  'MONTH by agent': { name: 'the same report with wait percentiles (the read before `percentiles`)', run: (date) => report('MONTH', 'agent', date) },
  'MONTH by queue': {
    name: 'the same rollup SQL straight on the engine',
    run: async (date) => {
      const sql = `SELECT queue, ${ROLLUP_AGGREGATES} FROM ${db}.queue_15m FINAL WHERE ${during} GROUP BY queue`;
      const rs = await ch.client.query({ query: sql, query_params: monthOf(date), format: 'JSONEachRow', clickhouse_settings: { prefer_column_name_to_alias: 1 } });
      return rs.json();
    },
  },
};
async function peer(run: (date: string) => Promise<unknown>, date: string): Promise<number> {
  const t0 = performance.now();
  await run(date);
  return performance.now() - t0;
}
const loads: number[] = [];
const results: Record<string, { p50_ms: number; p95_ms: number; offered_example: number; peer?: string; peer_p50_ms?: number; peer_p95_ms?: number; p95_ratio?: string }> = {};
for (const [kind, group] of [
  ['DAY', 'queue'],
  ['WEEK', 'queue'],
  ['MONTH', 'queue'],
  ['MONTH', 'none'],
  ['MONTH', 'day'],
  ['DAY', 'interval'],
  ['DAY', 'agent'],
  ['MONTH', 'agent'],
] as const) {
  if (only && !only.includes(`${kind} by ${group}`)) continue;
  const times: number[] = [];
  const peerTimes: number[] = [];
  const p = PEERS[`${kind} by ${group}`];
  let offered = 0;
  for (let i = 0; i < runs; i++) {
    loads.push(loadavg()[0]!);
    const date = new Date(Date.UTC(2025, 0, 1) + Math.floor(Math.random() * 360) * 86_400_000).toISOString().slice(0, 10);
    const t0 = performance.now();
    // By agent: a caller that asks for no wait percentiles; its peer is the same report with them.
    const rows = await report(kind, group, date, group !== 'agent' || kind !== 'MONTH');
    times.push(performance.now() - t0);
    offered = rows.reduce((a, r) => a + r.offered, 0);
    if (p) peerTimes.push(await peer(p.run, date));
  }
  const r = { p50_ms: Math.round(pct(times, 0.5)), p95_ms: Math.round(pct(times, 0.95)), offered_example: offered };
  results[`${kind} by ${group}`] = p
    ? { ...r, peer: p.name, peer_p50_ms: Math.round(pct(peerTimes, 0.5)), peer_p95_ms: Math.round(pct(peerTimes, 0.95)), p95_ratio: (pct(peerTimes, 0.95) / pct(times, 0.95)).toFixed(2) }
    : r;
}
await ch.close();
rmSync(dir, { recursive: true, force: true });
const load = `${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`;
console.log(JSON.stringify({ legs: Number(counts.legs), rollup_rows: Number(counts.rollup_rows), agent_rollup_rows: Number(counts.agent_rollup_rows), generate_legs_s: genLegs, build_rollups_s: genRollup, runs, load, results }, null, 1));
console.log('p95_ratio = peer p95 / Callboard p95 (above 1: Callboard faster).');

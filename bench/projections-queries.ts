// p50/p95 latency of day, week and month queue reports (queueMetrics) over N queue legs in the
// embedded ClickHouse. Legs are generated with INSERT … SELECT FROM numbers() (one tenant, 20
// queues, 200 agents, spread over 2025), the 15-minute rollup is computed from them the way
// the consumer does, then each report runs R times for random dates.
//   npx tsx bench/projections-queries.ts [--legs 10000000] [--runs 40]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_QUEUE_SETTINGS, createClickHouse, loadConfig } from '@callboard/platform';
import { queueMetrics, type QueueGroupBy } from '@callboard/projections/read';
import { generateQueueLegs } from './synthetic-legs.ts';
import { migrateAll } from '../cli/migrations.ts';

const { values } = parseArgs({ options: { legs: { type: 'string', default: '10000000' }, runs: { type: 'string', default: '40' } } });
const legs = Number(values.legs);
const runs = Number(values.runs);
const dir = mkdtempSync(join(tmpdir(), 'callboard-bench-q-'));
const cfg = loadConfig({ env: { CALLBOARD_DATA_DIR: dir, CLICKHOUSE_DATABASE: 'benchq', LOG_LEVEL: 'warn' } });
const ch = await createClickHouse(cfg);
await migrateAll(ch);
const db = ch.db;
const { legsS: genLegs, rollupS: genRollup } = await generateQueueLegs(ch, 'bench', legs);
const rs = await ch.client.query({ query: `SELECT (SELECT count() FROM ${db}.queue_legs) AS legs, (SELECT count() FROM ${db}.queue_15m) AS rollup_rows`, format: 'JSONEachRow' });
const counts = ((await rs.json()) as Record<string, number>[])[0]!;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!;
}
const results: Record<string, { p50_ms: number; p95_ms: number; offered_example: number }> = {};
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
  const times: number[] = [];
  let offered = 0;
  for (let i = 0; i < runs; i++) {
    const date = new Date(Date.UTC(2025, 0, 1) + Math.floor(Math.random() * 360) * 86_400_000).toISOString().slice(0, 10);
    const t0 = performance.now();
    const rows = await queueMetrics(ch, {
      tenant_id: 'bench',
      timezone: 'Africa/Nairobi',
      week_start: 'monday',
      period: { kind, date },
      group_by: group as QueueGroupBy,
      settings: () => DEFAULT_QUEUE_SETTINGS,
    });
    times.push(performance.now() - t0);
    offered = rows.reduce((a, r) => a + r.offered, 0);
  }
  results[`${kind} by ${group}`] = { p50_ms: Math.round(pct(times, 0.5)), p95_ms: Math.round(pct(times, 0.95)), offered_example: offered };
}
await ch.close();
rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify({ legs: Number(counts.legs), rollup_rows: Number(counts.rollup_rows), generate_legs_s: genLegs, build_rollup_s: genRollup, runs, results }, null, 1));

// The cost of business hours (docs/business-hours.md): p50/p95 of month and day queue reports
// (queueMetrics) with and without `hours: open` over N queue legs in the embedded ClickHouse.
// (bench/projections-queries.ts measures the reports themselves against their peers.) Legs are generated with INSERT … SELECT FROM numbers() (one tenant, 20
// queues, 200 agents, spread over 2025), the 15-minute rollup is computed from them the way
// the consumer does, then each report runs R times for random dates.
//   npx tsx bench/projections-queries-hours.ts [--legs 10000000] [--runs 40]
// The reports with business hours (hours: open) are interleaved with the plain ones in the same run: a schedule on bucket edges (rollup path) and one off them (leg path).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_QUEUE_SETTINGS, createClickHouse, loadConfig, type OpenInterval, type ScheduleConfig, type TenantHours } from '@callboard/platform';
import { queueMetrics, type Hours, type QueueGroupBy } from '@callboard/projections/read';
import { generateQueueLegs } from './synthetic-legs.ts';
import { migrateAll } from '../cli/migrations.ts';

const { values } = parseArgs({ options: { legs: { type: 'string', default: '10000000' }, runs: { type: 'string', default: '40' }, hours: { type: 'boolean', default: true } } });
const legs = Number(values.legs);
const runs = Number(values.runs);
const dir = mkdtempSync(join(tmpdir(), 'callboard-bench-q-'));
// Gone however the process ends (a failed generator leaves gigabytes of engine data otherwise).
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
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
// The demo's office hours (lunch break, Saturday mornings, holidays) and the same shifted 10
// minutes off the bucket edges, which forces the leg-by-leg path.
const office = (shift: number): ScheduleConfig => {
  const day = (...r: [number, number][]): OpenInterval[] => r.map(([a, b]) => ({ from: a * 60 + shift, to: b * 60 + shift }));
  const weekday = day([8, 13], [14, 17]);
  return { tenant: 'bench', name: `office${shift}`, weekly: [weekday, weekday, weekday, weekday, weekday, day([9, 13]), []], holidays: [{ date: '2025-12-25', name: 'Christmas Day' }], exceptions: [] };
};
type Variant = { label: string; business_hours?: TenantHours; hours?: Hours };
const variants: Variant[] = [{ label: '' }];
if (values.hours) variants.push({ label: ', hours open (rollup)', business_hours: { default: office(0), queues: {} }, hours: 'open' }, { label: ', hours open (legs: edges off buckets)', business_hours: { default: office(10), queues: {} }, hours: 'open' });
const shapes = values.hours
  ? ([['MONTH', 'queue'], ['MONTH', 'none'], ['DAY', 'queue']] as const)
  : ([['DAY', 'queue'], ['WEEK', 'queue'], ['MONTH', 'queue'], ['MONTH', 'none'], ['MONTH', 'day'], ['DAY', 'interval'], ['DAY', 'agent'], ['MONTH', 'agent']] as const);
for (const [kind, group] of shapes) {
  const times = variants.map((): number[] => []);
  const offered = variants.map(() => 0);
  for (let i = 0; i < runs; i++) {
    const date = new Date(Date.UTC(2025, 0, 1) + Math.floor(Math.random() * 360) * 86_400_000).toISOString().slice(0, 10);
    // Interleaved: each variant runs on the same date right after the other, at the same load.
    for (const [v, variant] of variants.entries()) {
      const t0 = performance.now();
      const rows = await queueMetrics(ch, {
        tenant_id: 'bench',
        timezone: 'Africa/Nairobi',
        week_start: 'monday',
        period: { kind, date },
        group_by: group as QueueGroupBy,
        settings: () => DEFAULT_QUEUE_SETTINGS,
        ...(variant.business_hours ? { business_hours: variant.business_hours } : {}),
        ...(variant.hours ? { hours: variant.hours } : {}),
      });
      times[v]!.push(performance.now() - t0);
      offered[v] = rows.reduce((a, r) => a + r.offered, 0);
    }
  }
  variants.forEach((variant, v) => {
    results[`${kind} by ${group}${variant.label}`] = { p50_ms: Math.round(pct(times[v]!, 0.5)), p95_ms: Math.round(pct(times[v]!, 0.95)), offered_example: offered[v]! };
  });
}
await ch.close();
rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify({ legs: Number(counts.legs), rollup_rows: Number(counts.rollup_rows), generate_legs_s: genLegs, build_rollup_s: genRollup, runs, results }, null, 1));

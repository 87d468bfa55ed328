// p50/p95 latency of day, week and month queue reports (queueMetrics) over N queue legs in the
// embedded ClickHouse. Legs are generated with INSERT … SELECT FROM numbers() (one tenant, 20
// queues, 200 agents, spread over 2025), the 15-minute rollup is computed from them the way
// the consumer does, then each report runs R times for random dates. Reports are read as the API
// reads them: the tenant's queues known (their thresholds applied in the engine).
// Peers in the same run, interleaved query by query on the same dates (each date runs them in a
// rotated order): MONTH by agent with wait percentiles against the same report without them
// (`percentiles: false`); MONTH by queue against the same rollup SQL straight on the engine (no
// period resolution, no settings, no JS accumulation). `--before REV` adds, for both month reports,
// the read path of git revision REV (its projections/src, checked out under .cache/) on the same
// dates: before/after in one run. `--only` runs the reports named (comma-separated).
//   npx tsx bench/projections-queries.ts [--legs 10000000] [--runs 40] [--only 'MONTH by queue,MONTH by agent'] [--before HEAD~3]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { DEFAULT_QUEUE_SETTINGS, createClickHouse, loadConfig } from '@callboard/platform';
import { ROLLUP_AGGREGATES } from '@callboard/projections/metrics';
import { queueMetrics, type QueueGroupBy, type QueueMetricsRow } from '@callboard/projections/read';
import { percentile as pct } from './peers.ts';
import { generateQueueLegs } from './synthetic-legs.ts';
import { migrateAll } from '../cli/migrations.ts';

const { values } = parseArgs({ options: { legs: { type: 'string', default: '10000000' }, runs: { type: 'string', default: '40' }, only: { type: 'string' }, before: { type: 'string' } } });
const only = values.only?.split(',').map((s) => s.trim());
const legs = Number(values.legs);
const runs = Number(values.runs);

type Read = typeof queueMetrics;
/** queueMetrics of git revision `rev`, from its projections/src checked out under .cache/ (gitignored), so imports resolve from this repository's node_modules. */
async function readOf(rev: string): Promise<{ commit: string; queueMetrics: Read }> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const commit = execFileSync('git', ['rev-parse', '--short', rev], { cwd: root, encoding: 'utf8' }).trim();
  const into = join(root, '.cache', 'bench-before', commit);
  if (!existsSync(join(into, 'projections', 'src', 'read.ts'))) {
    mkdirSync(into, { recursive: true });
    execFileSync('sh', ['-c', `git archive ${commit} projections/src | tar -x -C '${into}'`], { cwd: root });
  }
  const mod = (await import(join(into, 'projections', 'src', 'read.ts'))) as { queueMetrics: Read };
  return { commit, queueMetrics: mod.queueMetrics };
}
const before = values.before ? await readOf(values.before) : null;
const dir = mkdtempSync(join(tmpdir(), 'callboard-bench-q-'));
// Gone however the process ends (a failed generator leaves gigabytes of engine data otherwise).
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const cfg = loadConfig({ env: { CALLBOARD_DATA_DIR: dir, CLICKHOUSE_DATABASE: 'benchq', LOG_LEVEL: 'warn' } });
const ch = await createClickHouse(cfg);
await migrateAll(ch);
const db = ch.db;
const { legsS: genLegs, rollupS: genRollup, agentRollupsS } = await generateQueueLegs(ch, 'bench', legs);
const rs = await ch.client.query({ query: `SELECT (SELECT count() FROM ${db}.queue_legs) AS legs, (SELECT count() FROM ${db}.queue_15m) AS rollup_rows, (SELECT count() FROM ${db}.queue_agent_15m) AS agent_rollup_rows, (SELECT count() FROM ${db}.queue_agent_1h) AS agent_hour_rows, (SELECT count() FROM ${db}.queue_agent_1d) AS agent_day_rows, (SELECT count() FROM ${db}.queue_agent_1mo) AS agent_month_rows`, format: 'JSONEachRow' });
const counts = ((await rs.json()) as Record<string, number>[])[0]!;

// The peers: plain SQL over the same month (Nairobi is UTC+3 all year, so the local month is
// [first day − 3 h, next first day − 3 h) in UTC).
const monthOf = (date: string) => {
  const [y, m] = date.split('-').map(Number) as [number, number];
  return { start: Date.UTC(y, m - 1, 1) - 3 * 3_600_000, end: Date.UTC(y, m, 1) - 3 * 3_600_000 };
};
const during = `tenant_id = 'bench' AND bucket >= fromUnixTimestamp64Milli({start:Int64}, 'UTC') AND bucket < fromUnixTimestamp64Milli({end:Int64}, 'UTC')`;
const QUEUES = Array.from({ length: 20 }, (_, i) => `q${i}`);
const report = (kind: 'DAY' | 'WEEK' | 'MONTH', group: QueueGroupBy, date: string, percentiles = true, read: Read = queueMetrics): Promise<QueueMetricsRow[]> =>
  read(
    ch,
    { tenant_id: 'bench', timezone: 'Africa/Nairobi', week_start: 'monday', period: { kind, date }, group_by: group, settings: () => DEFAULT_QUEUE_SETTINGS, queues: QUEUES },
    { percentiles },
  );
type Run = (date: string) => Promise<unknown>;
const beforeRun = (kind: 'MONTH', group: QueueGroupBy, percentiles: boolean): Record<string, Run> =>
  before ? { [`the read of ${before.commit}${percentiles ? '' : ' without percentiles'}`]: (date) => report(kind, group, date, percentiles, before.queueMetrics) } : {};
// The peers of a report, by name; each runs on the same date as the report, in a rotated order.
const PEERS: Record<string, Record<string, Run>> = {
  'MONTH by agent': {
    'without wait percentiles': (date) => report('MONTH', 'agent', date, false),
    ...beforeRun('MONTH', 'agent', true),
    ...beforeRun('MONTH', 'agent', false),
  },
  'MONTH by queue': {
    'the same rollup SQL straight on the engine': async (date) => {
      const sql = `SELECT queue, ${ROLLUP_AGGREGATES} FROM ${db}.queue_15m FINAL WHERE ${during} GROUP BY queue`;
      const rs = await ch.client.query({ query: sql, query_params: monthOf(date), format: 'JSONEachRow', clickhouse_settings: { prefer_column_name_to_alias: 1 } });
      return rs.json();
    },
    ...beforeRun('MONTH', 'queue', true),
  },
};
/** Wall ms, and the process's CPU ms: the embedded engine runs in this process, so its threads count, and CPU time moves less with the machine's load than wall time. */
async function timed(run: Run, date: string): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await run(date);
  const c = process.cpuUsage(c0);
  return { wall: performance.now() - t0, cpu: (c.user + c.system) / 1000 };
}
const loads: number[] = [];
interface PeerResult {
  p50_ms: number;
  p95_ms: number;
  cpu_p50_ms: number;
  /** peer p95 ÷ Callboard p95. */
  p95_ratio: string;
}
const results: Record<string, { p50_ms: number; p95_ms: number; cpu_p50_ms: number; offered_example: number; peers?: Record<string, PeerResult> }> = {};
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
  const peers = Object.entries(PEERS[`${kind} by ${group}`] ?? {});
  const times: number[][] = [[], ...peers.map(() => [])];
  const cpu: number[][] = [[], ...peers.map(() => [])];
  let offered = 0;
  for (let i = 0; i < runs; i++) {
    loads.push(loadavg()[0]!);
    const date = new Date(Date.UTC(2025, 0, 1) + Math.floor(Math.random() * 360) * 86_400_000).toISOString().slice(0, 10);
    const all: Run[] = [
      async (d) => {
        offered = (await report(kind, group, d)).reduce((a, r) => a + r.offered, 0);
      },
      ...peers.map(([, run]) => run),
    ];
    for (let j = 0; j < all.length; j++) {
      const k = (i + j) % all.length;
      const t = await timed(all[k]!, date);
      times[k]!.push(t.wall);
      cpu[k]!.push(t.cpu);
    }
  }
  const p95 = pct(times[0]!, 0.95);
  const r = { p50_ms: Math.round(pct(times[0]!, 0.5)), p95_ms: Math.round(p95), cpu_p50_ms: Math.round(pct(cpu[0]!, 0.5)), offered_example: offered };
  results[`${kind} by ${group}`] = peers.length
    ? {
        ...r,
        peers: Object.fromEntries(
          peers.map(([name], j) => [name, { p50_ms: Math.round(pct(times[j + 1]!, 0.5)), p95_ms: Math.round(pct(times[j + 1]!, 0.95)), cpu_p50_ms: Math.round(pct(cpu[j + 1]!, 0.5)), p95_ratio: (pct(times[j + 1]!, 0.95) / p95).toFixed(2) }]),
        ),
      }
    : r;
}
await ch.close();
rmSync(dir, { recursive: true, force: true });
const load = `${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`;
console.log(JSON.stringify({ ...(before ? { before: before.commit } : {}), legs: Number(counts.legs), rollup_rows: Number(counts.rollup_rows), agent_rollup_rows: Number(counts.agent_rollup_rows), agent_hour_rows: Number(counts.agent_hour_rows), agent_day_rows: Number(counts.agent_day_rows), agent_month_rows: Number(counts.agent_month_rows), generate_legs_s: genLegs, build_rollups_s: genRollup, of_which_agent_rollups_s: agentRollupsS, runs, load, results }, null, 1));
console.log('p95_ratio = peer p95 / Callboard p95 (above 1: Callboard faster).');

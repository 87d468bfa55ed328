// p50/p95/p99 of 200 concurrent wallboard and analyst GraphQL queries against one API process
// (bench/api-harness.ts: embedded ClickHouse, N synthetic queue legs over 2025), and the peer of
// the same run: the same queries one at a time. Half are display screens asking their board
// (live state from memory); half are analysts asking `metrics` — `--distinct` different queries
// over closed periods of 2025 plus today's, as dashboards that open at once ask. Round 1 meets
// an empty cache (every distinct query reaches the engine once); later rounds show the cache.
//   KAFKA_BROKERS=127.0.0.1:9092 npx tsx bench/api-concurrency.ts [--legs 1000000] [--concurrent 200] [--distinct 10] [--rounds 5] [--cache-s 300]
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { pct, startHarness } from './api-common.ts';

const { values } = parseArgs({
  options: {
    legs: { type: 'string', default: '1000000' },
    concurrent: { type: 'string', default: '200' },
    distinct: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '5' },
    'cache-s': { type: 'string', default: '300' },
  },
});
const concurrent = Number(values.concurrent);
const distinct = Number(values.distinct);
const rounds = Number(values.rounds);

const h = await startHarness(['--legs', values.legs], { API_COST_PER_MINUTE: '1000000000', API_METRICS_CACHE_S: values['cache-s'] });
const METRICS = 'query($p: PeriodInput!, $g: GroupBy) { metrics(period: $p, groupBy: $g) { rows { key queue_metrics { offered answered abandoned service_level abandon_rate asa wait_p90 aht } } } }';
const BOARD = 'query($id: ID!) { board(id: $id) { id name tiles { id kind queues } } }';

interface Query {
  token: string;
  query: string;
  variables: Record<string, unknown>;
  kind: 'wallboard' | 'analyst';
}

const shapes: [string, string][] = [
  ['DAY', 'QUEUE'],
  ['WEEK', 'QUEUE'],
  ['MONTH', 'QUEUE'],
  ['MONTH', 'TENANT'],
  ['MONTH', 'DAY'],
];
const analyst: Query[] = Array.from({ length: distinct }, (_, i) => {
  const [kind, g] = shapes[i % shapes.length]!;
  const date = new Date(Date.UTC(2025, 0, 15) + i * 31 * 86_400_000).toISOString().slice(0, 10);
  return { token: h.tokens.analyst, query: METRICS, variables: i === 0 ? { p: { kind: 'TODAY' }, g: 'QUEUE' } : { p: { kind, date }, g }, kind: 'analyst' as const };
});
const workload: Query[] = Array.from({ length: concurrent }, (_, i) =>
  i % 2 ? analyst[Math.floor(i / 2) % analyst.length]! : { token: h.tokens.display, query: BOARD, variables: { id: h.board }, kind: 'wallboard' as const },
);

async function run(q: Query): Promise<number> {
  const t = performance.now();
  const res = await fetch(`${h.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${q.token}` },
    body: JSON.stringify({ query: q.query, variables: q.variables }),
  });
  const body = (await res.json()) as { data?: unknown; errors?: unknown };
  const ms = performance.now() - t;
  if (!body.data) throw new Error(`${res.status} ${JSON.stringify(body.errors)}`);
  return ms;
}

const stats = (xs: number[]) => ({ n: xs.length, p50_ms: +pct(xs, 0.5).toFixed(1), p95_ms: +pct(xs, 0.95).toFixed(1), p99_ms: +pct(xs, 0.99).toFixed(1), max_ms: +Math.max(...xs).toFixed(1) });

// The peer first, on a cold cache: the same 200 queries one at a time.
const alone: number[] = [];
let t0 = performance.now();
for (const q of workload) alone.push(await run(q));
const aloneTotalMs = performance.now() - t0;

// Then the same 200 at once, `rounds` times: the cache holds the closed periods from the peer,
// so round 1 here is warm too; a cold concurrent round is the figure with --cache-s 0.
const together: number[][] = [];
const burstMs: number[] = [];
for (let r = 0; r < rounds; r++) {
  t0 = performance.now();
  const times = await Promise.all(workload.map(run));
  burstMs.push(+(performance.now() - t0).toFixed(0));
  together.push(times);
}
const all = together.flat();
const byKind = (kind: Query['kind']) => together.flatMap((times) => times.filter((_, i) => workload[i]!.kind === kind));

console.log(
  JSON.stringify(
    {
      legs: Number(values.legs),
      concurrent,
      distinct_analyst_queries: distinct,
      rounds,
      metrics_cache_s: Number(values['cache-s']),
      machine: { cores: cpus().length, node: process.version, load_average: loadavg().map((x) => +x.toFixed(2)), at: new Date().toISOString() },
      one_at_a_time: { ...stats(alone), total_ms: +aloneTotalMs.toFixed(0) },
      concurrent_burst_ms: burstMs,
      concurrent_p99_ms_by_round: together.map((times) => +pct(times, 0.99).toFixed(0)),
      concurrent_all_rounds: stats(all),
      concurrent_round_1: stats(together[0]!),
      concurrent_wallboard: stats(byKind('wallboard')),
      concurrent_analyst: stats(byKind('analyst')),
    },
    null,
    2,
  ),
);
await h.stop();

// p50/p95 of the GraphQL metrics query (HTTP round trip: auth, validation, projections query,
// serialisation) for DAY, WEEK and MONTH periods over N queue legs spread over 2025 in the
// embedded ClickHouse; random dates, R runs each, after one warm-up.
//   KAFKA_BROKERS=127.0.0.1:9092 npx tsx bench/api-metrics.ts [--legs 2000000] [--runs 40]
import { parseArgs } from 'node:util';
import { pct, startHarness } from './api-common.ts';

const { values } = parseArgs({ options: { legs: { type: 'string', default: '2000000' }, runs: { type: 'string', default: '40' } } });
const runs = Number(values.runs);
const t0 = Date.now();
const h = await startHarness(['--legs', values.legs]);
const seedS = (Date.now() - t0) / 1000;
const QUERY = `query($p: PeriodInput!, $g: GroupBy) { metrics(period: $p, groupBy: $g) { rows { key queue_metrics { offered answered abandoned service_level abandon_rate asa wait_p90 aht } } } }`;

async function run(kind: string, groupBy: string, date: string): Promise<{ ms: number; offered: number }> {
  const t = performance.now();
  const res = await fetch(`${h.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${h.tokens.analyst}` },
    body: JSON.stringify({ query: QUERY, variables: { p: { kind, date }, g: groupBy } }),
  });
  const body = (await res.json()) as { data?: { metrics: { rows: { queue_metrics: { offered: number } }[] } }; errors?: unknown };
  const ms = performance.now() - t;
  if (!body.data) throw new Error(JSON.stringify(body.errors));
  return { ms, offered: body.data.metrics.rows.reduce((a, r) => a + r.queue_metrics.offered, 0) };
}

const results: Record<string, unknown> = {};
for (const [kind, groupBy] of [
  ['DAY', 'QUEUE'],
  ['WEEK', 'QUEUE'],
  ['MONTH', 'QUEUE'],
  ['MONTH', 'TENANT'],
] as const) {
  await run(kind, groupBy, '2025-06-15');
  const times: number[] = [];
  let offered = 0;
  for (let i = 0; i < runs; i++) {
    const date = new Date(Date.UTC(2025, 0, 1) + Math.floor(Math.random() * 360) * 86_400_000).toISOString().slice(0, 10);
    const r = await run(kind, groupBy, date);
    times.push(r.ms);
    offered = r.offered;
  }
  results[`${kind} by ${groupBy}`] = { p50_ms: +pct(times, 0.5).toFixed(1), p95_ms: +pct(times, 0.95).toFixed(1), offered_example: offered };
}
console.log(JSON.stringify({ legs: Number(values.legs), runs, seed_and_start_s: seedS, results }, null, 2));
await h.stop();

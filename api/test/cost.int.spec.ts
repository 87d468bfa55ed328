// Query cost, deadlines, fairness and coalescing through the real API (startStack: the broker and
// the embedded ClickHouse), over synthetic queue legs of 2025. No wall times are asserted: what is
// checked is what was refused, what was cancelled, the order of progress, and how many engine
// reads ran (the API's own counters, read in-process).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, DEFAULT_QUEUE_SETTINGS, registry } from '@callboard/platform';
import { queueMetrics, withReadLimits } from '@callboard/projections/read';
import { eventually, testConfig } from '../../test/helpers.ts';
import { startStack, type Stack } from '../../cli/stack.ts';
import { generateQueueLegs } from '../../bench/synthetic-legs.ts';
import { startApi, type RunningApi } from '../src/main.ts';
import { createToken } from '../src/tokens.ts';
import { codes, gql } from './client.ts';

let stack: Stack;
let url = '';
/** A second API on the same engine with a deadline far below the slow query's run time and a small cost budget. */
let strict: RunningApi;
const tok: Record<string, string> = {};

const METRICS = 'query($p: PeriodInput!, $g: GroupBy, $f: MetricsFilter) { metrics(period: $p, groupBy: $g, filter: $f) { rows { key queue_metrics { offered answered } } } }';
const MONTH_BY_AGENT = 'metrics(period: {kind: MONTH, date: "2025-03-01"}, groupBy: AGENT) { rows { key agent_metrics { handled } } }';
/** A year of 2025 for 50 agents: queue metrics filtered by agent read the legs themselves (400k), not the rollup. */
const SLOW = { p: { kind: 'RANGE', from: '2025-01-01', to: '2025-12-31' }, g: 'QUEUE', f: { agents: Array.from({ length: 50 }, (_, i) => `a${i}`) } };

async function metric(name: string): Promise<Record<string, number>> {
  const m = registry.getSingleMetric(name);
  const out: Record<string, number> = {};
  for (const v of (await m!.get()).values) out[Object.values(v.labels).join(',') || 'all'] = v.value;
  return out;
}
const engineReads = async () => (await metric('callboard_api_reads_total')).engine ?? 0;

// These cases test the GraphQL layer's own limits on documents far larger than the HTTP body
// limit (API_MAX_REQUEST_BYTES, 413 — tested in api/test/server.hostile.spec.ts), so that limit
// is lifted here: the cost, token and argument checks must hold on their own.
const BODY_LIMIT_OFF = 64 * 1024 * 1024;
// The flood below queues 24 heavy reads behind one engine slot; on a loaded machine the last of
// them waits longer than the default deadline. The deadline is the strict API's to test.
const DEADLINE_OFF = 600_000;

beforeAll(async () => {
  const cfg = testConfig({ tenants: [{ id: 'acme', timezone: 'Africa/Nairobi' }, { id: 'beta', timezone: 'Europe/Berlin' }] });
  stack = await startStack(cfg, { kafkaTopics: true, clickhouse: true, api: { port: 0, host: '127.0.0.1', settings: { rateBurst: 1000, ratePerSecond: 100, engineConcurrency: 1, costPerMinute: 1e6, maxRequestBytes: BODY_LIMIT_OFF, queryDeadlineMs: DEADLINE_OFF } } });
  url = stack.api!.url;
  await generateQueueLegs(stack.ch!, 'acme', 400_000);
  await generateQueueLegs(stack.ch!, 'beta', 1_000);
  strict = await startApi({ cfg: stack.cfg, log: createLogger('strict', 'warn'), health: stack.health, ch: stack.ch!, port: 0, host: '127.0.0.1', settings: { queryDeadlineMs: 20, costPerMinute: 4000, engineConcurrency: 1 } });
  for (const [name, tenant, role] of [
    ['acme', 'acme', 'analyst'],
    ['flood', 'acme', 'analyst'],
    ['beta', 'beta', 'analyst'],
    ['admin', 'acme', 'admin'],
    ['slow', 'acme', 'analyst'],
    ['budget', 'acme', 'analyst'],
  ] as const) {
    tok[name] = (await createToken(stack.ch!, { tenant_id: tenant, role })).token;
  }
  await eventually(async () => ((await fetch(`${url}/readyz`)).status === 200 ? true : undefined), 60_000, 'API ready');
});

afterAll(async () => {
  await strict?.stop();
  await stack?.stop();
});

describe('cost', () => {
  it('refuses 1,000 aliases of a month-by-agent query before anything runs', async () => {
    const before = await engineReads();
    const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `m${i}: ${MONTH_BY_AGENT}`).join(' ')} }`;
    const r = await gql(url, tok.acme!, aliases(1000));
    expect(r.status).toBe(400);
    expect(codes(r)).toEqual(['TOO_COMPLEX']);
    // 100 are few enough tokens to parse, and still refused by their cost (≈ 160 each)
    const r100 = await gql(url, tok.acme!, aliases(100));
    expect(r100.status).toBe(400);
    expect(r100.errors![0]!.message).toMatch(/query cost \d+ exceeds the limit of 5000/);
    expect(await engineReads()).toBe(before);
    // one of them alone is fine
    expect((await gql(url, tok.acme!, `{ ${MONTH_BY_AGENT} }`)).data).toBeDefined();
  });

  it('counts __typename: a bomb of them is refused, by cost or by the document size', async () => {
    const byCost = await gql(url, tok.acme!, `{ ${'__typename '.repeat(6000)} }`);
    expect(byCost.status).toBe(400);
    expect(byCost.errors![0]!.message).toMatch(/query cost 6000 exceeds/);
    const bySize = await gql(url, tok.acme!, `{ ${Array.from({ length: 500_000 }, (_, i) => `t${i}: __typename`).join(' ')} }`);
    expect(bySize.status).toBe(400);
    expect(codes(bySize)).toEqual(['TOO_COMPLEX']);
    expect(bySize.errors![0]!.message).toMatch(/more than 10000 tokens/);
  });

  it('charges variables as much as literals', async () => {
    const year = { p: { kind: 'RANGE', from: '2025-01-01', to: '2025-12-31' }, g: 'AGENT' };
    const q = `query($p: PeriodInput!, $g: GroupBy) { ${[1, 2, 3].map((i) => `m${i}: metrics(period: $p, groupBy: $g) { group_by }`).join(' ')} }`;
    const r = await gql(url, tok.acme!, q, year);
    expect(codes(r)).toEqual(['TOO_COMPLEX']);
  });
});

describe('hostile arguments are typed 4xx errors', () => {
  it('deeply nested braces', async () => {
    // too many tokens to parse at all
    const r = await gql(url, tok.acme!, `${'{a'.repeat(100_000)}${'}'.repeat(100_000)}`);
    expect(r.status).toBe(400);
    expect(codes(r)).toEqual(['TOO_COMPLEX']);
    // few enough tokens, and deep: the recursive parser either runs out of stack (it depends on the
    // process's stack size) or the depth rule refuses it; never a 500
    const r2 = await gql(url, tok.acme!, `{ me ${'{ me '.repeat(3000)}${'}'.repeat(3001)}`);
    expect(r2.status).toBe(400);
    expect(codes(r2)).toContain('TOO_COMPLEX');
    expect(r2.errors!.find((e) => e.extensions?.code === 'TOO_COMPLEX')!.message).toMatch(/nested too deeply to parse|depth 3001 exceeds/);
    // braces alone are a plain syntax error at the second token (GraphQL-over-HTTP: 200 to application/json)
    const r3 = await gql(url, tok.acme!, `${'{'.repeat(100_000)}${'}'.repeat(100_000)}`);
    expect(codes(r3)).toEqual(['GRAPHQL_PARSE_FAILED']);
  });

  it('a filter with 100k agent ids', async () => {
    const agents = Array.from({ length: 100_000 }, (_, i) => `a${i}`);
    const r = await gql(url, tok.acme!, METRICS, { p: { kind: 'DAY', date: '2025-03-01' }, g: 'AGENT', f: { agents } });
    expect(r.status).toBe(400);
    expect(codes(r)).toEqual(['BAD_INPUT']);
    expect(r.errors![0]!.message).toMatch(/metrics\.filter\.agents lists 100000 values/);
    const calls = await gql(url, tok.acme!, 'query($a: [ID!]) { calls(filter: {agents: $a}) { edges { cursor } } }', { a: agents });
    expect(codes(calls)).toEqual(['BAD_INPUT']);
  });

  it('DAY 0000-01-01 and a calls filter from year 0', async () => {
    const r = await gql(url, tok.acme!, METRICS, { p: { kind: 'DAY', date: '0000-01-01' } });
    expect(r.status).toBe(400);
    expect(codes(r)).toEqual(['BAD_PERIOD']);
    const i = await gql(url, tok.acme!, '{ intraday(date: "0000-01-01") { date } }');
    expect(codes(i)).toEqual(['BAD_PERIOD']);
    const c = await gql(url, tok.acme!, '{ calls(filter: {from: "0000-01-01T00:00:00.000Z"}) { edges { cursor } } }');
    expect(codes(c)).toEqual(['BAD_INPUT']);
  });

  it('a lone surrogate or a 1 MB token label', async () => {
    const m = 'mutation($l: String) { createToken(role: ANALYST, label: $l) { token } }';
    for (const label of ['screen\ud800', 'x'.repeat(1_000_000), 'y'.repeat(201)]) {
      const r = await gql(url, tok.admin!, m, { l: label });
      expect(r.status).toBe(400);
      expect(codes(r)).toEqual(['BAD_INPUT']);
    }
    expect((await gql(url, tok.admin!, m, { l: 'Floor TV 🙂' })).data).toBeDefined();
  });

  it('a lone surrogate in a filter', async () => {
    const r = await gql(url, tok.acme!, METRICS, { p: { kind: 'DAY', date: '2025-03-01' }, g: 'QUEUE', f: { queues: ['q1\udc00'] } });
    expect(codes(r)).toEqual(['BAD_INPUT']);
  });

  it('gives no field suggestions', async () => {
    const r = await gql(url, tok.acme!, '{ metrcs { group_by } }');
    expect(r.errors![0]!.message).toMatch(/Cannot query field "metrcs"/);
    expect(r.errors![0]!.message).not.toMatch(/Did you mean/);
  });
});

describe('deadline and budget', () => {
  it('cancels a query that runs past the deadline, and drops the request work not yet started', async () => {
    const before = await metric('callboard_api_reads_cancelled_total');
    // Deadline 20 ms against a read of 400k legs; the result checked is the typed answer and the
    // counter of cancelled reads (the next test shows the engine stopping on its own)
    const q = `query($p: PeriodInput!, $g: GroupBy, $f: MetricsFilter) { a: metrics(period: $p, groupBy: $g, filter: $f) { group_by } b: metrics(period: $p, groupBy: DAY, filter: $f) { group_by } }`;
    const r = await gql(strict.url, tok.slow!, q, SLOW);
    expect(r.status).toBe(503);
    // graphql-js reports the first failure of non-null siblings; both reads were given up
    expect(codes(r)).toEqual(['TIMEOUT']);
    expect((await metric('callboard_api_reads_cancelled_total')).all).toBeGreaterThanOrEqual((before.all ?? 0) + 2);
    // the engine is free again: the next query on the other API is answered
    expect((await gql(url, tok.acme!, METRICS, { p: { kind: 'DAY', date: '2025-06-01' }, g: 'QUEUE' })).data).toBeDefined();
  });

  it('the engine itself stops a read at its time limit (no abort signal involved), and the limit ends with the read', async () => {
    const q = {
      tenant_id: 'acme',
      timezone: 'Africa/Nairobi',
      week_start: 'monday' as const,
      period: { kind: 'RANGE' as const, from: '2025-01-01', to: '2025-12-31' },
      group_by: 'agent' as const,
      settings: () => DEFAULT_QUEUE_SETTINGS,
      now: new Date(),
    };
    const never = new AbortController().signal;
    await expect(withReadLimits({ signal: never, maxExecutionS: 0.001 }, () => queueMetrics(stack.ch!, q))).rejects.toMatchObject({ code: '159' });
    // the embedded connection keeps clickhouse_settings as session SETs; the limit rides in the query's own SETTINGS
    expect((await queueMetrics(stack.ch!, q)).length).toBeGreaterThan(0);
  });

  it('spends a per-token cost budget', async () => {
    // 365 days × 50 agents / 10 ≈ 1,830 each against 4,000 a minute; the empty year 2100 runs fast.
    const empty = { p: { kind: 'RANGE', from: '2100-01-01', to: '2100-12-31' }, g: 'AGENT' };
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await gql(strict.url, tok.budget!, METRICS, empty));
    expect(results.slice(0, 2).flatMap(codes)).not.toContain('RATE_LIMITED');
    expect(codes(results[2]!)).toEqual(['RATE_LIMITED']);
    expect(results[2]!.status).toBe(429);
  });
});

describe('fairness and coalescing', () => {
  it("serves tenant beta's one query while tenant acme floods the engine", async () => {
    // 24 distinct heavy queries (different ranges, filtered by agent: they read the 400k legs): nothing to coalesce.
    let acmeDone = 0;
    const flood = Array.from({ length: 24 }, (_, i) =>
      gql(url, tok.flood!, METRICS, { p: { kind: 'RANGE', from: `2025-01-${String(1 + (i % 28)).padStart(2, '0')}`, to: `2025-${String(3 + (i % 9)).padStart(2, '0')}-28` }, g: 'QUEUE', f: SLOW.f }).then((r) => {
        acmeDone++;
        return r;
      }),
    );
    const queuedBefore = await eventually(async () => {
      const n = (await metric('callboard_api_engine_queued')).all!;
      return n >= 12 ? n : undefined;
    }, 60_000, 'acme to have 12 reads queued');
    const doneBefore = acmeDone;
    const b = await gql(url, tok.beta!, METRICS, { p: { kind: 'MONTH', date: '2025-02-01' }, g: 'QUEUE' });
    const doneMeanwhile = acmeDone - doneBefore;
    expect(b.data).toBeDefined();
    const all = await Promise.all(flood);
    expect(all.every((r) => r.data)).toBe(true);
    // First come first served would answer beta only after every acme read queued ahead of it
    // (≥ 12, besides those running). Round-robin gives beta the next free slot: the acme reads
    // answered meanwhile are the ones running then and any finishing beside beta's, a few. How
    // many exactly depends on the machine (3 is typical; a soak under stress-ng saw 4), so the
    // bound is half the queue, which first-come-first-served cannot meet.
    console.log(`fairness: ${queuedBefore} acme reads queued when beta asked, ${doneMeanwhile} answered before beta's`);
    expect(doneMeanwhile).toBeLessThanOrEqual(queuedBefore / 2);
  });

  it('answers 20 identical concurrent queries with one engine read', async () => {
    const before = await metric('callboard_api_reads_total');
    const v = { p: { kind: 'MONTH', date: '2025-04-01' }, g: 'QUEUE' };
    const rs = await Promise.all(Array.from({ length: 20 }, () => gql(url, tok.acme!, METRICS, v)));
    const after = await metric('callboard_api_reads_total');
    expect(rs.every((r) => JSON.stringify(r.data) === JSON.stringify(rs[0]!.data))).toBe(true);
    expect((rs[0]!.data as { metrics: { rows: unknown[] } }).metrics.rows.length).toBe(20);
    expect(after.engine! - (before.engine ?? 0)).toBe(1);
    expect((after.coalesced ?? 0) + (after.cached ?? 0) - (before.coalesced ?? 0) - (before.cached ?? 0)).toBe(19);
  });
});

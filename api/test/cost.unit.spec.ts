// Query cost by estimated rows, argument limits, and the engine gate's fairness and coalescing,
// on controlled tasks (no engine): the int spec shows the same through the real API.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { graphql } from '../src/graphql.ts';
import { checkArguments, fragmentsOf, measure, metricsRows, operationOf, periodDays, MAX_LIST_ITEMS } from '../src/cost.ts';
import { EngineGate, FairScheduler, deadlineIn } from '../src/engine-gate.ts';
import { limitsRule } from '../src/limits.ts';
import { checkLabel } from '../src/tokens.ts';
import { SCHEMA_PATH } from '../src/server.ts';

const schema = graphql.buildSchema(readFileSync(SCHEMA_PATH, 'utf8'));
const cost = (q: string, vars: Record<string, unknown> = {}) => {
  const doc = graphql.parse(q);
  return measure(operationOf(doc, null)!.selectionSet, fragmentsOf(doc), vars).cost;
};
const MONTH_BY_AGENT = 'metrics(period: {kind: MONTH, date: "2026-03-01"}, groupBy: AGENT) { rows { key } }';

describe('query cost', () => {
  it('estimates a metrics field by its period length × groups, narrowed by the filter', () => {
    expect(periodDays({ kind: 'MONTH', date: '2026-02-01' })).toBe(31);
    expect(periodDays({ kind: 'RANGE', from: '2026-01-01', to: '2026-12-31' })).toBe(365);
    expect(periodDays({ kind: 'RANGE', from: 'x', to: 'y' })).toBe(1);
    expect(metricsRows({ period: { kind: 'MONTH' }, groupBy: 'AGENT' })).toBe(31 * 50);
    expect(metricsRows({ period: { kind: 'MONTH' }, groupBy: 'AGENT', filter: { agents: ['1', '2'] } })).toBe(31 * 2);
    // a comparison reads a second period as long as the first
    expect(metricsRows({ period: { kind: 'MONTH' }, groupBy: 'AGENT', compare: 'PREVIOUS' })).toBe(2 * 31 * 50);
    expect(metricsRows({ period: { kind: 'DAY' } })).toBe(1);
    // variables count as much as literals
    const q = 'query($p: PeriodInput!) { metrics(period: $p, groupBy: AGENT) { rows { key } } }';
    expect(cost(q, { p: { kind: 'RANGE', from: '2026-01-01', to: '2026-12-31' } })).toBeGreaterThan(cost(q, { p: { kind: 'DAY', date: '2026-01-01' } }) + 1000);
  });

  it('counts every alias and every __typename', () => {
    const one = cost(`{ ${MONTH_BY_AGENT} }`);
    const aliases = Array.from({ length: 1000 }, (_, i) => `m${i}: ${MONTH_BY_AGENT}`).join(' ');
    expect(cost(`{ ${aliases} }`)).toBe(1000 * one);
    expect(cost(`{ ${'__typename '.repeat(6000)} }`)).toBe(6000);
    const errors = graphql.validate(schema, graphql.parse(`{ ${aliases} }`), [limitsRule(10, 5000)]);
    expect(errors.map((e) => e.extensions.code)).toEqual(['TOO_COMPLEX']);
  });

  it('refuses long lists, long strings and lone surrogates in any argument, naming it', () => {
    const doc = graphql.parse('query($f: MetricsFilter) { metrics(period: {kind: TODAY}, filter: $f) { group_by } }');
    const op = operationOf(doc, null)!;
    const run = (f: unknown) => () => checkArguments(op.selectionSet, {}, { f });
    expect(run({ agents: Array.from({ length: MAX_LIST_ITEMS }, (_, i) => `a${i}`) })).not.toThrow();
    expect(run({ agents: Array.from({ length: 100_000 }, (_, i) => `a${i}`) })).toThrow(/metrics\.filter\.agents lists 100000 values; at most 500/);
    expect(run({ queues: ['x'.repeat(201)] })).toThrow(/201 characters/);
    expect(run({ queues: ['sales\ud800'] })).toThrow(/lone UTF-16 surrogate/);
  });

  it('limits token labels', () => {
    expect(checkLabel('Floor TV 3 — 🙂')).toBeNull();
    expect(checkLabel('x'.repeat(1_000_000))).toMatch(/1000000 characters/);
    expect(checkLabel('tv\ud800')).toMatch(/surrogate/);
    expect(checkLabel('a\nb')).toMatch(/control characters/);
  });
});

/** A task the test finishes by hand, recording when it started. */
function manual(log: string[], name: string) {
  let finish!: (v: string) => void;
  const done = new Promise<string>((r) => (finish = r));
  return { task: () => (log.push(name), done), finish: () => finish(name) };
}
const settle = () => new Promise((r) => setImmediate(r));

describe('fair scheduler', () => {
  it('takes the tenants in turn: a tenant arriving behind a flood runs next', async () => {
    const s = new FairScheduler(1);
    const started: string[] = [];
    const never = new AbortController().signal;
    const a = Array.from({ length: 5 }, (_, i) => manual(started, `a${i}`));
    const runs = a.map((t) => s.run('a', never, t.task));
    const b = manual(started, 'b0');
    const bRun = s.run('b', never, b.task);
    expect(started).toEqual(['a0']);
    expect(s.waiting('a')).toBe(4);
    a[0]!.finish();
    await settle();
    expect(started).toEqual(['a0', 'b0']);
    b.finish();
    await bRun;
    for (const t of a) t.finish();
    await Promise.all(runs);
    expect(started).toEqual(['a0', 'b0', 'a1', 'a2', 'a3', 'a4']);
  });

  it('drops a queued task whose request gave up, without running it', async () => {
    const s = new FairScheduler(1);
    const started: string[] = [];
    const never = new AbortController().signal;
    const first = manual(started, 'first');
    const p1 = s.run('a', never, first.task);
    const ac = new AbortController();
    const p2 = s.run('a', ac.signal, manual(started, 'late').task);
    ac.abort(new Error('deadline'));
    first.finish();
    await p1;
    await expect(p2).rejects.toThrow('deadline');
    expect(started).toEqual(['first']);
  });
});

describe('engine gate', () => {
  const gate = (cacheS = 60) => new EngineGate({ concurrency: 2, cacheS, deadlineMs: 10_000 });

  it('runs identical reads in flight at once as one, and reuses closed periods only', async () => {
    const g = gate();
    const started: string[] = [];
    const t = manual(started, 'today');
    const open = { tenant: 'a', key: 'today', cacheable: false };
    const reads = Array.from({ length: 20 }, () => g.read({ ...open, deadline: deadlineIn(10_000) }, t.task));
    t.finish();
    expect(await Promise.all(reads)).toEqual(Array(20).fill('today'));
    expect(started).toEqual(['today']);
    // open: the next read after it finished asks the engine again
    const again = manual(started, 'today');
    const p = g.read({ ...open, deadline: deadlineIn(10_000) }, again.task);
    again.finish();
    await p;
    expect(started).toEqual(['today', 'today']);
    // closed: answered from the cache
    const closed = { tenant: 'a', key: 'march', cacheable: true };
    const m = manual(started, 'march');
    const first = g.read({ ...closed, deadline: deadlineIn(10_000) }, m.task);
    m.finish();
    await first;
    expect(await g.read({ ...closed, deadline: deadlineIn(10_000) }, manual(started, 'never').task)).toBe('march');
    // another tenant's equal key is its own read
    const other = manual(started, 'b-march');
    const pb = g.read({ ...closed, tenant: 'b', deadline: deadlineIn(10_000) }, other.task);
    other.finish();
    await pb;
    expect(started).toEqual(['today', 'today', 'march', 'b-march']);
  });

  it('answers TIMEOUT at the deadline; a shared read goes on for its other waiters, a queued one nobody waits for never runs', async () => {
    const g = new EngineGate({ concurrency: 1, cacheS: 0, deadlineMs: 10_000 });
    const started: string[] = [];
    const later = Date.now() + 60_000;
    const k = manual(started, 'k');
    const short = new AbortController();
    const r1 = g.read({ tenant: 'a', key: 'k', cacheable: false, deadline: { signal: short.signal, at: later } }, k.task);
    const r2 = g.read({ tenant: 'a', key: 'k', cacheable: false, deadline: { signal: new AbortController().signal, at: later } }, k.task);
    const alone = new AbortController();
    const r3 = g.read({ tenant: 'b', key: 'q', cacheable: false, deadline: { signal: alone.signal, at: later } }, manual(started, 'q').task);
    short.abort();
    alone.abort();
    await expect(r1).rejects.toMatchObject({ extensions: { code: 'TIMEOUT' } });
    await expect(r3).rejects.toMatchObject({ extensions: { code: 'TIMEOUT' } });
    k.finish();
    expect(await r2).toBe('k');
    await settle();
    expect(started).toEqual(['k']);
  });
});

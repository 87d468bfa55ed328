import { describe, expect, it } from 'vitest';
import { graphql } from '../src/graphql.ts';
import { limitsRule, RateLimiter } from '../src/limits.ts';
import { validateBoard } from '../src/boards.ts';
import { bearer, checkNewToken, generateToken, hashToken } from '../src/tokens.ts';
import { toPeriodSpec } from '../src/history.ts';
import { readFileSync } from 'node:fs';
import { SCHEMA_PATH } from '../src/server.ts';

const schema = graphql.buildSchema(readFileSync(SCHEMA_PATH, 'utf8'));
const check = (q: string, depth = 10, cost = 5000) => graphql.validate(schema, graphql.parse(q), [...graphql.specifiedRules, limitsRule(depth, cost)]).map((e) => e.message);

describe('query limits', () => {
  it('counts depth through fragments', () => {
    expect(check('{ me { role } }', 2)).toEqual([]);
    const q = 'query { call(id: "1") { ...C } } fragment C on Call { timeline { raw { topic } } }';
    // call > timeline > raw > topic
    expect(check(q, 4)).toEqual([]);
    expect(check(q, 3)[0]).toMatch(/depth 4 exceeds the limit of 3/);
  });

  it('charges lists by page size', () => {
    const q = (n: number) => `{ calls(first: ${n}) { edges { node { call_id started_at timeline { type } } } } }`;
    expect(check(q(10), 10, 100)).toEqual([]);
    expect(check(q(200), 10, 100)[0]).toMatch(/cost \d+ exceeds the limit of 100/);
  });
});

describe('rate limiter', () => {
  it('allows a burst, then refills at the steady rate, per key', () => {
    const rl = new RateLimiter(2, 3);
    const t = 1_000_000;
    expect([1, 2, 3].map(() => rl.take('a', t).ok)).toEqual([true, true, true]);
    expect(rl.take('a', t)).toEqual({ ok: false, retryAfterS: 1 });
    expect(rl.take('b', t).ok).toBe(true);
    expect(rl.take('a', t + 500).ok).toBe(true);
    expect(rl.take('a', t + 500).ok).toBe(false);
  });
});

describe('board validation', () => {
  const tile = { id: 'a', kind: 'KPI' as const, x: 0, y: 0, w: 2, h: 2, metric: 'service_level' };
  it('normalises a board', () => {
    expect(validateBoard({ name: ' Floor ', tiles: [tile] })).toEqual({ name: 'Floor', columns: 12, tiles: [{ ...tile, title: null, queues: [], interval: null, thresholds: [] }] });
  });
  it('names the tile and field at fault', () => {
    expect(() => validateBoard({ name: 'x', tiles: [{ ...tile, metric: 'nps' }] })).toThrow(/tiles\[0\]\.metric "nps" is not a METRICS\.md queue metric/);
    expect(() => validateBoard({ name: 'x', tiles: [tile, tile] })).toThrow(/tiles\[1\]\.id "a" is used twice/);
    expect(() => validateBoard({ name: 'x', tiles: [{ ...tile, x: 11 }] })).toThrow(/board has 12 columns/);
    expect(() => validateBoard({ name: 'x', tiles: [{ ...tile, thresholds: [{ metric: 'service_level', direction: 'BELOW', warn: 0.6, critical: 0.8 }] }] })).toThrow(/critical \(0\.8\) must be at or below warn/);
  });
});

describe('tokens', () => {
  it('are high-entropy, stored as SHA-256, and bound correctly', () => {
    const t = generateToken();
    expect(t).toMatch(/^cb_[A-Za-z0-9_-]{43}$/);
    expect(generateToken()).not.toBe(t);
    expect(hashToken(t)).toMatch(/^[0-9a-f]{64}$/);
    expect(checkNewToken({ tenant_id: 'a', role: 'display' })).toMatch(/--board/);
    expect(checkNewToken({ tenant_id: 'a', role: 'analyst', board_id: 'b' })).toMatch(/only display tokens/);
    expect(checkNewToken({ tenant_id: 'a', role: 'display', board_id: 'b' })).toBeNull();
    expect(bearer('Bearer abc')).toBe('abc');
    expect(bearer(undefined)).toBeNull();
  });
});

describe('periods from GraphQL input', () => {
  it('requires the dates a kind needs and refuses the ones it does not take', () => {
    expect(toPeriodSpec({ kind: 'WEEK', date: '2026-03-10' })).toEqual({ kind: 'WEEK', date: '2026-03-10' });
    expect(() => toPeriodSpec({ kind: 'MONTH' })).toThrow(/needs date/);
    expect(() => toPeriodSpec({ kind: 'RANGE', from: '2026-03-01' })).toThrow(/needs from and to/);
    expect(() => toPeriodSpec({ kind: 'TODAY', date: '2026-03-01' })).toThrow(/takes no date/);
  });
});

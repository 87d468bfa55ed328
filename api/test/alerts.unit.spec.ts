// Alerts without I/O: the evaluator (minimum duration, hysteresis, one alert per crossing, the
// clear), the figures it judges (the board's own), the webhook signature and retry schedule, and
// the sender's retries against a stand-in receiver.
import { describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { createLogger, DEFAULT_QUEUE_SETTINGS, loadConfig } from '@callboard/platform';
import type { Board, Tile } from '../src/boards.ts';
import { LiveStore } from '../src/live.ts';
import { MemoryPubSub, type Topics } from '../src/pubsub.ts';
import { createAlerts } from '../src/alerts/engine.ts';
import { active, checksOf, clearLevel, evaluate, recovered, step, type Alert, type AlertRule, type RuleState } from '../src/alerts/evaluate.ts';
import { backoffDelay as retryDelayMs } from '@callboard/platform';
import { alertBody, signature, verifySignature, WebhookSender } from '../src/alerts/webhook.ts';
import { queueCall } from './events.ts';

const rule = (over: Partial<AlertRule> = {}): AlertRule => ({
  key: 'k',
  board_id: 'b1',
  board_name: 'Floor',
  tile_id: 't1',
  tile_title: null,
  metric: 'waiting',
  queue: null,
  queues: [],
  direction: 'ABOVE',
  level: 'WARN',
  threshold: 10,
  ...over,
});

/** given a rule and options … when these (time s, figure) observations … then the alerts, as [time s, state, value] */
function observe(r: AlertRule, opts: { minDurationMs: number; hysteresis: number }, seq: [number, number | null][]) {
  let state: RuleState | undefined;
  const out: [number, Alert['state'], number | null][] = [];
  for (const [t, v] of seq) {
    const s = step(state, r, v, t * 1000, opts);
    state = s.state;
    if (s.alert) out.push([t, s.alert.state, s.alert.value]);
  }
  return { alerts: out, state };
}

describe('alert evaluator', () => {
  const opts = { minDurationMs: 10_000, hysteresis: 0.1 };

  it('raises only once the figure has stayed beyond the level for the minimum duration', () => {
    expect(observe(rule(), opts, [[0, 11], [5, 12], [9.9, 11]]).alerts).toEqual([]);
    expect(observe(rule(), opts, [[0, 11], [5, 12], [10, 11]]).alerts).toEqual([[10, 'RAISED', 11]]);
    // a dip back to the level restarts the clock: the breach must be continuous
    expect(observe(rule(), opts, [[0, 11], [5, 10], [6, 11], [15, 11], [16, 12]]).alerts).toEqual([[16, 'RAISED', 12]]);
  });

  it('compares strictly, as the board colours: at the level is not beyond it', () => {
    expect(observe(rule(), { minDurationMs: 0, hysteresis: 0 }, [[0, 10]]).alerts).toEqual([]);
    expect(observe(rule({ direction: 'BELOW', threshold: 0.8 }), { minDurationMs: 0, hysteresis: 0 }, [[0, 0.8], [1, 0.79]]).alerts).toEqual([[1, 'RAISED', 0.79]]);
  });

  it('raises one alert per crossing however long it lasts, and clears only past the hysteresis margin', () => {
    // level 10, margin 10% of it: clears at 9 or less
    const { alerts } = observe(rule(), opts, [[0, 11], [10, 11], [20, 30], [30, 10], [40, 9.5], [50, 9], [60, 11], [70, 11]]);
    expect(alerts).toEqual([
      [10, 'RAISED', 11],
      [50, 'CLEARED', 9],
      [70, 'RAISED', 11],
    ]);
  });

  it('clears BELOW thresholds above the level by the margin', () => {
    const r = rule({ metric: 'service_level', direction: 'BELOW', threshold: 0.8 });
    expect(observe(r, { minDurationMs: 0, hysteresis: 0.05 }, [[0, 0.7], [1, 0.82], [2, 0.84]]).alerts).toEqual([
      [0, 'RAISED', 0.7],
      [2, 'CLEARED', 0.84],
    ]);
  });

  it('says at which figure a raised alert clears, on every message of the crossing', () => {
    const r = rule({ metric: 'service_level', direction: 'BELOW', threshold: 0.6 });
    const o = { minDurationMs: 0, hysteresis: 0.05 };
    const raised = step(undefined, r, 0.5, 0, o);
    // back over the level, not yet past the margin: still raised, the figure moved
    const held = step(raised.state, r, 0.6004, 1000, o);
    const cleared = step(held.state, r, 0.63, 2000, o);
    expect([raised.alert?.state, held.moved?.state, cleared.alert?.state]).toEqual(['RAISED', 'RAISED', 'CLEARED']);
    expect([raised.alert?.clear_level, held.moved?.clear_level, cleared.alert?.clear_level].map((x) => x?.toFixed(4))).toEqual(['0.6300', '0.6300', '0.6300']);
    expect(clearLevel(rule({ threshold: 10 }), 0.1)).toBe(9);
    // exact decimals for receivers, not binary noise (0.8 + 5 % of it is 0.8400000000000001 in floats)
    expect(clearLevel(rule({ direction: 'BELOW', threshold: 0.8 }), 0.05)).toBe(0.84);
    expect(recovered(0.84, rule({ direction: 'BELOW', threshold: 0.8 }), 0.05)).toBe(true);
    // the clear level is where `recovered` turns true
    expect(recovered(clearLevel(r, 0.05), r, 0.05)).toBe(true);
    expect(recovered(0.6299, r, 0.05)).toBe(false);
  });

  it('a figure with no value is no breach: nothing pending stays, a raised alert clears', () => {
    expect(observe(rule(), opts, [[0, 11], [5, null], [12, 11]]).alerts).toEqual([]);
    const { alerts, state } = observe(rule({ metric: 'max_wait' }), { minDurationMs: 0, hysteresis: 0.1 }, [[0, 90], [1, null]]);
    expect(alerts).toEqual([
      [0, 'RAISED', 90],
      [1, 'CLEARED', null],
    ]);
    expect(state).toBeUndefined();
  });

  it('keeps one id for the raise and the clear, and a new one for the next crossing', () => {
    const states = new Map<string, RuleState>();
    const o = { minDurationMs: 0, hysteresis: 0 };
    const [raised] = evaluate(states, [{ rule: rule(), value: 11 }], 1000, o);
    expect(active(states).map((a) => a.id)).toEqual([raised!.id]);
    const [cleared] = evaluate(states, [{ rule: rule(), value: 1 }], 2000, o);
    expect(cleared).toMatchObject({ id: raised!.id, state: 'CLEARED', raised_at: 1000, cleared_at: 2000 });
    expect(active(states)).toEqual([]);
    const [again] = evaluate(states, [{ rule: rule(), value: 11 }], 3000, o);
    expect(again!.id).not.toBe(raised!.id);
  });

  it('while raised, sends the figure again whenever it moves (same id, for screens only), and nothing while it stands still', () => {
    const states = new Map<string, RuleState>();
    const o = { minDurationMs: 0, hysteresis: 0.1 };
    const [raised] = evaluate(states, [{ rule: rule(), value: 11 }], 1000, o);
    expect(raised).toMatchObject({ state: 'RAISED', value: 11, current: 11, moved: false });
    expect(evaluate(states, [{ rule: rule(), value: 11 }], 1250, o)).toEqual([]);
    const [moved] = evaluate(states, [{ rule: rule(), value: 14 }], 1500, o);
    expect(moved).toMatchObject({ id: raised!.id, state: 'RAISED', value: 11, current: 14, raised_at: 1000, moved: true });
    // inside the hysteresis margin: still raised, its figure moved below the level
    const [inside] = evaluate(states, [{ rule: rule(), value: 9.5 }], 1750, o);
    expect(inside).toMatchObject({ id: raised!.id, current: 9.5, moved: true });
    expect(active(states)).toMatchObject([{ id: raised!.id, value: 11, current: 9.5 }]);
    const [cleared] = evaluate(states, [{ rule: rule(), value: 9 }], 2000, o);
    expect(cleared).toMatchObject({ id: raised!.id, state: 'CLEARED', value: 9, current: null, moved: false });
  });

  it('clears what a removed tile had raised and forgets what it had pending', () => {
    const states = new Map<string, RuleState>();
    const o = { minDurationMs: 5000, hysteresis: 0 };
    evaluate(states, [{ rule: rule({ key: 'a' }), value: 11 }, { rule: rule({ key: 'b' }), value: 11 }], 0, o);
    evaluate(states, [{ rule: rule({ key: 'a' }), value: 11 }, { rule: rule({ key: 'b' }), value: 11 }], 5000, o);
    const gone = evaluate(states, [{ rule: rule({ key: 'c' }), value: 11 }], 6000, o);
    expect(gone.map((a) => [a.rule.key, a.state, a.value, a.cleared_at])).toEqual([
      ['a', 'CLEARED', null, 6000],
      ['b', 'CLEARED', null, 6000],
    ]);
    expect([...states.keys()]).toEqual(['c']);
    expect(evaluate(states, [], 7000, o)).toEqual([]);
    expect(states.size).toBe(0);
  });
});

describe('the figures alerts judge are the board tiles\' figures', () => {
  const AT = '2026-03-10T06:00:00.000Z';
  const store = new LiveStore({ zoneOf: () => 'Africa/Nairobi', settingsOf: () => DEFAULT_QUEUE_SETTINGS, formulaOf: () => DEFAULT_QUEUE_SETTINGS.sl_formula });
  const events = [
    ...queueCall({ call: 'c1', queue: 'sales', at: AT, waitS: 5, outcome: 'answered', agent: '1', talkS: 10 }),
    ...queueCall({ call: 'c2', queue: 'sales', at: AT, waitS: 60, outcome: 'answered', agent: '2', talkS: 10 }),
    ...queueCall({ call: 'c3', queue: 'support', at: AT, waitS: 0, outcome: 'waiting' }),
    ...queueCall({ call: 'c4', queue: 'support', at: '2026-03-10T06:00:30.000Z', waitS: 0, outcome: 'waiting' }),
  ];
  for (const e of events) store.apply(e, Date.parse(e.occurred_at));
  const now = Date.parse('2026-03-10T06:02:00.000Z');
  const tile = (over: Partial<Tile>): Tile => ({ id: 't', kind: 'KPI', title: null, x: 0, y: 0, w: 1, h: 1, metric: null, queues: [], interval: null, thresholds: [], ...over });
  const board: Board = {
    id: 'b1',
    name: 'Floor',
    columns: 12,
    version: 1,
    updated_at: AT,
    tiles: [
      tile({ id: 'sl', metric: 'service_level', queues: ['sales'], thresholds: [{ metric: 'service_level', direction: 'BELOW', warn: 0.8, critical: 0.6 }] }),
      tile({ id: 'mw', metric: 'max_wait', thresholds: [{ metric: 'max_wait', direction: 'ABOVE', warn: 60, critical: null }, { metric: 'asa', direction: 'ABOVE', warn: 1, critical: null }] }),
      tile({ id: 'q', kind: 'QUEUE_TABLE', thresholds: [{ metric: 'waiting', direction: 'ABOVE', warn: 1, critical: null }] }),
      tile({ id: 'agents', kind: 'AGENT_GRID', thresholds: [{ metric: 'waiting', direction: 'ABOVE', warn: 0, critical: null }] }),
    ],
  };
  const checks = checksOf(board, (queues) => store.snapshot('acme', now, queues));
  const seen = checks.map((c) => [c.rule.tile_id, c.rule.metric, c.rule.queue, c.rule.level, c.value]);

  it('a KPI tile: its own metric over its queues, each level its own rule; other metrics\' thresholds are not on screen', () => {
    expect(seen.filter((s) => s[0] === 'sl')).toEqual([
      ['sl', 'service_level', null, 'WARN', 0.5],
      ['sl', 'service_level', null, 'CRITICAL', 0.5],
    ]);
    expect(seen.filter((s) => s[0] === 'mw')).toEqual([['mw', 'max_wait', null, 'WARN', 120]]);
  });

  it('a queue table: per queue row; tiles without a thresholded figure judge nothing', () => {
    expect(seen.filter((s) => s[0] === 'q')).toEqual([
      ['q', 'waiting', 'sales', 'WARN', 0],
      ['q', 'waiting', 'support', 'WARN', 2],
    ]);
    expect(seen.some((s) => s[0] === 'agents')).toBe(false);
  });
});

describe('webhook signature', () => {
  it('is HMAC-SHA256 of the body bytes, hex, after "sha256="; a receiver verifies it', () => {
    const body = JSON.stringify({ id: 'al_1', value: 0.5, queue: 'ventes-é' });
    const sig = signature(body, 'k3y');
    expect(sig).toBe(`sha256=${createHmac('sha256', 'k3y').update(Buffer.from(body, 'utf8')).digest('hex')}`);
    expect(verifySignature(body, sig, 'k3y')).toBe(true);
    expect(verifySignature(body, sig, 'other key')).toBe(false);
    expect(verifySignature(`${body} `, sig, 'k3y')).toBe(false);
    expect(verifySignature(body, undefined, 'k3y')).toBe(false);
  });
});

describe('webhook retry schedule', () => {
  it('doubles from the minimum up to the maximum, with jitter in the upper half', () => {
    const low = [0, 1, 2, 3, 4, 5, 6].map((n) => retryDelayMs(n, 500, 10_000, () => 0));
    const high = [0, 1, 2, 3, 4, 5, 6].map((n) => retryDelayMs(n, 500, 10_000, () => 0.999999));
    expect(low).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000]);
    expect(high).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect(retryDelayMs(1000, 500, 10_000, () => 0.5)).toBe(7500);
  });
});

describe('webhook sender', () => {
  const alert: Alert = { id: 'al_x', state: 'RAISED', rule: rule(), value: 11, current: 11, raised_at: 1000, cleared_at: null, clear_level: 9, moved: false };
  const cfg = { url: 'http://receiver.invalid/hook', secret_env: 'X', min_backoff_ms: 100, max_backoff_ms: 1000, max_attempts: 4, timeout_ms: 1000, max_queue: 2 };
  const log = createLogger('alerts-test', 'silent');

  function receiver(statuses: (number | Error)[]) {
    const calls: { body: string; headers: Record<string, string> }[] = [];
    const f = (async (_url: string, init: RequestInit) => {
      calls.push({ body: String(init.body), headers: init.headers as Record<string, string> });
      const s = statuses.shift() ?? 200;
      if (s instanceof Error) throw s;
      return new Response('', { status: s });
    }) as typeof fetch;
    return { calls, f };
  }

  const sender = (r: ReturnType<typeof receiver>, slept: number[], over: Partial<typeof cfg> = {}) =>
    new WebhookSender({ tenant: 'acme', cfg: { ...cfg, ...over }, secret: 'k3y', log, fetch: r.f, random: () => 0, sleep: async (ms) => void slept.push(ms) });

  it('gives up after max_attempts, and at once on a 4xx that retrying cannot fix', async () => {
    const down = receiver([500, 500, 500, 500, 500, 200]);
    const slept: number[] = [];
    const s = sender(down, slept);
    s.send(alert);
    await s.settled();
    expect(down.calls).toHaveLength(4);
    expect(slept).toEqual([50, 100, 200]);

    const refused = receiver([400]);
    const s2 = sender(refused, []);
    s2.send(alert);
    await s2.settled();
    expect(refused.calls).toHaveLength(1);
    const busy = receiver([429, 408, 200]);
    const s3 = sender(busy, []);
    s3.send(alert);
    await s3.settled();
    expect(busy.calls).toHaveLength(3);
  });

  it('drops alerts beyond its queue bound instead of growing', async () => {
    const r = receiver([]);
    const s = sender(r, []);
    for (let i = 0; i < 5; i++) s.send({ ...alert, id: `al_${i}` });
    await s.settled();
    expect(r.calls.map((c) => c.headers['x-callboard-delivery'])).toEqual(['al_0.raised', 'al_1.raised']);
  });

  it('delivers an alert sent at any moment of the loop ending, including between its last check and its end', async () => {
    // The loop's promise settles a few microtasks after it last saw an empty queue: an alert sent
    // then found the loop still "running" and waited for the next alert to be sent. Every depth
    // of that window is tried; each alert must go out without another one behind it.
    for (let depth = 0; depth < 40; depth++) {
      const r = receiver([]);
      const s = sender(r, []);
      s.send({ ...alert, id: 'al_first' });
      let tick = Promise.resolve();
      for (let i = 0; i < depth; i++) tick = tick.then(() => undefined);
      await tick;
      s.send({ ...alert, id: 'al_second' });
      await s.settled();
      expect(r.calls.map((c) => c.headers['x-callboard-delivery']), `sent ${depth} microtasks after the first`).toEqual(['al_first.raised', 'al_second.raised']);
      expect(s.pending()).toBe(0);
    }
  });

  it('drops an alert whose delivery cannot even be built, and goes on with the next (no endless loop)', async () => {
    const r = receiver([]);
    const s = sender(r, []);
    // raised_at not a time: the body's toISOString throws before any request.
    s.send({ ...alert, id: 'al_bad', raised_at: Number.NaN });
    s.send({ ...alert, id: 'al_good' });
    await s.settled();
    expect(r.calls.map((c) => c.headers['x-callboard-delivery'])).toEqual(['al_good.raised']);
    expect(s.pending()).toBe(0);
  });

  it('delivers in order, retrying until 2xx', async () => {
    const r = receiver([503, new Error('connection refused'), 200]);
    const slept: number[] = [];
    const s = sender(r, slept);
    s.send(alert);
    s.send({ ...alert, state: 'CLEARED', value: 8, cleared_at: 2000 });
    await s.settled();
    expect(slept).toEqual([50, 100]);
    expect(r.calls).toHaveLength(4);
    expect(new Set(r.calls.slice(0, 3).map((c) => c.headers['x-callboard-delivery']))).toEqual(new Set(['al_x.raised']));
    expect(r.calls[3]!.headers['x-callboard-delivery']).toBe('al_x.cleared');
    for (const c of r.calls) expect(verifySignature(c.body, c.headers['x-callboard-signature'], 'k3y')).toBe(true);
    expect(JSON.parse(r.calls[0]!.body)).toEqual(alertBody('acme', alert));
    expect(JSON.parse(r.calls[3]!.body)).toMatchObject({ event: 'alert.cleared', value: 8, cleared_at: new Date(2000).toISOString() });
  });
});

describe('alert engine (in memory: live store, boards and pub/sub stand-ins)', () => {
  const tenants = [{ id: 'acme', timezone: 'UTC' }, { id: 'beta', timezone: 'UTC' }];

  it('refuses to start without the webhook key its config names', () => {
    const cfg = loadConfig({ env: {}, file: { tenants, alerts: [{ tenant: 'acme', webhook: { url: 'http://127.0.0.1:9/hook', secret_env: 'NO_SUCH_KEY_SET' } }] } });
    const live = new LiveStore({ zoneOf: () => 'UTC', settingsOf: () => DEFAULT_QUEUE_SETTINGS, formulaOf: () => DEFAULT_QUEUE_SETTINGS.sl_formula });
    expect(() => createAlerts({ cfg, log: createLogger('alerts-test', 'silent'), live, boards: { list: async () => [] }, pubsub: new MemoryPubSub<Topics>(), now: Date.now, env: {} })).toThrow(/NO_SUCH_KEY_SET/);
  });

  it('judges each tenant on its own boards and figures, re-reads boards on an edit, and tells subscribers of that tenant only', async () => {
    const cfg = loadConfig({ env: {}, file: { tenants, alerts: [{ tenant: 'acme', min_duration_s: 0 }] } });
    const live = new LiveStore({ zoneOf: () => 'UTC', settingsOf: () => DEFAULT_QUEUE_SETTINGS, formulaOf: () => DEFAULT_QUEUE_SETTINGS.sl_formula });
    let now = Date.parse('2026-03-10T06:00:00.000Z');
    const board = (id: string, warn: number): Board => ({
      id,
      name: id,
      columns: 12,
      version: 1,
      updated_at: new Date(now).toISOString(),
      tiles: [{ id: 'w', kind: 'KPI', title: null, x: 0, y: 0, w: 1, h: 1, metric: 'waiting', queues: [], interval: null, thresholds: [{ metric: 'waiting', direction: 'ABOVE', warn, critical: null }] }],
    });
    const stored: Record<string, Board[]> = { acme: [board('a1', 0)], beta: [board('b1', 0)] };
    const pubsub = new MemoryPubSub<Topics>();
    // The board reads a tick starts, so a test can wait for exactly those to be answered.
    const reads: Promise<Board[]>[] = [];
    const list = (t: string) => {
      const read = Promise.resolve(stored[t] ?? []);
      reads.push(read);
      return read;
    };
    const engine = createAlerts({ cfg, log: createLogger('alerts-test', 'silent'), live, boards: { list }, pubsub, now: () => now });
    const seen: Record<'acme' | 'beta', Alert[]> = { acme: [], beta: [] };
    for (const t of ['acme', 'beta'] as const) engine.subscribe(t, (a) => seen[t].push(a));
    // A tick (re)reads the boards it needs; once those reads are answered (the engine's own
    // handler of each ran first: it was attached first), the next tick judges on them.
    const settle = async () => {
      engine.tick();
      await Promise.all(reads.splice(0));
      engine.tick();
    };
    await settle();
    for (const e of queueCall({ call: 'c1', queue: 'sales', at: new Date(now).toISOString(), waitS: 0, outcome: 'waiting' })) live.apply(e, now);
    now += 250;
    await settle();
    expect(seen.acme.map((a) => [a.state, a.rule.board_id, a.value])).toEqual([['RAISED', 'a1', 1]]);
    expect(seen.beta).toEqual([]);
    expect(engine.active('acme').map((a) => a.id)).toEqual([seen.acme[0]!.id]);
    expect(engine.active('beta')).toEqual([]);
    // The board is edited: its level moves past the figure, and the alert clears with it.
    stored.acme = [board('a1', 5)];
    pubsub.publish('board', 'acme', { board_id: 'a1' });
    now += 250;
    await settle();
    expect(seen.acme.map((a) => [a.state, a.value, a.rule.threshold])).toEqual([
      ['RAISED', 1, 0],
      ['CLEARED', 1, 5],
    ]);
    // The board is deleted: nothing left to judge, nothing raised.
    stored.acme = [board('a1', 0)];
    pubsub.publish('board', 'acme', { board_id: 'a1' });
    now += 250;
    await settle();
    expect(seen.acme.map((a) => a.state)).toEqual(['RAISED', 'CLEARED', 'RAISED']);
    stored.acme = [];
    pubsub.publish('board', 'acme', { board_id: 'a1' });
    now += 250;
    await settle();
    expect(seen.acme.map((a) => [a.state, a.value]).at(-1)).toEqual(['CLEARED', null]);
    expect(seen.beta).toEqual([]);
    await engine.stop();
  });
});

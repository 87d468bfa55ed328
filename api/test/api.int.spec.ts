// The API end to end on the real broker and the embedded ClickHouse: auth and roles, tenant
// isolation through every query, subscription and filter, subscriptions over SSE and WebSocket
// fed from Kafka, and metrics that equal what the projections computed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse, createKafka, createLogger, ensureTopics, Health, migrate, topicName, type CallboardConfig, type ClickHouse, type KafkaProducer } from '@callboard/platform';
import { partitionKey, type CanonicalEvent } from '@callboard/schemas';
import { ProjectionStore, touchedBy } from '@callboard/projections/store';
import { queueMetrics } from '@callboard/projections/read';
import { allMigrations } from '../../cli/migrations.ts';
import { eventually, testConfig, uniqueId } from '../../test/helpers.ts';
import { startApi, type RunningApi } from '../src/main.ts';
import { createToken, listTokens, revokeToken, TokenStore } from '../src/tokens.ts';
import { codes, gql, sse, wsClient, wsSubscribe } from './client.ts';
import { ev, queueCall } from './events.ts';
import { untilLive } from './until-live.ts';

let cfg: CallboardConfig;
let ch: ClickHouse;
let api: RunningApi;
let producer: KafkaProducer;
const tok: Record<string, string> = {};
let boardA = '';
let boardB = '';

// A past local day of tenant acme (Africa/Nairobi, UTC+3): 09:00 local = 06:00Z.
const DAY = '2026-03-10';
const at = (hhmm: string) => `${DAY}T${hhmm}:00.000Z`;
const history: CanonicalEvent[] = [
  ...queueCall({ tenant: 'acme', call: 'a-1', queue: 'sales', at: at('06:00'), waitS: 10, outcome: 'answered', agent: '1001', talkS: 120, holdS: 20 }),
  ...queueCall({ tenant: 'acme', call: 'a-2', queue: 'sales', at: at('06:05'), waitS: 40, outcome: 'answered', agent: '1002', talkS: 60 }),
  ...queueCall({ tenant: 'acme', call: 'a-3', queue: 'sales', at: at('06:20'), waitS: 3, outcome: 'abandoned' }),
  ...queueCall({ tenant: 'acme', call: 'a-4', queue: 'support', at: at('07:10'), waitS: 50, outcome: 'abandoned' }),
  ...queueCall({ tenant: 'acme', call: 'a-5', queue: 'support', at: at('07:30'), waitS: 300, outcome: 'exited' }),
  ...queueCall({ tenant: 'beta', call: 'b-1', queue: 'vip', at: at('06:00'), waitS: 5, outcome: 'answered', agent: '2001' }),
  ...queueCall({ tenant: 'beta', call: 'b-2', queue: 'vip', at: at('06:01'), waitS: 5, outcome: 'answered', agent: '2001' }),
  ...queueCall({ tenant: 'beta', call: 'b-3', queue: 'sales', at: at('06:02'), waitS: 90, outcome: 'abandoned' }),
];

async function produce(events: CanonicalEvent[]): Promise<void> {
  await producer.send({ topic: topicName(cfg, 'events'), messages: events.map((e) => ({ key: partitionKey(e), value: JSON.stringify(e) })) });
}

const BOARD = `mutation($input: BoardInput!) { createBoard(input: $input) { id version name tiles { id kind metric queues thresholds { metric direction warn critical } } } }`;
const boardInput = (name: string, queues: string[]) => ({
  name,
  tiles: [
    { id: 'sl', kind: 'KPI', x: 0, y: 0, w: 3, h: 2, metric: 'service_level', queues, thresholds: [{ metric: 'service_level', direction: 'BELOW', warn: 0.8, critical: 0.6 }] },
    { id: 'q', kind: 'QUEUE_TABLE', x: 3, y: 0, w: 9, h: 4, queues },
  ],
});
const BOARD_SUB = `subscription($id: ID!) { board(id: $id) { server_time seq board { id name } live { server_time today { offered waiting } queues { queue waiting max_wait } waiting_calls { call_id queue wait_start } } } }`;

beforeAll(async () => {
  cfg = testConfig({
    tenants: [
      { id: 'acme', timezone: 'Africa/Nairobi' },
      { id: 'beta', timezone: 'America/New_York', week_start: 'sunday' },
    ],
    queues: [{ tenant: 'acme', queue: 'sales', sl_threshold_s: 20, short_abandon_s: 5 }],
  });
  ch = await createClickHouse(cfg);
  await migrate(ch, allMigrations());
  const kafka = createKafka(cfg);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, cfg);
  await admin.disconnect();
  producer = kafka.producer({ idempotent: true });
  await producer.connect();

  // History goes through the projections' own store (the consumer's I/O shell).
  const store = new ProjectionStore(ch);
  await store.writeEvents(history.map((event, i) => ({ event, partition: 0, offset: i })));
  await store.derive(touchedBy(history));

  // Something already in the log before the API starts: the rebuild must pick it up.
  const now = Date.now();
  await produce(queueCall({ tenant: 'acme', call: uniqueId('pre'), queue: 'sales', at: new Date(now - 5000).toISOString(), waitS: 0, outcome: 'waiting' }));

  const health = new Health();
  api = await startApi({ cfg, log: createLogger('api-test', 'warn'), health, ch, port: 0, host: '127.0.0.1', settings: { rateBurst: 60, ratePerSecond: 1 } });
  await eventually(async () => ((await fetch(`${api.url}/readyz`)).status === 200 ? true : undefined), 60_000, 'API ready');

  for (const [name, tenant, role] of [
    ['adminA', 'acme', 'admin'],
    ['analystA', 'acme', 'analyst'],
    ['supA', 'acme', 'supervisor'],
    ['adminB', 'beta', 'admin'],
  ] as const) {
    tok[name] = (await createToken(ch, { tenant_id: tenant, role })).token;
  }
  const a = await gql<{ createBoard: { id: string } }>(api.url, tok.supA!, BOARD, { input: boardInput('Sales floor', ['sales']) });
  if (!a.data) throw new Error(JSON.stringify(a));
  boardA = a.data.createBoard.id;
  const b = await gql<{ createBoard: { id: string } }>(api.url, tok.adminB!, BOARD, { input: boardInput('VIP', ['vip']) });
  boardB = b.data!.createBoard.id;
  tok.displayA = (await createToken(ch, { tenant_id: 'acme', role: 'display', board_id: boardA })).token;
});

afterAll(async () => {
  await api?.stop();
  await producer?.disconnect();
  await ch?.close();
});

describe('authentication', () => {
  it('answers /healthz without a token and nothing else', async () => {
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
    const r = await gql(api.url, null, '{ me { tenant_id } }');
    expect(r.status).toBe(401);
    expect(codes(r)).toEqual(['UNAUTHENTICATED']);
    const bad = await gql(api.url, 'cb_notARealTokenAtAllxxxxxxxxxxxxxxxxxxx', '{ me { tenant_id } }');
    expect(bad.status).toBe(401);
    expect(bad.errors![0]!.message).toMatch(/unknown or revoked/);
  });

  it('refuses a WebSocket connection without a valid token', async () => {
    const c = wsClient(api.url, 'cb_notARealTokenAtAllxxxxxxxxxxxxxxxxxxx');
    const s = wsSubscribe(c, 'subscription { callEvents { event_id } }');
    await eventually(() => (s.errors.length ? true : undefined), 10_000, 'ws refusal');
    expect(String((s.errors[0] as { code?: number }).code ?? s.errors[0])).toMatch(/4403|Forbidden/);
    await c.dispose();
  });

  it('a revoked token no longer authenticates; listing shows hashes only', async () => {
    const t = await createToken(ch, { tenant_id: 'acme', role: 'analyst', label: 'to revoke' });
    expect(await new TokenStore(ch).authenticate(t.token)).toMatchObject({ tenant_id: 'acme', role: 'analyst' });
    const listed = await listTokens(ch, 'acme');
    expect(listed.map((x) => x.token_hash)).toContain(t.token_hash);
    expect(JSON.stringify(listed)).not.toContain(t.token);
    // another tenant cannot revoke it
    await expect(revokeToken(ch, 'beta', t.token_hash.slice(0, 12))).rejects.toThrow(/no live token of tenant beta/);
    await revokeToken(ch, 'acme', t.token_hash.slice(0, 12));
    expect(await new TokenStore(ch).authenticate(t.token)).toBeNull();
    expect((await listTokens(ch, 'acme')).map((x) => x.token_hash)).not.toContain(t.token_hash);
  });

  it('tells who the token is', async () => {
    const r = await gql<{ me: unknown }>(api.url, tok.displayA!, '{ me { tenant_id role board_id } }');
    expect(r.data!.me).toEqual({ tenant_id: 'acme', role: 'DISPLAY', board_id: boardA });
  });
});

describe('roles', () => {
  it('a display token reads its one board and nothing else', async () => {
    const own = await gql<{ board: { id: string } }>(api.url, tok.displayA!, 'query($id: ID!) { board(id: $id) { id name } }', { id: boardA });
    expect(own.data!.board.id).toBe(boardA);
    for (const q of ['{ boards { id } }', '{ calls { edges { cursor } } }', '{ metrics(period: {kind: TODAY}) { rows { key } } }', '{ live { server_time } }', '{ queues { queue } }', '{ tenant { id } }']) {
      expect(codes(await gql(api.url, tok.displayA!, q)), q).toEqual(['FORBIDDEN']);
    }
    const other = await gql(api.url, tok.displayA!, 'mutation($i: BoardInput!) { createBoard(input: $i) { id } }', { i: boardInput('x', []) });
    expect(codes(other)).toEqual(['FORBIDDEN']);
  });

  it('analysts read but do not edit boards; supervisors edit; only admins make tokens', async () => {
    expect(codes(await gql(api.url, tok.analystA!, BOARD, { input: boardInput('nope', []) }))).toEqual(['FORBIDDEN']);
    const up = await gql<{ updateBoard: { version: number } }>(api.url, tok.supA!, 'mutation($id: ID!, $i: BoardInput!) { updateBoard(id: $id, input: $i, expected_version: 1) { version } }', { id: boardA, i: boardInput('Sales floor', ['sales']) });
    expect(up.data!.updateBoard.version).toBe(2);
    const stale = await gql(api.url, tok.supA!, 'mutation($id: ID!, $i: BoardInput!) { updateBoard(id: $id, input: $i, expected_version: 1) { version } }', { id: boardA, i: boardInput('Sales floor', ['sales']) });
    expect(codes(stale)).toEqual(['CONFLICT']);
    expect(codes(await gql(api.url, tok.supA!, 'mutation { createToken(role: ANALYST) { token } }'))).toEqual(['FORBIDDEN']);
    const made = await gql<{ createToken: { token: string } }>(api.url, tok.adminA!, 'mutation { createToken(role: ANALYST, label: "bi") { token role } }');
    const again = await gql<{ me: { role: string } }>(api.url, made.data!.createToken.token, '{ me { role tenant_id } }');
    expect(again.data!.me).toEqual({ role: 'ANALYST', tenant_id: 'acme' });
  });

  it('introspection only for admin and analyst', async () => {
    const q = '{ __schema { queryType { name } } }';
    expect((await gql(api.url, tok.analystA!, q)).data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    expect((await gql(api.url, tok.supA!, q)).errors?.[0]?.message).toMatch(/introspection/i);
  });

  it('bad input is a typed error a person can act on', async () => {
    const bad = await gql(api.url, tok.supA!, BOARD, { input: { name: 'x', tiles: [{ id: 'k', kind: 'KPI', x: 0, y: 0, w: 2, h: 2 }] } });
    expect(codes(bad)).toEqual(['BAD_INPUT']);
    expect(bad.errors![0]!.message).toMatch(/KPI tile: give metric/);
    const period = await gql(api.url, tok.analystA!, '{ metrics(period: {kind: DAY}) { rows { key } } }');
    expect(codes(period)).toEqual(['BAD_PERIOD']);
    const range = await gql(api.url, tok.analystA!, '{ metrics(period: {kind: RANGE, from: "2026-03-10", to: "2026-03-01"}) { rows { key } } }');
    expect(codes(range)).toEqual(['BAD_PERIOD']);
    expect(range.errors![0]!.message).toMatch(/before it starts/);
  });
});

describe('limits', () => {
  it('refuses queries that are too deep or too costly', async () => {
    const deep = await gql(api.url, tok.analystA!, '{ calls { edges { node { timeline { raw { topic } } queue_legs { queue } } } page_info { has_next_page } } }');
    expect(deep.errors).toBeUndefined();
    const costly = await gql(api.url, tok.analystA!, '{ calls(first: 200) { edges { node { call_id started_at ended_at direction caller_number called_number disposition raw_disposition duration billsec queue_legs { leg_id queue offered_at outcome wait agent_id } timeline { event_id type occurred_at received_at pbx_id source payload } } } } }');
    expect(codes(costly)).toContain('TOO_COMPLEX');
  });

  it('rate-limits per token', async () => {
    const t = (await createToken(ch, { tenant_id: 'acme', role: 'analyst' })).token;
    const results = await Promise.all(Array.from({ length: 70 }, () => gql(api.url, t, '{ me { role } }')));
    const limited = results.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(codes(limited[0]!)).toEqual(['RATE_LIMITED']);
    // another token of the same tenant is not affected
    expect((await gql(api.url, tok.analystA!, '{ me { role } }')).status).toBe(200);
  });
});

describe('tenant isolation', () => {
  it('calls search shows only the own tenant, and filters naming the other tenant find nothing', async () => {
    const q = 'query($f: CallFilter) { calls(filter: $f, first: 100) { edges { node { call_id } } } }';
    const all = await gql<{ calls: { edges: { node: { call_id: string } }[] } }>(api.url, tok.analystA!, q);
    const ids = all.data!.calls.edges.map((e) => e.node.call_id);
    expect(ids.sort()).toEqual(['a-1', 'a-2', 'a-3', 'a-4', 'a-5']);
    const vip = await gql<{ calls: { edges: unknown[] } }>(api.url, tok.analystA!, q, { f: { queues: ['vip'] } });
    expect(vip.data!.calls.edges).toEqual([]);
    const agentB = await gql<{ calls: { edges: unknown[] } }>(api.url, tok.analystA!, q, { f: { agents: ['2001'] } });
    expect(agentB.data!.calls.edges).toEqual([]);
    const sales = await gql<{ calls: { edges: { node: { call_id: string } }[] } }>(api.url, tok.adminB!, q, { f: { queues: ['sales'] } });
    expect(sales.data!.calls.edges.map((e) => e.node.call_id)).toEqual(['b-3']);
  });

  it("another tenant's call, board or metrics are NOT_FOUND or empty, never visible", async () => {
    const call = await gql(api.url, tok.analystA!, 'query($id: ID!) { call(id: $id) { call_id timeline { type } } }', { id: 'b-1' });
    expect(codes(call)).toEqual(['NOT_FOUND']);
    // the same message as for an id that exists nowhere: nothing to infer (a call of B's is
    // asked for by B's own id, and by an id A could have guessed)
    const none = await gql(api.url, tok.analystA!, 'query($id: ID!) { call(id: $id) { call_id } }', { id: 'no-such-call' });
    expect(none.errors![0]!.message.replace('no-such-call', 'b-1')).toBe(call.errors![0]!.message);
    expect(codes(await gql(api.url, tok.supA!, 'query($id: ID!) { board(id: $id) { id } }', { id: boardB }))).toEqual(['NOT_FOUND']);
    expect(codes(await gql(api.url, tok.supA!, 'mutation($id: ID!, $i: BoardInput!) { updateBoard(id: $id, input: $i) { id } }', { id: boardB, i: boardInput('hijack', []) }))).toEqual(['NOT_FOUND']);
    expect(codes(await gql(api.url, tok.supA!, 'mutation($id: ID!) { deleteBoard(id: $id) }', { id: boardB }))).toEqual(['NOT_FOUND']);
    const boards = await gql<{ boards: { id: string }[] }>(api.url, tok.supA!, '{ boards { id } }');
    expect(boards.data!.boards.map((b) => b.id)).toEqual([boardA]);
    // a display token of A cannot name B's board either
    expect(codes(await gql(api.url, tok.displayA!, 'query($id: ID!) { board(id: $id) { id } }', { id: boardB }))).toEqual(['FORBIDDEN']);
    const m = await gql<{ metrics: { rows: { key: string; queue_metrics: { offered: number } }[] } }>(api.url, tok.analystA!, `{ metrics(period: {kind: DAY, date: "${DAY}"}, groupBy: QUEUE, filter: {queues: ["vip"]}) { rows { key queue_metrics { offered } } } }`);
    expect(m.data!.metrics.rows).toEqual([]);
    const agents = await gql<{ metrics: { rows: { key: string }[] } }>(api.url, tok.analystA!, `{ metrics(period: {kind: DAY, date: "${DAY}"}, groupBy: AGENT) { rows { key } } }`);
    expect(agents.data!.metrics.rows.map((r) => r.key)).not.toContain('2001');
    const intraday = await gql<{ intraday: { points: { queue_metrics: { offered: number } }[] } }>(api.url, tok.analystA!, `{ intraday(date: "${DAY}", interval: MIN_60, filter: {queues: ["vip"]}) { points { queue_metrics { offered } } } }`);
    expect(intraday.data!.intraday.points.reduce((a, p) => a + p.queue_metrics.offered, 0)).toBe(0);
    // beta has a queue named "sales" too: acme's sales figures hold acme's legs only
    const sales = await gql<{ metrics: { rows: { queue_metrics: { offered: number } }[] } }>(api.url, tok.analystA!, `{ metrics(period: {kind: DAY, date: "${DAY}"}, groupBy: QUEUE, filter: {queues: ["sales"]}) { rows { queue_metrics { offered } } } }`);
    expect(sales.data!.metrics.rows.map((r) => r.queue_metrics.offered)).toEqual([3]);
    const lists = await gql<{ queues: { queue: string }[]; agents: { agent_id: string }[] }>(api.url, tok.analystA!, '{ queues { queue } agents { agent_id } }');
    expect(lists.data!.queues.map((q) => q.queue)).not.toContain('vip');
    expect(lists.data!.agents.map((a) => a.agent_id)).not.toContain('2001');
  });

  it("a subscriber never receives another tenant's events, over SSE or WebSocket", async () => {
    const q = 'subscription { callEvents { call_id type } }';
    const a = sse<{ callEvents: { call_id: string } }>(api.url, tok.analystA!, q);
    const c = wsClient(api.url, tok.analystA!);
    const w = wsSubscribe<{ callEvents: { call_id: string } }>(c, q);
    const b = sse<{ callEvents: { call_id: string } }>(api.url, tok.adminB!, q);
    const probeA = uniqueId('probe-a');
    const probeB = uniqueId('probe-b');
    const sawProbe = (xs: { callEvents: { call_id: string } }[], id: string) => xs.some((e) => e.callEvents.call_id === id);
    await untilLive(
      () => produce([...queueCall({ tenant: 'acme', call: probeA, queue: 'sales', at: new Date().toISOString(), waitS: 0, outcome: 'waiting' }), ...queueCall({ tenant: 'beta', call: probeB, queue: 'sales', at: new Date().toISOString(), waitS: 0, outcome: 'waiting' })]),
      () => sawProbe(a.received, probeA) && sawProbe(w.received, probeA) && sawProbe(b.received, probeB),
      'the three subscriptions to go live',
    );
    const idA = uniqueId('iso-a');
    const idB = uniqueId('iso-b');
    const t = new Date().toISOString();
    await produce([...queueCall({ tenant: 'beta', call: idB, queue: 'sales', at: t, waitS: 0, outcome: 'waiting' }), ...queueCall({ tenant: 'acme', call: idA, queue: 'sales', at: t, waitS: 0, outcome: 'waiting' })]);
    await eventually(() => (a.received.some((e) => e.callEvents.call_id === idA) && w.received.some((e) => e.callEvents.call_id === idA) && b.received.some((e) => e.callEvents.call_id === idB) ? true : undefined), 20_000, 'events on both transports');
    expect(a.received.map((e) => e.callEvents.call_id)).not.toContain(idB);
    expect(w.received.map((e) => e.callEvents.call_id)).not.toContain(idB);
    expect(b.received.map((e) => e.callEvents.call_id)).not.toContain(idA);
    // and the live state of A does not show B's waiting caller
    const live = await gql<{ live: { waiting_calls: { call_id: string }[] } }>(api.url, tok.analystA!, '{ live { waiting_calls { call_id } } }');
    const waiting = live.data!.live.waiting_calls.map((x) => x.call_id);
    expect(waiting).toContain(idA);
    expect(waiting).not.toContain(idB);
    await a.close();
    await b.close();
    w.stop();
    await c.dispose();
  });

  it("agent states and boards never show the other tenant, even for the same queue and agent names", async () => {
    const agents = sse<{ agentStates: { agent_id: string; state: string } }>(api.url, tok.supA!, 'subscription { agentStates { agent_id state } }');
    const board = sse<{ board: { live: { waiting_calls: { call_id: string }[]; agents: { agent_id: string; state: string }[] } } }>(api.url, tok.displayA!, 'subscription($id: ID!) { board(id: $id) { live { waiting_calls { call_id } agents { agent_id state } } } }', { id: boardA });
    await eventually(() => (board.received.length ? true : undefined), 10_000, 'board snapshot');
    const idB = uniqueId('iso-b');
    const t = new Date().toISOString();
    // beta: a caller in ITS queue "sales", and its agent "1001" goes on a call
    await produce([...queueCall({ tenant: 'beta', call: idB, queue: 'sales', at: t, waitS: 0, outcome: 'waiting' }), ev('agent.state_changed', t, { agent_id: '1001' }, { state: 'on_call' }, 'beta')]);
    // then acme: a marker event that both streams must show, so beta's had time to arrive
    const idA = uniqueId('iso-a');
    await produce([...queueCall({ tenant: 'acme', call: idA, queue: 'sales', at: t, waitS: 0, outcome: 'waiting' }), ev('agent.state_changed', t, { agent_id: '1002' }, { state: 'wrap_up' }, 'acme')]);
    await eventually(() => (agents.received.some((x) => x.agentStates.agent_id === '1002' && x.agentStates.state === 'wrap_up') ? true : undefined), 20_000, 'acme agent state');
    await eventually(() => (board.received.some((u) => u.board.live.waiting_calls.some((c) => c.call_id === idA)) ? true : undefined), 20_000, 'acme caller on the board');
    expect(agents.received.some((x) => x.agentStates.agent_id === '1001' && x.agentStates.state === 'on_call')).toBe(false);
    for (const u of board.received) {
      expect(u.board.live.waiting_calls.map((c) => c.call_id)).not.toContain(idB);
      expect(u.board.live.agents.find((a) => a.agent_id === '1001')?.state).not.toBe('on_call');
    }
    await agents.close();
    await board.close();
  });
});

describe('subscriptions from Kafka', () => {
  it('an event produced to Kafka reaches an SSE subscriber and a WebSocket subscriber', async () => {
    const q = 'subscription($f: CallEventFilter) { callEvents(filter: $f) { event_id call_id type occurred_at payload raw { topic partition offset } } }';
    const vars = { f: { types: ['call.queued'], queues: ['sales'] } };
    const s = sse<{ callEvents: { event_id: string; type: string } }>(api.url, tok.analystA!, q, vars);
    const c = wsClient(api.url, tok.analystA!);
    const w = wsSubscribe<{ callEvents: { event_id: string; type: string } }>(c, q, vars);
    const probes = new Set<string>();
    await untilLive(
      async () => {
        const probe = queueCall({ tenant: 'acme', call: uniqueId('probe'), queue: 'sales', at: new Date().toISOString(), waitS: 0, outcome: 'waiting' });
        for (const e of probe) probes.add(e.event_id);
        await produce(probe);
      },
      () => [s.received, w.received].every((xs) => xs.some((e) => probes.has(e.callEvents.event_id))),
      'the SSE and WebSocket subscriptions to go live',
    );
    const events = queueCall({ tenant: 'acme', call: uniqueId('e2e'), queue: 'sales', at: new Date().toISOString(), waitS: 0, outcome: 'waiting' });
    await produce(events);
    const queued = events.find((e) => e.type === 'call.queued')!;
    await eventually(() => (s.received.some((e) => e.callEvents.event_id === queued.event_id) ? true : undefined), 20_000, 'SSE delivery');
    await eventually(() => (w.received.some((e) => e.callEvents.event_id === queued.event_id) ? true : undefined), 20_000, 'WebSocket delivery');
    // the filter let only call.queued through
    expect(new Set(s.received.map((e) => e.callEvents.type))).toEqual(new Set(['call.queued']));
    expect(s.status()).toBe(200);
    await s.close();
    w.stop();
    await c.dispose();
  });

  it('board(id) sends a full snapshot at once, then an update with server_time when a caller queues', async () => {
    const s = sse<{ board: { seq: number; server_time: string; board: { id: string }; live: { waiting_calls: { call_id: string }[]; today: { offered: number } } } }>(api.url, tok.displayA!, BOARD_SUB, { id: boardA });
    await eventually(() => (s.received.length >= 1 ? true : undefined), 10_000, 'first snapshot');
    const first = s.received[0]!.board;
    expect(first.seq).toBe(1);
    expect(first.board.id).toBe(boardA);
    // the caller that was in the log before the API started is in the rebuilt state
    expect(first.live.waiting_calls.some((c) => c.call_id.startsWith('pre'))).toBe(true);
    const id = uniqueId('board');
    await produce(queueCall({ tenant: 'acme', call: id, queue: 'sales', at: new Date().toISOString(), waitS: 0, outcome: 'waiting' }));
    const upd = await eventually(() => s.received.map((r) => r.board).find((b) => b.live.waiting_calls.some((c) => c.call_id === id)), 20_000, 'board update');
    expect(upd.seq).toBeGreaterThan(1);
    expect(Date.parse(upd.server_time)).toBeGreaterThanOrEqual(Date.parse(first.server_time));
    expect(upd.live.today.offered).toBeGreaterThan(first.live.today.offered);
    // B's queue vip is not on A's board: a vip caller of B causes no update here
    await s.close();
  });

  it('screens of one board share updates; a late joiner gets the latest at once; one leaving does not end the others', async () => {
    type U = { board: { seq: number; live: { waiting_calls: { call_id: string }[] } } };
    const one = sse<U>(api.url, tok.displayA!, BOARD_SUB, { id: boardA });
    const two = sse<U>(api.url, tok.displayA!, BOARD_SUB, { id: boardA });
    await eventually(() => (one.received.length && two.received.length ? true : undefined), 10_000, 'first snapshots');
    const id = uniqueId('shared');
    await produce(queueCall({ tenant: 'acme', call: id, queue: 'sales', at: new Date().toISOString(), waitS: 0, outcome: 'waiting' }));
    const has = (u: U) => u.board.live.waiting_calls.some((c) => c.call_id === id);
    await eventually(() => (one.received.some(has) && two.received.some(has) ? true : undefined), 20_000, 'update on both screens');
    // one execution, one sequence: both screens saw the same update numbers
    expect(one.received.find(has)!.board.seq).toBe(two.received.find(has)!.board.seq);
    await one.close();
    const late = sse<U>(api.url, tok.displayA!, BOARD_SUB, { id: boardA });
    await eventually(() => (late.received.length ? true : undefined), 10_000, 'late joiner snapshot');
    expect(has(late.received[0]!)).toBe(true);
    const id2 = uniqueId('shared');
    await produce(queueCall({ tenant: 'acme', call: id2, queue: 'sales', at: new Date().toISOString(), waitS: 0, outcome: 'waiting' }));
    const has2 = (u: U) => u.board.live.waiting_calls.some((c) => c.call_id === id2);
    await eventually(() => (two.received.some(has2) && late.received.some(has2) ? true : undefined), 20_000, 'update after one left');
    await two.close();
    await late.close();
  });

  it("a display token's board update carries the tenant zone and today's intraday series for its queues", async () => {
    const s = sse<{ board: { timezone: string; intraday: { date: string; points: { local_time: string }[] } } }>(
      api.url,
      tok.displayA!,
      'subscription($id: ID!) { board(id: $id) { timezone intraday(interval: MIN_60) { date points { local_time queue_metrics { offered } } } } }',
      { id: boardA },
    );
    const first = await eventually(() => s.received[0], 10_000, 'snapshot with intraday');
    expect(s.errors).toEqual([]);
    expect(first.board.timezone).toBe('Africa/Nairobi');
    expect(first.board.intraday.points).toHaveLength(24);
    expect(first.board.intraday.points[0]!.local_time).toBe('00:00');
    await s.close();
  });

  it('the display token may subscribe to its board only, and to nothing else', async () => {
    const other = sse(api.url, tok.displayA!, BOARD_SUB, { id: boardB });
    const events = sse(api.url, tok.displayA!, 'subscription { callEvents { event_id } }');
    await eventually(() => (other.errors.length && events.errors.length ? true : undefined), 10_000, 'refusals');
    expect((other.errors[0] as { extensions: { code: string } }).extensions.code).toBe('FORBIDDEN');
    expect((events.errors[0] as { extensions: { code: string } }).extensions.code).toBe('FORBIDDEN');
    await other.close();
    await events.close();
  });

  it('agentStates streams agent state changes', async () => {
    const s = sse<{ agentStates: { agent_id: string; state: string; reason: string | null } }>(api.url, tok.supA!, 'subscription { agentStates(filter: {agents: ["1001"]}) { agent_id state reason state_start } }');
    await untilLive(
      () => produce([ev('agent.state_changed', new Date().toISOString(), { agent_id: '1001' }, { state: 'available' })]),
      () => s.received.length > 0,
      'the agentStates subscription to go live',
    );
    await produce([ev('agent.state_changed', new Date().toISOString(), { agent_id: '1002' }, { state: 'available' }), ev('agent.state_changed', new Date().toISOString(), { agent_id: '1001' }, { state: 'paused', reason: 'Lunch' })]);
    const got = await eventually(() => s.received.find((r) => r.agentStates.state === 'paused'), 20_000, 'agent state');
    expect(got.agentStates).toMatchObject({ agent_id: '1001', state: 'paused', reason: 'Lunch' });
    expect(s.received.map((r) => r.agentStates.agent_id)).not.toContain('1002');
    await s.close();
  });
});

describe('history', () => {
  it('metrics return what the projections computed', async () => {
    const r = await gql<{ metrics: { period: Record<string, string>; rows: { key: string; queue_metrics: Record<string, number | null> }[] } }>(
      api.url,
      tok.analystA!,
      `{ metrics(period: {kind: DAY, date: "${DAY}"}, groupBy: QUEUE) { period { start end timezone from to } rows { key queue_metrics { offered answered abandoned short_abandoned exited waiting answered_within_sl service_level abandon_rate asa max_wait talk_time hold_time aht wait_p50 } } } }`,
    );
    expect(r.errors).toBeUndefined();
    expect(r.data!.metrics.period).toEqual({ start: '2026-03-09T21:00:00.000Z', end: '2026-03-10T21:00:00.000Z', timezone: 'Africa/Nairobi', from: DAY, to: DAY });
    const direct = await queueMetrics(ch, { tenant_id: 'acme', timezone: 'Africa/Nairobi', week_start: 'monday', period: { kind: 'DAY', date: DAY }, group_by: 'queue', settings: () => ({ sl_threshold_s: 20, short_abandon_s: 5, sl_formula: 'answered_within_T_over_offered_excl_short', wrap_up_s: 0 }) });
    for (const row of r.data!.metrics.rows) {
      const d = direct.find((x) => x.queue === row.key)!;
      for (const [k, v] of Object.entries(row.queue_metrics)) expect(v, `${row.key}.${k}`).toEqual(d[k as keyof typeof d]);
    }
    const sales = r.data!.metrics.rows.find((x) => x.key === 'sales')!.queue_metrics;
    expect(sales).toMatchObject({ offered: 3, answered: 2, abandoned: 1, short_abandoned: 1, answered_within_sl: 1, service_level: 0.5, asa: 25, talk_time: 160, hold_time: 20 });
    expect(sales.wait_p50).not.toBeNull();
    // Asked without a wait percentile, the read skips the wait sketch (api/src/selection.ts): every
    // other figure is the same.
    const lean = await gql<{ metrics: { rows: { key: string; queue_metrics: Record<string, number | null> }[] } }>(
      api.url,
      tok.analystA!,
      `{ metrics(period: {kind: DAY, date: "${DAY}"}, groupBy: QUEUE) { rows { key queue_metrics { offered answered abandoned short_abandoned exited waiting answered_within_sl service_level abandon_rate asa max_wait talk_time hold_time aht } } } }`,
    );
    expect(lean.errors).toBeUndefined();
    expect(lean.data!.metrics.rows).toEqual(r.data!.metrics.rows.map(({ key, queue_metrics: { wait_p50: _, ...rest } }) => ({ key, queue_metrics: rest })));
    const tenant = await gql<{ metrics: { rows: { key: string; queue_metrics: { offered: number }; call_metrics: { inbound: number } }[] } }>(api.url, tok.analystA!, `{ metrics(period: {kind: WEEK, date: "${DAY}"}) { rows { key queue_metrics { offered } call_metrics { inbound } } } }`);
    expect(tenant.data!.metrics.rows).toEqual([{ key: 'acme', queue_metrics: { offered: 5 }, call_metrics: { inbound: 5 } }]);
  });

  it('intraday series in the tenant zone', async () => {
    const r = await gql<{ intraday: { points: { local_time: string; queue_metrics: { offered: number } }[] } }>(api.url, tok.analystA!, `{ intraday(date: "${DAY}", interval: MIN_60) { date interval points { start local_time queue_metrics { offered } } } }`);
    const pts = r.data!.intraday.points;
    expect(pts).toHaveLength(24);
    // 06:00Z = 09:00 Nairobi: three sales legs; 07:10Z and 07:30Z = 10:xx local
    expect(pts.find((p) => p.local_time === '09:00')!.queue_metrics.offered).toBe(3);
    expect(pts.find((p) => p.local_time === '10:00')!.queue_metrics.offered).toBe(2);
  });

  it('call(id) gives the full timeline with links to the raw events', async () => {
    const r = await gql<{ call: { call_id: string; disposition: string; queue_legs: { queue: string; outcome: string; wait: number }[]; timeline: { type: string; raw: { topic: string; offset: string } }[] } }>(
      api.url,
      tok.analystA!,
      '{ call(id: "a-1") { call_id disposition duration billsec queue_legs { queue outcome wait agent_id } timeline { type occurred_at raw { topic partition offset } } } }',
    );
    expect(r.errors).toBeUndefined();
    expect(r.data!.call.queue_legs).toEqual([{ queue: 'sales', outcome: 'answered', wait: 10, agent_id: '1001' }]);
    expect(r.data!.call.timeline.map((e) => e.type)).toEqual(['call.started', 'call.queued', 'call.answered', 'call.agent_completed', 'call.ended']);
    expect(r.data!.call.timeline[0]!.raw.topic).toBe('pbx.raw.v1');
  });

  it('calls reached through search have their queue legs and timeline too (drill-down)', async () => {
    const r = await gql<{ calls: { edges: { node: { call_id: string; queue_legs: { queue: string; outcome: string; wait: number }[]; timeline: { type: string }[] } }[] } }>(
      api.url,
      tok.analystA!,
      '{ calls(first: 10) { edges { node { call_id queue_legs { queue outcome wait } timeline { type } } } } }',
    );
    expect(r.errors).toBeUndefined();
    const a1 = r.data!.calls.edges.find((e) => e.node.call_id === 'a-1')!.node;
    expect(a1.queue_legs).toEqual([{ queue: 'sales', outcome: 'answered', wait: 10 }]);
    expect(a1.timeline.map((e) => e.type)).toContain('call.answered');
  });

  it('calls search pages with a cursor and filters by outcome, number and time', async () => {
    const q = 'query($f: CallFilter, $after: String) { calls(filter: $f, first: 2, after: $after) { edges { node { call_id } } page_info { has_next_page end_cursor } } }';
    const seen: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 5; i++) {
      const p: Awaited<ReturnType<typeof gql<{ calls: { edges: { node: { call_id: string } }[]; page_info: { has_next_page: boolean; end_cursor: string } } }>>> = await gql(api.url, tok.analystA!, q, { after });
      seen.push(...p.data!.calls.edges.map((e) => e.node.call_id));
      if (!p.data!.calls.page_info.has_next_page) break;
      after = p.data!.calls.page_info.end_cursor;
    }
    expect(seen).toEqual(['a-5', 'a-4', 'a-3', 'a-2', 'a-1']);
    const ab = await gql<{ calls: { edges: { node: { call_id: string } }[] } }>(api.url, tok.analystA!, q, { f: { outcome: ['ABANDONED'] } });
    expect(ab.data!.calls.edges.map((e) => e.node.call_id)).toEqual(['a-4', 'a-3']);
    const time = await gql<{ calls: { edges: { node: { call_id: string } }[] } }>(api.url, tok.analystA!, q, { f: { from: at('07:00'), to: at('07:20') } });
    expect(time.data!.calls.edges.map((e) => e.node.call_id)).toEqual(['a-4']);
    const bad = await gql(api.url, tok.analystA!, q, { after: 'garbage' });
    expect(codes(bad)).toEqual(['BAD_INPUT']);
  });
});

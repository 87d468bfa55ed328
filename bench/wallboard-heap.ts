// Long-run memory check of the wallboard: real Chromium on a rotating TV (two boards, 30 s each)
// against the real API and projections, fed several canonical events per second for N minutes,
// with one API restart half-way (reconnect path). Every 30 s the page's JS heap is measured
// after a forced GC (CDP HeapProfiler.collectGarbage + Runtime.getHeapUsage) together with DOM
// node and listener counts. Prints the samples, first vs last, and the least-squares trend.
//
//   KAFKA_BROKERS=127.0.0.1:9092 npx tsx bench/wallboard-heap.ts [--minutes 30] [--rate 5]
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { loadConfig } from '@callboard/platform';
import { agentState, buildWallboard, ev, joinQueue, queueCall, STACK_FILE, startWallboardStack } from '../test/e2e/wallboard-stack.ts';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const minutes = arg('minutes', 30);
const rate = arg('rate', 5);
const sampleEveryS = arg('sample', 30);

const id = `wbheap${process.pid}`;
const cfg = loadConfig({
  overrides: {
    KAFKA_TOPIC_PREFIX: `${id}.`,
    KAFKA_PARTITIONS: '3',
    CLICKHOUSE_DATABASE: `cb_${id}`,
    CALLBOARD_DATA_DIR: mkdtempSync(join(tmpdir(), 'callboard-wallboard-heap-')),
    LOG_LEVEL: 'error',
  },
  file: STACK_FILE,
});
// Without KAFKA_BROKERS: the development broker (`callboard kafka start`), never a new one.
if (!cfg.kafka.brokers.length) cfg.kafka.brokers = ['127.0.0.1:9092'];

const dist = mkdtempSync(join(tmpdir(), 'callboard-wallboard-dist-'));
buildWallboard(dist);
const stack = await startWallboardStack(cfg, { dist });
const second = await stack.gql<{ createBoard: { id: string } }>(stack.adminToken, 'mutation($input: BoardInput!) { createBoard(input: $input) { id } }', {
  input: {
    name: 'Sales',
    columns: 6,
    tiles: [
      { id: 'w', kind: 'KPI', x: 0, y: 0, w: 2, h: 1, metric: 'waiting', queues: ['sales'] },
      { id: 'mw', kind: 'KPI', x: 2, y: 0, w: 2, h: 1, metric: 'max_wait', queues: ['sales'], thresholds: [{ metric: 'max_wait', direction: 'ABOVE', warn: 30, critical: 60 }] },
      { id: 'sl', kind: 'KPI', x: 4, y: 0, w: 2, h: 1, metric: 'service_level', queues: ['sales'] },
      { id: 'ag', kind: 'AGENT_GRID', x: 0, y: 1, w: 6, h: 2, queues: ['sales'] },
    ],
  },
});

// Agents and a steady flow of calls: each call waits 2–12 s, then is answered (talk 5–40 s)
// or abandoned; agents go on call, wrap up, pause and come back.
const AGENTS = Array.from({ length: 24 }, (_, i) => ({ id: String(1001 + i), name: `Agent ${1001 + i}`, queue: i % 2 ? 'support' : 'sales' }));
await stack.produce(AGENTS.flatMap((a) => [joinQueue(a.id, a.name, a.queue, Date.now()), ...agentState(a.id, a.name, Date.now(), 'available')]));

let rng = 42;
const rand = () => ((rng = (rng * 1103515245 + 12345) % 2147483648) / 2147483648);
let produced = 0;
let callNo = 0;
const timers = new Set<ReturnType<typeof setTimeout>>();
const later = (ms: number, f: () => void) => {
  const t = setTimeout(() => {
    timers.delete(t);
    f();
  }, ms);
  timers.add(t);
};
const send = (events: Parameters<typeof stack.produce>[0]) => {
  produced += events.length;
  stack.produce(events).catch((e) => console.error('produce failed:', (e as Error).message));
};

function oneCall() {
  const call = `h${process.pid}-${++callNo}`;
  const queue = rand() < 0.5 ? 'sales' : 'support';
  const start = Date.now();
  const [started, queued] = queueCall(call, queue, start, 0, 'waiting');
  send([started!, queued!]);
  const waitMs = 2000 + Math.floor(rand() * 10_000);
  later(waitMs, () => {
    const c = { call_id: call };
    const leg = `${call}:${queue}:1`;
    if (rand() < 0.85) {
      const agent = AGENTS[Math.floor(rand() * AGENTS.length)]!;
      const talk = 5000 + Math.floor(rand() * 35_000);
      send([ev('call.answered', Date.now(), c, { agent_id: agent.id, queue, leg_id: leg, wait_ms: Date.now() - start }), ...agentState(agent.id, agent.name, Date.now(), 'on_call')]);
      later(talk, () => {
        send([
          ev('call.agent_completed', Date.now(), c, { agent_id: agent.id, queue, leg_id: leg, reason: 'caller', talk_ms: talk, hold_ms: 0, wrap_ms: 0 }),
          ev('call.ended', Date.now(), c, { disposition: 'ANSWERED', raw_disposition: 'ANSWERED', duration_ms: Date.now() - start, billsec_ms: talk, direction: 'inbound' }),
          ...agentState(agent.id, agent.name, Date.now(), rand() < 0.1 ? 'paused' : 'available', 'Break'),
        ]);
      });
    } else {
      send([
        ev('call.abandoned', Date.now(), c, { queue, leg_id: leg, wait_ms: Date.now() - start, position: 1 }),
        ev('call.ended', Date.now(), c, { disposition: 'NO ANSWER', raw_disposition: 'NO ANSWER', duration_ms: Date.now() - start, billsec_ms: 0, direction: 'inbound' }),
      ]);
    }
  });
}
// About `rate` events per second: a call makes ~5 events over its life.
const load = setInterval(oneCall, Math.round(5000 / rate));

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
await page.goto(`${stack.url}/?token=${encodeURIComponent(stack.supervisorToken)}&boards=${stack.boardId},${second.createBoard.id}&rotate=30&tv=1`);
await page.locator('[data-testid="kpi"]').first().waitFor();
const cdp = await page.context().newCDPSession(page);

interface Sample {
  min: number;
  heapKB: number;
  nodes: number;
  listeners: number;
  seq: number;
  board: string;
}
const samples: Sample[] = [];
const t0 = Date.now();
async function sample(): Promise<Sample> {
  await cdp.send('HeapProfiler.collectGarbage');
  const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
  const dom = (await cdp.send('Memory.getDOMCounters')) as { nodes: number; jsEventListeners: number };
  const el = page.locator('[data-board]');
  const seq = Number((await el.getAttribute('data-seq')) ?? -1);
  const board = (await el.getAttribute('data-board')) ?? '?';
  const s = { min: (Date.now() - t0) / 60_000, heapKB: heap.usedSize / 1024, nodes: dom.nodes, listeners: dom.jsEventListeners, seq, board };
  console.log(`${s.min.toFixed(1).padStart(5)} min  heap ${s.heapKB.toFixed(0).padStart(6)} KB  dom nodes ${String(s.nodes).padStart(5)}  listeners ${String(s.listeners).padStart(4)}  events ${produced}  board ${board}`);
  return s;
}

let restarted = false;
const end = t0 + minutes * 60_000;
while (Date.now() < end) {
  samples.push(await sample());
  if (!restarted && Date.now() - t0 > (minutes * 60_000) / 2) {
    restarted = true;
    console.log('       restarting the API (reconnect path)');
    await stack.stopApi();
    await new Promise((r) => setTimeout(r, 8000));
    await stack.startApi();
  }
  await new Promise((r) => setTimeout(r, sampleEveryS * 1000));
}
samples.push(await sample());

clearInterval(load);
for (const t of timers) clearTimeout(t);
await browser.close();
await stack.stop();

// Least-squares slope of heap over time, per board (the two boards differ in size, and the
// screen alternates between them), skipping the first two minutes (JIT and caches warming).
function slope(list: Sample[]): number | null {
  if (list.length < 3) return null;
  const mx = list.reduce((a, s) => a + s.min, 0) / list.length;
  const my = list.reduce((a, s) => a + s.heapKB, 0) / list.length;
  return list.reduce((a, s) => a + (s.min - mx) * (s.heapKB - my), 0) / list.reduce((a, s) => a + (s.min - mx) ** 2, 0);
}
const perBoard = Object.fromEntries(
  [...new Set(samples.map((s) => s.board))].map((b) => {
    const list = samples.filter((s) => s.board === b && s.min >= 2);
    const tr = slope(list);
    return [b, { samples: list.length, first_kb: +(list[0]?.heapKB ?? 0).toFixed(0), last_kb: +(list[list.length - 1]?.heapKB ?? 0).toFixed(0), trend_kb_per_min: tr === null ? null : +tr.toFixed(2) }];
  }),
);
const first = samples[0]!;
const last = samples[samples.length - 1]!;
console.log(
  JSON.stringify(
    {
      minutes,
      events_produced: produced,
      events_per_s: +(produced / ((Date.now() - t0) / 1000)).toFixed(1),
      heap_kb: { start: +first.heapKB.toFixed(0), end: +last.heapKB.toFixed(0), min: +Math.min(...samples.map((s) => s.heapKB)).toFixed(0), max: +Math.max(...samples.map((s) => s.heapKB)).toFixed(0) },
      per_board_after_2_min: perBoard,
      dom_nodes: { start: first.nodes, end: last.nodes, max: Math.max(...samples.map((s) => s.nodes)) },
      listeners: { start: first.listeners, end: last.listeners, max: Math.max(...samples.map((s) => s.listeners)) },
    },
    null,
    2,
  ),
);
process.exit(0);

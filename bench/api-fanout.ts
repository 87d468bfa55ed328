// N concurrent SSE subscribers of one board on one API process, next to its peer in the same run:
// the same N sockets fed by bench/api-fanout-peer.ts (a bare node:http server writing one
// pre-serialised frame to every socket, no GraphQL), from the same topic with the same coalescing
// gap. Rounds are interleaved (API then peer, then peer then API, …). In each phase every caller
// that queues is timed from producer.send to its first appearance in each subscriber's update
// (so the coalescing gap is part of the lag), and every update from its `server_time` (when the
// server built it) to its arrival at each screen (the fan-out alone: serialisation, socket
// writes, the client's read); the phase also gives the server's CPU and RSS.
//   KAFKA_BROKERS=127.0.0.1:9092 npx tsx bench/api-fanout.ts [--subscribers 1000] [--rate 20] [--seconds 30] [--rounds 2] [--cpu-prof DIR]
// --cpu-prof DIR: the API process writes a V8 CPU profile into DIR when the benchmark ends.
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { loadConfig } from '@callboard/platform';
import { partitionKey } from '@callboard/schemas';
import { cpuSeconds, event, pct, readSse, rssMiB, startHarness } from './api-common.ts';

const { values } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '20' },
    seconds: { type: 'string', default: '30' },
    rounds: { type: 'string', default: '2' },
    'cpu-prof': { type: 'string' },
  },
});
const subscribers = Number(values.subscribers);
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
// The peer coalesces like the API does (API_BOARD_UPDATES_PER_SECOND, read the same way).
const gapMs = 1000 / loadConfig({ file: {} }).api.boardUpdatesPerSecond;

const h = await startHarness([], {}, values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`] : []);
const peerChild = spawn(process.execPath, ['--import', 'tsx', new URL('./api-fanout-peer.ts', import.meta.url).pathname, '--brokers', h.brokers.join(','), '--topic', h.topic, '--gap-ms', String(gapMs)], {
  stdio: ['pipe', 'pipe', 'inherit'],
});
const peer = JSON.parse(
  await new Promise<string>((resolve, reject) => {
    createInterface({ input: peerChild.stdout! }).once('line', resolve);
    peerChild.once('exit', (code) => reject(new Error(`api-fanout-peer exited with ${code}`)));
  }),
) as { url: string; pid: number };

const kafka = new Kafka({ clientId: 'bench-api-fanout', brokers: h.brokers, logLevel: logLevel.NOTHING });
const producer = kafka.producer();
await producer.connect();

const QUERY = `subscription($id: ID!) { board(id: $id) { server_time seq live { waiting_calls { call_id } queues { queue waiting max_wait today { offered service_level } } } } }`;
type Target = 'api' | 'peer';
let callers = 0;

async function phase(target: Target, p: Producer) {
  const pid = target === 'api' ? h.pid : peer.pid;
  const sent = new Map<string, number>();
  const lags: number[] = [];
  const fanout: number[] = [];
  let updates = 0;
  let errors = 0;
  let connected = 0;
  const ac = new AbortController();
  const memIdle = rssMiB(pid);
  const clients = Array.from({ length: subscribers }, async () => {
    const seen = new Set<string>();
    try {
      const res =
        target === 'api'
          ? await fetch(`${h.url}/graphql`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${h.tokens.display}` },
              body: JSON.stringify({ query: QUERY, variables: { id: h.board } }),
              signal: ac.signal,
            })
          : await fetch(`${peer.url}/sse`, { headers: { accept: 'text/event-stream' }, signal: ac.signal });
      connected++;
      await readSse(res.body!, (d, at) => {
        const b = (d as { data?: { board: { server_time: string; live: { waiting_calls: { call_id: string }[] } } } }).data?.board;
        if (!b) return void errors++;
        updates++;
        if (sent.size) fanout.push(at - Date.parse(b.server_time));
        for (const w of b.live.waiting_calls) {
          if (seen.has(w.call_id)) continue;
          seen.add(w.call_id);
          const t = sent.get(w.call_id);
          if (t !== undefined) lags.push(at - t);
        }
      });
    } catch (e) {
      if ((e as Error).name !== 'AbortError') errors++;
    }
  });
  while (connected < subscribers) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 1000));
  const memConnected = rssMiB(pid);
  const load0 = loadavg()[0]!;
  const started = Date.now();
  const cpu0 = cpuSeconds(pid);
  const benchCpu0 = process.cpuUsage();
  let produced = 0;
  // Each caller waits 3 s and then abandons, so about 3·rate callers wait at any time.
  const abandonAt: { at: number; call: string; queue: string }[] = [];
  const abandon = (a: { call: string; queue: string }) => event('call.abandoned', { call_id: a.call }, { queue: a.queue, leg_id: `${a.call}:1`, wait_ms: 3000, position: 1 });
  for (let k = 0; Date.now() - started < seconds * 1000; k++) {
    const wait = started + (k * 1000) / rate - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const call = `fan-${process.pid}-${callers}`;
    const queue = `q${callers++ % 8}`;
    const msgs = [event('call.queued', { call_id: call }, { queue, leg_id: `${call}:1`, position: 1 })];
    while (abandonAt.length && abandonAt[0]!.at <= Date.now()) msgs.push(abandon(abandonAt.shift()!));
    sent.set(call, Date.now());
    await p.send({ topic: h.topic, messages: msgs.map((e) => ({ key: partitionKey(e), value: JSON.stringify(e) })) });
    abandonAt.push({ at: Date.now() + 3000, call, queue });
    produced++;
  }
  const elapsed = (Date.now() - started) / 1000;
  const cpu = (cpuSeconds(pid) - cpu0) / elapsed;
  const bc = process.cpuUsage(benchCpu0);
  // The next phase starts with nobody waiting: the callers still queued abandon, once every
  // screen has seen them (or after 10 s).
  for (const until = Date.now() + 10_000; lags.length < produced * subscribers && Date.now() < until; ) await new Promise((r) => setTimeout(r, 100));
  if (abandonAt.length) await p.send({ topic: h.topic, messages: abandonAt.splice(0).map((a) => abandon(a)).map((e) => ({ key: partitionKey(e), value: JSON.stringify(e) })) });
  await new Promise((r) => setTimeout(r, 2000));
  const memEnd = rssMiB(pid);
  ac.abort();
  await Promise.all(clients);
  return {
    target,
    subscribers,
    connected,
    callers_queued: produced,
    seconds: elapsed,
    updates_per_subscriber_per_s: +(updates / subscribers / elapsed).toFixed(2),
    deliveries_timed: lags.length,
    expected_deliveries: produced * subscribers,
    lag_p50_ms: pct(lags, 0.5),
    lag_p99_ms: pct(lags, 0.99),
    lag_max_ms: lags.reduce((a, b) => Math.max(a, b), 0),
    fanout_p50_ms: pct(fanout, 0.5),
    fanout_p99_ms: pct(fanout, 0.99),
    errors,
    server_cpu_cores: +cpu.toFixed(2),
    bench_clients_cpu_cores: +((bc.user + bc.system) / 1e6 / elapsed).toFixed(2),
    server_rss_mib: { idle: memIdle.rss, with_subscribers: memConnected.rss, end: memEnd.rss, peak: memEnd.peak },
    load_1m: [+load0.toFixed(2), +loadavg()[0]!.toFixed(2)],
  };
}

const results: Awaited<ReturnType<typeof phase>>[] = [];
for (let r = 0; r < rounds; r++) {
  for (const target of (r % 2 === 0 ? ['api', 'peer'] : ['peer', 'api']) as Target[]) {
    const res = await phase(target, producer);
    console.error(JSON.stringify({ round: r + 1, ...res }));
    results.push(res);
  }
}
const med = (xs: number[]) => pct(xs, 0.5);
const of = (t: Target, f: (x: (typeof results)[number]) => number) => med(results.filter((x) => x.target === t).map(f));
const medians = (t: Target) => ({
  lag_p50_ms: of(t, (x) => x.lag_p50_ms),
  lag_p99_ms: of(t, (x) => x.lag_p99_ms),
  fanout_p50_ms: of(t, (x) => x.fanout_p50_ms),
  fanout_p99_ms: of(t, (x) => x.fanout_p99_ms),
  updates_per_subscriber_per_s: of(t, (x) => x.updates_per_subscriber_per_s),
  cpu_cores: of(t, (x) => x.server_cpu_cores),
  rss_end_mib: of(t, (x) => x.server_rss_mib.end),
  load_1m: [Math.min(...results.flatMap((x) => x.load_1m)), Math.max(...results.flatMap((x) => x.load_1m))],
});
const summary = {
  rounds,
  gap_ms: gapMs,
  api: medians('api'),
  peer: medians('peer'),
  // peer ÷ API: above 1 the API delivers faster than the bare peer; 1.0 is the transport's floor.
  ratio_lag_p99: 0,
  ratio_lag_p50: 0,
  ratio_fanout_p99: 0,
  phases: results,
};
summary.ratio_lag_p99 = +(summary.peer.lag_p99_ms / summary.api.lag_p99_ms).toFixed(2);
summary.ratio_lag_p50 = +(summary.peer.lag_p50_ms / summary.api.lag_p50_ms).toFixed(2);
summary.ratio_fanout_p99 = +(summary.peer.fanout_p99_ms / summary.api.fanout_p99_ms).toFixed(2);
console.log(JSON.stringify(summary, null, 2));
await producer.disconnect();
peerChild.kill('SIGTERM');
await h.stop();

// 1,000 concurrent SSE subscribers of one board on one API process: each caller that queues is
// timed from producer.send to its first appearance in each subscriber's board update (so the
// ≤ 4 updates/s coalescing is part of the lag), plus the API process's memory.
//   KAFKA_BROKERS=127.0.0.1:9092 npx tsx bench/api-fanout.ts [--subscribers 1000] [--rate 20] [--seconds 30]
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { partitionKey } from '@callboard/schemas';
import { cpuSeconds, event, pct, readSse, rssMiB, startHarness } from './api-common.ts';

const { values } = parseArgs({ options: { subscribers: { type: 'string', default: '1000' }, rate: { type: 'string', default: '20' }, seconds: { type: 'string', default: '30' } } });
const subscribers = Number(values.subscribers);
const rate = Number(values.rate);
const seconds = Number(values.seconds);

const h = await startHarness();
const memBefore = rssMiB(h.pid);
const sent = new Map<string, number>();
const lags: number[] = [];
let updates = 0;
let errors = 0;
const QUERY = `subscription($id: ID!) { board(id: $id) { server_time seq live { waiting_calls { call_id } queues { queue waiting max_wait today { offered service_level } } } } }`;
const ac = new AbortController();
let connected = 0;
const clients = Array.from({ length: subscribers }, async () => {
  const seen = new Set<string>();
  try {
    const res = await fetch(`${h.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${h.tokens.display}` },
      body: JSON.stringify({ query: QUERY, variables: { id: h.board } }),
      signal: ac.signal,
    });
    connected++;
    await readSse(res.body!, (d, at) => {
      const b = (d as { data?: { board: { live: { waiting_calls: { call_id: string }[] } } } }).data?.board;
      if (!b) return void errors++;
      updates++;
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
const memConnected = rssMiB(h.pid);

const kafka = new Kafka({ clientId: 'bench-api-fanout', brokers: h.brokers, logLevel: logLevel.NOTHING });
const producer = kafka.producer();
await producer.connect();
const started = Date.now();
const apiCpu0 = cpuSeconds(h.pid);
const benchCpu0 = process.cpuUsage();
let produced = 0;
// Each caller waits 3 s and then abandons, so about 3·rate callers wait at any time.
const abandonAt: { at: number; call: string }[] = [];
for (let k = 0; Date.now() - started < seconds * 1000; k++) {
  const wait = started + (k * 1000) / rate - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const call = `fan-${process.pid}-${k}`;
  const msgs = [event('call.queued', { call_id: call }, { queue: `q${k % 8}`, leg_id: `${call}:1`, position: 1 })];
  while (abandonAt.length && abandonAt[0]!.at <= Date.now()) {
    const a = abandonAt.shift()!;
    msgs.push(event('call.abandoned', { call_id: a.call }, { queue: `q${Number(a.call.split('-').pop()) % 8}`, leg_id: `${a.call}:1`, wait_ms: 3000, position: 1 }));
  }
  sent.set(call, Date.now());
  await producer.send({ topic: h.topic, messages: msgs.map((e) => ({ key: partitionKey(e), value: JSON.stringify(e) })) });
  abandonAt.push({ at: Date.now() + 3000, call });
  produced++;
}
const elapsed = (Date.now() - started) / 1000;
const apiCpu = (cpuSeconds(h.pid) - apiCpu0) / elapsed;
const bc = process.cpuUsage(benchCpu0);
const benchCpu = (bc.user + bc.system) / 1e6 / elapsed;
await new Promise((r) => setTimeout(r, 2000));
const memEnd = rssMiB(h.pid);
console.log(
  JSON.stringify(
    {
      subscribers,
      connected,
      callers_queued: produced,
      seconds: elapsed,
      updates_received: updates,
      updates_per_subscriber_per_s: +(updates / subscribers / elapsed).toFixed(2),
      deliveries_timed: lags.length,
      expected_deliveries: produced * subscribers,
      lag_p50_ms: pct(lags, 0.5),
      lag_p99_ms: pct(lags, 0.99),
      lag_max_ms: lags.reduce((a, b) => Math.max(a, b), 0),
      errors,
      api_cpu_cores: +apiCpu.toFixed(2),
      bench_clients_cpu_cores: +benchCpu.toFixed(2),
      api_rss_mib: { idle: memBefore.rss, with_subscribers: memConnected.rss, end: memEnd.rss, peak: memEnd.peak },
    },
    null,
    2,
  ),
);
ac.abort();
await Promise.all(clients);
await producer.disconnect();
await h.stop();

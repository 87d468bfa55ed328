// Latency from an event produced to Kafka (producer.send called) to its arrival at a GraphQL
// subscriber of callEvents, over SSE and over WebSocket at once, at a steady event rate. The API
// runs in its own process (bench/api-harness.ts).
//   KAFKA_BROKERS=127.0.0.1:9092 npx tsx bench/api-latency.ts [--rate 500] [--seconds 30]
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { partitionKey } from '@callboard/schemas';
import { event, pct, readSse, rssMiB, startHarness } from './api-common.ts';

const { values } = parseArgs({ options: { rate: { type: 'string', default: '500' }, seconds: { type: 'string', default: '30' } } });
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const h = await startHarness();
const sent = new Map<string, number>();
const lat = { sse: [] as number[], ws: [] as number[] };
const QUERY = 'subscription { callEvents { event_id } }';

const ac = new AbortController();
const res = await fetch(`${h.url}/graphql`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${h.tokens.analyst}` },
  body: JSON.stringify({ query: QUERY }),
  signal: ac.signal,
});
const sseDone = readSse(res.body!, (d, at) => {
  const id = (d as { data?: { callEvents: { event_id: string } } }).data?.callEvents.event_id;
  const t = id ? sent.get(id) : undefined;
  if (t !== undefined) lat.sse.push(at - t);
}).catch(() => {});
const ws = createClient({ url: `${h.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${h.tokens.analyst}` } });
ws.subscribe<{ callEvents: { event_id: string } }>(
  { query: QUERY },
  {
    next: (v) => {
      const t = sent.get(v.data?.callEvents.event_id ?? '');
      if (t !== undefined) lat.ws.push(Date.now() - t);
    },
    error: (e) => console.error('ws error', e),
    complete: () => {},
  },
);
await new Promise((r) => setTimeout(r, 1000));

const kafka = new Kafka({ clientId: 'bench-api-latency', brokers: h.brokers, logLevel: logLevel.NOTHING });
const producer = kafka.producer();
await producer.connect();
// Calls are pairs of events (queued, abandoned): `pairs` calls per tick, ticks spaced to the rate.
const pairs = Math.max(1, Math.round(rate / 100));
const tickMs = (2000 * pairs) / rate;
const started = Date.now();
let produced = 0;
let call = 0;
const inflight = new Set<Promise<unknown>>();
// Ticks on an absolute schedule, sends not awaited one by one, so a slow ack does
// not lower the rate.
for (let k = 0; Date.now() - started < seconds * 1000; k++) {
  const wait = started + k * tickMs - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  if (inflight.size >= 50) await Promise.race(inflight);
  const events = [];
  for (let i = 0; i < pairs; i++) {
    const c = { call_id: `lat-${process.pid}-${call++}` };
    events.push(event('call.queued', c, { queue: `q${call % 8}`, leg_id: `${c.call_id}:1`, position: 1 }));
    events.push(event('call.abandoned', c, { queue: `q${call % 8}`, leg_id: `${c.call_id}:1`, wait_ms: 1000, position: 1 }));
  }
  const t = Date.now();
  for (const e of events) sent.set(e.event_id, t);
  const p = producer.send({ topic: h.topic, messages: events.map((e) => ({ key: partitionKey(e), value: JSON.stringify(e) })) }).finally(() => inflight.delete(p));
  inflight.add(p);
  produced += events.length;
}
await Promise.all(inflight);
const elapsed = (Date.now() - started) / 1000;
await new Promise((r) => setTimeout(r, 2000));
const mem = rssMiB(h.pid);
// Where the time goes: Kafka append (producer's timestamp) to the fold, from the API's histogram.
const prom = await (await fetch(`${h.url}/metrics`)).text();
const buckets = [...prom.matchAll(/callboard_api_live_event_lag_ms_bucket\{le="([^"]+)"\} (\d+)/g)].map((m) => [m[1], Number(m[2])] as const);
const total = buckets.at(-1)?.[1] ?? 0;
const foldLag = (p: number) => buckets.find(([, c]) => c >= p * total)?.[0];
const out = (xs: number[]) => ({ received: xs.length, p50_ms: pct(xs, 0.5), p99_ms: pct(xs, 0.99), max_ms: xs.reduce((a, b) => Math.max(a, b), 0) });
console.log(JSON.stringify({ target_rate: rate, achieved_rate: Math.round(produced / elapsed), produced, seconds: elapsed, sse: out(lat.sse), websocket: out(lat.ws), kafka_to_fold_ms_bucket: { p50_le: foldLag(0.5), p99_le: foldLag(0.99) }, api_rss_mib: mem.rss, api_peak_rss_mib: mem.peak }, null, 2));
ac.abort();
await sseDone;
await ws.dispose();
await producer.disconnect();
await h.stop();

// Sustained canonical events/s from Kafka into the embedded ClickHouse through the projections
// consumer (validate, insert with dedup token, re-derive, rollup, commit), and the consumer's
// memory. Produces N events of realistic calls to a fresh topic prefix first, then times the
// consumer from start to the last committed offset.
//   KAFKA_BROKERS=127.0.0.1:9092 npx tsx bench/projections-consume.ts [--events 200000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Health, createClickHouse, createKafka, createLogger, ensureTopics, loadConfig, topicName } from '@callboard/platform';
import { partitionKey, type CanonicalEvent } from '@callboard/schemas';
import { startProjections } from '@callboard/projections/main';
import { storeTimings } from '@callboard/projections/store';
import { queuedCall, agentState } from '../projections/test/given.ts';

const { values } = parseArgs({ options: { events: { type: 'string', default: '200000' }, partitions: { type: 'string', default: '3' } } });
const target = Number(values.events);
const id = `bench${Date.now().toString(36)}`;
const dir = mkdtempSync(join(tmpdir(), 'callboard-bench-'));
const cfg = loadConfig({
  overrides: { KAFKA_TOPIC_PREFIX: `${id}.`, KAFKA_PARTITIONS: values.partitions, CLICKHOUSE_DATABASE: id, CALLBOARD_DATA_DIR: dir, LOG_LEVEL: 'warn' },
});
const log = createLogger('bench', 'warn');

const events: CanonicalEvent[] = [];
const base = Date.parse('2026-03-01T06:00:00Z');
const outcomes = ['answered', 'answered', 'answered', 'abandoned', 'exited'] as const;
for (let i = 0; events.length < target; i++) {
  events.push(
    ...queuedCall({ tenant: 'bench', call_id: `b${i}`, queue: `q${i % 12}`, agent: `a${i % 150}`, at: base + i * 2000, outcome: outcomes[i % 5]!, wait_s: i % 97, talk_s: 30 + (i % 300), hold_s: i % 5 ? 0 : 10 }),
  );
  if (i % 10 === 0) events.push(agentState('bench', `a${i % 150}`, base + i * 2000, (['available', 'on_call', 'paused'] as const)[i % 3]!, 'Break'));
}
const total = events.length;
const kafka = createKafka(cfg);
const admin = kafka.admin();
await admin.connect();
await ensureTopics(admin, cfg);
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
await producer.connect();
const topic = topicName(cfg, 'events');
const tp = Date.now();
for (let i = 0; i < total; i += 2000) {
  await producer.send({ topic, acks: -1, messages: events.slice(i, i + 2000).map((e) => ({ key: partitionKey(e), value: JSON.stringify(e) })) });
}
await producer.disconnect();
console.log(`produced ${total} events in ${((Date.now() - tp) / 1000).toFixed(1)} s`);

const ch = await createClickHouse(cfg);
let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 200);
const t0 = Date.now();
const p = await startProjections({ cfg, log, health: new Health(), ch, groupId: `${id}-proj` });
const tStarted = Date.now();
for (;;) {
  const [o] = await admin.fetchOffsets({ groupId: `${id}-proj-events`, topics: [topic] });
  const done = (o?.partitions ?? []).reduce((a, x) => a + Math.max(0, Number(x.offset)), 0);
  if (done >= total) break;
  await new Promise((r) => setTimeout(r, 100));
}
const t1 = Date.now();
clearInterval(sampler);
await p.stop();
const rs = await ch.client.query({ query: `SELECT sum(offered) AS offered FROM ${ch.db}.queue_15m FINAL WHERE tenant_id = 'bench'`, format: 'JSONEachRow' });
const offered = ((await rs.json()) as { offered: number }[])[0]!.offered;
await admin.deleteTopics({ topics: [topicName(cfg, 'raw'), topic, topicName(cfg, 'dlq')] }).catch(() => {});
await admin.disconnect();
await ch.close();
rmSync(dir, { recursive: true, force: true });
console.log(
  JSON.stringify({
    timings_ms: Object.fromEntries(Object.entries(storeTimings).map(([k, v]) => [k, Math.round(v)])),
    events: total,
    partitions: cfg.kafka.partitions,
    startup_s: (tStarted - t0) / 1000,
    consume_s: (t1 - t0) / 1000,
    events_per_s: Math.round(total / ((t1 - t0) / 1000)),
    peak_rss_mb: Math.round(peakRss / 1048576),
    legs_offered_in_rollup: Number(offered),
  }),
);

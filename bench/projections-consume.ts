// Sustained canonical events/s from Kafka into the embedded ClickHouse through the projections
// consumer (validate, insert with dedup token, re-derive, rollup, commit), against two peers in
// the same run, on the same topic, broker and embedded engine:
//   kafka-engine  ClickHouse's own Kafka table engine + a materialized view writing the same
//                 15-column `events` table (what the engine does with no fold at all);
//   kafkajs-raw   plain kafkajs consume + one batched insert of the message bytes per batch.
// N events of realistic calls are produced once to a fresh topic; each round runs the three in
// rotated order, each in its own database and consumer group, timed from start to the last
// event in ClickHouse (Callboard: to the last committed offset, every derived table and the
// rollup written). Prints each round, the medians and the ratios.
//   KAFKA_BROKERS=127.0.0.1:9092 npx tsx bench/projections-consume.ts [--events 200000] [--rounds 3] [--only callboard]
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { Health, createClickHouse, createKafka, createLogger, ensureTopics, loadConfig, topicName, type ClickHouse } from '@callboard/platform';
import { partitionKey } from '@callboard/schemas';
import { startProjections } from '@callboard/projections/main';
import { migrateProjections } from '@callboard/projections/migrations-dir';
import { storeCpu, storeTimings } from '@callboard/projections/store';
import { syntheticEvents } from './synthetic-events.ts';
import { median, ratio, waitFor } from './peers.ts';

const { values } = parseArgs({
  options: { events: { type: 'string', default: '200000' }, partitions: { type: 'string', default: '3' }, rounds: { type: 'string', default: '3' }, only: { type: 'string' } },
});
const target = Number(values.events);
const id = `bench${Date.now().toString(36)}`;
const dir = mkdtempSync(join(tmpdir(), 'callboard-bench-'));
const cfg = loadConfig({
  overrides: { KAFKA_TOPIC_PREFIX: `${id}.`, KAFKA_PARTITIONS: values.partitions, CLICKHOUSE_DATABASE: id, CALLBOARD_DATA_DIR: dir, LOG_LEVEL: 'warn' },
});
const log = createLogger('bench', 'warn');

const events = syntheticEvents(target);
const total = events.length;
const kafka = createKafka(cfg);
const admin = kafka.admin();
// kafkajs: the plain-client peer, and the group offsets that say a round is done.
const kj = new Kafka({ clientId: 'bench-projections', brokers: cfg.kafka.brokers, logLevel: logLevel.NOTHING });
const kjAdmin = kj.admin();
await kjAdmin.connect();
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
events.length = 0;
console.log(`produced ${total} events (${cfg.kafka.partitions} partitions) in ${((Date.now() - tp) / 1000).toFixed(1)} s`);

const ch0 = await createClickHouse(cfg);
const chIn = async (db: string): Promise<ClickHouse> => {
  await ch0.client.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
  const ch = { ...ch0, db, close: async () => {} };
  await migrateProjections(ch);
  return ch;
};
const count = async (ch: ClickHouse, table: string) => {
  const rs = await ch.client.query({ query: `SELECT count() AS n FROM ${ch.db}.${table}`, format: 'JSONEachRow' });
  return Number(((await rs.json()) as { n: number | string }[])[0]!.n);
};

interface Result {
  s: number;
  check: string;
}

async function callboard(round: number): Promise<Result> {
  const ch = await chIn(`${id}_cb${round}`);
  for (const k of Object.keys(storeTimings)) delete storeTimings[k];
  for (const k of Object.keys(storeCpu)) delete storeCpu[k];
  const group = `${id}-cb${round}`;
  const lane = watchLane(ch);
  const t0 = Date.now();
  const p = await startProjections({ cfg, log, health: new Health(), ch, groupId: group });
  await waitFor(async () => {
    const [o] = await kjAdmin.fetchOffsets({ groupId: `${group}-events`, topics: [topic] });
    return (o?.partitions ?? []).reduce((a: number, x: { offset: string }) => a + Math.max(0, Number(x.offset)), 0) >= total;
  });
  const s = (Date.now() - t0) / 1000;
  const engine = lane.stop();
  await p.stop();
  const rs = await ch.client.query({ query: `SELECT sum(offered) AS offered FROM ${ch.db}.queue_15m FINAL WHERE tenant_id = 'bench'`, format: 'JSONEachRow' });
  const offered = Number(((await rs.json()) as { offered: number | string }[])[0]!.offered);
  const steps = Object.entries(storeTimings).map(([k, v]) => `${k} ${Math.round(v)} ms (CPU ${Math.round(storeCpu[k] ?? 0)} ms)`);
  return {
    s,
    check: `events ${await count(ch, 'events')}, legs offered in the rollup ${offered}; engine busy ${(engine.busyMs / 1000).toFixed(2)} s (${Math.round(engine.busyMs / 10 / s)} % of the round), ${engine.statements} statements; ${steps.join(', ')}`,
  };
}

/**
 * Time with at least one statement of ours in flight (the embedded engine runs one at a time:
 * bench/clickhouse-lanes.ts), from the first call to its answer as the client sees it: the engine's
 * busy time and, with partitions folded at once, some of our JavaScript around the calls.
 */
function watchLane(ch: ClickHouse): { stop(): { busyMs: number; statements: number } } {
  const client = ch.client as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  const own: [string, (...a: unknown[]) => Promise<unknown>][] = [];
  let inFlight = 0;
  let since = 0;
  let busyMs = 0;
  let statements = 0;
  for (const m of ['command', 'query', 'insert', 'exec']) {
    const f = client[m]!;
    own.push([m, f]);
    client[m] = async (...a: unknown[]) => {
      if (inFlight++ === 0) since = performance.now();
      statements++;
      try {
        return await f.apply(ch.client, a);
      } finally {
        if (--inFlight === 0) busyMs += performance.now() - since;
      }
    };
  }
  return {
    stop() {
      for (const [m, f] of own) client[m] = f;
      return { busyMs, statements };
    },
  };
}

// The peer the issue names: ClickHouse consumes the topic itself and a materialized view
// extracts the same columns into the same events table.
async function kafkaEngine(round: number): Promise<Result> {
  const ch = await chIn(`${id}_ke${round}`);
  const db = ch.db;
  const s = (k: string) => `JSONExtractString(body, '${k}')`;
  const t0 = Date.now();
  await ch.client.command({
    query: `CREATE TABLE ${db}.events_queue (body String) ENGINE = Kafka SETTINGS kafka_broker_list = '${cfg.kafka.brokers.join(',')}',
      kafka_topic_list = '${topic}', kafka_group_name = '${id}-ke${round}', kafka_format = 'JSONAsString', kafka_num_consumers = 1`,
  });
  await ch.client.command({
    query: `CREATE MATERIALIZED VIEW ${db}.events_mv TO ${db}.events AS
      SELECT toUUID(${s('event_id')}) AS event_id, ${s('tenant_id')} AS tenant_id, ${s('pbx_id')} AS pbx_id, ${s('source')} AS source, ${s('type')} AS type,
        parseDateTime64BestEffort(${s('occurred_at')}, 3, 'UTC') AS occurred_at, parseDateTime64BestEffort(${s('received_at')}, 3, 'UTC') AS received_at,
        CAST(multiIf(JSONHas(body, 'call_id'), 'call', JSONHas(body, 'agent_id'), 'agent', 'pbx'), 'Enum8(\\'call\\' = 1, \\'agent\\' = 2, \\'pbx\\' = 3)') AS subject_kind,
        ${s('call_id')} AS call_id, ${s('agent_id')} AS agent_id, JSONExtractString(body, 'payload', 'queue') AS queue, JSONExtractString(body, 'payload', 'leg_id') AS leg_id,
        body, _partition AS log_partition, _offset AS log_offset
      FROM ${db}.events_queue`,
  });
  await waitFor(async () => (await count(ch, 'events')) >= total);
  const secs = (Date.now() - t0) / 1000;
  await ch.client.command({ query: `DROP TABLE ${db}.events_mv` });
  await ch.client.command({ query: `DROP TABLE ${db}.events_queue` });
  return { s: secs, check: `events ${await count(ch, 'events')}` };
}

// The floor of any consumer on this client: fetch, one insert of the bytes as they came, commit.
// Same fetch sizes as the projections consumer's defaults (main.ts).
async function kafkajsRaw(round: number): Promise<Result> {
  const ch = await chIn(`${id}_kj${round}`);
  await ch.client.command({ query: `CREATE TABLE ${ch.db}.raw_bodies (body String) ENGINE = MergeTree ORDER BY tuple()` });
  const consumer = kj.consumer({ groupId: `${id}-kj${round}`, minBytes: 256 * 1024, maxWaitTimeInMs: 300, maxBytesPerPartition: 16 * 1024 * 1024, maxBytes: 32 * 1024 * 1024 });
  let done = 0;
  const t0 = Date.now();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch, resolveOffset }) => {
      const parts: Buffer[] = [];
      for (const m of batch.messages) if (m.value) parts.push(m.value, NL);
      // Raw: the JSON text goes in as it came (no tabs or newlines in it), nothing unescaped.
      await ch.client.insert({ table: `${ch.db}.raw_bodies`, format: 'TabSeparatedRaw', values: Readable.from([Buffer.concat(parts)], { objectMode: false }) });
      const last = batch.messages[batch.messages.length - 1]!.offset;
      resolveOffset(last);
      await consumer.commitOffsets([{ topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
      done += batch.messages.length;
    },
  });
  await waitFor(async () => done >= total);
  const s = (Date.now() - t0) / 1000;
  await consumer.disconnect();
  return { s, check: `bodies ${await count(ch, 'raw_bodies')}` };
}
const NL = Buffer.from('\n');

const runners = { callboard, 'kafka-engine': kafkaEngine, 'kafkajs-raw': kafkajsRaw } as const;
type Name = keyof typeof runners;
const names = (values.only ? values.only.split(',') : Object.keys(runners)) as Name[];
const rounds = Number(values.rounds);
const figures: Record<string, number[]> = {};
const cpuPerEvent: Record<string, number[]> = {};
let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 200);
for (let r = 0; r < rounds; r++) {
  // Rotated order: no path always runs first (cold) or last (after the others' merges).
  const order = names.map((_, i) => names[(i + r) % names.length]!);
  for (const name of order) {
    const load = loadavg()[0]!.toFixed(1);
    // Process CPU, every thread (the engine's, its background merges): the peers share the
    // process, so a path's figure also holds whatever the previous path's merges still cost.
    const c0 = process.cpuUsage();
    const res = await runners[name](r);
    const cpu = process.cpuUsage(c0);
    const rate = Math.round(total / res.s);
    (cpuPerEvent[name] ??= []).push(Math.round((cpu.user + cpu.system) / total));
    (figures[name] ??= []).push(rate);
    console.log(`round ${r + 1} ${name.padEnd(12)} ${String(rate).padStart(7)} ev/s  ${res.s.toFixed(2)} s  ${cpuPerEvent[name]!.at(-1)} µs CPU/event  load ${load}  (${res.check})`);
  }
}
clearInterval(sampler);
await kjAdmin.deleteTopics({ topics: [topicName(cfg, 'raw'), topic, topicName(cfg, 'dlq')] }).catch(() => {});
await admin.disconnect();
await kjAdmin.disconnect();
await ch0.close();
rmSync(dir, { recursive: true, force: true });
const med = Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, median(v)]));
console.log(`median events/s over ${rounds} rounds of ${total} events: ${Object.entries(med).map(([k, v]) => `${k} ${v} (${median(cpuPerEvent[k]!)} µs CPU/event)`).join(', ')}; peak RSS ${Math.round(peakRss / 1048576)} MB; load now ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
for (const peer of ['kafka-engine', 'kafkajs-raw'])
  if (med.callboard !== undefined && med[peer] !== undefined) console.log(`ratio callboard / ${peer}: ${ratio(med.callboard, med[peer])}`);

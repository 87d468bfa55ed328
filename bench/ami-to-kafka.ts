// AMI socket → Kafka end to end: a local TCP endpoint speaks AMI (banner, Login, resync
// replies) and then streams the real Asterisk 22 captures, replayed many times with shifted
// ids (bench/ami-corpus.ts), as fast as the socket takes them. The real adapter (client,
// parser, raw records acknowledged on pbx.raw.v1, translator, validation, canonical events on
// cc.events.v1) runs against the broker in KAFKA_BROKERS, on its own throwaway topics.
// Frames/s = AMI frames from the first streamed byte until the last one is acknowledged by Kafka.
//
//   KAFKA_BROKERS=127.0.0.1:9092 npx tsx bench/ami-to-kafka.ts [--copies 30]
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { createKafka, createLogger, ensureTopics, loadConfig, topicName } from '@callboard/platform';
import type { CanonicalEvent, RawRecord, RawRef } from '@callboard/schemas';
import { AmiAdapter } from '@callboard/ingest/ami/adapter';
import { AmiParser } from '@callboard/ingest/ami/parser';
import { SplitSink } from '@callboard/ingest/main';
import { corpus } from './ami-corpus.ts';

const { values } = parseArgs({ options: { copies: { type: 'string', default: '30' } } });
const prefix = `bench-ami-${Date.now().toString(36)}.`;
const cfg = loadConfig({ overrides: { KAFKA_TOPIC_PREFIX: prefix, KAFKA_PARTITIONS: '3' } });
if (!cfg.kafka.brokers.length) throw new Error('set KAFKA_BROKERS (e.g. 127.0.0.1:9092): this benchmark writes to a real broker');
const log = createLogger('bench-ami', 'warn');
const { text, frames } = corpus(Number(values.copies));
const bytes = Buffer.from(text, 'utf8');

let streamStart = 0;
let cpuStart = process.cpuUsage();
const server = createServer((socket) => {
  socket.write('Asterisk Call Manager/11.0.0\r\n');
  const p = new AmiParser();
  socket.on('error', () => {});
  socket.on('data', (chunk) => {
    for (const f of p.push(chunk)) {
      const id = f.headers.ActionID ?? '';
      const reply = (h: Record<string, string>) => Object.entries(h).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n';
      if (f.name === 'Login') {
        socket.write(reply({ Response: 'Success', ActionID: id, Message: 'Authentication accepted' }));
      } else if (f.name === 'CoreShowChannels' || f.name === 'QueueStatus') {
        const done = f.name === 'QueueStatus' ? 'QueueStatusComplete' : 'CoreShowChannelsComplete';
        socket.write(reply({ Response: 'Success', ActionID: id, EventList: 'start', Message: 'will follow' }) + reply({ Event: done, ActionID: id, EventList: 'Complete', ListItems: '0' }));
        if (f.name === 'QueueStatus') void stream();
      } else if (f.name === 'Ping') {
        socket.write(reply({ Response: 'Success', ActionID: id, Ping: 'Pong', Timestamp: (Date.now() / 1000).toFixed(6) }));
      }
    }
  });
  const stream = async () => {
    streamStart = performance.now();
    cpuStart = process.cpuUsage();
    for (let i = 0; i < bytes.length; i += 64 * 1024) {
      if (!socket.write(bytes.subarray(i, i + 64 * 1024))) await new Promise((r) => socket.once('drain', r));
    }
  };
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
const port = (server.address() as { port: number }).port;

const kafka = createKafka(cfg, log);
const admin = kafka.admin();
await admin.connect();
await ensureTopics(admin, cfg);
// As `callboard ingest` runs it: one producer for the raw log, one for canonical events and the
// DLQ, so a raw write and a canonical write can be on the wire at the same time.
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
const eventsProducer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
await producer.connect();
await eventsProducer.connect();
const sink = new SplitSink(producer, eventsProducer, cfg);
let rawN = 0;
let eventsN = 0;
let lastAck = 0;
let rawMs = 0;
let rawCalls = 0;
let eventsMs = 0;
const counting = {
  raw: async (r: RawRecord[]): Promise<RawRef[]> => {
    const t0 = performance.now();
    const refs = await sink.raw(r);
    rawMs += performance.now() - t0;
    rawCalls++;
    rawN += r.length;
    lastAck = performance.now();
    return refs;
  },
  canonical: async (e: CanonicalEvent[]) => {
    const t0 = performance.now();
    await sink.canonical(e);
    eventsMs += performance.now() - t0;
    eventsN += e.length;
    lastAck = performance.now();
  },
  dlq: sink.dlq.bind(sink),
};
const adapter = new AmiAdapter({
  tenant_id: 'bench',
  pbx_id: 'pbx1',
  sink: counting,
  log,
  client: { host: '127.0.0.1', port, tls: false, username: 'bench', secret: () => 'x', pingIntervalMs: 60_000 },
}).start();

// banner + login + 2×(start + complete) resync frames come before the stream
const expected = frames + 6;
while (rawN < expected) await new Promise((r) => setTimeout(r, 20));
await adapter.drain();
const seconds = (lastAck - streamStart) / 1000;
const cpu = process.cpuUsage(cpuStart);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
console.log(`corpus: ${frames.toLocaleString('en-US')} AMI frames, ${(bytes.length / 1e6).toFixed(1)} MB (${values.copies} rounds of the 4 Asterisk 22 captures)`);
console.log(`socket → Kafka: ${Math.round(frames / seconds).toLocaleString('en-US')} frames/s (${seconds.toFixed(2)} s; ${rawN.toLocaleString('en-US')} raw records on ${topicName(cfg, 'raw')}, ${eventsN.toLocaleString('en-US')} canonical events on ${topicName(cfg, 'events')})`);
console.log(`  this process (endpoint + adapter + kafkajs) used ${cpuSeconds.toFixed(2)} CPU s: ${Math.round(frames / cpuSeconds).toLocaleString('en-US')} frames per CPU second; the rest of the wall time is waiting for the broker`);
console.log(`  raw writes: ${rawCalls} batches, ${(rawMs / rawCalls).toFixed(1)} ms each on average (${((rawMs / 1000 / seconds) * 100).toFixed(0)}% of the run); canonical writes ${(eventsMs / 1000).toFixed(2)} s in total, overlapping`);
await adapter.stop();
await producer.disconnect();
await eventsProducer.disconnect();
await admin.deleteTopics({ topics: [topicName(cfg, 'raw'), topicName(cfg, 'events'), topicName(cfg, 'dlq')] }).catch(() => {});
await admin.disconnect();
server.close();

// AMI socket → Kafka end to end, next to its peers in the same run. A local TCP endpoint streams
// the real Asterisk 22 captures, replayed many times with shifted ids (bench/ami-corpus.ts), as
// fast as the socket takes them. Each round runs every path once, in rotated order, each on its
// own throwaway topics (3 partitions), so all see the same machine load:
//   callboard  the real adapter (client with banner, Login and resync, parser, raw records
//              acknowledged on pbx.raw.v1, translator, validation, canonical events on
//              cc.events.v1) with `SplitSink` on two idempotent producers of the platform's
//              client (@platformatic/kafka), as `callboard ingest` runs it;
//   kafkajs    the raw-frames peer: the same bytes cut at the empty line that ends a frame, each
//              frame one Kafka message (the frame bytes, keyed by the PBX) on one idempotent
//              kafkajs producer, `acks=all`, GZIP, the adapter's batch bounds, one send in flight;
//   platformatic  the same peer on @platformatic/kafka, straight on its Producer;
//   callboard-kafkajs  the same adapter, pipeline and sink (`SplitSink`, the same messages, keys,
//              headers, GZIP on the raw topic) with both producers on kafkajs (the client the
//              services used before the switch) behind the sink's `KafkaSend` port;
//   json       the callboard path with raw records written as before issue #17's header format:
//              each a JSON envelope (format 1, `encodeRawJson` of @callboard/schemas), the
//              frame escaped inside it; the before-peer of the raw codec, in the same run;
//   old        with `--old FILE` (a module exporting an `AmiAdapter`, e.g. `adapter.ts` of an
//              older tree from `git archive <commit> ingest/src`): that adapter on the same path,
//              to measure a change of the adapter, parser or translator against its peers.
// Frames/s = AMI frames from the first streamed byte until the last one is acknowledged by
// Kafka; CPU is this process's (endpoint included, the same for every path) over that window.
// Without KAFKA_BROKERS a local broker is started on free ports and stopped at the end.
//
//   npx tsx bench/ami-to-kafka.ts [--copies 30] [--rounds 3] [--paths callboard,callboard-kafkajs,json,kafkajs,platformatic]
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Producer as PlatformaticProducer, ProduceAcks } from '@platformatic/kafka';
import { CompressionTypes, Kafka, Partitioners, logLevel, type Producer as KafkajsProducer } from 'kafkajs';
import { createKafka, createLogger, ensureKafkaJars, ensureTopics, freePort, loadConfig, startLocalKafka, topicName, type CallboardConfig, type LocalKafka } from '@callboard/platform';
import { encodeRawJson, type CanonicalEvent, type RawRecord, type RawRef } from '@callboard/schemas';
import { AmiAdapter } from '@callboard/ingest/ami/adapter';
import { AmiParser } from '@callboard/ingest/ami/parser';
import { SplitSink } from '@callboard/ingest/main';
import { IngestSink, type KafkaSend } from '@callboard/ingest/sink';
import { corpus } from './ami-corpus.ts';
import { median, ratio } from './peers.ts';

const PATHS = ['callboard', 'callboard-kafkajs', 'json', 'old', 'kafkajs', 'platformatic'] as const;
type PathName = (typeof PATHS)[number];
const { values } = parseArgs({
  options: {
    copies: { type: 'string', default: '30' },
    rounds: { type: 'string', default: '3' },
    paths: { type: 'string', default: 'callboard,kafkajs,platformatic' },
    old: { type: 'string' },
    // A first round of every path, not counted: the JIT and the broker's first producer ids.
    warmup: { type: 'string', default: '1' },
  },
});
const paths = values.paths.split(',').map((p) => p.trim()) as PathName[];
for (const p of paths) if (!PATHS.includes(p)) throw new Error(`unknown path ${p} (${PATHS.join(', ')})`);
if (values.old && !paths.includes('old')) paths.splice(1, 0, 'old');
if (paths.includes('old') && !values.old) throw new Error('the path old needs --old FILE');
const OldAdapter = values.old ? ((await import(resolve(values.old))) as { AmiAdapter: typeof AmiAdapter }).AmiAdapter : AmiAdapter;
// kafkajs warns of a fresh topic's leader and a loading coordinator, which it retries: not results.
const log = createLogger('bench-ami', 'error');
const { text, frames } = corpus(Number(values.copies));
const bytes = Buffer.from(text, 'utf8');
// The adapter's bounds of one send (ingest/src/ami/adapter.ts), so the peers batch alike.
const MAX_BATCH_FRAMES = 2000;
const MAX_BATCH_BYTES = 850_000;
const HIGH_WATER = 20_000;

let local: LocalKafka | null = null;
let dataDir = '';
if (!process.env.KAFKA_BROKERS) {
  ensureKafkaJars();
  dataDir = mkdtempSync(join(tmpdir(), 'callboard-bench-ami-'));
  local = await startLocalKafka({ port: await freePort(), controllerPort: await freePort(), dataDir, heap: '512m', stopWithProcess: true });
}
const brokers = local ? local.brokers.join(',') : process.env.KAFKA_BROKERS!;
const runId = Date.now().toString(36);
const cfgFor = (label: string): CallboardConfig =>
  loadConfig({ overrides: { KAFKA_BROKERS: brokers, KAFKA_TOPIC_PREFIX: `bench-ami-${runId}-${label}.`, KAFKA_PARTITIONS: '3' } });
const kafka = createKafka(cfgFor('admin'), log);
const admin = kafka.admin();
await admin.connect();
// kafkajs for its peer and the before-peer of the switch, and to delete each round's topics.
const kj = new Kafka({ clientId: 'bench-ami', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
const kjAdmin = kj.admin();
await kjAdmin.connect();

/** Streams the corpus on `socket` in 64 KB writes, honouring back-pressure; resolves at the first byte. */
function stream(socket: Socket): number {
  const t0 = performance.now();
  void (async () => {
    for (let i = 0; i < bytes.length; i += 64 * 1024) {
      if (!socket.write(bytes.subarray(i, i + 64 * 1024))) await new Promise((r) => socket.once('drain', r));
    }
  })();
  return t0;
}

// The AMI endpoint for the adapter: banner, Login, resync replies, then the stream.
let amiStreamStart = 0;
const amiServer = createServer((socket) => {
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
        if (f.name === 'QueueStatus') amiStreamStart = stream(socket);
      } else if (f.name === 'Ping') {
        socket.write(reply({ Response: 'Success', ActionID: id, Ping: 'Pong', Timestamp: (Date.now() / 1000).toFixed(6) }));
      }
    }
  });
});
// The endpoint for the peers: the stream right away (login is not what is measured).
let peerStreamStart = 0;
const peerServer = createServer((socket) => {
  socket.on('error', () => {});
  peerStreamStart = stream(socket);
});
const listen = async (s: ReturnType<typeof createServer>) => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return (s.address() as { port: number }).port;
};
const amiPort = await listen(amiServer);
const peerPort = await listen(peerServer);

interface Result {
  seconds: number;
  cpuSeconds: number;
  note: string;
}

const until = async (done: () => boolean) => {
  while (!done()) await new Promise((r) => setTimeout(r, 10));
};

/**
 * A kafkajs producer behind the sink's port: the same messages, the base offset of each
 * partition back. kafkajs' own default partitioner puts keys where the platform's does.
 */
function kafkajsSend(producer: KafkajsProducer): KafkaSend {
  return {
    async send(r) {
      const meta = await producer.send({ topic: r.topic, acks: -1, ...(r.compression === 'gzip' ? { compression: CompressionTypes.GZIP } : {}), messages: r.messages.map((m) => ({ key: m.key ?? null, value: m.value, ...(m.headers ? { headers: m.headers } : {}) })) });
      return meta.map((x) => ({ topicName: x.topicName, partition: x.partition, baseOffset: String(x.baseOffset ?? x.offset ?? '0') }));
    },
  };
}

/** The two producers of `callboard ingest` (raw log; canonical events and the DLQ) on one client. */
interface Producers {
  raw: KafkaSend;
  events: KafkaSend;
  close(): Promise<void>;
}

async function kafkajsProducers(): Promise<Producers> {
  const raw = kj.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  const events = kj.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await raw.connect();
  await events.connect();
  return { raw: kafkajsSend(raw), events: kafkajsSend(events), close: async () => (await raw.disconnect(), await events.disconnect()) };
}

async function platformProducers(): Promise<Producers> {
  const raw = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const events = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await raw.connect();
  await events.connect();
  return { raw, events, close: async () => (await raw.disconnect(), await events.disconnect()) };
}

async function callboard(round: number, Adapter = AmiAdapter, json = false, onKafkajs = false): Promise<Result> {
  const cfg = cfgFor(`${Adapter !== AmiAdapter ? 'old' : json ? 'json' : onKafkajs ? 'cbkj' : 'cb'}${round}`);
  await ensureTopics(admin, cfg);
  // As `callboard ingest` runs it: one producer for the raw log, one for canonical events and the
  // DLQ, so a raw write and a canonical write can be on the wire at the same time.
  const producers = onKafkajs ? await kafkajsProducers() : await platformProducers();
  const sink = new SplitSink(producers.raw, producers.events, cfg);
  if (json) {
    const envelope = new IngestSink(producers.raw, cfg, encodeRawJson);
    sink.raw = (r) => envelope.raw(r);
  }
  let rawN = 0;
  let eventsN = 0;
  let lastAck = 0;
  let rawMs = 0;
  let rawCalls = 0;
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
      await sink.canonical(e);
      eventsN += e.length;
      lastAck = performance.now();
    },
    dlq: sink.dlq.bind(sink),
  };
  amiStreamStart = 0;
  const cpu0 = process.cpuUsage();
  const adapter = new Adapter({
    tenant_id: 'bench',
    pbx_id: 'pbx1',
    sink: counting,
    log,
    client: { host: '127.0.0.1', port: amiPort, tls: false, username: 'bench', secret: () => 'x', pingIntervalMs: 60_000 },
  }).start();
  // banner + login + 2×(start + complete) resync frames come before the stream
  await until(() => rawN >= frames + 6);
  await adapter.drain();
  const cpu = process.cpuUsage(cpu0);
  await adapter.stop();
  await producers.close();
  await kjAdmin.deleteTopics({ topics: [topicName(cfg, 'raw'), topicName(cfg, 'events'), topicName(cfg, 'dlq')] }).catch(() => {});
  return {
    seconds: (lastAck - amiStreamStart) / 1000,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    note: `${eventsN.toLocaleString('en-US')} canonical events; ${rawCalls} raw sends of ${(rawMs / rawCalls).toFixed(1)} ms on average`,
  };
}

/**
 * The raw-frames peer: frames cut from the socket's bytes, sent in batches with `send`, one
 * send in flight, the socket paused above HIGH_WATER frames waiting (as the adapter does).
 */
async function rawPeer(send: (batch: Buffer[]) => Promise<void>): Promise<Result> {
  let acked = 0;
  let lastAck = 0;
  let sends = 0;
  let sendMs = 0;
  const waiting: Buffer[] = [];
  let rest: Buffer = Buffer.alloc(0);
  let pumping: Promise<void> | null = null;
  const cpu0 = process.cpuUsage();
  peerStreamStart = 0;
  const socket = connect(peerPort, '127.0.0.1');
  const pump = async () => {
    while (waiting.length > 0) {
      let n = 0;
      let size = 0;
      while (n < waiting.length && n < MAX_BATCH_FRAMES && (n === 0 || size + waiting[n]!.length + 100 <= MAX_BATCH_BYTES)) size += waiting[n++]!.length + 100;
      const batch = waiting.splice(0, n);
      if (socket.isPaused() && waiting.length < HIGH_WATER / 2) socket.resume();
      const t0 = performance.now();
      await send(batch);
      sendMs += performance.now() - t0;
      sends++;
      acked += batch.length;
      lastAck = performance.now();
    }
  };
  socket.on('data', (chunk: Buffer) => {
    const buf = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
    let from = 0;
    for (let end = buf.indexOf('\r\n\r\n', from); end >= 0; end = buf.indexOf('\r\n\r\n', from)) {
      waiting.push(buf.subarray(from, end + 4));
      from = end + 4;
    }
    rest = buf.subarray(from);
    if (waiting.length > HIGH_WATER) socket.pause();
    if (!pumping) pumping = pump().finally(() => (pumping = null));
  });
  await until(() => acked >= frames);
  const cpu = process.cpuUsage(cpu0);
  socket.destroy();
  return { seconds: (lastAck - peerStreamStart) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6, note: `${sends} sends of ${(sendMs / sends).toFixed(1)} ms on average` };
}

async function kafkajsPeer(round: number): Promise<Result> {
  const cfg = cfgFor(`kj${round}`);
  await ensureTopics(admin, cfg, ['raw']);
  const topic = topicName(cfg, 'raw');
  const producer = kj.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    return await rawPeer(async (batch) => {
      await producer.send({ topic, acks: -1, compression: CompressionTypes.GZIP, messages: batch.map((value) => ({ key: 'bench:pbx:pbx1', value })) });
    });
  } finally {
    await producer.disconnect();
    await kjAdmin.deleteTopics({ topics: [topic] }).catch(() => {});
  }
}

async function platformaticPeer(round: number): Promise<Result> {
  const cfg = cfgFor(`pf${round}`);
  await ensureTopics(admin, cfg, ['raw']);
  const topic = topicName(cfg, 'raw');
  const producer = new PlatformaticProducer({ clientId: 'bench-ami-peer', bootstrapBrokers: brokers.split(','), idempotent: true, acks: ProduceAcks.ALL, compression: 'gzip' });
  const key = Buffer.from('bench:pbx:pbx1');
  try {
    return await rawPeer(async (batch) => {
      await producer.send({ messages: batch.map((value) => ({ topic, key, value })) });
    });
  } finally {
    await producer.close();
    await kjAdmin.deleteTopics({ topics: [topic] }).catch(() => {});
  }
}

const run: Record<PathName, (round: number) => Promise<Result>> = { callboard, 'callboard-kafkajs': (r) => callboard(r, AmiAdapter, false, true), json: (r) => callboard(r, AmiAdapter, true), old: (r) => callboard(r, OldAdapter), kafkajs: kafkajsPeer, platformatic: platformaticPeer };
const results = Object.fromEntries(paths.map((p) => [p, [] as Result[]])) as Record<PathName, Result[]>;
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
const load0 = loadavg();
console.log(`corpus: ${frames.toLocaleString('en-US')} AMI frames, ${(bytes.length / 1e6).toFixed(1)} MB (${values.copies} rounds of the Asterisk 22 captures); ${values.rounds} interleaved rounds after ${values.warmup} warm-up, order rotated`);
try {
  const warmup = Number(values.warmup);
  for (let r = -warmup; r < Number(values.rounds); r++) {
    const order = paths.map((_, i) => paths[(i + Math.max(r, 0)) % paths.length]!);
    for (const p of order) {
      const t0 = process.hrtime.bigint() / 1000n;
      const res = await run[p](r + warmup);
      // Under --cpu-prof: the round's span on the profile's clock (µs), to cut a profile to one path.
      if (process.execArgv.includes('--cpu-prof')) console.log(`  profile window ${p}: ${t0} ${process.hrtime.bigint() / 1000n}`);
      if (r >= 0) results[p].push(res);
      console.log(`  ${r < 0 ? 'warm-up' : `round ${r + 1}`} ${p.padEnd(12)} ${fmt(frames / res.seconds).padStart(7)} frames/s (${res.seconds.toFixed(2)} s), ${fmt(frames / res.cpuSeconds).padStart(7)} frames per CPU second; ${res.note}; load ${loadavg()[0]!.toFixed(1)}`);
    }
  }
  const rate = (p: PathName) => median(results[p].map((x) => frames / x.seconds));
  const perCpu = (p: PathName) => median(results[p].map((x) => frames / x.cpuSeconds));
  console.log('medians:');
  for (const p of paths) console.log(`  ${p.padEnd(12)} ${fmt(rate(p)).padStart(7)} frames/s, ${fmt(perCpu(p)).padStart(7)} frames per CPU second`);
  for (const ours of (['callboard', 'callboard-kafkajs'] as const).filter((x) => paths.includes(x))) {
    for (const p of paths.filter((x) => x !== ours)) console.log(`  ${ours} / ${p}: ${ratio(rate(ours), rate(p))} (frames/s), ${ratio(perCpu(ours), perCpu(p))} (per CPU second)`);
  }
  console.log(`load average (1 min) ${load0[0]!.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}`);
} finally {
  await admin.disconnect();
  await kjAdmin.disconnect();
  amiServer.close();
  peerServer.close();
  await local?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}

// The platform's Kafka client (@platformatic/kafka behind createKafka and runBatches) against a
// running broker (default: the local one on 127.0.0.1:9092): produce N messages of SIZE bytes in
// batches with acks=all, then consume them all in a consumer group, batch by partition as the
// services do. Prints messages/s and MB/s for each. Uses its own topic and deletes it.
//
//   KAFKA_BROKERS=127.0.0.1:9092 npx tsx bench/kafka-throughput.ts [--messages 100000] [--size 1024] [--batch 1000] [--partitions 3]
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { createKafka, loadConfig, runBatches } from '@callboard/platform';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '100000' },
    size: { type: 'string', default: '1024' },
    batch: { type: 'string', default: '1000' },
    partitions: { type: 'string', default: '3' },
    inflight: { type: 'string', default: '4' },
  },
});
const total = Number(values.messages);
const size = Number(values.size);
const batch = Number(values.batch);
const partitions = Number(values.partitions);
const inflight = Number(values.inflight);

const cfg = loadConfig({ overrides: { LOG_LEVEL: 'warn' } });
// Without KAFKA_BROKERS: the development broker (`callboard kafka start`), never a new one.
if (!cfg.kafka.brokers.length) cfg.kafka.brokers = ['127.0.0.1:9092'];
const kafka = createKafka(cfg, undefined, 'callboard-bench');
const topic = `bench.kafka-throughput.${process.pid}.${Date.now()}`;
const mb = (n: number) => (n * size) / (1024 * 1024);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

const admin = kafka.admin();
await admin.connect();
await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }] });
console.log(
  `kafka bench: ${fmt(total)} messages of ${size} B (${mb(total).toFixed(0)} MB), batches of ${batch}, ${inflight} in flight, ${partitions} partitions, brokers ${cfg.kafka.brokers.join(',')}`,
);

try {
  // Random bytes so nothing compresses or dedups; each message differs in its key.
  const payload = randomBytes(size);
  // A producer per worker: one producer sends one request at a time (platform/src/kafka.ts, the
  // lanes), so "in flight" means producers.
  const producers = Array.from({ length: inflight }, () => kafka.producer());
  await Promise.all(producers.map((p) => p.connect()));
  let next = 0;
  const t0 = process.hrtime.bigint();
  async function worker(producer: (typeof producers)[number]): Promise<void> {
    while (next < total) {
      const from = next;
      const n = Math.min(batch, total - from);
      next += n;
      const messages = Array.from({ length: n }, (_, i) => ({ key: String(from + i), value: payload }));
      await producer.send({ topic, acks: -1, messages });
    }
  }
  await Promise.all(producers.map(worker));
  const ps = Number(process.hrtime.bigint() - t0) / 1e9;
  await Promise.all(producers.map((p) => p.disconnect()));
  console.log(`produce  ${fmt(total / ps)} msg/s  ${(mb(total) / ps).toFixed(1)} MB/s  (${ps.toFixed(2)} s, acks=all, no compression)`);

  let got = 0;
  let bytes = 0;
  // Timed from the moment the group is joined (fetching starts then) to the last message.
  let c0 = 0n;
  const r0 = process.hrtime.bigint();
  let finished!: (seconds: number) => void;
  const done = new Promise<number>((r) => (finished = r));
  const consumer = await runBatches(kafka.connection, {
    groupId: `${topic}.g`,
    topic,
    start: 'committed',
    maxBytes: 16 * 1024 * 1024,
    maxBytesPerPartition: 4 * 1024 * 1024,
    on: { joined: () => (c0 = process.hrtime.bigint()) },
    eachBatch: async (b) => {
      for (const m of b.messages) bytes += m.value?.length ?? 0;
      got += b.messages.length;
      if (got >= total) finished(Number(process.hrtime.bigint() - c0) / 1e9);
    },
  });
  const cs = await done;
  await consumer.stop();
  if (bytes !== total * size) throw new Error(`consumed ${bytes} bytes, expected ${total * size}`);
  console.log(
    `consume  ${fmt(total / cs)} msg/s  ${(mb(total) / cs).toFixed(1)} MB/s  (${cs.toFixed(2)} s after joining the group, ${(Number(c0 - r0) / 1e9).toFixed(2)} s to join; one consumer, per-partition batches, each committed)`,
  );
} finally {
  // Our admin creates topics only; kafkajs deletes this one.
  const kjAdmin = new Kafka({ clientId: 'callboard-bench', brokers: cfg.kafka.brokers, logLevel: logLevel.NOTHING }).admin();
  await kjAdmin.connect();
  await kjAdmin.deleteTopics({ topics: [topic] }).catch(() => {});
  await kjAdmin.disconnect();
  await admin.disconnect();
}

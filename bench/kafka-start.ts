// How long the local broker takes to start with its jars already cached: a fresh data dir
// (storage format + start until the client port accepts connections), then a restart on the
// same data, and how long a clean stop takes. Uses free ports and a throwaway data dir, so it
// does not touch a broker already running on 9092.
//
//   npx tsx bench/kafka-start.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ensureKafkaJars, freePort, KAFKA_VERSION, startLocalKafka } from '@callboard/platform';


const seconds = (t0: bigint) => (Number(process.hrtime.bigint() - t0) / 1e9).toFixed(2);

const t = process.hrtime.bigint();
ensureKafkaJars();
console.log(`kafka start bench: Kafka ${KAFKA_VERSION}, jars cached (check took ${seconds(t)} s)`);
const dataDir = mkdtempSync(join(tmpdir(), 'callboard-bench-kafka-'));
const port = await freePort();
const controllerPort = await freePort();
try {
  for (const label of ['fresh data dir (format + start)', 'restart on existing data']) {
    const t0 = process.hrtime.bigint();
    const k = await startLocalKafka({ port, controllerPort, dataDir, heap: '512m' });
    const open = seconds(t0);
    // Serving, not just listening: a metadata round trip through kafkajs.
    const admin = new Kafka({ brokers: k.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const cluster = await admin.describeCluster();
    await admin.disconnect();
    const ready = seconds(t0);
    const s0 = process.hrtime.bigint();
    await k.stop();
    console.log(`${label.padEnd(32)} port open ${open} s, metadata answered ${ready} s (${cluster.brokers.length} broker), clean stop ${seconds(s0)} s`);
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}

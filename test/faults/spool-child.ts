// An ingest shell for fault 6, run by the suite under `ulimit -f` so that the disk refuses the
// larger spool entries (EFBIG; the same failed append as a full disk's ENOSPC). It cuts its own
// Kafka connection (a disconnected producer refuses every send), writes FAULT_BATCHES raw batches
// through the pipeline as the AMI adapter does (retrying until taken), reconnects once the spool
// holds entries and the disk has refused one, and prints what it wrote once Kafka has it all.
import { createKafka, createLogger, ensureTopics, loadConfig } from '@callboard/platform';
import type { RawRecord } from '@callboard/schemas';
import { IngestPipeline } from '@callboard/ingest/pipeline';
import { IngestSink } from '@callboard/ingest/sink';
import { Spool, spoolWrites } from '../../ingest/src/spool.ts';

const cfg = loadConfig();
const log = createLogger('fault-spool', 'warn');
let refused = 0;
// Settled by the spool's own error log: the disk refused an entry while others wait in the spool
// (the refused batch is retried, so the log repeats until Kafka is back).
let cutSeen: () => void = () => {};
const cut = new Promise<void>((r) => (cutSeen = r));
const slog = log.child({ component: 'spool' });
const error = slog.error.bind(slog);
slog.error = ((...args: Parameters<typeof error>) => {
  refused++;
  if (spooler.spool.entries > 0) cutSeen();
  return error(...args);
}) as typeof slog.error;

const kafka = createKafka(cfg);
const admin = kafka.admin();
await admin.connect();
await ensureTopics(admin, cfg);
await admin.disconnect();
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
await producer.connect();
const { sink, spooler } = spoolWrites(new IngestSink(producer, cfg), new Spool(process.env.FAULT_SPOOL_DIR!, 64 * 1024 * 1024), {
  cfg,
  afterMs: 1000,
  log: slog,
  maxReplayDelayMs: 500,
});
const pipeline = new IngestPipeline({ source: 'ami', tenant_id: 'acme', pbx_id: 'pbx-disk', sink, log });
process.stdout.write('ready\n');

await producer.disconnect();
const batches = Number(process.env.FAULT_BATCHES ?? 12);
let seq = 0;
const record = (): RawRecord => pipeline.rawRecord(`Event: Fault\r\nSeq: ${seq}\r\nPadding: ${'x'.repeat(400)}\r\n\r\n`, 'ami', 'disk-1', seq++, Date.now());
// Small batches fit the file limit, every third one does not.
const writing = (async () => {
  for (let b = 0; b < batches; b++) {
    const records = Array.from({ length: b % 3 === 2 ? 1200 : 20 }, record);
    await pipeline.retrying('pbx.raw.v1', () => pipeline.writeRaw(records));
  }
})();
let deadline: NodeJS.Timeout | undefined;
await Promise.race([
  cut,
  new Promise<never>((_, reject) => {
    deadline = setTimeout(() => reject(new Error(`the disk never refused a spool entry (entries ${spooler.spool.entries})`)), 60_000);
  }),
]);
clearTimeout(deadline);
const spooledWhileCut = spooler.spool.entries;
await producer.connect();
await writing;
await spooler.drained();
await spooler.close();
pipeline.close();
await producer.disconnect();
process.stdout.write(`${JSON.stringify({ written: seq, spooledWhileCut, refused })}\n`);
process.exit(0);

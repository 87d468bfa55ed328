// A projections process for the crash test: the parent SIGKILLs it at random moments. Small
// fetches and a random pause between the ClickHouse writes and the offset commit make kills land
// mid-batch, where a lost commit means the batch is delivered again.
import { Health, createClickHouse, createLogger, loadConfig } from '@callboard/platform';
import { startProjections } from '../src/main.ts';

const cfg = loadConfig();
const log = createLogger('crash-child', process.env.LOG_LEVEL ?? 'warn');
const ch = await createClickHouse(cfg, { embeddedPath: process.env.CRASH_CH_PATH! });
const p = await startProjections({
  cfg,
  log,
  health: new Health(),
  ch,
  groupId: process.env.CRASH_GROUP!,
  // Batches of tens of events (as kafkajs handed over one record batch as produced), so kills land mid-stream.
  fetch: { minBytes: 1, maxWaitTimeInMs: 50, maxBytesPerPartition: 4 * 1024, batchBytes: 16 * 1024, sessionTimeout: 6000 },
  // Says so between the ClickHouse writes and the commit (the parent kills there), then holds
  // the commit back a random moment.
  beforeCommit: () => {
    process.stdout.write('folding\n');
    return new Promise((r) => setTimeout(r, Math.random() * 80));
  },
});
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void p.stop().then(async () => {
    await ch.close();
    process.exit(0);
  });
});

// A projections process for fault 1, started and SIGKILLed by the suite. As
// projections/test/crash-child.ts (small fetches, a random pause between the ClickHouse writes and
// the offset commit, so a kill lands mid-batch), and it says `folding` on stdout before each
// commit, so the suite can kill it once it is consuming rather than while it boots.
import { Health, createClickHouse, createLogger, loadConfig } from '@callboard/platform';
import { startProjections } from '@callboard/projections/main';

const cfg = loadConfig();
const log = createLogger('fault-projections', process.env.LOG_LEVEL ?? 'warn');
const ch = await createClickHouse(cfg, { embeddedPath: process.env.FAULT_CH_PATH! });
const p = await startProjections({
  cfg,
  log,
  health: new Health(),
  ch,
  groupId: process.env.FAULT_GROUP!,
  // Batches of tens of events (as kafkajs handed over one record batch as produced), so kills land mid-stream.
  fetch: { minBytes: 1, maxWaitTimeInMs: 50, maxBytesPerPartition: 4 * 1024, batchBytes: 16 * 1024, sessionTimeout: 6000 },
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

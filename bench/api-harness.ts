// Shared by the bench/api-*.ts scripts: runs one API process (embedded ClickHouse in a throwaway
// dir, the broker from KAFKA_BROKERS, own topic prefix) so the benchmark's clients and producer
// run in another process and the API's own RSS can be read. Optionally seeds N queue legs over
// 2025 into the projections' tables (same generator as bench/projections-queries.ts) for the
// metrics benchmark. Prints one JSON line: { url, pid, tokens, board, topic }.
//   npx tsx bench/api-harness.ts [--legs 0]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger, loadConfig, topicName } from '@callboard/platform';
import { generateQueueLegs } from './synthetic-legs.ts';
import { startStack } from '../cli/stack.ts';
import { createToken } from '@callboard/api/tokens';
import { BoardStore, newBoardId, validateBoard } from '@callboard/api/boards';

const { values } = parseArgs({ options: { legs: { type: 'string', default: '0' } } });
const legs = Number(values.legs);
const dir = mkdtempSync(join(tmpdir(), 'callboard-bench-api-'));
// Gone however the process ends (a failed generator leaves gigabytes of engine data otherwise).
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'callboard.yaml');
writeFileSync(file, 'tenants:\n  - id: acme\n    timezone: Africa/Nairobi\n');
const base = loadConfig({ file: {} });
const cfg = loadConfig({
  overrides: {
    CALLBOARD_CONFIG: file,
    CALLBOARD_DATA_DIR: dir,
    CLICKHOUSE_DATABASE: 'benchapi',
    // A prefix of its own unless the benchmark names one (to read the topics it produced to).
    KAFKA_TOPIC_PREFIX: base.kafka.topicPrefix || `benchapi${Date.now()}.`,
    // Quieter than the default info: the benchmark reads this process's stdout and RSS.
    LOG_LEVEL: base.logLevel === 'info' ? 'warn' : base.logLevel,
  },
});
const log = createLogger('api-bench', cfg.logLevel);
const stack = await startStack(cfg, { kafkaTopics: true, clickhouse: true, api: { port: 0, host: '127.0.0.1' } }, { log });
const ch = stack.ch!;
const api = stack.api!;
if (legs > 0) await generateQueueLegs(ch, 'acme', legs);
const boards = new BoardStore(ch);
const board = newBoardId();
await boards.put('acme', board, validateBoard({ name: 'Bench', tiles: [{ id: 'q', kind: 'QUEUE_TABLE', x: 0, y: 0, w: 12, h: 4, queues: [] }] }), 1);
const analyst = (await createToken(ch, { tenant_id: 'acme', role: 'analyst' })).token;
const display = (await createToken(ch, { tenant_id: 'acme', role: 'display', board_id: board })).token;
for (;;) {
  if ((await fetch(`${api.url}/readyz`)).status === 200) break;
  await new Promise((r) => setTimeout(r, 200));
}
process.stdout.write(`${JSON.stringify({ url: api.url, pid: process.pid, tokens: { analyst, display }, board, topic: topicName(cfg, 'events'), brokers: cfg.kafka.brokers })}\n`);
// The throwaway dir (config, embedded engine's data) goes with the process.
const stop = () =>
  void stack
    .stop()
    .finally(() => rmSync(dir, { recursive: true, force: true }))
    .finally(() => process.exit(0));
process.on('SIGTERM', stop);
// The benchmark holds our stdin open: when it dies, so do we.
process.stdin.on('end', stop).resume();

// Fault 4's other process: it opens the embedded ClickHouse under CALLBOARD_DATA_DIR, as a
// `callboard` command run beside the stack does, and holds the engine's lock until SIGTERM.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createClickHouse, loadConfig } from '@callboard/platform';

const cfg = loadConfig();
const ch = await createClickHouse(cfg);
const ask = async () => (await ch.client.query({ query: 'SELECT 1', format: 'JSONEachRow' })).json();
await ask();
// The engine holds its lock on `status` while its session lives: say ready only once it does.
if (!existsSync(join(cfg.dataDir, 'clickhouse', 'status'))) throw new Error('the engine holds no lock');
// Busy like a running stack, so nothing lets the session go while the lock must be held.
const busy = setInterval(() => void ask(), 500);
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  clearInterval(busy);
  void ch.close().then(() => process.exit(0));
});

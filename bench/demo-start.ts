// How long `callboard start` (npm start) takes on this machine: spawn it on a fresh data dir,
// time until it prints the wallboard URL, until the simulated day of history has been replayed,
// and how long Ctrl-C takes to stop everything. Without KAFKA_BROKERS it starts its own local
// broker (on a free port, so it never collides with a development broker).
//   npx tsx bench/demo-start.ts                                   # jars cached
//   CALLBOARD_CACHE_DIR=$(mktemp -d) npx tsx bench/demo-start.ts  # jar cache empty
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheRoot, freePort } from '@callboard/platform';

const kafkaPort = await freePort();
const env = { ...process.env, CALLBOARD_DATA_DIR: mkdtempSync(join(tmpdir(), 'callboard-demo-')), KAFKA_LOCAL_PORT: String(kafkaPort), LOG_LEVEL: 'info' };
const t0 = performance.now();
const child = spawn(process.execPath, ['bin/callboard.mjs', 'start', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
const at: Record<string, number> = {};
const mark = (k: string) => (at[k] ??= (performance.now() - t0) / 1000);
child.stdout.on('data', (d: Buffer) => {
  if (d.toString().includes('Wallboard:')) mark('wallboard_url_printed_s');
});
let err = '';
child.stderr.on('data', (d: Buffer) => {
  const s = d.toString();
  err = (err + s).slice(-4000);
  if (s.includes('platform ready')) mark('kafka_and_clickhouse_ready_s');
  if (s.includes('history replayed')) mark('history_replayed_s');
});
const deadline = Date.now() + 600_000;
while (at.history_replayed_s === undefined && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
if (at.history_replayed_s === undefined) {
  console.error(`start did not finish replaying history (exit ${child.exitCode}):\n${err}`);
  child.kill('SIGKILL');
  process.exit(1);
}
const s0 = performance.now();
child.kill('SIGINT');
const code = await new Promise<number | null>((r) => child.once('exit', r));
console.log(JSON.stringify({ ...at, ctrl_c_stop_s: (performance.now() - s0) / 1000, exit_code: code, cache_dir: cacheRoot() }));

// The PBX-records step of `callboard import asterisk` (storePbxFiles: queue_log read, records
// folded, inserted into pbx_queue_legs / pbx_agent_records) on a synthetic centre's log
// (import-corpus.ts, ~41,000 lines a day), as its own process under /usr/bin/time -v so its peak
// RSS is the step's own: wall time, records stored, peak RSS, load average around it.
//   nice -n 19 npx tsx bench/import-records.ts [--days 30] [--corpus FILE.gz]
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeCorpus } from './import-corpus.ts';

const { values } = parseArgs({ options: { days: { type: 'string', default: '30' }, corpus: { type: 'string' } } });
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'callboard-bench-records-'));
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const fmt = (n: number) => Math.round(n).toLocaleString('en');
try {
  const file = values.corpus ?? join(dir, 'queue_log.gz');
  if (!values.corpus || !existsSync(file)) {
    const lines = await writeCorpus(file, { start: Date.parse('2026-01-05T00:00:00Z'), days: Number(values.days) });
    console.log(`corpus: ${values.days} days, ${fmt(lines)} lines, ${Math.round(statSync(file).size / 2 ** 20)} MB gzipped (${file})`);
  }
  const loadBefore = load();
  const t = performance.now();
  const err = await new Promise<string>((resolve, reject) => {
    const p = spawn('/usr/bin/time', ['-v', process.execPath, '--import', 'tsx', 'bench/import-records-command.ts', file], {
      cwd: ROOT,
      env: { ...process.env, CALLBOARD_DATA_DIR: dir, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    let e = '';
    p.stderr.on('data', (b: Buffer) => (e += b));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(e) : reject(new Error(`exited ${code}: ${e}`))));
  });
  const seconds = (performance.now() - t) / 1000;
  const rssKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(err)?.[1] ?? NaN);
  console.log(`records step: ${seconds.toFixed(1)} s wall, peak RSS ${Math.round(rssKb / 1024)} MB; load before ${loadBefore}, after ${load()}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

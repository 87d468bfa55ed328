// `callboard reconcile` of a month, on the synthetic centre of import-corpus.ts: the month's
// queue_log imported into the embedded ClickHouse (import → the projections' store, as in
// bench/import.ts; timed as setup), then timed: reading and computing the PBX side from the file
// (readPbx), and the whole reconciliation (runReconcile: the file, Callboard's figures for each
// day through the read path, the comparison). Peer in the same run: a plain parse loop over the
// same file. Prints the figure count and the classes found (a synthetic log agrees with itself
// apart from whole-second truncation: no unknown difference is expected).
//   npx tsx bench/reconcile.ts [--days 30] [--agents 200] [--calls-per-day 12400]
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { DEFAULT_QUEUE_SETTINGS, createClickHouse, loadConfig, migrate, readMigrations } from '@callboard/platform';
import { MIGRATIONS_DIR } from '@callboard/projections/migrations-dir';
import { readPbx, runReconcile } from '@callboard/projections/reconcile';
import { importIntoStore, writeCorpus } from './import-corpus.ts';

const { values } = parseArgs({
  options: { days: { type: 'string', default: '30' }, agents: { type: 'string', default: '200' }, 'calls-per-day': { type: 'string', default: '12400' } },
});
const days = Number(values.days);
const dir = mkdtempSync(join(tmpdir(), 'callboard-bench-reconcile-'));
const file = join(dir, 'queue_log');
// A 30-day month that starts on the 1st: November 2026.
const START = Date.parse('2026-11-01T00:00:00Z');
const lines = await writeCorpus(file, { start: START, days, agents: Number(values.agents), callsPerDay: Number(values['calls-per-day']) });
console.log(`corpus: ${days} days, ${values.agents} agents, ${values['calls-per-day']} calls a day: ${lines} lines`);

let peak = 0;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
  peak = process.memoryUsage().rss;
  const t0 = performance.now();
  const v = await f();
  const s = (performance.now() - t0) / 1000;
  console.log(
    `${name.padEnd(40)} ${s.toFixed(1).padStart(7)} s (${Math.round(lines / s).toLocaleString('en')} lines/s), peak RSS ${Math.round(peak / 2 ** 20)} MB`,
  );
  return v;
};

const cfg = loadConfig({ overrides: { CALLBOARD_DATA_DIR: dir, CLICKHOUSE_DATABASE: `bench_reconcile_${process.pid}`, LOG_LEVEL: 'warn' } });
const ch = await createClickHouse(cfg);
await migrate(ch, readMigrations(MIGRATIONS_DIR));
await timed('setup: import into ClickHouse', () => importIntoStore(ch, file, { start: START }));

await timed('peer: plain parse loop', async () => {
  let n = 0;
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) n += line.split('|').length;
  return n;
});
await timed('PBX side from the file (readPbx)', () => readPbx(file));
const r = await timed(`reconcile ${days} days (runReconcile)`, () =>
  runReconcile(ch, {
    tenant_id: 'bench',
    timezone: 'UTC',
    week_start: 'monday',
    period: 'month',
    date: '2026-11-01',
    queueLog: file,
    settings: () => DEFAULT_QUEUE_SETTINGS,
  }),
);
console.log(`  ${r.rows.length} figures, ${r.differences} differ, by class ${JSON.stringify(r.byClass)}`);
clearInterval(sampler);
await ch.close();
rmSync(dir, { recursive: true, force: true });

// `callboard import asterisk` throughput, with its peers in the same run, on a synthetic queue_log
// of a 200-agent centre (import-corpus.ts):
//   1. peer: a plain parse loop (read the file's lines, split on `|`, read the time) — the floor
//      of any importer;
//   2. import: read, parse, translate and validate through the ingest shell (importAsterisk), the
//      events counted and dropped — what the importer itself costs;
//   3. end to end into ClickHouse: the same, the events written to the embedded ClickHouse through
//      the projections' store (the consumer's I/O shell: insert, fold, derive) in batches — Kafka
//      left out (its own throughput: bench/kafka-throughput.ts, bench/projections-consume.ts);
//   4. peer of 3: the same lines inserted raw (one row per line, its fields as columns) with
//      @clickhouse/client.
// Lines/s of each, ratios, and the peak RSS of each stage.
//   npx tsx bench/import.ts [--days 7] [--e2e-days 1] [--skip-e2e]
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { createClickHouse, createLogger, loadConfig, migrate, readMigrations } from '@callboard/platform';
import type { CanonicalEvent } from '@callboard/schemas';
import { importAsterisk } from '@callboard/ingest/import/asterisk';
import { IngestPipeline } from '@callboard/ingest/pipeline';
import { MIGRATIONS_DIR } from '@callboard/projections/migrations-dir';
import { importIntoStore, writeCorpus } from './import-corpus.ts';

const { values } = parseArgs({
  options: { days: { type: 'string', default: '7' }, 'e2e-days': { type: 'string', default: '1' }, 'skip-e2e': { type: 'boolean' } },
});
const dir = mkdtempSync(join(tmpdir(), 'callboard-bench-import-'));
const log = createLogger('bench', 'warn');
const START = Date.parse('2026-01-05T00:00:00Z');

let peak = 0;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
const mb = (b: number) => `${Math.round(b / 2 ** 20)} MB`;
async function stage<T>(name: string, lines: number, f: () => Promise<T>): Promise<{ rate: number; seconds: number; value: T; cpuRate: number }> {
  global.gc?.();
  peak = process.memoryUsage().rss;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const value = await f();
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  // CPU seconds of the whole process (all its threads: GC, the embedded engine): on a shared,
  // loaded machine they say more than wall time, which includes waiting for a core.
  const cpu = (c.user + c.system) / 1e6;
  const rate = lines / seconds;
  console.log(
    `${name.padEnd(34)} ${String(lines).padStart(10)} lines in ${seconds.toFixed(1).padStart(7)} s = ${Math.round(rate).toLocaleString('en').padStart(9)} lines/s` +
      ` (${cpu.toFixed(1)} CPU s = ${Math.round(lines / cpu).toLocaleString('en')} lines per CPU s), peak RSS ${mb(peak)}`,
  );
  return { rate, seconds, value, cpuRate: lines / cpu };
}

async function plainParse(file: string): Promise<number> {
  let n = 0;
  let last = 0;
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    const f = line.split('|');
    last = Number(f[0]);
    n += f.length;
  }
  return n + last;
}

const countingSink = (counter: { events: number }) => ({
  raw: async () => [],
  canonical: async (e: CanonicalEvent[]) => void (counter.events += e.length),
  dlq: async () => {},
});

async function importOnly(file: string): Promise<number> {
  const counter = { events: 0 };
  const pipeline = new IngestPipeline({ source: 'ami', tenant_id: 'bench', pbx_id: 'pbx1', sink: countingSink(counter), log });
  const s = await importAsterisk({ queueLog: file, tenant_id: 'bench', pbx_id: 'pbx1', pipeline, received_at: START, progressOut: process.stdout });
  pipeline.close();
  if (s.rejectedLines.length) throw new Error(`rejected lines ${s.rejectedLines.slice(0, 5).join(', ')}`);
  return counter.events;
}

const days = Number(values.days);
const file = join(dir, 'queue_log');
const tg = performance.now();
const lines = await writeCorpus(file, { start: START, days });
console.log(
  `corpus: ${days} days of a 200-agent centre, ${lines} lines, ${mb(statSync(file).size)}, written in ${((performance.now() - tg) / 1000).toFixed(1)} s`,
);

const peer = await stage('peer: plain parse loop', lines, () => plainParse(file));
const imp = await stage('import: parse+translate+validate', lines, () => importOnly(file));
console.log(
  `  ${imp.value} events (${(imp.value / lines).toFixed(2)} per line); import / plain parse = ${(imp.rate / peer.rate).toFixed(3)} (per CPU s ${(imp.cpuRate / peer.cpuRate).toFixed(3)})`,
);

if (!values['skip-e2e']) {
  const e2eDays = Number(values['e2e-days']);
  const small = join(dir, 'queue_log.e2e');
  const e2eLines = await writeCorpus(small, { start: START, days: e2eDays });
  const cfg = loadConfig({ overrides: { CALLBOARD_DATA_DIR: dir, CLICKHOUSE_DATABASE: `bench_import_${process.pid}`, LOG_LEVEL: 'warn' } });
  const ch = await createClickHouse(cfg);
  await migrate(ch, readMigrations(MIGRATIONS_DIR));
  const e2e = await stage(`end to end into ClickHouse (${e2eDays} d)`, e2eLines, () =>
    importIntoStore(ch, small, { start: START, progressOut: process.stdout }),
  );
  await ch.client.command({
    query: `CREATE TABLE ${ch.db}.bench_queue_log (time DateTime('UTC'), callid String, queue String, agent String, verb LowCardinality(String), data String) ENGINE = MergeTree ORDER BY (time, callid)`,
  });
  const raw = await stage('peer: raw lines into ClickHouse', e2eLines, async () => {
    let batch: string[] = [];
    const flush = async () => {
      const body = batch.join('\n') + '\n';
      batch = [];
      await ch.client.insert({ table: `${ch.db}.bench_queue_log`, format: 'TabSeparated', values: Readable.from([Buffer.from(body)], { objectMode: false }) });
    };
    for await (const line of createInterface({ input: createReadStream(small), crlfDelay: Infinity })) {
      const f = line.split('|');
      batch.push([f[0], f[1], f[2], f[3], f[4], f.slice(5).join('|')].join('\t'));
      if (batch.length >= 100_000) await flush();
    }
    if (batch.length) await flush();
  });
  const [legs] = await (await ch.client.query({ query: `SELECT count() AS n FROM ${ch.db}.queue_legs FINAL`, format: 'JSONEachRow' })).json<{ n: string }>();
  console.log(
    `  ${legs?.n} queue legs in ClickHouse; end to end / raw insert = ${(e2e.rate / raw.rate).toFixed(3)} (per CPU s ${(e2e.cpuRate / raw.cpuRate).toFixed(3)})`,
  );
  await ch.close();
}
clearInterval(sampler);
rmSync(dir, { recursive: true, force: true });

// A synthetic year of a 200-agent centre (import-corpus.ts: ~41,000 queue_log lines a day, ~15 M a
// year) through `callboard import asterisk`'s own code path into Kafka, with the figures asked of
// it: wall time, lines/s, events produced, peak RSS (/usr/bin/time -v of the import process) and
// the load average around it. Steps:
//   1. the year written as one `.gz`, a day at a time (never held in memory);
//   2. a local broker on free ports and a throwaway data dir (or KAFKA_BROKERS), stopped by pid;
//   3. the import as its own process (import-command.ts: parse, translate, validate, produce);
//   4. in the same run, end to end into ClickHouse for --e2e-days with its raw-insert peer
//      (bench/import.ts), from which the year's end to end is extrapolated, labelled as such.
//   nice -n 10 npx tsx bench/import-year.ts [--days 365] [--e2e-days 1] [--keep]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, startLocalKafka, type LocalKafka } from '@callboard/platform';
import { writeCorpus } from './import-corpus.ts';

const { values } = parseArgs({ options: { days: { type: 'string', default: '365' }, 'e2e-days': { type: 'string', default: '1' }, keep: { type: 'boolean' } } });
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'callboard-bench-year-'));
const START = Date.parse('2026-01-05T00:00:00Z');
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
const mb = (b: number) => `${Math.round(b / 2 ** 20)} MB`;
const fmt = (n: number) => Math.round(n).toLocaleString('en');

/** Runs a child to its end; its stdout and stderr are echoed and returned. */
function child(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (b: Buffer) => ((out += b), process.stdout.write(b)));
    p.stderr.on('data', (b: Buffer) => ((err += b), process.stderr.write(b)));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? 1, out, err }));
  });
}

const loads: string[] = [];
const sampler = setInterval(() => loads.push(load()), 60_000);
let kafka: LocalKafka | undefined;
try {
  const days = Number(values.days);
  const file = join(dir, 'queue_log.gz');
  console.log(`load at start: ${load()}`);
  let t = performance.now();
  const lines = await writeCorpus(file, { start: START, days });
  console.log(`corpus: ${days} days of a 200-agent centre, ${fmt(lines)} lines, ${mb(statSync(file).size)} gzipped, written in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  let brokers = process.env.KAFKA_BROKERS;
  if (!brokers) {
    kafka = await startLocalKafka({ port: await freePort(), controllerPort: await freePort(), dataDir: join(dir, 'kafka'), heap: '512m', stopWithProcess: true });
    brokers = kafka.brokers.join(',');
    console.log(`broker: ${brokers} (pid ${kafka.pid}, data in ${dir})`);
  }
  const topicPrefix = `bench-year-${process.pid}`;
  const env = { ...process.env, KAFKA_BROKERS: brokers, KAFKA_TOPIC_PREFIX: topicPrefix, CALLBOARD_DATA_DIR: dir, LOG_LEVEL: 'warn' };
  const loadBefore = load();
  t = performance.now();
  const r = await child(
    '/usr/bin/time',
    ['-v', process.execPath, '--import', 'tsx', 'bench/import-command.ts', 'asterisk', '--queue-log', file, '--tenant', 'bench', '--pbx', 'pbx1'],
    env,
  );
  const seconds = (performance.now() - t) / 1000;
  if (r.code !== 0) throw new Error(`the import exited ${r.code}`);
  const field = (re: RegExp) => Number(re.exec(r.err)?.[1] ?? NaN);
  const events = field(/^events\s+(\d+)/m);
  const read = field(/^lines read\s+(\d+)/m);
  const rssKb = field(/Maximum resident set size \(kbytes\): (\d+)/);
  const cpu = field(/User time \(seconds\): ([\d.]+)/) + field(/System time \(seconds\): ([\d.]+)/);
  console.log(
    `\nimport of the year into Kafka: ${fmt(read)} lines in ${seconds.toFixed(0)} s = ${fmt(read / seconds)} lines/s` +
      ` (${cpu.toFixed(0)} CPU s = ${fmt(read / cpu)} lines per CPU s), ${fmt(events)} events produced (${fmt(events / seconds)}/s), peak RSS ${mb(rssKb * 1024)}` +
      `\n  load before ${loadBefore}, after ${load()}; during (each minute): ${loads.join(' | ')}`,
  );
  if (kafka) await kafka.stop();
  kafka = undefined;

  // End to end into ClickHouse of a part of the year, with its raw-insert peer, in the same run.
  const e2eDays = values['e2e-days']!;
  const e = await child(process.execPath, ['--import', 'tsx', 'bench/import.ts', '--days', e2eDays, '--e2e-days', e2eDays], { ...process.env, LOG_LEVEL: 'warn' });
  const rate = Number(/end to end into ClickHouse.*?=\s+([\d,]+) lines\/s/.exec(e.out)?.[1]?.replaceAll(',', '') ?? NaN);
  console.log(
    `\nextrapolation, not measured: the year end to end into ClickHouse at the ${e2eDays}-day rate of this run (${fmt(rate)} lines/s) would take ${(read / rate / 3600).toFixed(1)} h` +
      `\nload at the end: ${load()}`,
  );
} finally {
  clearInterval(sampler);
  await kafka?.stop();
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
}

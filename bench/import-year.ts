// A synthetic year of a 200-agent centre (import-corpus.ts: ~41,000 queue_log lines a day, ~15 M a
// year) through `callboard import asterisk`'s own code path into Kafka, with the figures asked of
// it: wall time, lines/s, events produced, peak RSS (/usr/bin/time -v of the import process) and
// the load average around it. Steps:
//   1. the year written as one `.gz`, a day at a time (never held in memory);
//   2. a local broker on free ports and a throwaway data dir (or KAFKA_BROKERS), stopped by pid;
//   3. the import as its own process (import-command.ts: parse, translate, validate, produce);
//   4. in the same run, end to end into ClickHouse for --e2e-days with its raw-insert peer
//      (bench/import.ts), from which the year's end to end is extrapolated, labelled as such.
//   nice -n 10 npx tsx bench/import-year.ts [--days 365] [--e2e-days 1 (0: none)] [--keep]
//     [--cpu-prof DIR] (a .cpuprofile of each import process in DIR)
//     [--peer-root TREE --rounds N] (the import of another checkout, e.g. main before a change,
//     run on the same file and broker, interleaved with this tree's, N rounds of both)
//     [--raw-peer] (each round also the same lines produced to Kafka as they are)
import { spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { Kafka, logLevel } from 'kafkajs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, loadConfig, startLocalKafka, type LocalKafka } from '@callboard/platform';
import { writeCorpus } from './import-corpus.ts';

const { values } = parseArgs({
  options: {
    days: { type: 'string', default: '365' },
    'e2e-days': { type: 'string', default: '1' },
    keep: { type: 'boolean' },
    'cpu-prof': { type: 'string' },
    'peer-root': { type: 'string' },
    rounds: { type: 'string', default: '1' },
    'raw-peer': { type: 'boolean' },
  },
});
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'callboard-bench-year-'));
const START = Date.parse('2026-01-05T00:00:00Z');
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
const mb = (b: number) => `${Math.round(b / 2 ** 20)} MB`;
const fmt = (n: number) => Math.round(n).toLocaleString('en');

/** Runs a child to its end; its stdout and stderr are echoed and returned. */
function child(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
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
  const t = performance.now();
  const lines = await writeCorpus(file, { start: START, days });
  console.log(`corpus: ${days} days of a 200-agent centre, ${fmt(lines)} lines, ${mb(statSync(file).size)} gzipped, written in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  let brokers = process.env.KAFKA_BROKERS;
  if (!brokers) {
    kafka = await startLocalKafka({ port: await freePort(), controllerPort: await freePort(), dataDir: join(dir, 'kafka'), heap: '512m', stopWithProcess: true });
    brokers = kafka.brokers.join(',');
    console.log(`broker: ${brokers} (pid ${kafka.pid}, data in ${dir})`);
  }
  const fieldOf = (err: string, re: RegExp) => Number(re.exec(err)?.[1] ?? NaN);
  /** One import process of the tree at `root` into topics of its own; its figures printed and returned. */
  const importRun = async (root: string, label: string, round: number): Promise<number> => {
    const env = { ...process.env, KAFKA_BROKERS: brokers, KAFKA_TOPIC_PREFIX: `bench-year-${process.pid}-${label}-${round}`, CALLBOARD_DATA_DIR: dir, LOG_LEVEL: 'warn' };
    const prof = values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']] : [];
    const loadBefore = load();
    const t = performance.now();
    const r = await child(
      '/usr/bin/time',
      ['-v', process.execPath, ...prof, '--import', 'tsx', 'bench/import-command.ts', 'asterisk', '--queue-log', file, '--tenant', 'bench', '--pbx', 'pbx1'],
      env,
      root,
    );
    const seconds = (performance.now() - t) / 1000;
    if (r.code !== 0) throw new Error(`the import (${label}) exited ${r.code}`);
    const events = fieldOf(r.err, /^events\s+(\d+)/m);
    const read = fieldOf(r.err, /^lines read\s+(\d+)/m);
    const rssKb = fieldOf(r.err, /Maximum resident set size \(kbytes\): (\d+)/);
    const cpu = fieldOf(r.err, /User time \(seconds\): ([\d.]+)/) + fieldOf(r.err, /System time \(seconds\): ([\d.]+)/);
    console.log(
      `\nimport (${label}, round ${round}) into Kafka: ${fmt(read)} lines in ${seconds.toFixed(1)} s = ${fmt(read / seconds)} lines/s` +
        ` (${cpu.toFixed(1)} CPU s = ${fmt(read / cpu)} lines per CPU s), ${fmt(events)} events produced (${fmt(events / seconds)}/s), peak RSS ${mb(rssKb * 1024)}` +
        `\n  load before ${loadBefore}, after ${load()}; during (each minute): ${loads.join(' | ')}`,
    );
    return read;
  };
  /**
   * The raw peer: the same lines produced to Kafka as they are (key the call id, 5,000 a batch,
   * idempotent, acks=all, each batch awaited), in this process: what Kafka and kafkajs cost
   * without parsing, translating or validating.
   */
  const rawPeer = async (round: number): Promise<void> => {
    const kafkaClient = new Kafka({ brokers: brokers.split(','), clientId: 'bench-raw', logLevel: logLevel.NOTHING });
    const topic = `bench-year-${process.pid}-raw-${round}`;
    // As many partitions as the import's cc.events.v1 (the config's default), made the same way.
    const admin = kafkaClient.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: loadConfig({}).kafka.partitions }] });
    await admin.disconnect();
    const producer = kafkaClient.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const loadBefore = load();
    const t = performance.now();
    const cpu = process.cpuUsage();
    let n = 0;
    let batch: { key: string; value: string }[] = [];
    const send = async () => {
      await producer.send({ topic, acks: -1, messages: batch });
      batch = [];
    };
    for await (const line of createInterface({ input: createReadStream(file).pipe(createGunzip()), crlfDelay: Infinity })) {
      n++;
      batch.push({ key: line.split('|', 2)[1] ?? '', value: line });
      if (batch.length === 5000) await send();
    }
    if (batch.length) await send();
    const seconds = (performance.now() - t) / 1000;
    const used = process.cpuUsage(cpu);
    const cpuS = (used.user + used.system) / 1e6;
    await producer.disconnect();
    console.log(
      `\nraw peer (round ${round}): the same ${fmt(n)} lines produced to Kafka as they are: ${seconds.toFixed(1)} s = ${fmt(n / seconds)} lines/s` +
        ` (${cpuS.toFixed(1)} CPU s = ${fmt(n / cpuS)} lines per CPU s)\n  load before ${loadBefore}, after ${load()}`,
    );
  };
  let read = NaN;
  for (let round = 1; round <= Number(values.rounds); round++) {
    if (values['peer-root']) await importRun(values['peer-root'], 'peer', round);
    read = await importRun(ROOT, 'tree', round);
    if (values['raw-peer']) await rawPeer(round);
  }
  if (kafka) await kafka.stop();
  kafka = undefined;

  // End to end into ClickHouse of a part of the year, with its raw-insert peer, in the same run.
  const e2eDays = values['e2e-days']!;
  if (e2eDays !== '0') {
    const e = await child(process.execPath, ['--import', 'tsx', 'bench/import.ts', '--days', e2eDays, '--e2e-days', e2eDays], { ...process.env, LOG_LEVEL: 'warn' });
    const rate = Number(/end to end into ClickHouse.*?=\s+([\d,]+) lines\/s/.exec(e.out)?.[1]?.replaceAll(',', '') ?? NaN);
    console.log(
      `\nextrapolation, not measured: the year end to end into ClickHouse at the ${e2eDays}-day rate of this run (${fmt(rate)} lines/s) would take ${(read / rate / 3600).toFixed(1)} h` +
        `\nload at the end: ${load()}`,
    );
  }
} finally {
  clearInterval(sampler);
  await kafka?.stop();
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
}

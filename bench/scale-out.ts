// Throughput of 1 and 3 `callboard projections` processes in one consumer group, in the same run:
// one 3-node Kafka cluster, one engine served over HTTP (clickhouse-front.ts), a 12-partition
// topic per round. Each round writes its events to the log first, then starts its processes and
// times from the group's first commit to its last (start-up is printed apart). Rounds
// alternate 1, 3, 1, 3, … so load drifts hit both.
//
//   npx tsx bench/scale-out.ts [--calls 3000] [--rounds 2]
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { ensureTopics, loadConfig, migrate, readMigrations, topicName } from '@callboard/platform';
import { MIGRATIONS_DIR } from '@callboard/projections/migrations-dir';
import { committed, logEnd, produce, scaleOutEvents, spawnProjections, startRig, type ProjectionsProcess } from './scale-out-harness.ts';

const { values } = parseArgs({ options: { calls: { type: 'string', default: '3000' }, rounds: { type: 'string', default: '2' } } });
const calls = Number(values.calls);
const rounds = Number(values.rounds);
const id = `so${Date.now().toString(36)}`;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

console.log(`scale-out bench: ${calls} calls a round, ${rounds} round(s) of 1 and 3 processes; load ${load()}`);
const rig = await startRig({ prefix: `${id}.`, database: `cb_${id}`, log: (m) => console.log(`[kafka] ${m}`) });
const running: ProjectionsProcess[] = [];
const results: { n: number; events: number; s: number; produceS: number; load: string }[] = [];
/** CPU seconds a child has used so far (utime + stime from /proc, in clock ticks of 1/100 s). */
const cpuOf = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
try {
  let round = 0;
  for (let r = 0; r < rounds; r++) {
    for (const n of [1, 3]) {
      round++;
      const prefix = `${id}r${round}.`;
      const database = `cb_${id}_r${round}`;
      const env = { ...rig.env, KAFKA_TOPIC_PREFIX: prefix, CLICKHOUSE_DATABASE: database };
      const cfg = loadConfig({ env: { ...env, CLICKHOUSE_URL: '' } });
      // kafkajs writes the log and reads the group's offsets: a client other than the processes'.
      const kafka = new Kafka({ clientId: 'bench-scale-out', brokers: cfg.kafka.brokers, logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      await ensureTopics(admin, cfg);
      const ch = { ...rig.ch, db: database };
      await rig.ch.client.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
      await migrate(ch, readMigrations(MIGRATIONS_DIR));
      // The log is written first, so the round times the consumers, not the producer (which
      // shares this process with the engine).
      const events = scaleOutEvents(`t${round}`, calls, Date.UTC(2026, 2, 2, 6));
      const p0 = performance.now();
      await produce(kafka, topicName(cfg, 'events'), events);
      const produceS = (performance.now() - p0) / 1000;
      const total = await logEnd(admin, cfg);
      const ownCpu0 = process.cpuUsage();
      const t0 = performance.now();
      const procs: ProjectionsProcess[] = [];
      for (let i = 0; i < n; i++) procs.push(await spawnProjections(env));
      running.push(...procs);
      // From the first commit: process start-up (tsx, joining the group) is not folding.
      let first = 0;
      let firstAt = 0;
      const deadline = Date.now() + 900_000;
      for (;;) {
        const c = await committed(admin, cfg);
        if (c > 0 && firstAt === 0) {
          first = c;
          firstAt = performance.now();
        }
        if (c >= total) break;
        if (Date.now() > deadline) throw new Error(`round ${round}: not all ${total} committed within 900 s`);
        await new Promise((res) => setTimeout(res, 100));
      }
      const end = performance.now();
      const s = (end - firstAt) / 1000;
      const rate = (total - first) / s;
      const own = process.cpuUsage(ownCpu0);
      const childCpu = procs.reduce((a, p) => a + cpuOf(p.child.pid!), 0);
      results.push({ n, events: total - first, s, produceS, load: load() });
      // This process is the engine: its CPU next to the consumers' shows which side bounds the round.
      console.log(
        `round ${round}: ${n} process(es): ${total - first} events in ${s.toFixed(1)} s after the first commit = ${Math.round(rate)} ev/s ` +
          `(from spawn: ${((end - t0) / 1000).toFixed(1)} s; produced beforehand in ${produceS.toFixed(1)} s); ` +
          `CPU: consumers ${childCpu.toFixed(1)} s incl. start-up, engine ${((own.user + own.system) / 1e6).toFixed(1)} s; load ${load()}`,
      );
      for (const p of procs) p.child.kill('SIGTERM');
      await Promise.all(procs.map((p) => p.exited));
      await admin.disconnect();
    }
  }
} finally {
  for (const p of running) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await rig.close();
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
};
for (const n of [1, 3]) {
  const rs = results.filter((x) => x.n === n);
  console.log(`${n} process(es): median ${Math.round(median(rs.map((x) => x.events / x.s)))} ev/s over ${rs.length} round(s)`);
}
console.log(`engine front served ${rig.front.statements()} statements; load at the end ${load()}`);

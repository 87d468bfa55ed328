// What the embedded engine (chdb) can give the projections consumer (issue #17), in two parts:
//   lanes   how many statements it runs at once: K single-threaded aggregations (K = the cores),
//           one after another and all at once through the same client. Were they run side by
//           side, "at once" would take 1/K of "one after another"; a ratio near 1 means one
//           statement at a time per process (the engine is one lane), so partitions folded
//           concurrently (PROJECTIONS_CONCURRENCY) overlap only their JavaScript, not their SQL.
//   events  what one canonical event costs to take into the `events` table, written as the store
//           writes it (`ProjectionStore.writeEvents`, TSV batches): the TSV build alone (no
//           insert), into a Null-engine table of the same columns (the engine's parse of the
//           rows: the floor of any insert of them), into `events` itself, and the peer the
//           plainest consumer pays: the same message bytes as one String column.
// Rounds interleaved, fresh tables each round; process CPU (the engine's threads included).
//   npx tsx bench/clickhouse-lanes.ts [--events 200000] [--batch 10000] [--rounds 3]
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createClickHouse, loadConfig, type ClickHouse } from '@callboard/platform';
import { migrateProjections } from '@callboard/projections/migrations-dir';
import { ProjectionStore, type LoggedEvent } from '@callboard/projections/store';
import { median } from './peers.ts';
import { syntheticEvents } from './synthetic-events.ts';

const { values } = parseArgs({ options: { events: { type: 'string', default: '200000' }, batch: { type: 'string', default: '10000' }, rounds: { type: 'string', default: '3' } } });
const rounds = Number(values.rounds);
const batch = Number(values.batch);
const dir = mkdtempSync(join(tmpdir(), 'callboard-bench-lanes-'));
// Gone however the process ends.
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const ch0 = await createClickHouse(loadConfig({ overrides: { CLICKHOUSE_DATABASE: 'lanes', CALLBOARD_DATA_DIR: dir, LOG_LEVEL: 'warn' } }));
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const load = () => loadavg()[0]!.toFixed(1);

// ---- lanes -----------------------------------------------------------------------------------
const k = Math.max(2, cpus().length);
// ~0.23 s each on the 2-core development machine.
const aggregation = () => ch0.client.query({ query: 'SELECT sum(cityHash64(number)) AS s FROM numbers(500000000) SETTINGS max_threads = 1', format: 'JSONEachRow' }).then((r) => r.json());
const serial: number[] = [];
const together: number[] = [];
await aggregation(); // warm-up
for (let r = 0; r < rounds; r++) {
  let t = performance.now();
  for (let i = 0; i < k; i++) await aggregation();
  serial.push(performance.now() - t);
  t = performance.now();
  await Promise.all(Array.from({ length: k }, aggregation));
  together.push(performance.now() - t);
  console.log(`lanes round ${r + 1}: ${k} single-threaded statements one after another ${serial.at(-1)!.toFixed(0)} ms, all at once ${together.at(-1)!.toFixed(0)} ms (load ${load()})`);
}
const lanes = median(together) / median(serial);
console.log(`lanes: at once / one after another = ${lanes.toFixed(2)} (1/${k} = ${(1 / k).toFixed(2)} if run side by side; ~1.00: one statement at a time)`);

// ---- events ----------------------------------------------------------------------------------
const logged: LoggedEvent[] = syntheticEvents(Number(values.events)).map((event, i) => ({ event, partition: 0, offset: i, text: JSON.stringify(event) }));
const n = logged.length;
let db = 0;
/** A fresh database with the projections' tables (and `extra` statements), made before the timing starts. */
const fresh = async (extra: (db: string) => string[] = () => []): Promise<ClickHouse> => {
  const ch = { ...ch0, db: `lanes_${db++}`, close: async () => {} };
  await ch0.client.command({ query: `CREATE DATABASE ${ch.db}` });
  await migrateProjections(ch);
  for (const query of extra(ch.db)) await ch0.client.command({ query });
  return ch;
};
const writeAll = async (store: ProjectionStore, table: string) => {
  for (let i = 0; i < n; i += batch) await store.writeEvents(logged.slice(i, i + batch), `b${i}`, table);
};
/** Each path: its tables made untimed, then the timed writes. */
const paths: Record<string, { tables?: (db: string) => string[]; write: (ch: ClickHouse) => Promise<void> }> = {
  'tsv build': {
    write: async (ch) => {
      const store = new ProjectionStore(ch);
      // The insert itself replaced by nothing: what the JavaScript side of writeEvents costs.
      (store as unknown as { insertText: () => Promise<void> }).insertText = async () => {};
      await writeAll(store, 'events');
    },
  },
  'null engine': { tables: (d) => [`CREATE TABLE ${d}.events_null AS ${d}.events ENGINE = Null`], write: (ch) => writeAll(new ProjectionStore(ch), 'events_null') },
  events: { write: (ch) => writeAll(new ProjectionStore(ch), 'events') },
  'bodies (peer)': {
    tables: (d) => [`CREATE TABLE ${d}.bodies (body String) ENGINE = MergeTree ORDER BY tuple()`],
    // JSON as the producer wrote it has no tab or newline: TabSeparatedRaw takes it unescaped.
    write: async (ch) => {
      for (let i = 0; i < n; i += batch) await ch0.client.command({ query: `INSERT INTO ${ch.db}.bodies FORMAT TabSeparatedRaw\n${logged.slice(i, i + batch).map((l) => l.text).join('\n')}\n` });
    },
  },
};
const us: Record<string, number[]> = {};
for (let r = 0; r < rounds; r++) {
  const names = Object.keys(paths);
  for (const name of names.map((_, i) => names[(i + r) % names.length]!)) {
    const ch = await fresh(paths[name]!.tables);
    const c = cpuMs();
    const t = performance.now();
    await paths[name]!.write(ch);
    const wall = performance.now() - t;
    (us[name] ??= []).push(((cpuMs() - c) * 1000) / n);
    // Dropped before the next path: its background merges are not billed to that one.
    await ch0.client.command({ query: `DROP DATABASE ${ch.db} SYNC` });
    console.log(`events round ${r + 1} ${name.padEnd(14)} ${us[name]!.at(-1)!.toFixed(1).padStart(5)} µs CPU per event, ${((wall * 1000) / n).toFixed(1)} µs wall (load ${load()})`);
  }
}
const m = Object.fromEntries(Object.entries(us).map(([k2, v]) => [k2, median(v)]));
console.log(`medians over ${rounds} rounds of ${n} events in batches of ${batch}, CPU µs per event: ${Object.entries(m).map(([k2, v]) => `${k2} ${v.toFixed(1)}`).join(', ')}`);
console.log(`engine share of an events insert: ${(m.events! - m['tsv build']!).toFixed(1)} µs (parse ${(m['null engine']! - m['tsv build']!).toFixed(1)}, storage ${(m.events! - m['null engine']!).toFixed(1)}); ratio events / bodies peer ${(m.events! / m['bodies (peer)']!).toFixed(2)}; load now ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
await ch0.close();

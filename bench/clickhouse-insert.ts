// Embedded ClickHouse (chdb through @clickhouse/client) insert throughput: JSONEachRow batches
// of call-fact-like rows into a MergeTree table, then a count to check nothing was lost.
//
//   npx tsx bench/clickhouse-insert.ts [--rows 200000] [--batch 10000] [--rounds 3]
// Each round inserts into a fresh table; the median round is reported.
// With CLICKHOUSE_URL set it measures that server instead.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createClickHouse, loadConfig } from '@callboard/platform';

const { values } = parseArgs({
  options: { rows: { type: 'string', default: '200000' }, batch: { type: 'string', default: '10000' }, rounds: { type: 'string', default: '3' } },
});
const total = Number(values.rows);
const batch = Number(values.batch);
const rounds = Number(values.rounds);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

const dataDir = mkdtempSync(join(tmpdir(), 'callboard-bench-ch-'));
const cfg = loadConfig({ overrides: { CALLBOARD_DATA_DIR: dataDir, CLICKHOUSE_DATABASE: `bench_${process.pid}` } });
const ch = await createClickHouse(cfg);
const table = `${ch.db}.bench_calls`;
const queues = ['sales', 'support', 'billing', 'vip'];
const dispositions = ['ANSWERED', 'NO ANSWER', 'BUSY', 'FAILED'];

try {
  const start = Date.UTC(2025, 9, 1);
  const rows = (from: number, n: number) =>
    Array.from({ length: n }, (_, k) => {
      const i = from + k;
      return {
        tenant_id: `t${i % 3}`,
        call_id: `1795306506.${i}`,
        queue: queues[i % queues.length],
        agent_id: String(1000 + (i % 60)),
        offered_at: new Date(start + i * 1500).toISOString().replace('T', ' ').replace('Z', ''),
        wait_ms: (i * 7919) % 120_000,
        talk_ms: (i * 104_729) % 900_000,
        disposition: dispositions[i % dispositions.length],
        event_id: `6f1c2a0e-3b0d-5c55-9a57-${i.toString(16).padStart(12, '0')}`,
      };
    });
  console.log(
    `clickhouse bench: ${fmt(total)} rows in JSONEachRow batches of ${fmt(batch)}, ${rounds} rounds, ${ch.embedded ? `embedded chdb in ${dataDir}` : cfg.clickhouse.url}`,
  );
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    await ch.client.command({ query: `DROP TABLE IF EXISTS ${table}` });
    await ch.client.command({
      query: `CREATE TABLE ${table} (
        tenant_id LowCardinality(String), call_id String, queue LowCardinality(String), agent_id String,
        offered_at DateTime64(3, 'UTC'), wait_ms UInt32, talk_ms UInt32, disposition LowCardinality(String), event_id UUID
      ) ENGINE = MergeTree PARTITION BY toYYYYMM(offered_at) ORDER BY (tenant_id, queue, offered_at, call_id)`,
    });
    let build = 0;
    const t0 = process.hrtime.bigint();
    for (let from = 0; from < total; from += batch) {
      const b0 = process.hrtime.bigint();
      const values = rows(from, Math.min(batch, total - from));
      build += Number(process.hrtime.bigint() - b0);
      await ch.client.insert({ table, values, format: 'JSONEachRow' });
    }
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    const rs = await ch.client.query({ query: `SELECT count() AS n FROM ${table}`, format: 'JSONEachRow' });
    const [{ n }] = (await rs.json()) as [{ n: number | string }];
    if (Number(n) !== total) throw new Error(`table holds ${n} rows, inserted ${total}`);
    rates.push(total / s);
    console.log(`round ${r + 1}: ${fmt(total / s)} rows/s (${s.toFixed(2)} s, of which building the rows in JS ${(build / 1e9).toFixed(2)} s)`);
  }
  rates.sort((a, b) => a - b);
  console.log(`insert  median ${fmt(rates[Math.floor(rates.length / 2)]!)} rows/s  (best ${fmt(rates.at(-1)!)})`);
} finally {
  await ch.client.command({ query: `DROP DATABASE IF EXISTS ${ch.db}` }).catch(() => {});
  await ch.close();
  rmSync(dataDir, { recursive: true, force: true });
}

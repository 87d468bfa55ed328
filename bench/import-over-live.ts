// What an import over a period the live adapter already derived costs the projections. N queued
// calls are derived as the live adapter gives them (entries at a sub-second time), then the
// queue_log's copy of each entry (its whole second, so it sorts first and becomes the leg) is
// derived in batches, as the consumer would: the rows under the live keys are found from the
// events and deleted, and their buckets recomputed (projections/README.md, "How the fold works").
// The peer, in the same run on the same data: the store without that step (`removeRows` a no-op,
// no rows of zeros), which is what the projections did before and what double-counted every leg.
// Each round derives both, in alternating order, into tenants of their own; the figure is the
// import's derive time (the live load is not timed).
//   npx tsx bench/import-over-live.ts [--calls 20000] [--batch 5000] [--rounds 2]
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createClickHouse, loadConfig } from '@callboard/platform';
import { makeEvent, type CanonicalEvent } from '@callboard/schemas';
import { migrateProjections } from '@callboard/projections/migrations-dir';
import { ProjectionStore, touchedBy } from '@callboard/projections/store';
import { queuedCall } from '../projections/test/given.ts';
import { median, ratio } from './peers.ts';

const { values } = parseArgs({ options: { calls: { type: 'string', default: '20000' }, batch: { type: 'string', default: '5000' }, rounds: { type: 'string', default: '2' } } });
const calls = Number(values.calls);
const batch = Number(values.batch);
const dir = mkdtempSync(join(tmpdir(), 'callboard-bench-iol-'));
const cfg = loadConfig({ env: { CALLBOARD_DATA_DIR: dir, CLICKHOUSE_DATABASE: 'benchiol', LOG_LEVEL: 'warn' } });
const ch = await createClickHouse(cfg);

/** The store as it was before: rows under old keys stay, no rows of zeros. */
class WithoutRemoval extends ProjectionStore {
  override async removeRows(): Promise<void> {}
  override recomputeRollup(tenant: string, buckets: number[], version: number | 'now', suffix = ''): Promise<void> {
    return super.recomputeRollup(tenant, buckets, version, suffix);
  }
}

const base = Date.parse('2026-03-02T06:00:00.437Z');
const outcomes = ['answered', 'answered', 'answered', 'abandoned', 'exited'] as const;
function live(tenant: string): CanonicalEvent[] {
  const out: CanonicalEvent[] = [];
  for (let i = 0; i < calls; i++) out.push(...queuedCall({ tenant, call_id: `c${i}`, queue: `q${i % 12}`, agent: `a${i % 150}`, at: base + i * 2000, outcome: outcomes[i % 5]!, wait_s: i % 97, talk_s: 30 + (i % 300) }));
  return out;
}
/** The queue_log's ENTERQUEUE of each call, as the importer writes it: its second, its own leg id. */
function imported(tenant: string): CanonicalEvent[] {
  return Array.from({ length: calls }, (_, i) => {
    const at = Math.floor((base + i * 2000) / 1000) * 1000;
    return makeEvent(
      'call.queued',
      { tenant_id: tenant, pbx_id: 'pbx-1', source: 'ami', occurred_at: new Date(at).toISOString(), received_at: new Date(at).toISOString(), raw_ref: { topic: 'queue_log', line: i + 1 }, vendor_key: `queue_log|${i}` },
      { call_id: `c${i}` },
      { queue: `q${i % 12}`, leg_id: `c${i}:q${i % 12}:${at / 1000}`, position: 1 },
    ) as CanonicalEvent;
  });
}

async function load(store: ProjectionStore, events: CanonicalEvent[], partition: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < events.length; i += batch) {
    const part = events.slice(i, i + batch);
    await store.writeEvents(part.map((event, j) => ({ event, partition, offset: i + j })));
    await store.derive(touchedBy(part), 'now');
  }
  return performance.now() - t0;
}

async function legs(tenant: string): Promise<number> {
  const rs = await ch.client.query({ query: `SELECT count() AS n FROM ${ch.db}.queue_legs FINAL WHERE tenant_id = {t:String}`, query_params: { t: tenant }, format: 'JSONEachRow' });
  return Number(((await rs.json()) as { n: string }[])[0]!.n);
}

// Where the removal's time goes: each DELETE timed by its table.
const deleteMs = new Map<string, number>();
const command = ch.client.command.bind(ch.client);
ch.client.command = async (params) => {
  const table = /^DELETE FROM \S+?\.(\w+)/.exec(params.query)?.[1];
  if (!table) return command(params);
  const t0 = performance.now();
  try {
    return await command(params);
  } finally {
    deleteMs.set(table, (deleteMs.get(table) ?? 0) + performance.now() - t0);
  }
};

try {
  await migrateProjections(ch);
  const results = { callboard: [] as number[], before: [] as number[] };
  console.log(`${calls.toLocaleString('en-US')} live calls, then ${calls.toLocaleString('en-US')} imported entries in batches of ${batch}; load ${loadavg()[0]!.toFixed(1)}`);
  for (let r = 0; r < Number(values.rounds); r++) {
    for (const path of r % 2 ? (['before', 'callboard'] as const) : (['callboard', 'before'] as const)) {
      const tenant = `${path}${r}`;
      const store = path === 'callboard' ? new ProjectionStore(ch) : new WithoutRemoval(ch);
      await load(store, live(tenant), 0);
      deleteMs.clear();
      const ms = await load(store, imported(tenant), 1);
      results[path].push(ms);
      const deletes = [...deleteMs].map(([t, d]) => `${t} ${(d / 1000).toFixed(2)} s`).join(', ');
      console.log(`  round ${r + 1} ${path.padEnd(9)} import derived in ${(ms / 1000).toFixed(2)} s (${Math.round((calls / ms) * 1000).toLocaleString('en-US')} entries/s)${deletes ? `, of it DELETE ${deletes}` : ''}; queue_legs ${(await legs(tenant)).toLocaleString('en-US')} (calls ${calls.toLocaleString('en-US')}); load ${loadavg()[0]!.toFixed(1)}`);
    }
  }
  const [cb, before] = [median(results.callboard), median(results.before)];
  console.log(`medians: callboard ${(cb / 1000).toFixed(2)} s, before ${(before / 1000).toFixed(2)} s; before / callboard ${ratio(before, cb)} (the cost of removing what the import re-keyed)`);
} finally {
  await ch.close();
  rmSync(dir, { recursive: true, force: true });
}

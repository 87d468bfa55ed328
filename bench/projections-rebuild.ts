// Time to rebuild the projections from N canonical events in the embedded ClickHouse. Events
// are generated with INSERT … SELECT FROM numbers() as valid canonical JSON bodies: answered
// queue calls of 5 events each (started, queued, answered, agent_completed, ended), 20 queues,
// 200 agents, over 2025. Then the peer (the engine copying the same events into a fresh table,
// INSERT … SELECT) and `rebuild()`, which replays them through the fold and swaps the tables.
//   npx tsx bench/projections-rebuild.ts [--events 10000000] [--page EVENTS (events per replay page, default rebuild's)]
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createClickHouse, createLogger, loadConfig } from '@callboard/platform';
import { rebuild } from '@callboard/projections/rebuild';
import { migrateAll } from '../cli/migrations.ts';

const { values } = parseArgs({ options: { events: { type: 'string', default: '10000000' }, page: { type: 'string' } } });
const events = Math.floor(Number(values.events) / 5) * 5;
const dir = mkdtempSync(join(tmpdir(), 'callboard-bench-rb-'));
const cfg = loadConfig({ env: { CALLBOARD_DATA_DIR: dir, CLICKHOUSE_DATABASE: 'benchrb', LOG_LEVEL: 'warn' } });
const ch = await createClickHouse(cfg);
await migrateAll(ch);
const db = ch.db;
const spacing = Math.max(1, Math.floor((365 * 86400 * 1000) / (events / 5))); // ms between calls

const t = Date.now();
await ch.client.command({
  query: `INSERT INTO ${db}.events (event_id, tenant_id, pbx_id, source, type, occurred_at, received_at, subject_kind, call_id, agent_id, queue, leg_id, body, log_partition, log_offset)
    SELECT event_id, 'bench', 'pbx', 'simulator', type, at, at, 'call', call_id, '', queue, leg_id,
      concat('{"event_id":"', toString(event_id), '","tenant_id":"bench","pbx_id":"pbx","source":"simulator","schema_version":1,"occurred_at":"', iso,
             '","received_at":"', iso, '","raw_ref":null,"type":"', type, '","call_id":"', call_id, '","payload":', payload, '}') AS body,
      0, number
    FROM (
      SELECT number, intDiv(number, 5) AS c, number % 5 AS k, generateUUIDv4(number) AS event_id,
        concat('c', toString(c)) AS call_id, concat('q', toString(c % 20)) AS queue, concat(call_id, ':', queue, ':1') AS leg_id,
        concat('a', toString(c % 200)) AS agent, (c * 7919) % 60000 AS wait, 30000 + (c * 131) % 600000 AS talk,
        toDateTime64('2025-01-01 00:00:00', 3, 'UTC') + toIntervalMillisecond(c * ${spacing} + [0, 2000, 2000 + wait, 2000 + wait + talk, 2100 + wait + talk][k + 1]) AS at,
        formatDateTime(at, '%Y-%m-%dT%H:%i:%S.000Z', 'UTC') AS iso,
        ['call.started', 'call.queued', 'call.answered', 'call.agent_completed', 'call.ended'][k + 1] AS type,
        [concat('{"direction":"inbound","caller_number":"+254700', toString(c % 100000), '","called_number":"0800"}'),
         concat('{"queue":"', queue, '","leg_id":"', leg_id, '","position":1}'),
         concat('{"agent_id":"', agent, '","queue":"', queue, '","leg_id":"', leg_id, '","wait_ms":', toString(wait), '}'),
         concat('{"agent_id":"', agent, '","queue":"', queue, '","leg_id":"', leg_id, '","reason":"caller","talk_ms":', toString(talk), '}'),
         concat('{"disposition":"ANSWERED","raw_disposition":"ANSWERED","duration_ms":', toString(2100 + wait + talk), ',"billsec_ms":', toString(talk + 100), '}')][k + 1] AS payload
      FROM numbers(${events})
    )`,
  clickhouse_settings: { max_insert_threads: '2', insert_deduplication_token: `bench-${events}` },
});
const genS = (Date.now() - t) / 1000;
// The peer: the engine's own copy of the same events into a fresh table of the same structure
// (INSERT … SELECT, no JavaScript): what reading and writing these rows costs the engine alone.
const tp = Date.now();
const cpuP = process.cpuUsage();
await ch.client.command({ query: `CREATE TABLE ${db}.events_copy AS ${db}.events` });
await ch.client.command({ query: `INSERT INTO ${db}.events_copy SELECT * FROM ${db}.events`, clickhouse_settings: { insert_deduplication_token: `copy-${events}` } });
const peerS = (Date.now() - tp) / 1000;
const peerCpu = process.cpuUsage(cpuP);
await ch.client.command({ query: `DROP TABLE ${db}.events_copy` });
const loadBefore = loadavg()[0]!.toFixed(1);
let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 200);
// Process CPU, every thread (the engine's too): under a shared machine's load the wall time
// moves with the load, the CPU per event much less.
const cpu0 = process.cpuUsage();
const stats = await rebuild(ch, createLogger('bench', 'warn'), values.page ? { pageEvents: Number(values.page) } : {});
const cpu = process.cpuUsage(cpu0);
clearInterval(sampler);
const rs = await ch.client.query({ query: `SELECT (SELECT count() FROM ${db}.calls) AS calls, (SELECT count() FROM ${db}.queue_legs) AS legs, (SELECT sum(offered) FROM ${db}.queue_15m) AS offered`, format: 'JSONEachRow' });
const counts = ((await rs.json()) as Record<string, number>[])[0]!;
await ch.close();
rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify({ events, load: `${loadBefore} → ${loadavg()[0]!.toFixed(1)}`, generate_events_s: genS, rebuild_s: stats.ms / 1000, events_per_s: Math.round(events / (stats.ms / 1000)), cpu_us_per_event: Math.round((cpu.user + cpu.system) / events),
  peer_copy_s: peerS, peer_events_per_s: Math.round(events / peerS), peer_cpu_us_per_event: Math.round((peerCpu.user + peerCpu.system) / events), peak_rss_mb: Math.round(peakRss / 1048576), stats, counts }));

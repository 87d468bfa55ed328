// Writes every tenant's business hours as open UTC intervals into `business_hours`, where the
// bi_* views read them (migration 0011): the one place a schedule reaches the engine. Queries
// of the API and reports never read this table; they apply the config's schedules directly.
import { tenantHours, type CallboardConfig, type ClickHouse, type ScheduleConfig } from '@callboard/platform';
import { chTime, toTsv } from '../sql.ts';
import { openSpans } from './hours.ts';
import { Readable } from 'node:stream';

const DAY_MS = 86_400_000;
/** The intervals reach this far past now, and back to the tenant's first leg. */
export const SYNC_AHEAD_DAYS = 400;
const ALWAYS = { start: Date.UTC(1970, 0, 1), end: Date.UTC(2299, 11, 31) };
const COLUMNS = ['tenant_id', 'queue', 'schedule', 'start', 'end', 'version'] as const;

/** Rows for one tenant over [from, to): '' for the default schedule, one set per queue with its own. */
export function businessHoursRows(cfg: Pick<CallboardConfig, 'tenants' | 'queues' | 'schedules'>, tenant: string, zone: string, from: number, to: number, version: number) {
  const h = tenantHours(cfg, tenant);
  const rows = (queue: string, s: ScheduleConfig | null) =>
    (s ? openSpans(s, zone, from, to) : [ALWAYS]).map((x) => ({ tenant_id: tenant, queue, schedule: s?.name ?? '', start: chTime(x.start), end: chTime(x.end), version }));
  return [...rows('', h.default), ...Object.entries(h.queues).flatMap(([q, s]) => rows(q, s))];
}

/** Writes a new version of every configured tenant's intervals and drops the older ones. */
export async function syncBusinessHours(ch: ClickHouse, cfg: Pick<CallboardConfig, 'tenants' | 'queues' | 'schedules'>, now = Date.now()): Promise<number> {
  let n = 0;
  for (const t of cfg.tenants) {
    const rs = await ch.client.query({
      query: `SELECT toInt64(ifNull(toUnixTimestamp64Milli(min(offered_at)), {now:Int64})) AS first FROM ${ch.db}.queue_legs WHERE tenant_id = {tenant:String}`,
      query_params: { tenant: t.id, now },
      format: 'JSONEachRow',
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    });
    const [{ first }] = (await rs.json()) as [{ first: number }];
    const from = Math.floor(Math.min(first, now) / DAY_MS) * DAY_MS - DAY_MS;
    const rows = businessHoursRows(cfg, t.id, t.timezone, from, now + SYNC_AHEAD_DAYS * DAY_MS, now);
    await ch.client.insert({
      table: `${ch.db}.business_hours`,
      columns: [...COLUMNS],
      format: 'TabSeparated',
      values: Readable.from([Buffer.from(toTsv(COLUMNS, rows))], { objectMode: false }),
    });
    await ch.client.command({ query: `ALTER TABLE ${ch.db}.business_hours DELETE WHERE tenant_id = {tenant:String} AND version < {version:UInt64}`, query_params: { tenant: t.id, version: now } });
    n += rows.length;
  }
  return n;
}

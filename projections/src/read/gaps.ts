// Gaps of the feed and data until (METRICS.md "Time and precision"): what every metrics result
// must state besides its figures. A result over a period lists the gaps of the tenant's feed that
// overlap it, and the instant its data runs to.
import type { ClickHouse } from '@callboard/platform';
import type { MetricsQuery } from '../metrics-types.ts';
import { resolvePeriod } from '../periods.ts';
import { TenantReader, instantMs, isoOf, msParam } from './scope.ts';

/** A gap of one PBX's feed: from the last moment the link was known good to the resync. */
export interface FeedGap {
  pbx_id: string;
  /** ISO-8601 UTC. Calls found ended by the resync ended here. */
  from: string;
  /** ISO-8601 UTC. */
  to: string;
  reason: string;
}

/** What a metrics result over a period states besides its rows. */
export interface ResultCoverage {
  /** ISO-8601 UTC: the period cut at the data (now for live data, the last event for a file). */
  data_until: string;
  /** Gaps of the tenant's feed overlapping [start, data_until], oldest first. */
  gaps: FeedGap[];
}

/**
 * The tenant's gaps overlapping the half-open span [from, to) (ISO-8601 instants). A gap that
 * touches the span only at an edge does not overlap it.
 */
export async function feedGaps(ch: ClickHouse, q: { tenant_id: string; from: string; to: string; pbx_id?: string }): Promise<FeedGap[]> {
  const from = instantMs(q.from, 'from');
  const to = instantMs(q.to, 'to');
  const r = new TenantReader(ch, q.tenant_id);
  const params: Record<string, unknown> = { from, to };
  let pbx = '';
  if (q.pbx_id) {
    pbx = ' AND pbx_id = {pbx:String}';
    params.pbx = q.pbx_id;
  }
  const rows = await r.rows<{ pbx_id: string; from_at: string; to_at: string; reason: string }>(
    `SELECT pbx_id, toString(from_at) AS from_at, toString(to_at) AS to_at, reason
       FROM ${r.from('source_gaps')} AND from_at < ${msParam('to')} AND to_at > ${msParam('from')}${pbx}
       ORDER BY from_at, pbx_id, to_at`,
    params,
  );
  return rows.map((g) => ({ pbx_id: g.pbx_id, from: isoOf(g.from_at), to: isoOf(g.to_at), reason: g.reason }));
}

/**
 * Data until of a query over a period: its `now` (the wall clock for live data, the last event's
 * time for a report over a file), but never past the period's end. Epoch ms.
 */
export function dataUntilMs(periodEndMs: number, now: Date | undefined): number {
  return Math.min((now ?? new Date()).getTime(), periodEndMs);
}

/** Data until and the gaps of a metrics query's period, for the result that answers it. */
export async function resultCoverage(ch: ClickHouse, q: Pick<MetricsQuery<string>, 'tenant_id' | 'timezone' | 'week_start' | 'period' | 'now'>): Promise<ResultCoverage> {
  const now = q.now ?? new Date();
  const p = resolvePeriod(q.period, { timezone: q.timezone, week_start: q.week_start }, now);
  const until = dataUntilMs(p.end.getTime(), now);
  const start = p.start.getTime();
  // A period that starts after its data still states data until; it has no gaps to list.
  const gaps = until > start ? await feedGaps(ch, { tenant_id: q.tenant_id, from: new Date(start).toISOString(), to: new Date(until).toISOString() }) : [];
  return { data_until: new Date(until).toISOString(), gaps };
}

/** The time of the tenant's last event (ISO-8601), or null when it has none: data until of a report over a file or an import. */
export async function lastEventAt(ch: ClickHouse, tenant_id: string): Promise<string | null> {
  const r = new TenantReader(ch, tenant_id);
  const [last] = await r.column<string | null>(`SELECT if(count() = 0, NULL, toString(max(occurred_at))) FROM ${r.from('events')}`);
  return last ? isoOf(last) : null;
}

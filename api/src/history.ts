// Historical metrics: the projections' read path (projections/src/read.ts) mapped onto the
// GraphQL shapes. No SQL here. Periods are resolved by the projections' period engine; a bad
// period is a BAD_PERIOD error naming what was wrong.
import { queueSettings, tenantHours, type CallboardConfig, type ClickHouse, type TenantConfig } from '@callboard/platform';
import {
  COMPARISONS,
  PeriodError,
  agentMetrics,
  comparisonPeriod,
  callMetrics,
  intraday,
  listAgents,
  listExtensions,
  listQueues,
  queueMetrics,
  resolvePeriod,
  type AgentMetricsRow,
  type CallMetricsRow,
  type Comparison,
  type Hours,
  type IntervalMinutes,
  type MetricsQuery,
  type PeriodSpec,
} from '@callboard/projections/read';
import { DateTime } from 'luxon';
import { ApiError, badInput } from './errors.ts';
import { kpiRow } from './kpi.ts';

/** GraphQL PeriodInput. */
export interface PeriodArg {
  kind: string;
  date?: string | null;
  from?: string | null;
  to?: string | null;
}
/** GraphQL MetricsFilter. */
export interface MetricsFilterArg {
  queues?: string[] | null;
  agents?: string[] | null;
  extensions?: string[] | null;
}
/** GraphQL `hours` and `compare` arguments of metrics and intraday (docs/business-hours.md). */
export interface HoursArgs {
  hours?: string | null;
  compare?: string | null;
  /** false: the query asks for no wait percentile, so its rows skip the 0.1 s wait sketch (most of a row's bytes) */
  percentiles?: boolean;
}

export interface History {
  queues(tenant: string): Promise<string[]>;
  agents(tenant: string): Promise<{ agent_id: string; agent_name: string | null }[]>;
  extensions(tenant: string): Promise<string[]>;
  metrics(tenant: string, t: TenantConfig, period: PeriodArg, groupBy: string, filter: MetricsFilterArg, opts?: HoursArgs): Promise<unknown>;
  intraday(tenant: string, t: TenantConfig, date: string | null, interval: string, filter: MetricsFilterArg, opts?: HoursArgs): Promise<unknown>;
  /**
   * The UTC interval a period argument names now (so YESTERDAY's key changes at midnight) and
   * whether it is closed (ended before now, so its answer can be reused); null for a bad period
   * (the query itself then answers BAD_PERIOD).
   */
  periodKey(t: TenantConfig, period: PeriodArg): { key: string; closed: boolean } | null;
}

/** Dates a period may name: the engine's DateTime64 ends at 2299, and no PBX event predates 1970. */
const FIRST_DATE = '1970-01-01';
const LAST_DATE = '2299-12-31';

function checkDate(d: string, field: string): string {
  if (d < FIRST_DATE || d > LAST_DATE) throw new ApiError('BAD_PERIOD', `${field} ${d} is outside ${FIRST_DATE} … ${LAST_DATE}`);
  return d;
}

export function toPeriodSpec(p: PeriodArg): PeriodSpec {
  switch (p.kind) {
    case 'DAY':
    case 'WEEK':
    case 'MONTH':
      if (!p.date) throw new ApiError('BAD_PERIOD', `period ${p.kind} needs date (YYYY-MM-DD), e.g. { kind: ${p.kind}, date: "2026-03-29" }`);
      return { kind: p.kind, date: checkDate(p.date, 'date') };
    case 'RANGE':
      if (!p.from || !p.to) throw new ApiError('BAD_PERIOD', 'period RANGE needs from and to (local dates, both included), e.g. { kind: RANGE, from: "2026-03-01", to: "2026-03-15" }');
      return { kind: 'RANGE', from: checkDate(p.from, 'from'), to: checkDate(p.to, 'to') };
    default:
      if (p.date || p.from || p.to) throw new ApiError('BAD_PERIOD', `period ${p.kind} takes no date, from or to`);
      return { kind: p.kind as 'TODAY' };
  }
}

async function periodCall<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof PeriodError) throw new ApiError('BAD_PERIOD', e.message);
    throw e;
  }
}

const queueOut = kpiRow;
const agentOut = (r: AgentMetricsRow) => ({
  ...r,
  pause_time_by_reason: Object.entries(r.pause_time_by_reason).map(([reason, seconds]) => ({ reason, seconds })),
  state_time: Object.entries(r.state_time).map(([state, seconds]) => ({ state, seconds })),
});
const callOut = (r: CallMetricsRow) => r;

const INTERVALS: Record<string, IntervalMinutes> = { MIN_15: 15, MIN_30: 30, MIN_60: 60 };
const HOURS: Record<string, Hours> = { OPEN: 'open', CLOSED: 'closed', ALL: 'all' };

function hoursOf(arg: string | null | undefined): Hours | undefined {
  if (arg === null || arg === undefined) return undefined;
  const h = HOURS[arg];
  if (!h) throw badInput(`hours ${arg} is not OPEN, CLOSED or ALL`, 'hours');
  return h;
}

function compareOf(arg: string | null | undefined): Comparison | null {
  if (arg === null || arg === undefined) return null;
  if (!COMPARISONS.includes(arg as Comparison)) throw badInput(`compare ${arg} is not ${COMPARISONS.join(', ')}`, 'compare');
  return arg as Comparison;
}

/** An intraday point is closed, open, or opens or closes inside it. */
const hoursState = (openFraction: number) => (openFraction <= 0 ? 'CLOSED' : openFraction >= 1 ? 'OPEN' : 'PARTLY_OPEN');

export function createHistory(ch: ClickHouse, cfg: CallboardConfig, now: () => number = Date.now): History {
  const base = (tenant: string, t: TenantConfig, period: PeriodSpec, filter: MetricsFilterArg, hours?: Hours) => ({
    tenant_id: tenant,
    timezone: t.timezone,
    week_start: t.week_start,
    period,
    filter: { ...(filter.queues?.length ? { queues: filter.queues } : {}), ...(filter.agents?.length ? { agents: filter.agents } : {}) },
    settings: (queue: string) => queueSettings(cfg, tenant, queue),
    queues: cfg.queues.filter((q) => q.tenant === tenant).map((q) => q.queue),
    now: new Date(now()),
    business_hours: tenantHours(cfg, tenant),
    ...(hours ? { hours } : {}),
  });
  const zoneDate = (t: TenantConfig, d: Date) => DateTime.fromJSDate(d, { zone: t.timezone }).toISODate()!;
  const resolved = (t: TenantConfig, kind: string, p: { start: Date; end: Date }) => ({
    kind,
    start: p.start.toISOString(),
    end: p.end.toISOString(),
    timezone: t.timezone,
    from: zoneDate(t, p.start),
    to: zoneDate(t, new Date(p.end.getTime() - 1)),
  });

  /** The rows of one metrics period (the asked one or its comparison). */
  async function metricRows(tenant: string, t: TenantConfig, spec: PeriodSpec, groupBy: string, filter: MetricsFilterArg, hours: Hours | undefined, percentiles: boolean): Promise<unknown[]> {
    const q = <G extends string>(g: G): MetricsQuery<G> => ({ ...base(tenant, t, spec, filter, hours), group_by: g });
    const read = { percentiles };
    switch (groupBy) {
      case 'TENANT': {
        const [qm, cm] = await Promise.all([queueMetrics(ch, q('none'), read), callMetrics(ch, q('none'))]);
        return [{ key: tenant, queue_metrics: qm[0] ? queueOut(qm[0]) : null, agent_metrics: null, call_metrics: cm[0] ? callOut(cm[0]) : null }];
      }
      case 'QUEUE':
        return (await queueMetrics(ch, q('queue'), read)).map((r) => ({ key: r.queue ?? '', queue_metrics: queueOut(r), agent_metrics: null, call_metrics: null }));
      case 'AGENT':
        return (await agentMetrics(ch, q('agent'))).map((r) => ({ key: r.agent_id ?? '', queue_metrics: null, agent_metrics: agentOut(r), call_metrics: null }));
      case 'EXTENSION':
        return (await callMetrics(ch, q('extension')))
          .filter((r) => !filter.extensions?.length || filter.extensions.includes(r.extension ?? ''))
          .map((r) => ({ key: r.extension ?? '', queue_metrics: null, agent_metrics: null, call_metrics: callOut(r) }));
      case 'DAY': {
        const [qm, cm] = await Promise.all([queueMetrics(ch, q('day'), read), callMetrics(ch, q('day'))]);
        return qm.map((r) => ({ key: r.interval ?? '', queue_metrics: queueOut(r), agent_metrics: null, call_metrics: cm.find((c) => c.interval === r.interval) ?? null }));
      }
      default:
        throw badInput(`groupBy ${groupBy} is not TENANT, QUEUE, AGENT, EXTENSION or DAY`, 'groupBy');
    }
  }

  async function intradaySeries(tenant: string, t: TenantConfig, spec: PeriodSpec, interval: string, filter: MetricsFilterArg, hours: Hours | undefined) {
    const minutes = INTERVALS[interval];
    if (!minutes) throw badInput(`interval ${interval} is not MIN_15, MIN_30 or MIN_60`, 'interval');
    const p = resolvePeriod(spec, t, new Date(now()));
    const rows = await intraday(ch, base(tenant, t, spec, filter, hours), minutes);
    return {
      date: DateTime.fromJSDate(p.start, { zone: t.timezone }).toISODate(),
      interval,
      points: rows.map((r) => ({
        start: r.start,
        local_time: DateTime.fromISO(r.start, { zone: t.timezone }).toFormat('HH:mm'),
        business_hours: hoursState(r.open_fraction),
        queue_metrics: queueOut(r),
      })),
    };
  }

  return {
    periodKey: (t, periodArg) => {
      try {
        const p = resolvePeriod(toPeriodSpec(periodArg), t, new Date(now()));
        return { key: `${p.start.toISOString()}/${p.end.toISOString()}`, closed: p.end.getTime() <= now() };
      } catch {
        return null;
      }
    },
    queues: (tenant) => listQueues(ch, tenant),
    agents: (tenant) => listAgents(ch, tenant),
    extensions: (tenant) => listExtensions(ch, tenant),

    metrics: (tenant, t, periodArg, groupBy, filter, opts = {}) =>
      periodCall(async () => {
        const spec = toPeriodSpec(periodArg);
        const hours = hoursOf(opts.hours);
        const compare = compareOf(opts.compare);
        const p = resolvePeriod(spec, t, new Date(now()));
        const cspec = compare ? comparisonPeriod(spec, compare, t, new Date(now())) : null;
        const pct = opts.percentiles ?? true;
        const [rows, crows] = await Promise.all([metricRows(tenant, t, spec, groupBy, filter, hours, pct), cspec ? metricRows(tenant, t, cspec, groupBy, filter, hours, pct) : null]);
        return {
          period: resolved(t, periodArg.kind, p),
          group_by: groupBy,
          hours: opts.hours ?? null,
          rows,
          comparison: cspec && crows ? { compare, period: resolved(t, cspec.kind, resolvePeriod(cspec, t, new Date(now()))), rows: crows } : null,
        };
      }),

    intraday: (tenant, t, date, interval, filter, opts = {}) =>
      periodCall(async () => {
        const spec: PeriodSpec = date ? { kind: 'DAY', date: checkDate(date, 'date') } : { kind: 'TODAY' };
        const hours = hoursOf(opts.hours);
        const compare = compareOf(opts.compare);
        const cspec = compare ? comparisonPeriod(spec, compare, t, new Date(now())) : null;
        const [series, cseries] = await Promise.all([intradaySeries(tenant, t, spec, interval, filter, hours), cspec ? intradaySeries(tenant, t, cspec, interval, filter, hours) : null]);
        return { ...series, hours: opts.hours ?? null, comparison: cseries ? { ...cseries, compare, comparison: null } : null };
      }),
  };
}

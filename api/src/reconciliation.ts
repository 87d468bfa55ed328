// What a metrics result states besides its figures (METRICS.md "Time and precision": data until and
// the gaps of the feed), and the `reconciliation` query against the PBX's own stored records
// (METRICS.md "Reconciliation"). Thin: the projections' read path does the reading and comparing.
import { queueSettings, type CallboardConfig, type ClickHouse, type TenantConfig } from '@callboard/platform';
import { PeriodError, dataUntilMs, feedGaps, type FeedGap } from '@callboard/projections/read';
import { reconcileStored } from '@callboard/projections/reconcile';
import type { Deadline } from './engine-gate.ts';
import { ApiError } from './errors.ts';
import { toPeriodSpec } from './history.ts';
import type { Auth, Role } from './tokens.ts';

/** The resolvers' context (resolvers.ts Ctx), as far as these read it. */
interface Ctx {
  auth: Auth;
  deadline?: Deadline;
}

export interface CoverageDeps {
  cfg: CallboardConfig;
  ch: ClickHouse;
  now: () => number;
  need: (ctx: Ctx, roles: Role[], what: string) => Auth;
  tenantOf: (auth: Auth) => TenantConfig;
  /** An engine read through the API's gate; cacheable answers are reused while their period is closed. */
  read: <T>(auth: Auth, deadline: Deadline | undefined, key: unknown[], task: () => Promise<T>, cacheable?: boolean) => Promise<T>;
  /** The UTC interval of a local day ("start/end" ISO), as the metrics queries resolve it. */
  dayKey: (t: TenantConfig, date: string) => string | null;
}

const READERS: Role[] = ['admin', 'analyst', 'supervisor'];
/** A reconciliation is an audit: for analysts (and admins), as METRICS.md's readers of the PBX's records. */
const AUDITORS: Role[] = ['admin', 'analyst'];

interface Coverage {
  data_until: string;
  gaps: FeedGap[];
}

export function coverageResolvers(d: CoverageDeps) {
  // data_until and gaps of one result share one read.
  const memo = new WeakMap<object, Promise<Coverage>>();
  const coverage = (parent: object, ctx: Ctx, span: () => { start: string; end: string } | null): Promise<Coverage> => {
    const hit = memo.get(parent);
    if (hit) return hit;
    const auth = d.need(ctx, READERS, 'query metrics');
    const s = span();
    const p = (async () => {
      if (!s) return { data_until: new Date(d.now()).toISOString(), gaps: [] };
      const start = Date.parse(s.start);
      const end = Date.parse(s.end);
      const until = dataUntilMs(end, new Date(d.now()));
      const closed = end <= d.now();
      const gaps =
        until > start
          ? await d.read(
              auth,
              ctx.deadline,
              ['gaps', s.start, until],
              () => feedGaps(d.ch, { tenant_id: auth.tenant_id, from: s.start, to: new Date(until).toISOString() }),
              closed,
            )
          : [];
      // A period that starts after its data still states data until; it has no gaps to list.
      return { data_until: new Date(until).toISOString(), gaps };
    })();
    memo.set(parent, p);
    return p;
  };
  const ofMetrics = (r: { period: { start: string; end: string } }, ctx: Ctx) => coverage(r, ctx, () => r.period);
  const ofIntraday = (r: { date: string }, ctx: Ctx) =>
    coverage(r, ctx, () => {
      const key = d.dayKey(d.tenantOf(ctx.auth), r.date);
      if (!key) return null;
      const [start, end] = key.split('/') as [string, string];
      return { start, end };
    });
  return {
    MetricsResult: {
      data_until: async (r: { period: { start: string; end: string } }, _: unknown, ctx: Ctx) => (await ofMetrics(r, ctx)).data_until,
      gaps: async (r: { period: { start: string; end: string } }, _: unknown, ctx: Ctx) => (await ofMetrics(r, ctx)).gaps,
    },
    IntradaySeries: {
      data_until: async (r: { date: string }, _: unknown, ctx: Ctx) => (await ofIntraday(r, ctx)).data_until,
      gaps: async (r: { date: string }, _: unknown, ctx: Ctx) => (await ofIntraday(r, ctx)).gaps,
    },
  };
}

interface ReconciliationArgs {
  period: 'DAY' | 'WEEK' | 'MONTH';
  date: string;
  queue?: string | null;
  agent?: string | null;
}

export function reconciliationQuery(d: CoverageDeps) {
  return async (_: unknown, args: ReconciliationArgs, ctx: Ctx) => {
    const auth = d.need(ctx, AUDITORS, 'reconcile figures against the PBX');
    const t = d.tenantOf(auth);
    // The same date bounds as the metrics queries (BAD_PERIOD outside them).
    toPeriodSpec({ kind: args.period, date: args.date });
    const period = args.period.toLowerCase() as 'day' | 'week' | 'month';
    let r;
    try {
      r = await d.read(auth, ctx.deadline, ['reconciliation', args.period, args.date, args.queue ?? null, args.agent ?? null], () =>
        reconcileStored(d.ch, {
          tenant_id: auth.tenant_id,
          timezone: t.timezone,
          week_start: t.week_start,
          period,
          date: args.date,
          settings: (q) => queueSettings(d.cfg, auth.tenant_id, q),
          now: new Date(d.now()),
          ...(args.queue ? { queue: args.queue } : {}),
          ...(args.agent ? { agent: args.agent } : {}),
        }),
      );
    } catch (e) {
      if (e instanceof PeriodError) throw new ApiError('BAD_PERIOD', e.message);
      throw e;
    }
    return {
      period: { kind: args.period, start: r.period.start, end: r.period.end, timezone: r.period.timezone, ...localSpan(r) },
      has_pbx_records: r.has_pbx_records,
      pbx_data_until: r.data_until,
      data_until: r.callboard_data_until,
      gaps: r.gaps,
      rows: r.rows.map((row) => ({
        ...row,
        scope: row.scope.toUpperCase(),
        diff: row.callboard !== null && row.pbx !== null ? row.callboard - row.pbx : null,
        classes: [...new Set(row.explanations.map((e) => e.class))],
        explanations: row.explanations.map((e) => ({ ...e, id: e.id ?? null })),
      })),
      differences: r.differences,
      unknown: r.unknown,
      by_class: r.byClass,
    };
  };
}

/** First and last local date of the reconciled period. */
function localSpan(r: { period: { start: string; end: string; timezone: string } }): { from: string; to: string } {
  const day = (ms: number) => new Intl.DateTimeFormat('en-CA', { timeZone: r.period.timezone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(ms);
  return { from: day(Date.parse(r.period.start)), to: day(Date.parse(r.period.end) - 1) };
}

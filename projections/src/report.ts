// `callboard report`: the same fold and queries as the live service, over a file of canonical
// NDJSON events, on a throwaway embedded ClickHouse. How an analyst checks "what do these events
// say", and how the metrics are tested without Kafka.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError,
  DEFAULT_QUEUE_SETTINGS,
  SL_FORMULAS,
  createClickHouse,
  loadConfig,
  parseOptions,
  parseQueueSettings,
  tenantHours,
  unknownTenant,
  UsageError,
  type ClickHouse,
  type QueueSettings,
  type TenantHours,
  type WeekStart,
} from '@callboard/platform';
import { formatIssue, validateNdjson, type CanonicalEvent } from '@callboard/schemas';
import { migrateProjections } from './migrations-dir.ts';
import { PeriodError, type PeriodSpec } from './periods.ts';
import { agentMetrics, callMetrics, queueMetrics, type Hours, type QueueGroupBy } from './queries.ts';
import { listQueues } from './read/dimensions.ts';
import { lastEventAt, resultCoverage } from './read/gaps.ts';
import { ProjectionStore, touchedBy } from './store.ts';

/** Writes events (log position = index) and derives everything from them, as one batch. */
export async function loadEvents(store: ProjectionStore, events: readonly CanonicalEvent[], opts: { rollupVersion?: number | 'now'; chunk?: number } = {}): Promise<void> {
  const chunk = opts.chunk ?? 50_000;
  for (let i = 0; i < events.length; i += chunk) {
    await store.writeEvents(events.slice(i, i + chunk).map((event, j) => ({ event, partition: 0, offset: i + j })));
  }
  await store.derive(touchedBy(events), opts.rollupVersion ?? 1);
}

export interface ReportOptions {
  tenant: string;
  timezone: string;
  week_start: WeekStart;
  period: 'day' | 'week' | 'month';
  date: string;
  group_by: 'none' | 'queue' | 'agent';
  settings: QueueSettings;
  /** Data until: open states run to it. Default: the tenant's last event (a report is over a file). */
  data_until?: Date;
  /** Business hours of the tenant (docs/business-hours.md); unset: always open. */
  business_hours?: TenantHours;
  /** Which legs the queue metrics count; unset: all, the ratios over in-hours legs. */
  hours?: Hours;
  /**
   * The queues whose thresholds the engine applies (MetricsQuery.queues), as the API passes the
   * configured ones; default every queue of the tenant's events. The figures are the same either
   * way, only the read is lighter.
   */
  queues?: readonly string[];
}

export async function report(ch: ClickHouse, o: ReportOptions) {
  const kind = o.period === 'day' ? 'DAY' : o.period === 'week' ? 'WEEK' : 'MONTH';
  const period: PeriodSpec = { kind, date: o.date };
  const last = o.data_until ?? (await lastEventAt(ch, o.tenant));
  const now = last === null ? undefined : new Date(last);
  const base = { tenant_id: o.tenant, timezone: o.timezone, week_start: o.week_start, period, settings: () => o.settings, ...(now ? { now } : {}) };
  const hours = { ...(o.business_hours ? { business_hours: o.business_hours } : {}), ...(o.hours ? { hours: o.hours } : {}) };
  const queues = o.queues ?? (await listQueues(ch, o.tenant));
  const queue = await queueMetrics(ch, { ...base, ...hours, queues, group_by: o.group_by as QueueGroupBy });
  const agents = await agentMetrics(ch, { ...base, group_by: o.group_by === 'agent' ? 'agent' : 'none' });
  const calls = await callMetrics(ch, { ...base, group_by: 'none' });
  const { data_until, gaps } = await resultCoverage(ch, base);
  const first = queue[0] ?? calls[0];
  return {
    tenant_id: o.tenant,
    timezone: o.timezone,
    week_start: o.week_start,
    period: { kind, date: o.date, start: first?.start, end: first?.end },
    data_until,
    gaps,
    settings: o.settings,
    hours: o.hours ?? null,
    units: 'durations in seconds; ratios 0..1, null when the denominator is 0',
    queue_metrics: queue,
    agent_metrics: agents,
    call_metrics: calls,
  };
}

/** Every option, for the parser and for the test that `--help` lists them all. */
export const options = {
  events: { type: 'string' },
  tenant: { type: 'string' },
  tz: { type: 'string' },
  'week-start': { type: 'string', default: 'monday' },
  period: { type: 'string' },
  date: { type: 'string' },
  'group-by': { type: 'string', default: 'none' },
  'sl-threshold': { type: 'string' },
  'short-abandon': { type: 'string' },
  'sl-formula': { type: 'string' },
  'wrap-up': { type: 'string' },
  hours: { type: 'string' },
  config: { type: 'string' },
} as const;

/** The tenant's schedules from a CALLBOARD_CONFIG file (`--config`, else the variable). */
function hoursFromConfig(file: string | undefined, tenant: string): TenantHours | undefined {
  if (!file) return undefined;
  const cfg = loadConfig({ env: { CALLBOARD_CONFIG: file } });
  return tenantHours(cfg, tenant);
}

/** Queue settings given as flags; a bad value names the flag, not the config key. */
const SETTING_FLAGS = { sl_threshold_s: 'sl-threshold', short_abandon_s: 'short-abandon', sl_formula: 'sl-formula', wrap_up_s: 'wrap-up' } as const;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseOptions(argv, options, { required: ['events', 'tenant', 'tz', 'period', 'date'] });
  if (!['day', 'week', 'month'].includes(values.period!)) throw new UsageError(`--period ${values.period}: expected day, week or month`);
  if (!['none', 'queue', 'agent'].includes(values['group-by']!)) throw new UsageError(`--group-by ${values['group-by']}: expected none, queue or agent`);
  const ws = values['week-start']!.toLowerCase();
  if (ws !== 'monday' && ws !== 'sunday') throw new UsageError(`--week-start ${ws}: expected monday or sunday`);
  if (values['sl-formula'] && !SL_FORMULAS.includes(values['sl-formula'] as never)) throw new UsageError(`--sl-formula ${values['sl-formula']}: expected one of ${SL_FORMULAS.join(', ')}`);
  const hours = values.hours?.toLowerCase();
  if (hours !== undefined && hours !== 'open' && hours !== 'closed' && hours !== 'all') throw new UsageError(`--hours ${values.hours}: expected open, closed or all`);
  const businessHours = hoursFromConfig(values.config ?? process.env.CALLBOARD_CONFIG, values.tenant!);
  if (hours && !businessHours?.default && !Object.keys(businessHours?.queues ?? {}).length) {
    throw new UsageError(`--hours ${hours}: tenant ${values.tenant} has no business-hours schedule (give --config FILE or CALLBOARD_CONFIG with one)`);
  }
  const given = Object.fromEntries(Object.entries(SETTING_FLAGS).flatMap(([key, flag]) => (values[flag] ? [[key, values[flag]]] : [])));
  let settings: QueueSettings;
  try {
    settings = parseQueueSettings('report', given, DEFAULT_QUEUE_SETTINGS);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const flag = SETTING_FLAGS[e.setting.replace(/^report\./, '') as keyof typeof SETTING_FLAGS];
    throw new UsageError(`--${flag} ${String(e.value)}: expected ${e.expected}`);
  }
  let text: string;
  try {
    text = readFileSync(values.events!, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new UsageError(`--events ${values.events}: cannot read it (${err.code === 'ENOENT' ? 'no such file' : err.message})`);
  }
  const { events, issues, lines } = validateNdjson(text);
  for (const i of issues.slice(0, 20)) process.stderr.write(`report: skipped invalid event: ${formatIssue(i)}\n`);
  // A tenant the file does not hold would report zeros, indistinguishable from a quiet period.
  const tenants = [...new Set(events.map((e) => e.tenant_id))].sort();
  if (!tenants.includes(values.tenant!)) throw unknownTenant(values.tenant!, tenants, `tenants in ${values.events}`);
  const dir = mkdtempSync(join(tmpdir(), 'callboard-report-'));
  const cfg = loadConfig({ env: { CALLBOARD_DATA_DIR: dir, CLICKHOUSE_DATABASE: 'report', LOG_LEVEL: 'warn' } });
  const ch = await createClickHouse({ ...cfg, clickhouse: { ...cfg.clickhouse, url: '' } }, { embeddedPath: join(dir, 'clickhouse') });
  try {
    await migrateProjections(ch);
    const store = new ProjectionStore(ch);
    await loadEvents(store, events);
    const out = await report(ch, {
      tenant: values.tenant!,
      timezone: values.tz!,
      week_start: ws,
      period: values.period as ReportOptions['period'],
      date: values.date!,
      group_by: values['group-by'] as ReportOptions['group_by'],
      settings,
      ...(businessHours ? { business_hours: businessHours } : {}),
      ...(hours ? { hours } : {}),
    });
    process.stdout.write(`${JSON.stringify({ ...out, input: { lines, events: events.length, invalid_lines: new Set(issues.map((i) => i.line)).size } }, null, 2)}\n`);
  } catch (e) {
    throw e instanceof PeriodError ? new UsageError(e.message) : e;
  } finally {
    await ch.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return 0;
}

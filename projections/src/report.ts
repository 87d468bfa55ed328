// `callboard report`: the same fold and queries as the live service, over a file of canonical
// NDJSON events, on a throwaway embedded ClickHouse. How an analyst checks "what do these events
// say", and how the metrics are tested without Kafka.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, DEFAULT_QUEUE_SETTINGS, SL_FORMULAS, createClickHouse, loadConfig, parseQueueSettings, type ClickHouse, type QueueSettings, type WeekStart } from '@callboard/platform';
import { formatIssue, validateNdjson, type CanonicalEvent } from '@callboard/schemas';
import { migrateProjections } from './migrations-dir.ts';
import { PeriodError, type PeriodSpec } from './periods.ts';
import { agentMetrics, callMetrics, queueMetrics, type QueueGroupBy } from './queries.ts';
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
}

export async function report(ch: ClickHouse, o: ReportOptions) {
  const kind = o.period === 'day' ? 'DAY' : o.period === 'week' ? 'WEEK' : 'MONTH';
  const period: PeriodSpec = { kind, date: o.date };
  const last = o.data_until ?? (await lastEventAt(ch, o.tenant));
  const now = last === null ? undefined : new Date(last);
  const base = { tenant_id: o.tenant, timezone: o.timezone, week_start: o.week_start, period, settings: () => o.settings, ...(now ? { now } : {}) };
  const queue = await queueMetrics(ch, { ...base, group_by: o.group_by as QueueGroupBy });
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
    units: 'durations in seconds; ratios 0..1, null when the denominator is 0',
    queue_metrics: queue,
    agent_metrics: agents,
    call_metrics: calls,
  };
}

const USAGE =
  'callboard report --events FILE --tenant ID --tz ZONE [--week-start monday|sunday] --period day|week|month --date YYYY-MM-DD [--group-by none|queue|agent] [--sl-threshold S] [--short-abandon S] [--sl-formula NAME] [--wrap-up S]';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
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
    },
  });
  for (const k of ['events', 'tenant', 'tz', 'period', 'date'] as const) {
    if (!values[k]) throw new ConfigError(`--${k}`, values[k], `a value (usage: ${USAGE})`);
  }
  if (!['day', 'week', 'month'].includes(values.period!)) throw new ConfigError('--period', values.period, 'day, week or month');
  if (!['none', 'queue', 'agent'].includes(values['group-by']!)) throw new ConfigError('--group-by', values['group-by'], 'none, queue or agent');
  const ws = values['week-start']!.toLowerCase();
  if (ws !== 'monday' && ws !== 'sunday') throw new ConfigError('--week-start', ws, 'monday or sunday');
  if (values['sl-formula'] && !SL_FORMULAS.includes(values['sl-formula'] as never)) throw new ConfigError('--sl-formula', values['sl-formula'], SL_FORMULAS.join(', '));
  const settings = parseQueueSettings(
    'report',
    {
      ...(values['sl-threshold'] ? { sl_threshold_s: values['sl-threshold'] } : {}),
      ...(values['short-abandon'] ? { short_abandon_s: values['short-abandon'] } : {}),
      ...(values['sl-formula'] ? { sl_formula: values['sl-formula'] } : {}),
      ...(values['wrap-up'] ? { wrap_up_s: values['wrap-up'] } : {}),
    },
    DEFAULT_QUEUE_SETTINGS,
  );
  let text: string;
  try {
    text = readFileSync(values.events!, 'utf8');
  } catch (e) {
    throw new ConfigError('--events', values.events, `a readable NDJSON file (${(e as Error).message})`);
  }
  const { events, issues, lines } = validateNdjson(text);
  for (const i of issues.slice(0, 20)) process.stderr.write(`report: skipped invalid event: ${formatIssue(i)}\n`);
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
    });
    process.stdout.write(`${JSON.stringify({ ...out, input: { lines, events: events.length, invalid_lines: new Set(issues.map((i) => i.line)).size } }, null, 2)}\n`);
  } catch (e) {
    if (e instanceof PeriodError) {
      process.stderr.write(`callboard report: ${e.message}\n`);
      return 2;
    }
    throw e;
  } finally {
    await ch.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return 0;
}

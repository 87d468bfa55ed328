// `callboard reconcile` (table in cli.ts): Asterisk's queue_log (run.ts) or a Yeastar CDR export (yeastar-cdr.ts). Exit codes: 0 every difference has a known cause,
// 1 a difference of unknown cause (a failed check), 2 usage, 78 configuration (ConfigError).
import { parseArgs } from 'node:util';
import { createClickHouse, isIanaZone, loadConfig, queueSettings, tenantById, UsageError } from '@callboard/platform';
import { PeriodError } from '../read.ts';
import { reconcileRecords, renderTable, type ReconcileResult, type ReconcileScope } from './run.ts';
import { reconcileCdrRead } from './yeastar-cdr.ts';
import { gatherRecords, storePbxFiles, storeYeastarCdrFile } from './stored.ts';

/** A usage error: cli/main.ts prints it with the command's usage line and exits 2. */
function usage(msg: string): never {
  throw new UsageError(msg);
}

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'queue-log': { type: 'string' },
        cdr: { type: 'string' },
        'yeastar-cdr': { type: 'string' },
        'date-order': { type: 'string' },
        tenant: { type: 'string' },
        pbx: { type: 'string' },
        period: { type: 'string' },
        date: { type: 'string' },
        tz: { type: 'string' },
        json: { type: 'boolean' },
      },
    }));
  } catch (e) {
    return usage((e as Error).message);
  }
  if (!values.tenant || !values.period || !values.date) return usage('--tenant, --period and --date are required');
  if (!values['queue-log'] === !values['yeastar-cdr']) return usage('one of --queue-log (Asterisk) or --yeastar-cdr (a Yeastar CDR export) is required');
  const order = (values['date-order'] ?? 'mdy').toUpperCase();
  if (order !== 'MDY' && order !== 'DMY') return usage(`--date-order ${values['date-order']}: expected mdy or dmy (the PBX's date display format)`);
  const period = values.period.toLowerCase();
  if (period !== 'day' && period !== 'week' && period !== 'month') return usage(`--period ${values.period}: expected day, week or month`);
  if (values.tz && !isIanaZone(values.tz)) return usage(`--tz ${values.tz}: expected an IANA time zone such as Europe/Rome`);
  const cfg = loadConfig();
  const tenant = tenantById(cfg, values.tenant);
  const timezone = values.tz ?? tenant?.timezone ?? 'UTC';
  const scope: ReconcileScope = {
    tenant_id: values.tenant,
    timezone,
    week_start: tenant?.week_start ?? 'monday',
    period,
    date: values.date,
    settings: (q) => queueSettings(cfg, values.tenant!, q),
  };
  const ch = await createClickHouse(cfg);
  const print = (r: ReconcileResult) => {
    process.stdout.write(values.json ? JSON.stringify(r, null, 2) + '\n' : renderTable(r));
    return r.unknown > 0 ? 1 : 0;
  };
  try {
    if (values['yeastar-cdr']) {
      // Yeastar writes CDR times in the PBX's zone without an offset: the tenant's zone or --tz.
      if (!values.tz && !tenant) return usage(`--tz is required: tenant ${values.tenant} is not configured, and Yeastar CDR times are the PBX's local time`);
      // Kept for the GraphQL reconciliation query and bi_reconciliation, as `import yeastar` keeps it.
      const read = await storeYeastarCdrFile(
        ch,
        { tenant_id: values.tenant, pbx_id: values.pbx ?? '' },
        { cdr: values['yeastar-cdr'], timezone, order, queues: cfg.queues.filter((q) => q.tenant === values.tenant).map((q) => q.queue) },
      );
      return print(await reconcileCdrRead(ch, scope, read));
    }
    const queueLog = values['queue-log']!;
    // Kept for the GraphQL reconciliation query and bi_reconciliation (docs/import.md).
    const records = gatherRecords();
    const { rejected } = await storePbxFiles(
      ch,
      { tenant_id: values.tenant, pbx_id: values.pbx ?? '', source: 'queue_log' },
      { queueLog, ...(values.cdr ? { cdr: values.cdr } : {}), timezone },
      { onRecords: records.add },
    );
    return print(await reconcileRecords(ch, scope, records.records(), rejected));
  } catch (e) {
    if (e instanceof PeriodError || /no such file|not a regular file|not a Yeastar CDR export/.test((e as Error).message)) return usage((e as Error).message);
    throw e;
  } finally {
    await ch.close();
  }
}

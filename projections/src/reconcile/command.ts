// `callboard reconcile` (table in cli.ts). Exit codes: 0 every difference has a known cause,
// 1 a difference of unknown cause (a failed check), 2 usage, 78 configuration (ConfigError).
import { parseArgs } from 'node:util';
import { createClickHouse, isIanaZone, loadConfig, queueSettings, tenantById, UsageError } from '@callboard/platform';
import { PeriodError } from '../read.ts';
import { reconcileRecords, renderTable } from './run.ts';
import { storePbxFiles } from './stored.ts';

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
  if (!values['queue-log'] || !values.tenant || !values.period || !values.date) return usage('--queue-log, --tenant, --period and --date are required');
  const period = values.period.toLowerCase();
  if (period !== 'day' && period !== 'week' && period !== 'month') return usage(`--period ${values.period}: expected day, week or month`);
  if (values.tz && !isIanaZone(values.tz)) return usage(`--tz ${values.tz}: expected an IANA time zone such as Europe/Rome`);
  const cfg = loadConfig();
  const tenant = tenantById(cfg, values.tenant);
  const timezone = values.tz ?? tenant?.timezone ?? 'UTC';
  const ch = await createClickHouse(cfg);
  try {
    // Kept for the GraphQL reconciliation query and bi_reconciliation (docs/import.md).
    const { records, rejected } = await storePbxFiles(
      ch,
      { tenant_id: values.tenant, pbx_id: values.pbx ?? '', source: 'queue_log' },
      { queueLog: values['queue-log'], ...(values.cdr ? { cdr: values.cdr } : {}), timezone },
    );
    const r = await reconcileRecords(
      ch,
      {
        tenant_id: values.tenant,
        timezone,
        week_start: tenant?.week_start ?? 'monday',
        period,
        date: values.date,
        settings: (q) => queueSettings(cfg, values.tenant!, q),
      },
      records,
      rejected,
    );
    process.stdout.write(values.json ? JSON.stringify(r, null, 2) + '\n' : renderTable(r));
    return r.unknown > 0 ? 1 : 0;
  } catch (e) {
    if (e instanceof PeriodError || /no such file|not a regular file/.test((e as Error).message)) return usage((e as Error).message);
    throw e;
  } finally {
    await ch.close();
  }
}

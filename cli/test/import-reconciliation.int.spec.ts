// `callboard import asterisk` (cli/import.ts, in process, through the real broker and the
// projections) then the GraphQL `reconciliation` query with no `callboard reconcile` in between:
// the import kept the PBX's own records. Imported twice, each record is stored once. Needs ../shared.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPbx } from '@callboard/projections/reconcile';
import { createToken } from '../../api/src/tokens.ts';
import { gql } from '../../api/test/client.ts';
import { importHistory } from '../import.ts';
import { uniqueId } from '../../test/helpers.ts';
import { startImportStack, type ImportStack } from './import-harness.ts';

const SCENARIO = join(import.meta.dirname, '../../../shared/fixtures/ami/asterisk22/c_ringnoanswer');
const present = existsSync(SCENARIO);
const tenant = uniqueId('imp');
let stack: ImportStack;

const queueLog = join(SCENARIO, 'queue_log');
const cdr = join(SCENARIO, 'cdr.csv');
const day = () => new Date(Number(readFileSync(queueLog, 'utf8').split('|')[0]) * 1000).toISOString().slice(0, 10);

describe.skipIf(!present)('import asterisk keeps the PBX records: GraphQL reconciliation right after', () => {
  beforeAll(async () => {
    stack = await startImportStack(tenant, 'UTC');
  });
  afterAll(async () => stack?.stop());

  it('imported twice: the query sets the same figures side by side, each PBX record stored once', async () => {
    const argv = ['asterisk', '--queue-log', queueLog, '--cdr', cdr, '--tenant', tenant, '--pbx', 'pbx1'];
    expect(await importHistory(argv, stack.ch)).toBe(0);
    expect(await importHistory(argv, stack.ch)).toBe(0);
    await stack.caughtUp();
    const { records } = await readPbx(queueLog, cdr);
    expect(records.legs.length).toBeGreaterThan(0);
    expect(await stack.count('pbx_queue_legs')).toBe(records.legs.length);
    expect(await stack.count('pbx_agent_records')).toBe(records.missed.length + records.pauses.length + records.calls.length + records.transfers.length);
    expect(await stack.count('pbx_imports')).toBe(1);

    const token = (await createToken(stack.ch, { tenant_id: tenant, role: 'analyst' })).token;
    const r = await gql<{
      reconciliation: {
        has_pbx_records: boolean;
        unknown: number;
        rows: { scope: string; key: string; metric: string; callboard: number; pbx: number; classes: string[] }[];
      };
    }>(
      stack.apiUrl,
      token,
      `query($d: Date!) { reconciliation(period: DAY, date: $d) { has_pbx_records unknown rows { scope key metric callboard pbx classes } } }`,
      { d: day() },
    );
    expect(r.errors).toBeUndefined();
    const x = r.data!.reconciliation;
    expect(x.has_pbx_records).toBe(true);
    expect(x.unknown, JSON.stringify(x.rows.filter((row) => row.classes.includes('unknown')))).toBe(0);
    const offered = x.rows.filter((row) => row.scope === 'QUEUE' && row.metric === 'offered');
    expect(offered.reduce((n, row) => n + row.pbx, 0)).toBe(records.legs.length);
    // Imported twice, counted once on Callboard's side too.
    expect(offered.reduce((n, row) => n + row.callboard, 0)).toBe(records.legs.length);
    const missed = x.rows.filter((row) => row.scope === 'AGENT' && row.metric === 'missed');
    expect(missed.reduce((n, row) => n + row.pbx, 0)).toBe(records.missed.length);
  });
});

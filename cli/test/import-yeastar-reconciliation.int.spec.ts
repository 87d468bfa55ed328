// `callboard import yeastar --cdr` (cli/import.ts, in process, through the real broker and the
// projections) then the GraphQL `reconciliation` query and bi_reconciliation with no `callboard
// reconcile` in between: the import kept the CDR's calls as the PBX side. Callboard's side is the
// live P-Series stream of the same calls (translated by the live translator, folded into the same
// ClickHouse): a queue call answered, one not answered, a direct call answered at 1002. Imported
// twice, each record is stored once and every figure agrees.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { translateYeastarText } from '@callboard/ingest/yeastar/offline';
import { loadEvents } from '@callboard/projections/report';
import { ProjectionStore } from '@callboard/projections/store';
import { createToken } from '../../api/src/tokens.ts';
import { gql } from '../../api/test/client.ts';
import { importHistory } from '../import.ts';
import { uniqueId } from '../../test/helpers.ts';
import { DAY, HEADER, ROWS, STREAM, ZONE } from '../../projections/test/yeastar-cdr-calls.ts';
import { startImportStack, type ImportStack } from './import-harness.ts';

const tenant = uniqueId('yimp');
let stack: ImportStack;
const cdr = join(mkdtempSync(join(tmpdir(), 'import-ycdr-')), 'cdr.csv');
writeFileSync(cdr, [HEADER, ...ROWS].join('\r\n') + '\r\n');

describe('import yeastar keeps the CDR as the PBX records: GraphQL reconciliation and bi_reconciliation right after', () => {
  beforeAll(async () => {
    stack = await startImportStack(tenant, ZONE, async (ch) => {
      const live = translateYeastarText(STREAM, { source: 'yeastar-p', tenant_id: tenant, pbx_id: 'y1', timezone: ZONE, queues: ['6400'] });
      expect(live.dlq).toEqual([]);
      await loadEvents(new ProjectionStore(ch), live.events, { rollupVersion: 'now' });
    });
  });
  afterAll(async () => stack?.stop());

  it('imported twice: every figure agrees, each CDR call stored once', async () => {
    const argv = ['yeastar', '--cdr', cdr, '--tenant', tenant, '--pbx', 'y1', '--tz', ZONE];
    expect(await importHistory(argv, stack.ch)).toBe(0);
    expect(await importHistory(argv, stack.ch)).toBe(0);
    await stack.caughtUp();
    // Two queue calls (A, B), one direct call (C), one import.
    expect(await stack.count('pbx_queue_legs')).toBe(2);
    expect(await stack.count('pbx_agent_records')).toBe(1);
    expect(await stack.count('pbx_imports')).toBe(1);

    const token = (await createToken(stack.ch, { tenant_id: tenant, role: 'analyst' })).token;
    const r = await gql<{
      reconciliation: {
        has_pbx_records: boolean;
        pbx_data_until: string;
        unknown: number;
        differences: number;
        rows: { scope: string; key: string; metric: string; callboard: number; pbx: number; classes: string[] }[];
      };
    }>(
      stack.apiUrl,
      token,
      `query($d: Date!) { reconciliation(period: DAY, date: $d) { has_pbx_records pbx_data_until unknown differences rows { scope key metric callboard pbx classes } } }`,
      { d: DAY },
    );
    expect(r.errors).toBeUndefined();
    const x = r.data!.reconciliation;
    const table = JSON.stringify(x.rows);
    expect(x.has_pbx_records).toBe(true);
    expect(x.pbx_data_until).toBe('2026-09-24T06:07:45.000Z');
    expect(x.unknown, table).toBe(0);
    expect(x.differences, table).toBe(0);
    const fig = (scope: string, key: string, metric: string) => x.rows.find((row) => row.scope === scope && row.key === key && row.metric === metric);
    expect(fig('QUEUE', '6400', 'offered')).toMatchObject({ callboard: 2, pbx: 2 });
    expect(fig('QUEUE', '6400', 'answered')).toMatchObject({ callboard: 1, pbx: 1 });
    expect(fig('QUEUE', '6400', 'unanswered')).toMatchObject({ callboard: 1, pbx: 1 });
    expect(fig('QUEUE', '6400', 'talk')).toMatchObject({ callboard: 88, pbx: 88 });
    expect(fig('AGENT', '1002', 'handled_direct')).toMatchObject({ callboard: 1, pbx: 1 });

    const rs = await stack.ch.client.query({
      query: `SELECT * FROM ${stack.ch.db}.bi_reconciliation(tenant = {t:String}, tz = {tz:String}, sl_threshold_s = 20, from = {d:Date}, to = {d:Date})`,
      query_params: { t: tenant, tz: ZONE, d: DAY },
      format: 'JSONEachRow',
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    });
    const bi = await rs.json<Record<string, unknown>>();
    expect(bi).toHaveLength(1);
    expect(bi[0]).toMatchObject({
      queue: '6400',
      callboard_offered: 2,
      pbx_offered: 2,
      callboard_answered: 1,
      pbx_answered: 1,
      pbx_unanswered: 1,
      callboard_talk: 88,
      pbx_talk: 88,
      legs_ok: 2,
      legs_unknown: 0,
      legs_missing: 0,
    });
  });
});

// `callboard reconcile --yeastar-cdr`: a Yeastar P-Series stream (a queue call answered, one
// abandoned, a direct call answered) translated by the live translator and folded into the
// embedded ClickHouse, then compared with the CDR export of the same calls: every figure agrees.
// The export altered — a status changed, a row removed — gives an unknown naming the call, and a
// missing call naming its line.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_QUEUE_SETTINGS, createClickHouse, migrate, readMigrations, type ClickHouse } from '@callboard/platform';
import { translateYeastarText } from '@callboard/ingest/yeastar/offline';
import { MIGRATIONS_DIR } from '../src/migrations-dir.ts';
import { loadEvents } from '../src/report.ts';
import { renderTable } from '../src/reconcile/run.ts';
import { reconcileYeastarCdr } from '../src/reconcile/yeastar-cdr.ts';
import { ProjectionStore } from '../src/store.ts';
import { testConfig, uniqueId } from '../../test/helpers.ts';
import { A, C, DAY, HEADER, ROWS, STREAM, ZONE } from './yeastar-cdr-calls.ts';

const dir = mkdtempSync(join(tmpdir(), 'reconcile-ycdr-'));
const exportOf = (name: string, rows: string[]) => {
  const p = join(dir, name);
  writeFileSync(p, [HEADER, ...rows].join('\r\n') + '\r\n');
  return p;
};

let ch: ClickHouse;
const tenant = uniqueId('ycdr');
const scope = (cdr: string) => ({
  tenant_id: tenant,
  timezone: ZONE,
  week_start: 'monday' as const,
  period: 'day' as const,
  date: DAY,
  settings: () => DEFAULT_QUEUE_SETTINGS,
  cdr,
  queues: ['6400'],
});

beforeAll(async () => {
  ch = await createClickHouse(testConfig());
  await migrate(ch, readMigrations(MIGRATIONS_DIR));
  const t = translateYeastarText(STREAM, { source: 'yeastar-p', tenant_id: tenant, pbx_id: 'y1', timezone: ZONE, queues: ['6400'] });
  expect(t.dlq).toEqual([]);
  await loadEvents(new ProjectionStore(ch), t.events, { rollupVersion: 'now' });
});
afterAll(async () => ch?.close());

describe('reconcile --yeastar-cdr', () => {
  it('the export of the same calls: every figure agrees', async () => {
    const r = await reconcileYeastarCdr(ch, scope(exportOf('same.csv', ROWS)));
    const fig = (scope: string, key: string, metric: string) => r.rows.find((x) => x.scope === scope && x.key === key && x.metric === metric);
    expect(r.unknown, renderTable(r)).toBe(0);
    expect(r.differences, renderTable(r)).toBe(0);
    expect(fig('queue', '6400', 'offered')).toMatchObject({ callboard: 2, pbx: 2 });
    expect(fig('queue', '6400', 'answered')).toMatchObject({ callboard: 1, pbx: 1 });
    expect(fig('queue', '6400', 'unanswered')).toMatchObject({ callboard: 1, pbx: 1 });
    expect(fig('queue', '6400', 'talk')).toMatchObject({ callboard: 88, pbx: 88 });
    expect(fig('agent', '1002', 'handled_direct')).toMatchObject({ callboard: 1, pbx: 1 });
    expect(renderTable(r)).toContain('Yeastar CDR data until 2026-09-24T06:07:45.000Z');
  });

  it('an altered export: a changed status is of unknown cause naming the call, a removed row is missing', async () => {
    const altered = [ROWS[0]!.replace(',88,ANSWERED,', ',0,NO ANSWER,'), ROWS[1]!];
    const r = await reconcileYeastarCdr(ch, scope(exportOf('altered.csv', altered)));
    expect(r.unknown).toBeGreaterThan(0);
    const classed = r.rows.flatMap((x) => x.explanations.map((e) => `${x.key} ${x.metric} ${e.class} ${e.id}`));
    expect(classed).toContain(`6400 answered unknown call ${A} (CDR line 2)`);
    expect(classed).toContain(`1002 handled_direct missing call ${C}`);
  });
});

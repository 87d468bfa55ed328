// The PBX records of `callboard import asterisk` and `callboard reconcile` stored as they are read
// (storePbxFiles, a batch every few lines): in ClickHouse they must be the rows the whole file
// read at once and stored in one go gives, what the import covered (pbx_imports) included. The
// generated log has calls straddling every batch; the a_answered fixture needs ../shared.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse, migrate, readMigrations, type ClickHouse } from '@callboard/platform';
import { MIGRATIONS_DIR } from '../src/migrations-dir.ts';
import type { PbxRecords } from '../src/reconcile/figures.ts';
import { readPbx } from '../src/reconcile/run.ts';
import { loadPbxRecords, storePbxFiles, storePbxRecords } from '../src/reconcile/stored.ts';
import { generatedLog } from './generated-queue-log.ts';
import { testConfig, uniqueId } from '../../test/helpers.ts';

const FIXTURES = join(import.meta.dirname, '../../../shared/fixtures/ami/asterisk22');
const dir = mkdtempSync(join(tmpdir(), 'callboard-reconcile-stream-int-'));
let ch: ClickHouse;

beforeAll(async () => {
  ch = await createClickHouse(testConfig());
  await migrate(ch, readMigrations(MIGRATIONS_DIR));
});
afterAll(async () => {
  await ch?.close();
  rmSync(dir, { recursive: true, force: true });
});

const ALL_TIME: [number, number] = [Date.parse('2000-01-01T00:00:00Z'), Date.parse('2100-01-01T00:00:00Z')];

async function imports(tenant: string) {
  const rs = await ch.client.query({
    query: `SELECT pbx_id, toString(first_at) AS first_at, toString(data_until) AS data_until, legs FROM ${ch.db}.pbx_imports FINAL WHERE tenant_id = {t:String}`,
    query_params: { t: tenant },
    format: 'JSONEachRow',
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
  });
  return rs.json<Record<string, unknown>>();
}

/** Stored records in an order that does not depend on when each was inserted. */
const canonical = (r: PbxRecords) => {
  const by = <T>(xs: T[]) => xs.map((x) => JSON.stringify(x)).sort();
  return { legs: by(r.legs), transfers: by(r.transfers), missed: by(r.missed), pauses: by(r.pauses), calls: by(r.calls), data_until: r.data_until };
};

/** Stores `files` streamed in batches of `batchLines` and whole, each under its own tenant, and compares what is stored. */
async function storedBothWays(files: { queueLog: string; cdr?: string }, batchLines: number) {
  const streamed = uniqueId('rs-s');
  const whole = uniqueId('rs-w');
  let batches = 0;
  const summary = await storePbxFiles(ch, { tenant_id: streamed, pbx_id: 'pbx1', source: 'queue_log' }, files, { batchLines, onRecords: () => void batches++ });
  const read = await readPbx(files.queueLog, files.cdr);
  await storePbxRecords(ch, { tenant_id: whole, pbx_id: 'pbx1', source: 'queue_log' }, read.records);
  const a = await loadPbxRecords(ch, streamed, ...ALL_TIME);
  const b = await loadPbxRecords(ch, whole, ...ALL_TIME);
  expect(a.legs.length).toBe(read.records.legs.length);
  expect(canonical(a)).toEqual(canonical(b));
  expect(a.imports).toBe(1);
  expect(await imports(streamed)).toEqual(await imports(whole));
  expect(summary.rejected).toEqual(read.rejected);
  return { batches, legs: summary.legs };
}

describe('PBX records stored as they are read', () => {
  it('a generated three-day log in batches of 97 lines: the same rows as the whole file stored at once', async () => {
    const file = join(dir, 'queue_log.gz');
    writeFileSync(file, gzipSync(generatedLog(3)));
    const { batches, legs } = await storedBothWays({ queueLog: file }, 97);
    expect(legs).toBeGreaterThan(1000);
    expect(batches).toBeGreaterThan(30);
  });

  it.skipIf(!existsSync(FIXTURES))('asterisk22 a_answered with its CDR, a batch a line: the same rows', async () => {
    const s = join(FIXTURES, 'a_answered');
    const { batches } = await storedBothWays({ queueLog: join(s, 'queue_log'), cdr: join(s, 'cdr.csv') }, 1);
    expect(batches).toBeGreaterThan(2);
  });
});

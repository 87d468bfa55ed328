// Migrations against the real (embedded, or CLICKHOUSE_URL) ClickHouse: applied once each,
// safe when two services migrate at the same start-up, and a changed migration is refused.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse, migrate, readMigrations, type ClickHouse, type Migration } from '../src/clickhouse.ts';
import { testConfig } from '../../test/helpers.ts';

function migrationsDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'callboard-migrations-'));
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql);
  return dir;
}

async function rows<T>(ch: ClickHouse, query: string): Promise<T[]> {
  return (await ch.client.query({ query, format: 'JSONEachRow' })).json<T>();
}

describe('ClickHouse migrations', () => {
  const cfg = testConfig();
  let ch: ClickHouse;
  beforeAll(async () => {
    ch = await createClickHouse(cfg);
  });
  afterAll(async () => {
    await ch?.close();
  });

  it('reads numbered .sql files in version order and ignores anything else', () => {
    const dir = migrationsDir({
      '0002_views.sql': 'SELECT 2;',
      '0001_tables.sql': 'SELECT 1;',
      'README.md': '# not a migration',
      '3_bad_name.sql': 'SELECT 3;',
    });
    const ms = readMigrations(dir);
    expect(ms.map((m) => [m.version, m.name])).toEqual([
      [1, '0001_tables'],
      [2, '0002_views'],
    ]);
    expect(ms[0]!.checksum).toMatch(/^[0-9a-f]{16}$/);
    expect(ms[0]!.checksum).not.toBe(ms[1]!.checksum);
  });

  it('applies each migration once, in order, with {{db}} filled in', async () => {
    const db = `${cfg.clickhouse.database}_once`;
    const dir = migrationsDir({
      '0001_calls.sql': `CREATE DATABASE IF NOT EXISTS {{db}};\nCREATE TABLE IF NOT EXISTS {{db}}.calls (id String, n UInt32) ENGINE = MergeTree ORDER BY id;\n`,
      '0002_seed.sql': `INSERT INTO {{db}}.calls VALUES ('a', 1), ('b', 2);\n`,
    });
    const one = { ...ch, db };
    await ch.client.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
    expect(await migrate(one, readMigrations(dir))).toEqual([1, 2]);
    expect(await migrate(one, readMigrations(dir))).toEqual([]);
    // The seed ran once: a second run inserted nothing.
    expect(await rows(ch, `SELECT id, n FROM ${db}.calls ORDER BY id`)).toEqual([
      { id: 'a', n: 1 },
      { id: 'b', n: 2 },
    ]);
    const applied = await rows<{ version: number; name: string }>(ch, `SELECT version, name FROM ${db}.schema_migrations FINAL ORDER BY version`);
    expect(applied).toEqual([
      { version: 1, name: '0001_calls' },
      { version: 2, name: '0002_seed' },
    ]);
  });

  it('two services migrating at the same time converge on one schema and one record per version', async () => {
    const db = `${cfg.clickhouse.database}_race`;
    await ch.client.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
    const ms: Migration[] = readMigrations(
      migrationsDir({
        '0001_t.sql': `CREATE TABLE IF NOT EXISTS {{db}}.t (id String) ENGINE = MergeTree ORDER BY id;\n`,
        '0002_v.sql': `CREATE VIEW IF NOT EXISTS {{db}}.bi_t AS SELECT id FROM {{db}}.t;\n`,
      }),
    );
    const one = { ...ch, db };
    const results = await Promise.all([migrate(one, ms), migrate(one, ms), migrate(one, ms)]);
    // Every version was applied by at least one of them, none failed.
    expect([...new Set(results.flat())].sort()).toEqual([1, 2]);
    const recorded = await rows<{ version: number; n: number }>(
      ch,
      `SELECT version, count() AS n FROM ${db}.schema_migrations GROUP BY version ORDER BY version`,
    );
    expect(recorded.map((r) => [Number(r.version), Number(r.n)])).toEqual([
      [1, 1],
      [2, 1],
    ]);
    expect(await rows(ch, `SELECT name FROM system.tables WHERE database = '${db}' ORDER BY name`)).toEqual([
      { name: 'bi_t' },
      { name: 'schema_migrations' },
      { name: 't' },
    ]);
  });

  it('refuses a migration that was changed after it was applied, naming it', async () => {
    const db = `${cfg.clickhouse.database}_changed`;
    await ch.client.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
    const one = { ...ch, db };
    await migrate(one, readMigrations(migrationsDir({ '0001_t.sql': `CREATE TABLE IF NOT EXISTS {{db}}.t (id String) ENGINE = MergeTree ORDER BY id;\n` })));
    const edited = readMigrations(
      migrationsDir({ '0001_t.sql': `CREATE TABLE IF NOT EXISTS {{db}}.t (id String, x UInt8) ENGINE = MergeTree ORDER BY id;\n` }),
    );
    await expect(migrate(one, edited)).rejects.toThrow(
      /migration 0001_t was changed after it was applied \(checksum [0-9a-f]{16} → [0-9a-f]{16}\); add a new migration instead/,
    );
  });

  it('reports which migration and statement failed, and records nothing for it', async () => {
    const db = `${cfg.clickhouse.database}_fails`;
    await ch.client.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
    const one = { ...ch, db };
    const bad = readMigrations(migrationsDir({ '0001_bad.sql': `CREATE TABLE {{db}}.t (id Strnig) ENGINE = MergeTree ORDER BY id;\n` }));
    await expect(migrate(one, bad)).rejects.toThrow(/^migration 0001_bad failed at: CREATE TABLE \w+\.t \(id Strnig\)/);
    expect(await rows(ch, `SELECT version FROM ${db}.schema_migrations`)).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { renderSql, splitStatements } from '../src/clickhouse.ts';

describe('migration SQL', () => {
  it('splits statements at ";" ending a line and drops comment lines', () => {
    const sql = [
      '-- Calls, one row per call.',
      'CREATE TABLE IF NOT EXISTS {{db}}.calls (id String) ENGINE = MergeTree ORDER BY id;',
      '',
      "CREATE VIEW IF NOT EXISTS {{db}}.bi_calls AS SELECT id, 'a;b' AS s FROM {{db}}.calls;",
      '  -- indented comment',
      'ALTER TABLE {{db}}.calls ADD COLUMN IF NOT EXISTS n UInt32',
    ].join('\n');
    expect(splitStatements(sql)).toEqual([
      'CREATE TABLE IF NOT EXISTS {{db}}.calls (id String) ENGINE = MergeTree ORDER BY id',
      "CREATE VIEW IF NOT EXISTS {{db}}.bi_calls AS SELECT id, 'a;b' AS s FROM {{db}}.calls",
      'ALTER TABLE {{db}}.calls ADD COLUMN IF NOT EXISTS n UInt32',
    ]);
  });

  it('keeps a statement that spans lines whole', () => {
    expect(splitStatements('CREATE TABLE t (\n  a UInt8,\n  b String\n)\nENGINE = Memory;\nSELECT 1;\n')).toEqual([
      'CREATE TABLE t (\n  a UInt8,\n  b String\n)\nENGINE = Memory',
      'SELECT 1',
    ]);
  });

  it('an empty or comment-only migration has no statements', () => {
    expect(splitStatements('')).toEqual([]);
    expect(splitStatements('-- nothing yet\n\n')).toEqual([]);
  });

  it('replaces {{vars}} and names a variable that has no value', () => {
    expect(renderSql('SELECT * FROM {{db}}.t WHERE x = {{x}}', { db: 'cb', x: '1' })).toBe('SELECT * FROM cb.t WHERE x = 1');
    expect(() => renderSql('SELECT {{missing}}', { db: 'cb' })).toThrow('migration uses {{missing}} but no value was given');
  });
});

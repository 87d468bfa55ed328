// The api reads the projections only through projections/src/read.ts: no file in api/src names a
// table or view the projections' migrations create (the api's own tokens and boards tables aside).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR } from '@callboard/projections/migrations-dir';

const API_SRC = join(import.meta.dirname, '../src');

function projectionTables(): string[] {
  const names = new Set<string>();
  for (const f of readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql'))) {
    for (const m of readFileSync(join(MIGRATIONS_DIR, f), 'utf8').matchAll(/CREATE\s+(?:OR\s+REPLACE\s+)?(?:TABLE|VIEW|MATERIALIZED\s+VIEW)\s+(?:IF\s+NOT\s+EXISTS\s+)?\{\{db\}\}\.(\w+)/gi)) names.add(m[1]!);
  }
  return [...names];
}

describe('api/src holds no SQL on projection tables', () => {
  it('names none of them after a database or in a FROM / JOIN / INTO', () => {
    const tables = projectionTables();
    expect(tables).toEqual(expect.arrayContaining(['events', 'calls', 'queue_legs', 'agent_intervals', 'queue_15m']));
    const named = new RegExp(`(?:\\.db\\}\\.|\\b(?:FROM|JOIN|INTO)\\s+)(?:\\S+\\.)?(${tables.join('|')})\\b`, 'i');
    const offenders = readdirSync(API_SRC)
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) => readFileSync(join(API_SRC, f), 'utf8').split('\n').map((line, i) => ({ where: `${f}:${i + 1}`, line })))
      .filter(({ line }) => named.test(line))
      .map(({ where, line }) => `${where}: ${line.trim()}`);
    expect(offenders).toEqual([]);
  });
});

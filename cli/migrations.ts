// Every folder that owns ClickHouse tables keeps numbered migrations of its own; versions are
// unique across folders: projections 0001–0999, api 1000–1999.
import { readMigrations, type Migration } from '@callboard/platform';
import { MIGRATIONS_DIR as PROJECTIONS } from '@callboard/projections/migrations-dir';
import { fileURLToPath } from 'node:url';

const API = fileURLToPath(new URL('../api/migrations', import.meta.url));

export function allMigrations(): Migration[] {
  const all = [...readMigrations(PROJECTIONS), ...readMigrations(API)].sort((a, b) => a.version - b.version);
  const seen = new Set<number>();
  for (const m of all) {
    if (seen.has(m.version)) throw new Error(`two migrations share version ${m.version} (${m.name})`);
    seen.add(m.version);
  }
  return all;
}

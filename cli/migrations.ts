// Every folder that owns ClickHouse tables keeps numbered migrations of its own; versions are
// unique across folders: projections 0001–0999, api 1000–1999. `migrateAll` is the one place
// they are applied (startStack, `callboard migrate`, `callboard api`, `callboard token`), so the
// schema is always the whole schema, whichever process comes up first.
import { migrate, readMigrations, type ClickHouse, type Migration } from '@callboard/platform';
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

/** Applies every pending migration; returns the versions applied. */
export function migrateAll(ch: ClickHouse): Promise<number[]> {
  return migrate(ch, allMigrations());
}

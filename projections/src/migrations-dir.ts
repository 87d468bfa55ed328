import { fileURLToPath } from 'node:url';
import { migrate, readMigrations, type ClickHouse } from '@callboard/platform';

/** Numbered ClickHouse DDL files, reviewed like code and applied once each. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));

/**
 * The projections' own tables only, for the commands that run this folder alone (`callboard
 * projections`, `rebuild`, `report` over a file). A whole stack is migrated by cli/migrations.ts's
 * `migrateAll`, which applies these and the api's in one version order.
 */
export function migrateProjections(ch: ClickHouse): Promise<number[]> {
  return migrate(ch, readMigrations(MIGRATIONS_DIR));
}

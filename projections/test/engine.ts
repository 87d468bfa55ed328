// The embedded engine most projections and API int tests read and write: migrated to the current
// schema, with the consumer's own ProjectionStore on it. One per test file (testConfig gives each
// its own data dir).
import { createClickHouse, migrate, readMigrations, type ClickHouse } from '@callboard/platform';
import { MIGRATIONS_DIR } from '../src/migrations-dir.ts';
import { ProjectionStore } from '../src/store.ts';
import { testConfig } from '../../test/helpers.ts';

export async function openProjections(): Promise<{ ch: ClickHouse; store: ProjectionStore }> {
  const ch = await createClickHouse(testConfig());
  await migrate(ch, readMigrations(MIGRATIONS_DIR));
  return { ch, store: new ProjectionStore(ch) };
}

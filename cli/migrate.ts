import { createClickHouse, createLogger, loadConfig, migrate, readMigrations } from '@callboard/platform';
import { MIGRATIONS_DIR } from '@callboard/projections/migrations-dir';

export async function run(): Promise<number> {
  const cfg = loadConfig();
  const log = createLogger('migrate', cfg.logLevel);
  const ch = await createClickHouse(cfg);
  const done = await migrate(ch, readMigrations(MIGRATIONS_DIR));
  log.info({ applied: done, database: ch.db, embedded: ch.embedded }, done.length ? 'migrations applied' : 'schema up to date');
  await ch.close();
  return 0;
}

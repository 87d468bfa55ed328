import { createClickHouse, createLogger, loadConfig } from '@callboard/platform';
import { migrateAll } from './migrations.ts';

export async function run(): Promise<number> {
  const cfg = loadConfig();
  const log = createLogger('migrate', cfg.logLevel);
  const ch = await createClickHouse(cfg);
  const done = await migrateAll(ch);
  log.info({ applied: done, database: ch.db, embedded: ch.embedded }, done.length ? 'migrations applied' : 'schema up to date');
  await ch.close();
  return 0;
}

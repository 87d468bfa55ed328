import { createClickHouse, createLogger, loadConfig, parseOptions } from '@callboard/platform';
import { migrateAll } from './migrations.ts';

export async function run(argv: string[]): Promise<number> {
  parseOptions(argv, {});
  const cfg = loadConfig();
  const log = createLogger('migrate', cfg.logLevel);
  const ch = await createClickHouse(cfg);
  const done = await migrateAll(ch);
  log.info({ applied: done, database: ch.db, embedded: ch.embedded }, done.length ? 'migrations applied' : 'schema up to date');
  await ch.close();
  return 0;
}

import { parseArgs } from 'node:util';
import { createClickHouse, createKafka, createLogger, ensureTopics, installSignalHandlers, loadConfig, migrate, onShutdown, resolveBrokers } from '@callboard/platform';
import { allMigrations } from './migrations.ts';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { 'no-simulator': { type: 'boolean' } } });
  void values;
  const cfg0 = loadConfig();
  const log = createLogger('start', cfg0.logLevel);
  installSignalHandlers(log);
  const { cfg, local } = await resolveBrokers(cfg0, log);
  if (local) onShutdown('kafka', () => local.stop());
  const kafka = createKafka(cfg, log);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, cfg);
  await admin.disconnect();
  const ch = await createClickHouse(cfg);
  onShutdown('clickhouse', () => ch.close());
  await migrate(ch, allMigrations());
  log.info({ brokers: cfg.kafka.brokers, clickhouse: ch.embedded ? 'embedded' : cfg.clickhouse.url }, 'platform ready');
  await new Promise(() => {});
  return 0;
}

// `callboard api`: the API on its own (Kafka and ClickHouse from the environment).
import { parseArgs } from 'node:util';
import { createClickHouse, createLogger, Health, installSignalHandlers, loadConfig, migrate, onShutdown, resolveBrokers } from '@callboard/platform';
import { allMigrations } from '../../cli/migrations.ts';
import { startApi } from './main.ts';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { port: { type: 'string' } } });
  const cfg0 = loadConfig(values.port ? { env: { ...process.env, PORT: values.port } } : {});
  const log = createLogger('api', cfg0.logLevel);
  installSignalHandlers(log);
  const { cfg, local } = await resolveBrokers(cfg0, log);
  if (local) onShutdown('kafka', () => local.stop());
  const ch = await createClickHouse(cfg);
  onShutdown('clickhouse', () => ch.close());
  await migrate(ch, allMigrations());
  const api = await startApi({ cfg, log, health: new Health(), ch });
  onShutdown('api', () => api.stop());
  process.stderr.write(`Callboard API on ${api.url} (GraphQL ${api.url}/graphql)\n`);
  await new Promise(() => {});
  return 0;
}

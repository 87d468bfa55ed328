// `callboard api`: the API on its own (Kafka and ClickHouse from the environment).
import { parseArgs } from 'node:util';
import { createLogger, installSignalHandlers, loadConfig } from '@callboard/platform';
import { startStack } from './stack.ts';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { port: { type: 'string' } } });
  const cfg = loadConfig({ overrides: { PORT: values.port } });
  const log = createLogger('api', cfg.logLevel);
  installSignalHandlers(log);
  // The broker is resolved (the local one when none is configured) as it always was here; the
  // API's own live consumer needs the topics to exist.
  const stack = await startStack(cfg, { kafkaTopics: true, clickhouse: true, api: true }, { log, stopOnSignal: true });
  process.stderr.write(`Callboard API on ${stack.api!.url} (GraphQL ${stack.api!.url}/graphql)\n`);
  await new Promise(() => {});
  return 0;
}

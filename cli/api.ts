// `callboard api`: the API on its own (Kafka and ClickHouse from the environment).
import { createLogger, installSignalHandlers, loadConfig, onShutdown, parseOptions, portFlag, portInUse } from '@callboard/platform';
import { startAdminEndpoint } from './admin-server.ts';
import { startStack } from './stack.ts';

/** Every option, for the parser and for the test that `--help` lists them all. */
export const options = { port: { type: 'string' } } as const;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseOptions(argv, options);
  portFlag('port', values.port);
  const cfg = loadConfig({ overrides: { PORT: values.port } });
  const log = createLogger('api', cfg.logLevel);
  installSignalHandlers(log);
  // The broker is resolved (the local one when none is configured) as it always was here; the
  // API's own live consumer needs the topics to exist.
  const stack = await startStack(cfg, { kafkaTopics: true, clickhouse: true, api: true }, { log, stopOnSignal: true }).catch((e: unknown) => {
    throw portInUse(e, values.port === undefined ? { PORT: cfg.port } : { '--port': cfg.port });
  });
  // This process holds ClickHouse (the embedded engine is one process's): operator commands come through it.
  const admin = await startAdminEndpoint({ cfg: stack.cfg, ch: stack.ch!, log });
  onShutdown('admin endpoint', () => admin.stop());
  process.stderr.write(`Callboard API on ${stack.api!.url} (GraphQL ${stack.api!.url}/graphql)\n`);
  await new Promise(() => {});
  return 0;
}

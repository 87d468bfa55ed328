// `callboard projections`: the service with its ops endpoints (/healthz, /readyz, /metrics).
import {
  Health,
  createLogger,
  installSignalHandlers,
  loadConfig,
  onShutdown,
  parseOptions,
  portInUse,
  resolveBrokers,
  startOpsServer,
  portFlag,
} from '@callboard/platform';
import { startProjections } from './main.ts';

/** Every option, for the parser and for the test that `--help` lists them all. */
export const options = { 'ops-port': { type: 'string' } } as const;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseOptions(argv, options);
  portFlag('ops-port', values['ops-port']);
  // --ops-port is an override like any other: validated and named by the one config.
  const cfg0 = loadConfig({ overrides: { PROJECTIONS_OPS_PORT: values['ops-port'] } });
  const log = createLogger('projections', cfg0.logLevel);
  installSignalHandlers(log);
  const health = new Health();
  const port = cfg0.projections.opsPort;
  const ops = await startOpsServer(health, port, { host: cfg0.projections.opsHost }).catch((e: unknown) => {
    throw portInUse(e, values['ops-port'] === undefined ? { PROJECTIONS_OPS_PORT: port } : { '--ops-port': port });
  });
  onShutdown('ops', () => new Promise<void>((r) => ops.close(() => r())));
  const { cfg, local } = await resolveBrokers(cfg0, log);
  if (local) onShutdown('kafka', () => local.stop());
  const p = await startProjections({ cfg, log, health });
  // SIGTERM: the running batch finishes (insert, then commit), consumers leave, ClickHouse closes.
  onShutdown('projections', () => p.stop());
  await new Promise(() => {});
  return 0;
}

// `callboard projections`: the service with its ops endpoints (/healthz, /readyz, /metrics).
import { parseArgs } from 'node:util';
import { Health, createLogger, installSignalHandlers, loadConfig, onShutdown, resolveBrokers, startOpsServer } from '@callboard/platform';
import { startProjections } from './main.ts';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { 'ops-port': { type: 'string' } } });
  const cfg0 = loadConfig();
  const log = createLogger('projections', cfg0.logLevel);
  installSignalHandlers(log);
  const { cfg, local } = await resolveBrokers(cfg0, log);
  if (local) onShutdown('kafka', () => local.stop());
  const health = new Health();
  const ops = await startOpsServer(health, values['ops-port'] === undefined ? cfg0.projections.opsPort : Number(values['ops-port']), { host: cfg0.projections.opsHost, setting: values['ops-port'] === undefined ? 'PROJECTIONS_OPS_PORT' : '--ops-port' });
  onShutdown('ops', () => new Promise<void>((r) => ops.close(() => r())));
  const p = await startProjections({ cfg, log, health });
  // SIGTERM: the running batch finishes (insert, then commit), consumers leave, ClickHouse closes.
  onShutdown('projections', () => p.stop());
  await new Promise(() => {});
  return 0;
}

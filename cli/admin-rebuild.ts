// `callboard rebuild`: the projections' rebuild (projections/src/rebuild.ts), run in the process
// that holds ClickHouse when one is running (its admin endpoint), else here. While the stack
// runs, its projections consumer keeps writing; the rebuild re-derives what arrived meanwhile.
import { createLogger, loadConfig, parseOptions } from '@callboard/platform';
import { withOps } from './admin-client.ts';

export async function run(argv: string[]): Promise<number> {
  parseOptions(argv, {});
  const cfg = loadConfig();
  return withOps(
    cfg,
    async (ops, via) => {
      if (via === 'admin endpoint') process.stderr.write('rebuilding in the running Callboard process (its admin endpoint); this waits until it is done\n');
      process.stdout.write(`${JSON.stringify(await ops.rebuild())}\n`);
      return 0;
    },
    createLogger('rebuild', cfg.logLevel),
  );
}

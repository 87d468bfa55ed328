// SIGINT/SIGTERM: run the registered drains in reverse order of registration (drain buffers,
// commit offsets, disconnect), then exit. A second signal exits at once.
import type { Logger } from './log.ts';

type Drain = { name: string; fn: () => Promise<void> | void };
const drains: Drain[] = [];
let installed = false;
let stopping = false;
let firstSignalAt = 0;

export function onShutdown(name: string, fn: () => Promise<void> | void): void {
  drains.push({ name, fn });
}

export async function shutdown(log?: Logger, code = 0): Promise<never> {
  if (stopping) process.exit(code);
  stopping = true;
  for (const d of drains.reverse()) {
    try {
      await Promise.race([d.fn(), new Promise((r) => setTimeout(r, 35_000))]);
      log?.info({ component: d.name }, 'stopped');
    } catch (e) {
      log?.error({ component: d.name, err: e }, 'error while stopping');
    }
  }
  process.exit(code);
}

export function installSignalHandlers(log?: Logger): void {
  if (installed) return;
  installed = true;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      // A signal sent to the whole process group (timeout(1), some supervisors) can arrive twice
      // at once; only a second signal a person sends later cuts the drain short.
      if (stopping && Date.now() - firstSignalAt < 1000) return;
      log?.info({ signal: sig }, stopping ? 'second signal, exiting now' : 'stopping');
      if (stopping) process.exit(130);
      firstSignalAt = Date.now();
      void shutdown(log);
    });
  }
}

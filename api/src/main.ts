// Wiring: ClickHouse, the live consumer, the stores and the HTTP server. `startApi` is what
// `callboard api` runs and what `callboard start` calls.
import type { AddressInfo } from 'node:net';
import { createClickHouse, queueSettings, tenantById, DEFAULT_QUEUE_SETTINGS, type ApiSettings, type CallboardConfig, type ClickHouse, type Health, type Logger } from '@callboard/platform';
import { BoardStore } from './boards.ts';
import { createHistory } from './history.ts';
import { LiveStore } from './live.ts';
import { startLiveConsumer } from './live-consumer.ts';
import { MemoryPubSub, type PubSub, type Topics } from './pubsub.ts';
import { createApiServer } from './server.ts';
import { TokenStore } from './tokens.ts';

export interface StartApiOptions {
  cfg: CallboardConfig;
  log: Logger;
  health: Health;
  /**
   * An open, migrated ClickHouse (the embedded engine is one per process: share it); else one is
   * opened. Migrations are applied by the caller (startStack or `callboard migrate`), in one place.
   */
  ch?: ClickHouse;
  /** Defaults to cfg.port; 0 picks a free port. */
  port?: number;
  host?: string;
  settings?: Partial<ApiSettings>;
  pubsub?: PubSub<Topics>;
}

export interface RunningApi {
  url: string;
  live: LiveStore;
  stop(): Promise<void>;
}

export function liveEnv(cfg: CallboardConfig) {
  return {
    zoneOf: (t: string) => tenantById(cfg, t)?.timezone ?? 'UTC',
    settingsOf: (t: string, q: string) => queueSettings(cfg, t, q),
    formulaOf: () => DEFAULT_QUEUE_SETTINGS.sl_formula,
  };
}

/** Starts the API; resolves once it listens. /readyz turns ready when the live state has caught up. */
export async function startApi(opts: StartApiOptions): Promise<RunningApi> {
  const { cfg, log, health } = opts;
  const settings = { ...cfg.api, ...opts.settings };
  const ownCh = !opts.ch;
  const ch = opts.ch ?? (await createClickHouse(cfg));
  health.set('clickhouse', 'ok');
  const live = new LiveStore(liveEnv(cfg));
  const pubsub = opts.pubsub ?? new MemoryPubSub<Topics>();
  const now = Date.now;
  const api = createApiServer({
    cfg,
    log,
    health,
    ch,
    live,
    pubsub,
    boards: new BoardStore(ch),
    tokens: new TokenStore(ch),
    history: createHistory(ch, cfg, now),
    settings,
    now,
  });
  const port = opts.port ?? cfg.port;
  const host = opts.host ?? settings.host;
  await new Promise<void>((resolve, reject) => {
    api.server.once('error', reject);
    api.server.listen(port, host, () => resolve());
  });
  const addr = api.server.address() as AddressInfo;
  const url = `http://${host !== '0.0.0.0' ? host : '127.0.0.1'}:${addr.port}`;
  log.info({ url, graphql: `${url}/graphql` }, 'API listening; rebuilding live state');
  const consumer = await startLiveConsumer({ cfg, log, health, live, pubsub, lookbackHours: settings.liveLookbackHours, now });
  void consumer.ready.then(() => log.info({ url }, 'API ready'));
  return {
    url,
    live,
    stop: async () => {
      await api.close();
      await consumer.stop();
      if (ownCh) await ch.close();
    },
  };
}

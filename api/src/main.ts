// Wiring: ClickHouse, the live consumer, the stores and the HTTP server. `startApi` is what
// `callboard api` runs and what `callboard start` calls.
// Ready means rebuilt: the public port opens only once the live state has caught up with the
// log, so no client ever gets a board snapshot of a half-rebuilt day (offered 0 after a
// restart). Meanwhile the ops listener, when configured (API_OPS_PORT), answers /readyz 503.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClickHouse, errorFields, startOpsServer, queueSettings, tenantById, DEFAULT_QUEUE_SETTINGS, type ApiSettings, type CallboardConfig, type ClickHouse, type Health, type Logger } from '@callboard/platform';
import { createAlerts } from './alerts/engine.ts';
import { BoardStore, openAtFrom } from './boards.ts';
import { createHistory } from './history.ts';
import { LiveStore } from './live.ts';
import { startLiveConsumer } from './live-consumer.ts';
import { startPbxStatusReader } from './pbx-status.ts';
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
    openAt: openAtFrom(cfg),
  };
}

/** Starts the API; resolves once the live state is rebuilt and the API listens. */
export async function startApi(opts: StartApiOptions): Promise<RunningApi> {
  const { cfg, log, health } = opts;
  const settings = { ...cfg.api, ...opts.settings };
  const ownCh = !opts.ch;
  const ch = opts.ch ?? (await createClickHouse(cfg));
  health.set('clickhouse', 'ok');
  const live = new LiveStore(liveEnv(cfg));
  const pubsub = opts.pubsub ?? new MemoryPubSub<Topics>();
  const now = Date.now;
  const boards = new BoardStore(ch);
  const alerts = createAlerts({ cfg, log, live, boards, pubsub, now });
  const api = createApiServer({
    cfg,
    log,
    health,
    ch,
    live,
    pubsub,
    boards,
    alerts,
    tokens: new TokenStore(ch),
    history: createHistory(ch, cfg, now),
    settings,
    now,
  });
  const port = opts.port ?? cfg.port;
  const host = opts.host ?? settings.host;
  let ops: Server | null = null;
  let consumer: Awaited<ReturnType<typeof startLiveConsumer>> | null = null;
  let linkStatus: { stop: () => Promise<void> } | null = null;
  try {
    if (settings.opsPort >= 0) {
      ops = await startOpsServer(health, settings.opsPort, { host: settings.opsHost, setting: 'API_OPS_PORT' });
      log.info({ host: settings.opsHost, port: (ops.address() as AddressInfo).port }, 'API ops server listening (/healthz /readyz /metrics)');
    }
    log.info('rebuilding live state before listening');
    consumer = await startLiveConsumer({ cfg, log, health, live, pubsub, lookbackHours: settings.liveLookbackHours, now });
    await consumer.ready;
    // The link state of an ingest in another process; the board does without it (UNKNOWN).
    linkStatus = await startPbxStatusReader({ cfg, log, live }).catch((e: unknown) => {
      log.warn(errorFields(e), 'cannot read the PBX link status topic: links of another process show UNKNOWN');
      return null;
    });
    // Judged only from here: replayed history must not raise alerts.
    alerts.start();
    await new Promise<void>((resolve, reject) => {
      api.server.once('error', reject);
      api.server.listen(port, host, () => resolve());
    });
  } catch (e) {
    await alerts.stop().catch(() => undefined);
    await linkStatus?.stop().catch(() => undefined);
    await consumer?.stop().catch(() => undefined);
    if (ops) await new Promise<void>((r) => ops!.close(() => r()));
    if (ownCh) await ch.close().catch(() => undefined);
    throw e;
  }
  const addr = api.server.address() as AddressInfo;
  const url = `http://${host !== '0.0.0.0' ? host : '127.0.0.1'}:${addr.port}`;
  log.info({ url, graphql: `${url}/graphql` }, 'API ready and listening');
  const running = consumer;
  const runningStatus = linkStatus;
  return {
    url,
    live,
    stop: async () => {
      await api.close();
      await alerts.stop();
      await runningStatus?.stop();
      await running.stop();
      if (ops) await new Promise<void>((r) => ops!.close(() => r()));
      if (ownCh) await ch.close();
    },
  };
}

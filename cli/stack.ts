// The one composition root: every way of running Callboard on one machine (`callboard start`,
// the end-to-end tests, the benchmarks) starts its parts here, in the same order, and stops them
// with one `stop()` in reverse. Services are loaded only when their part is asked for, so a
// pipeline test does not pay for GraphQL and a benchmark of the API does not start ingest.
import type { RunningApi, StartApiOptions } from '@callboard/api/main';
import type { IngestService } from '@callboard/ingest/main';
import type { Projections } from '@callboard/projections/main';
import { createClickHouse, createKafka, createLogger, defaultPbxPort, ensureTopics, Health, onShutdown, resolveBrokers, type CallboardConfig, type KafkaProducer, type ClickHouse, type Logger, type PbxConfig } from '@callboard/platform';
import { migrateAll } from './migrations.ts';

/** A simulated PBX, started before everything else: the config must point ingest at it. */
export interface RunningSimulatedPbx {
  pbx: string;
  /** Where the simulator listens, merged into the PBX's config entry. */
  at: Partial<Pick<PbxConfig, 'host' | 'port' | 'base_url'>>;
  stop(): Promise<void>;
}

export interface StackParts {
  /** Starts the simulated PBXes of the config; ingest then connects to them. */
  simulators?: (cfg: CallboardConfig, log: Logger) => Promise<RunningSimulatedPbx[]>;
  /** Resolves the brokers (the local broker when none is configured) and creates the topics. */
  kafkaTopics?: boolean;
  /** Opens ClickHouse and applies every migration. Projections and the API need it. */
  clickhouse?: boolean;
  projections?: boolean | { groupId?: string };
  /** The API with the wallboard; `port` defaults to cfg.port (0: any free port). */
  api?: boolean | Pick<StartApiOptions, 'port' | 'host' | 'settings'>;
  /** An idempotent producer on its own (tests that produce canonical events directly). */
  producer?: boolean;
  /** Ingest on every configured PBX (with its producer). */
  ingest?: boolean;
}

export interface Stack {
  /** The config the parts run with: brokers resolved, PBXes pointing at their simulators. */
  cfg: CallboardConfig;
  health: Health;
  simulators: RunningSimulatedPbx[];
  ch: ClickHouse | null;
  projections: Projections | null;
  /** The running API, or null while stopped by `stopApi()`. */
  readonly api: RunningApi | null;
  producer: KafkaProducer | null;
  ingest: IngestService | null;
  /** Stops the API alone (a restart test); `startApi()` brings it back with the same options. */
  stopApi(): Promise<void>;
  startApi(): Promise<void>;
  /** Stops every started part in reverse order of start; a failing part does not stop the rest. */
  stop(): Promise<void>;
}

export interface StackRun {
  /** Default: a logger named "stack" at cfg.logLevel. */
  log?: Logger;
  health?: Health;
  /** SIGINT/SIGTERM stop whatever has started so far, start-up included (`callboard start`). */
  stopOnSignal?: boolean;
}

interface Started {
  name: string;
  stop: () => Promise<void>;
}

export async function startStack(config: CallboardConfig, parts: StackParts, run: StackRun = {}): Promise<Stack> {
  const log = run.log ?? createLogger('stack', config.logLevel);
  const health = run.health ?? new Health();
  const started: Started[] = [];
  const stop = async (): Promise<void> => {
    let first: unknown;
    for (const s of started.splice(0).reverse()) {
      try {
        await s.stop();
        log.info({ component: s.name }, 'stopped');
      } catch (e) {
        log.error({ component: s.name, err: e }, 'error while stopping');
        first ??= e;
      }
    }
    if (first) throw first;
  };
  if (run.stopOnSignal) onShutdown('stack', stop);

  try {
    let cfg = config;
    const simulators: RunningSimulatedPbx[] = [];
    if (parts.simulators) {
      for (const sim of await parts.simulators(cfg, log)) {
        simulators.push(sim);
        started.push({ name: `simulator ${sim.pbx}`, stop: () => sim.stop() });
      }
      cfg = {
        ...cfg,
        pbxes: cfg.pbxes.map((p) => {
          const at = simulators.find((s) => s.pbx === p.id)?.at;
          // A simulator found by its URL: the port follows it, or the logs name the config's.
          return at ? { ...p, ...(at.base_url && at.port === undefined ? { port: defaultPbxPort(p.kind, at.base_url) } : {}), ...at } : p;
        }),
      };
    }

    const kafka = () => createKafka(cfg, log);
    let local = false;
    if (parts.kafkaTopics) {
      const resolved = await resolveBrokers(cfg, log);
      cfg = resolved.cfg;
      if (resolved.local) {
        const broker = resolved.local;
        local = true;
        started.push({ name: 'kafka', stop: () => broker.stop() });
      }
      const admin = kafka().admin();
      await admin.connect();
      try {
        await ensureTopics(admin, cfg);
      } finally {
        await admin.disconnect();
      }
    }

    let ch: ClickHouse | null = null;
    if (parts.clickhouse) {
      const opened = await createClickHouse(cfg);
      ch = opened;
      started.push({ name: 'clickhouse', stop: () => opened.close() });
      await migrateAll(opened);
      log.info({ brokers: cfg.kafka.brokers, clickhouse: opened.embedded ? 'embedded' : cfg.clickhouse.url, local_kafka: local }, 'platform ready');
    }
    const needCh = (part: string): ClickHouse => {
      if (!ch) throw new Error(`startStack: the ${part} part needs the clickhouse part`);
      return ch;
    };

    let projections: Projections | null = null;
    if (parts.projections) {
      const { startProjections } = await import('@callboard/projections/main');
      const groupId = typeof parts.projections === 'object' ? parts.projections.groupId : undefined;
      const p = await startProjections({ cfg, log: log.child({ service: 'projections' }), health, ch: needCh('projections'), ...(groupId ? { groupId } : {}) });
      projections = p;
      started.push({ name: 'projections', stop: () => p.stop() });
    }

    let api: RunningApi | null = null;
    const stopApi = async (): Promise<void> => {
      await api?.stop();
      api = null;
    };
    let startApiAgain: () => Promise<void> = async () => {
      throw new Error('startStack: the api part was not started');
    };
    if (parts.api) {
      const { startApi } = await import('@callboard/api/main');
      const o = typeof parts.api === 'object' ? parts.api : {};
      const opts: StartApiOptions = { cfg, log: log.child({ service: 'api' }), health, ch: needCh('api'), port: o.port ?? cfg.port, ...(o.host ? { host: o.host } : {}), ...(o.settings ? { settings: o.settings } : {}) };
      api = await startApi(opts);
      // A restart keeps the port the API first got, so clients reconnect to the same URL.
      const port = Number(new URL(api.url).port);
      startApiAgain = async () => {
        api ??= await startApi({ ...opts, port });
      };
      started.push({ name: 'api', stop: stopApi });
    }

    let producer: KafkaProducer | null = null;
    if (parts.producer || parts.ingest) {
      const p = kafka().producer({ idempotent: true, maxInFlightRequests: 1 });
      await p.connect();
      producer = p;
      started.push({ name: 'producer', stop: () => p.disconnect() });
    }

    let ingest: IngestService | null = null;
    if (parts.ingest) {
      const { startIngest } = await import('@callboard/ingest/main');
      const i = await startIngest(cfg, producer!, log.child({ service: 'ingest' }), health);
      ingest = i;
      started.push({ name: 'ingest', stop: () => i.stop() });
    }

    return {
      cfg,
      health,
      simulators,
      ch,
      projections,
      get api() {
        return api;
      },
      producer,
      ingest,
      stopApi,
      startApi: () => startApiAgain(),
      stop,
    };
  } catch (e) {
    // Half a stack is no use to anyone: stop what did start, then report why.
    await stop().catch(() => undefined);
    throw e;
  }
}

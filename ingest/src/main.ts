// The ingest service: one adapter per configured PBX, an ops server (/healthz /readyz /metrics)
// and a drain on SIGTERM (adapters stop and flush, then the producer disconnects).
// Readiness: each configured PBX is a link (down until its adapter connects); ingest is not
// ready when every link is down, or when a feed's Kafka writes have been failing for longer
// than INGEST_STUCK_AFTER_S (the shell retries them forever, so the feed is frozen meanwhile).
// Kafka writes go through the spool (spool.ts) in front of the watch: while Kafka is away the
// records wait on disk and the PBXes are still read; the watch still sees the failing Kafka
// writes (the replayer's), so readiness tells the truth about Kafka, and the `spool` component
// and the callboard_ingest_spool_* gauges say how full the spool is.
import type { Server } from 'node:http';
import { join } from 'node:path';
import {
  createKafka,
  type KafkaProducer,
  createLogger,
  ensureTopics,
  Health,
  installSignalHandlers,
  onShutdown,
  resolveBrokers,
  startOpsServer,
  type CallboardConfig,
  type Logger,
} from '@callboard/platform';
import type { CanonicalEvent, DlqRecord, RawRecord, RawRef } from '@callboard/schemas';
import { ADAPTERS } from './adapters.ts';
import type { RunningAdapter } from './pipeline.ts';
import { startPbxStatusPublisher } from './pbx-status.ts';
import { IngestSink, type KafkaSend } from './sink.ts';
import { Spool, spoolWrites, type Spooler } from './spool.ts';

/**
 * A sink whose raw writes go through their own producer: raw batch N+1 and the canonical
 * events of batch N are then on the wire together (each idempotent producer keeps one request
 * in flight, which is what keeps its order).
 */
export class SplitSink extends IngestSink {
  private readonly rawSink: IngestSink;
  constructor(rawProducer: KafkaSend, eventsProducer: KafkaSend, cfg: Pick<CallboardConfig, 'kafka'>) {
    super(eventsProducer, cfg);
    this.rawSink = new IngestSink(rawProducer, cfg);
  }
  override raw(records: RawRecord[]): Promise<RawRef[]> {
    return this.rawSink.raw(records);
  }
}

export interface IngestService {
  health: Health;
  sink: IngestSink;
  /** The spool in front of Kafka (absent with INGEST_SPOOL_MAX_MB=0). */
  spooler?: Spooler;
  stop(): Promise<void>;
}

/** How long a stopping ingest waits for its spool to reach Kafka before leaving it on disk. */
const SPOOL_DRAIN_ON_STOP_MS = 5_000;

/**
 * Starts every configured PBX adapter on already connected producers: `producer` for canonical
 * events and the DLQ, `rawProducer` (default: the same one) for pbx.raw.v1.
 */
export async function startIngest(cfg: CallboardConfig, producer: KafkaProducer, log: Logger, health = new Health(), rawProducer?: KafkaProducer): Promise<IngestService> {
  const watched = watchFeeds(rawProducer && rawProducer !== producer ? new SplitSink(rawProducer, producer, cfg) : new IngestSink(producer, cfg), health, cfg.ingest.stuckAfterMs);
  const spooled =
    cfg.ingest.spoolMaxBytes > 0
      ? spoolWrites(watched, new Spool(join(cfg.dataDir, 'ingest', 'spool'), cfg.ingest.spoolMaxBytes), { cfg, afterMs: cfg.ingest.spoolAfterMs, log: log.child({ component: 'spool' }), health })
      : undefined;
  const sink = spooled?.sink ?? watched;
  const running: { id: string; adapter: RunningAdapter }[] = [];
  for (const pbx of cfg.pbxes) health.link(pbx.id, false, 'not connected yet');
  for (const pbx of cfg.pbxes) {
    const entry = ADAPTERS[pbx.kind];
    if (!entry) {
      // A PBX we cannot serve is an error the operator must see, but it must not stop the others.
      health.set(`pbx:${pbx.id}`, 'error', `no adapter for PBX kind "${pbx.kind}" in this build`);
      log.error({ pbx: pbx.id, kind: pbx.kind }, 'no adapter for this PBX kind');
      continue;
    }
    const start = await entry.start();
    running.push({ id: pbx.id, adapter: await start({ cfg, pbx, sink, health, log: log.child({ pbx: pbx.id, kind: pbx.kind }) }) });
    log.info({ pbx: pbx.id, kind: pbx.kind, host: pbx.host, port: pbx.port }, 'adapter started');
  }
  if (cfg.pbxes.length === 0) log.warn('no PBX configured (pbxes: [] in CALLBOARD_CONFIG): ingest idles');
  // The link state for an API in another process (pbx-status.ts).
  const status = cfg.pbxes.length > 0 ? startPbxStatusPublisher({ cfg, producer, health, log: log.child({ component: 'pbx-status' }) }) : null;
  return {
    health,
    sink,
    ...(spooled ? { spooler: spooled.spooler } : {}),
    async stop() {
      // First, while the links are still known: their last record says "ingest stopped".
      await status?.stop();
      await Promise.all(
        running.map(async (r) => {
          try {
            await r.adapter.stop();
          } catch (e) {
            log.error({ pbx: r.id, err: e }, 'adapter did not stop cleanly');
          }
          health.dropLink(r.id);
        }),
      );
      await spooled?.spooler.close(SPOOL_DRAIN_ON_STOP_MS);
    },
  };
}

type Feed = 'raw' | 'events' | 'dlq';

/**
 * Watches the sink's writes per PBX and topic. The ingest shell retries a write Kafka refuses
 * until it goes through, and the feed waits behind it; health hears of the first failure (the
 * stall clock starts when that attempt began) and of the next success (it stops). A write that
 * neither succeeds nor fails within the bound (the client retrying inside one send) is a stall too.
 */
export function watchFeeds<S extends IngestSink>(sink: S, health: Health, stuckAfterMs: number): S {
  const watch = <T extends { pbx_id?: string }, R>(feed: Feed, write: (records: T[]) => Promise<R>) => async (records: T[]): Promise<R> => {
    const name = `${records[0]?.pbx_id ?? '-'}/${feed}`;
    const began = Date.now();
    const pending = setTimeout(() => health.stalled(name, `a write of ${records.length} records pending for ${Math.round(stuckAfterMs / 1000)} s`, { since: began, afterMs: stuckAfterMs }), stuckAfterMs);
    pending.unref();
    try {
      const r = await write(records);
      health.flowing(name);
      return r;
    } catch (e) {
      health.stalled(name, (e as Error).message, { since: began, afterMs: stuckAfterMs });
      throw e;
    } finally {
      clearTimeout(pending);
    }
  };
  const raw = sink.raw.bind(sink);
  const canonical = sink.canonical.bind(sink);
  const dlq = sink.dlq.bind(sink);
  sink.raw = watch<RawRecord, RawRef[]>('raw', raw);
  sink.canonical = watch<CanonicalEvent, void>('events', canonical);
  sink.dlq = watch<DlqRecord, void>('dlq', dlq);
  return sink;
}

/** `callboard ingest`: runs until SIGTERM. */
export async function runIngestService(cfg0: CallboardConfig): Promise<never> {
  const log = createLogger('ingest', cfg0.logLevel);
  installSignalHandlers(log);
  const health = new Health();
  const server: Server = await startOpsServer(health, cfg0.ingest.opsPort, { host: cfg0.ingest.opsHost, setting: 'INGEST_OPS_PORT' });
  onShutdown('ops-server', () => new Promise<void>((r) => server.close(() => r())));
  log.info({ host: cfg0.ingest.opsHost, port: (server.address() as { port: number }).port }, 'ops server listening (/healthz /readyz /metrics)');

  const { cfg, local } = await resolveBrokers(cfg0, log);
  if (local) onShutdown('kafka', () => local.stop());
  const kafka = createKafka(cfg, log, `${cfg.kafka.clientId}-ingest`);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, cfg);
  await admin.disconnect();
  // Idempotent producer: a retried send never duplicates a raw record.
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const rawProducer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await rawProducer.connect();
  health.set('kafka', 'ok');
  onShutdown('producer', () => Promise.all([producer.disconnect(), rawProducer.disconnect()]).then(() => {}));

  const svc = await startIngest(cfg, producer, log, health, rawProducer);
  onShutdown('adapters', () => svc.stop());
  return new Promise<never>(() => {});
}

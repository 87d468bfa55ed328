// The AMI adapter for one PBX: the AMI client (connection) and the AMI translator, fed through
// the ingest shell (../pipeline.ts) in batches: raw first (a batch of frames is acknowledged by
// Kafka on pbx.raw.v1 before it is translated), then validated canonical events / DLQ.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { counter, gauge, histogram, pbxSecret, queueSettings, type Logger } from '@callboard/platform';
import { isoMs, makeEvent, type CanonicalEvent, type RawRef } from '@callboard/schemas';
import { IngestPipeline, noOutcomes, nothingSettled, ok, settle, translating, type AdapterDeps, type RunningAdapter, type Settled } from '../pipeline.ts';
import type { IngestSink } from '../sink.ts';
import { AmiClient, type AmiClientOptions, type AmiConnectionInfo } from './client.ts';
import type { AmiFrame } from './parser.ts';
import { AmiTranslator, type FeedClock } from './translator.ts';

const framesTotal = counter('callboard_ami_frames_total', 'AMI frames received', ['pbx', 'kind']);
const connectsTotal = counter('callboard_ami_connections_total', 'AMI connection outcomes', ['pbx', 'result']);
const connected = gauge('callboard_ami_connected', '1 while logged in and resynchronised', ['pbx']);
const batchMs = histogram('callboard_ami_batch_duration_ms', 'Raw write + translate + canonical write of one batch of frames', ['pbx'], [1, 2, 5, 10, 25, 50, 100, 250, 1000, 5000]);

/**
 * One write to Kafka: as large as possible (each produce request costs a round trip), but the
 * records of one PBX land on one partition as one record batch, which must stay under the
 * broker's message.max.bytes (1 MiB by default). A raw record's JSON is its body (line ends
 * escaped, ~1.1×) plus ~270 bytes of envelope, key and record overhead.
 */
const MAX_BATCH_FRAMES = 2000;
const MAX_BATCH_BYTES = 850_000;
const recordBytes = (p: { frame: AmiFrame }) => p.frame.raw.length * 1.1 + 270;
/**
 * More frames than this waiting for Kafka: stop reading the socket until they are written. Two
 * full batches (one being written, the next ready): a parsed frame is a few kilobytes of small
 * objects, and the more of them wait, the more outlive the young generation and are copied and
 * promoted by the collector (GC is a third of the socket → Kafka CPU, docs/BENCHMARKS.md);
 * unread bytes wait in the kernel's socket buffer and, beyond it, on the PBX (TCP back-pressure).
 */
const HIGH_WATER = 2 * MAX_BATCH_FRAMES;

/** A gap as the client saw it (receive clock), until it can be placed on the PBX clock. */
export interface ReceivedGap {
  from: number;
  to: number;
  reason: string;
  /** The connection that ended the gap. */
  conn: string;
}

/**
 * A gap of the feed on the PBX clock (METRICS.md "Gaps of the feed", "Time and precision"), as
 * the translator's own endings in the gap are: from the last moment the PBX was known alive (its
 * `Shutdown` Timestamp, else the last frame's PBX time; for a process's first connection, the
 * receive-clock mark the previous process left, moved by the PBX–receive offset) to the
 * reconnect's resync, moved from the receive clock by that offset. The offset is only trusted
 * once a frame of the new connection carried a Timestamp (a restarted, replayed or skewed PBX
 * clock need not go on from the old one), so this is null until then unless `final` (no such
 * frame will come).
 */
export function pbxGap(gap: ReceivedGap, clock: FeedClock, final: boolean): { from: number; to: number } | null {
  if (!final && clock.offsetConn !== gap.conn) return null;
  const offset = clock.offset ?? 0;
  // The translator knows the last sign of life unless it has seen no connection before this one.
  let from = gap.from + offset;
  if (clock.conn === gap.conn) from = clock.gapFrom ?? from;
  else if (clock.conn !== undefined) from = clock.lastAlive;
  return { from, to: Math.max(from, gap.to + offset) };
}

/**
 * The gaps the client reported, until each can be placed on the PBX clock (`pbxGap`): the
 * translator must first have seen every frame received before the gap's resync completed (the
 * old connection's backlog may still be waiting for Kafka), then a Timestamp of the gap's own
 * connection; a frame of a newer connection, or the end, places it with what is known.
 */
export class PendingGaps {
  private waiting: { gap: ReceivedGap; after: number }[] = [];

  get size(): number {
    return this.waiting.length;
  }

  /** `after`: the frames received when the gap's resync completed. */
  add(gap: ReceivedGap, after: number): void {
    this.waiting.push({ gap, after });
  }

  /** The gaps placed now that `translated` frames were translated and `next` is the next frame's connection. */
  take(clock: FeedClock, translated: number, next: string | undefined, final: boolean): { gap: ReceivedGap; from: number; to: number }[] {
    const placed: { gap: ReceivedGap; from: number; to: number }[] = [];
    this.waiting = this.waiting.filter(({ gap, after }) => {
      if (!final && translated < after) return true;
      const span = pbxGap(gap, clock, final || (next !== undefined && next !== gap.conn));
      if (span) placed.push({ gap, ...span });
      return !span;
    });
    return placed;
  }

  due(clock: FeedClock, translated: number): boolean {
    return this.waiting.some(({ gap, after }) => translated >= after && pbxGap(gap, clock, false) !== null);
  }
}

interface Pending {
  frame: AmiFrame;
  conn: AmiConnectionInfo;
  seq: number;
  at: number;
}

export interface AmiAdapterOptions {
  tenant_id: string;
  pbx_id: string;
  sink: Pick<IngestSink, 'raw' | 'canonical' | 'dlq'>;
  log: Logger;
  wrapUpMs?: (queue: string) => number;
  client: Omit<AmiClientOptions, 'name' | 'log'>;
  onHealth?: (status: 'starting' | 'ok' | 'degraded' | 'error', detail?: string) => void;
  /** The AMI link went up (logged in and resynchronised) or down, with why. */
  onLink?: (up: boolean, detail: string) => void;
}

/** The pipeline without config plumbing, so tests and the simulator can drive it directly. */
export class AmiAdapter implements RunningAdapter {
  readonly translator: AmiTranslator;
  private readonly client: AmiClient;
  private readonly shell: IngestPipeline;
  private queue: Pending[] = [];
  private draining: Promise<void> | null = null;
  private readonly seqs = new Map<string, number>();
  private paused = false;

  constructor(private readonly o: AmiAdapterOptions) {
    this.translator = new AmiTranslator({ tenant_id: o.tenant_id, pbx_id: o.pbx_id, source: 'ami', wrapUpMs: o.wrapUpMs });
    const health = o.onHealth ?? (() => {});
    health('starting', `connecting to ${o.client.host}:${o.client.port}`);
    this.shell = new IngestPipeline({
      source: 'ami',
      tenant_id: o.tenant_id,
      pbx_id: o.pbx_id,
      sink: o.sink,
      log: o.log,
      live: true,
      // Kafka refuses: stop reading the socket (TCP back-pressure to Asterisk) until it takes
      // the batch again; nothing received is dropped.
      onRetry: (what, e) => {
        health('degraded', `writing to ${what} failed: ${e.message}`);
        if (!this.paused) this.pauseReading(true);
      },
      onRecovered: (_what, failures) => health('ok', `writing to Kafka again after ${failures} failed attempts`),
    });
    this.client = new AmiClient({ ...o.client, name: o.pbx_id, log: o.log }, {
      frames: (frames, conn, at) => this.enqueue(frames, conn, at),
      ready: (conn, gap) => {
        connectsTotal.inc({ pbx: o.pbx_id, result: 'ok' });
        connected.set({ pbx: o.pbx_id }, 1);
        health('ok', `logged in, connection ${conn.id}`);
        o.onLink?.(true, `logged in, connection ${conn.id}`);
        o.log.info({ connection: conn.id, gap }, gap ? 'AMI reconnected and resynchronised' : 'AMI logged in and resynchronised');
        if (gap) this.enqueueGap({ ...gap, conn: conn.id }, this.received);
      },
      down: (reason, kind, retryIn) => {
        connectsTotal.inc({ pbx: o.pbx_id, result: kind });
        connected.set({ pbx: o.pbx_id }, 0);
        const detail = `${reason}; retrying in ${Math.round(retryIn / 1000)} s`;
        o.onLink?.(false, detail);
        if (kind === 'auth' || kind === 'config') {
          health('error', detail);
          o.log.error({ reason, retry_in_ms: retryIn }, 'AMI login failed');
        } else {
          health('degraded', detail);
          o.log.warn({ reason, retry_in_ms: retryIn }, 'AMI connection lost');
        }
      },
    });
  }

  start(): this {
    this.client.start();
    return this;
  }

  async stop(): Promise<void> {
    await this.client.stop();
    await this.drain();
    // Gaps still waiting for a Timestamp on their connection are written with the last offset.
    if (this.gaps.size > 0) await this.shell.write(settle(nothingSettled(), ok(this.placeGaps(undefined, true)), this.shell.who, { original: '', ref: null }));
    connected.set({ pbx: this.o.pbx_id }, 0);
  }

  /** Resolves when everything received so far has been written. */
  async drain(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private enqueue(frames: AmiFrame[], conn: AmiConnectionInfo, at: number): void {
    let seq = this.seqs.get(conn.id) ?? 0;
    // Counted per read and kind, not per frame: a metric update hashes its labels.
    let events = 0;
    for (const frame of frames) {
      this.queue.push({ frame, conn, seq: seq++, at });
      this.received++;
      if (frame.kind === 'event') events++;
      else framesTotal.inc({ pbx: this.o.pbx_id, kind: frame.kind });
    }
    if (events > 0) framesTotal.inc({ pbx: this.o.pbx_id, kind: 'event' }, events);
    this.seqs.set(conn.id, seq);
    if (this.seqs.size > 4) this.seqs.delete(this.seqs.keys().next().value!);
    if (this.queue.length > HIGH_WATER && !this.paused) this.pauseReading(true);
    if (!this.draining) this.draining = this.loop().finally(() => (this.draining = null));
  }

  /** Frames received, and translated, since the start: where a gap stands in the stream. */
  private received = 0;
  private translated = 0;
  private readonly gaps = new PendingGaps();
  private enqueueGap(gap: ReceivedGap, after: number): void {
    this.gaps.add(gap, after);
    if (!this.draining) this.draining = this.loop().finally(() => (this.draining = null));
  }

  /** `source.gap` events for the gaps placed on the PBX clock now (see `PendingGaps.take`). */
  private placeGaps(next: string | undefined, final: boolean): CanonicalEvent[] {
    return this.gaps.take(this.translator.feedClock(), this.translated, next, final).map(({ gap, from, to }) => {
      const ctx = { tenant_id: this.o.tenant_id, pbx_id: this.o.pbx_id, source: 'ami' as const, occurred_at: isoMs(to), received_at: isoMs(gap.to), raw_ref: null, vendor_key: `gap|${gap.conn}` };
      return makeEvent('source.gap', ctx, {}, { from: isoMs(from), to: isoMs(to), reason: gap.reason });
    });
  }

  private pauseReading(pause: boolean): void {
    this.paused = pause;
    this.client.setReading(!pause);
  }

  /**
   * Batches flow through two stages: raw write, then translate + canonical write. The raw write
   * of batch N+1 overlaps the canonical write of batch N; translation and canonical writes stay
   * in stream order. A failed write is retried (socket paused) until Kafka takes it, so nothing
   * received is dropped.
   */
  private async loop(): Promise<void> {
    let canonical: Promise<void> = Promise.resolve();
    // Frames that arrive while the last canonical write is awaited find this loop still running,
    // so `enqueue` starts no other: the queue is looked at again after that write. Before, they
    // waited for the next frame, and were lost when the adapter stopped first.
    do {
      while (this.pendingWork()) {
        let n = 0;
        let bytes = 0;
        while (n < this.queue.length && n < MAX_BATCH_FRAMES && (n === 0 || bytes + recordBytes(this.queue[n]!) <= MAX_BATCH_BYTES)) bytes += recordBytes(this.queue[n++]!);
        const batch = this.queue.splice(0, n);
        const started = performance.now();
        const records = batch.map((p) => this.shell.rawRecord(p.frame.raw, 'ami', p.conn.id, p.seq, p.at));
        const refs = await this.shell.retrying('pbx.raw.v1', () => this.shell.writeRaw(records));
        const settled = this.translate(batch, refs);
        await canonical;
        canonical = this.shell.retrying('cc.events.v1', async () => {
          await this.shell.write(settled);
          batchMs.observe({ pbx: this.o.pbx_id }, performance.now() - started);
        });
        if (this.paused && this.queue.length < HIGH_WATER / 2) this.pauseReading(false);
      }
      await canonical;
    } while (this.pendingWork());
  }

  private pendingWork(): boolean {
    return this.queue.length > 0 || this.gaps.due(this.translator.feedClock(), this.translated);
  }

  private translate(batch: Pending[], refs: (RawRef | null)[]): Settled {
    const settled = nothingSettled();
    // A gap is no vendor message (not counted as one), but it is validated like every event.
    const gaps = (conn: string | undefined) => {
      if (this.gaps.size > 0) settle(settled, ok(this.placeGaps(conn, false)), this.shell.who, { original: '', ref: null });
    };
    gaps(undefined);
    const counted = noOutcomes();
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i]!;
      const ref = refs[i] ?? null;
      // Before the frame: a gap a newer connection follows; after it: one it gave a Timestamp.
      gaps(p.conn.id);
      const outcome = translating(p.frame.name || p.frame.kind, () => this.translator.translate(p.frame, { received_at: p.at, raw_ref: ref, connection: p.conn.id, seq: p.seq }));
      this.shell.settle(settled, outcome, { original: p.frame.raw, ref, label: p.frame.name, truncatedFrom: p.frame.truncatedFrom }, counted);
      this.translated++;
      gaps(p.conn.id);
    }
    this.shell.countOutcomes(counted);
    return settled;
  }
}

/** Registry entry (adapters.ts): one adapter per configured AMI PBX. */
export async function startAmiAdapter(deps: AdapterDeps): Promise<RunningAdapter> {
  const { cfg, pbx, sink, health, log } = deps;
  const component = `pbx:${pbx.id}`;
  const mark = lastGoodMark(join(cfg.dataDir, 'ingest', `ami-${pbx.id}.last-good`), log, cfg.ingest.ami.lastGoodEveryMs);
  const adapter = new AmiAdapter({
    tenant_id: pbx.tenant,
    pbx_id: pbx.id,
    sink,
    log,
    wrapUpMs: (queue) => queueSettings(cfg, pbx.tenant, queue).wrap_up_s * 1000,
    client: {
      host: pbx.host,
      port: pbx.port,
      tls: pbx.tls,
      ...(pbx.tls && cfg.ingest.amiTlsCaFile ? { ca: readFileSync(cfg.ingest.amiTlsCaFile, 'utf8') } : {}),
      username: pbx.username,
      secret: () => pbxSecret(pbx),
      pingIntervalMs: cfg.ingest.ami.pingIntervalMs,
      pingTimeoutMs: cfg.ingest.ami.pingTimeoutMs,
      backoffInitialMs: cfg.ingest.ami.backoffInitialMs,
      backoffMaxMs: cfg.ingest.ami.backoffMaxMs,
      authRetryMs: cfg.ingest.ami.authRetryMs,
      maxFrameChars: cfg.ingest.amiMaxFrameChars,
      ...(mark.previous ? { resumeFrom: { at: mark.previous, reason: 'ingest was not running' } } : {}),
      onGood: mark.update,
    },
    onHealth: (status, detail) => health.set(component, status, detail),
    onLink: (up, detail) => health.link(pbx.id, up, detail),
  });
  return adapter.start();
}

/**
 * The last moment this PBX was known connected, kept in a small file in the data dir, so that
 * after an ingest restart the first connection reports the gap since the previous process.
 * Written at most every `everyMs` (5 s); a missing or unreadable file just means no gap is reported.
 */
function lastGoodMark(path: string, log: Logger, everyMs: number): { previous: number; update: (at: number) => void } {
  let previous = 0;
  try {
    const v = Number(readFileSync(path, 'utf8').trim());
    if (Number.isFinite(v) && v > 0) previous = v;
  } catch {
    // first start, or no data dir yet
  }
  let written = 0;
  let warned = false;
  return {
    previous,
    update(at: number) {
      if (at - written < everyMs) return;
      written = at;
      try {
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, `${at}\n`);
      } catch (e) {
        if (!warned) log.warn({ err: e, path }, 'cannot keep the last-connected mark: no source.gap after a restart');
        warned = true;
      }
    },
  };
}

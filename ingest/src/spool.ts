// The ingest spool: where a PBX's records wait on disk while Kafka is away, so that ingest keeps
// reading the PBX (Asterisk drops the events of an AMI client that stops reading, and a Yeastar
// does not replay) instead of holding everything in memory or in the socket.
//
//   Spool          the files: one entry (a batch for one topic) per file, named by its sequence
//                  number, written to a temp name, fsynced and renamed, so an entry is on disk
//                  whole or not at all (a crash or a full disk leaves no half entry). Bounded by
//                  bytes (INGEST_SPOOL_MAX_MB).
//   spoolWrites    the sink wrapper: a write Kafka refuses, or leaves pending longer than
//                  INGEST_SPOOL_AFTER_MS, is appended to the spool and acknowledged to the
//                  pipeline; while anything is spooled every later write queues behind it, and
//                  one replayer sends the entries to Kafka in order, deleting each once acked.
//                  A full spool does not drop: the write waits for room, the adapter's queue
//                  fills and it stops reading the PBX (TCP back-pressure), and health says so.
//   lock           one process per spool: two ingests on one data dir would replay and delete each
//                  other's entries (records sent twice, or deleted before Kafka had them), so the
//                  second stops at start with a config error naming the holder's PID.
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, gauge, processAlive, summarizeError, topicName, type CallboardConfig, type Health, type Logger } from '@callboard/platform';
import type { CanonicalEvent, DlqRecord, RawRecord, RawRef } from '@callboard/schemas';
import { deadLetter, isTooLarge, sendSplitting } from './pipeline.ts';
import type { KafkaSink } from './sink.ts';

export type SpoolTopic = 'raw' | 'events' | 'dlq';

interface RecordsOf {
  raw: RawRecord;
  events: CanonicalEvent;
  dlq: DlqRecord;
}

export interface SpoolEntry<T extends SpoolTopic = SpoolTopic> {
  seq: number;
  topic: T;
  records: RecordsOf[T][];
}

interface Held {
  seq: number;
  topic: SpoolTopic;
  file: string;
  bytes: number;
}

const NAME = /^(\d{12})\.(raw|events|dlq)\.json$/;
/** The file naming the process that owns the spool; not an entry (NAME does not match it). */
export const SPOOL_LOCK = 'LOCK';


/**
 * Takes the spool's lock file for this process: created exclusively with our PID; a lock whose
 * PID is gone (a crash, SIGKILL) or is our own (a container's PID 1 again) is taken over.
 * Throws a ConfigError (exit 78) when a live other process holds it.
 */
export function lockSpool(dir: string): string {
  const file = join(dir, SPOOL_LOCK);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return file;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw e;
    }
    let holder: number;
    try {
      holder = Number.parseInt(readFileSync(file, 'utf8'), 10);
    } catch {
      // Removed between our open and our read: the holder just let go; try again.
      continue;
    }
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && processAlive(holder))
      throw new ConfigError(
        'CALLBOARD_DATA_DIR',
        dir,
        '',
        `the ingest spool ${dir} is in use by another ingest process (PID ${holder}); give each ingest its own data dir`,
      );
    // A stale lock (its process is gone) or an unreadable one: ours now.
    rmSync(file, { force: true });
  }
}

export const spoolBytes = gauge('callboard_ingest_spool_bytes', 'Bytes of records waiting in the ingest spool for Kafka');
export const spoolMaxBytes = gauge('callboard_ingest_spool_max_bytes', 'Bound of the ingest spool (INGEST_SPOOL_MAX_MB)');
export const spoolUsedRatio = gauge('callboard_ingest_spool_used_ratio', 'How full the ingest spool is, 0 to 1; at 1 ingest stops reading the PBXes');
export const spoolEntries = gauge('callboard_ingest_spool_entries', 'Batches waiting in the ingest spool');

/** The spool's files. Synchronous on purpose: an entry is acknowledged only once it is on disk. */
export class Spool {
  private held: Held[] = [];
  private used = 0;
  private next = 1;
  private lock: string | undefined;

  /**
   * Opens (creating) the spool in `dir` and takes its lock (see lockSpool); entries left by a
   * previous process are kept, in order.
   */
  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {
    mkdirSync(dir, { recursive: true });
    this.lock = lockSpool(dir);
    for (const name of readdirSync(dir).sort()) {
      const m = NAME.exec(name);
      const file = join(dir, name);
      // A temp file is an append that never completed (crash, full disk): it was never acknowledged.
      if (!m) {
        if (name.endsWith('.tmp')) rmSync(file, { force: true });
        continue;
      }
      const bytes = statSync(file).size;
      this.held.push({ seq: Number(m[1]), topic: m[2] as SpoolTopic, file, bytes });
      this.used += bytes;
      this.next = Number(m[1]) + 1;
    }
    this.publish();
  }

  get usedBytes(): number {
    return this.used;
  }
  get entries(): number {
    return this.held.length;
  }
  get usedRatio(): number {
    return this.maxBytes > 0 ? Math.min(1, this.used / this.maxBytes) : 0;
  }

  /** The serialized form of an entry, to size it before appending. */
  static encode(topic: SpoolTopic, records: unknown[]): string {
    return JSON.stringify({ topic, records });
  }

  fits(bytes: number): boolean {
    return this.used + bytes <= this.maxBytes;
  }

  /**
   * Appends an entry (encoded by `encode`) and returns its sequence number, once it is on disk.
   * Throws what the file system says (ENOSPC…); then nothing of the entry remains.
   */
  append(topic: SpoolTopic, body: string): number {
    const seq = this.next;
    const file = join(this.dir, `${String(seq).padStart(12, '0')}.${topic}.json`);
    const tmp = `${file}.tmp`;
    let fd: number | undefined;
    try {
      fd = openSync(tmp, 'w');
      // A write can be short (a file size limit, a disk filling up): loop until the whole entry
      // is written or the file system refuses with an error, never rename a truncated entry.
      const bytes = Buffer.from(body);
      for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at, bytes.length - at);
      fsyncSync(fd);
      closeSync(fd);
      fd = undefined;
      renameSync(tmp, file);
    } catch (e) {
      if (fd !== undefined) closeSync(fd);
      rmSync(tmp, { force: true });
      throw e;
    }
    this.next = seq + 1;
    const size = Buffer.byteLength(body);
    this.held.push({ seq, topic, file, bytes: size });
    this.used += size;
    this.publish();
    return seq;
  }

  /** The oldest entry, read back from disk. */
  head(): SpoolEntry | undefined {
    const h = this.held[0];
    if (!h) return undefined;
    const { records } = JSON.parse(readFileSync(h.file, 'utf8')) as { records: unknown[] };
    return { seq: h.seq, topic: h.topic, records } as SpoolEntry;
  }

  /** Renames the oldest entry to `*.bad`, out of the spool; returns its new path. */
  setAside(): string {
    const h = this.held.shift()!;
    const bad = `${h.file}.bad`;
    renameSync(h.file, bad);
    this.used -= h.bytes;
    this.publish();
    return bad;
  }

  /** Deletes the oldest entry (Kafka has it). */
  shift(): void {
    const h = this.held.shift();
    if (!h) return;
    rmSync(h.file, { force: true });
    this.used -= h.bytes;
    this.publish();
  }

  /** Lets go of the lock (what is spooled stays for the next process). */
  release(): void {
    if (!this.lock) return;
    try {
      // Only our own lock: another process may have taken over one it found stale.
      if (Number.parseInt(readFileSync(this.lock, 'utf8'), 10) === process.pid) rmSync(this.lock, { force: true });
    } catch {
      // Already gone.
    }
    this.lock = undefined;
  }

  private publish(): void {
    spoolBytes.set(this.used);
    spoolMaxBytes.set(this.maxBytes);
    spoolUsedRatio.set(this.usedRatio);
    spoolEntries.set(this.held.length);
  }
}

export interface SpoolWritesOptions {
  cfg: Pick<CallboardConfig, 'kafka'>;
  /** A Kafka write pending longer than this is spooled (the pipeline goes on). */
  afterMs: number;
  log: Logger;
  health?: Health;
  /** Longest pause between two replay attempts while Kafka is away (ms). */
  maxReplayDelayMs?: number;
}

/** The running replayer of a spool, for the service's shutdown and for tests. */
export interface Spooler {
  readonly spool: Spool;
  /** Resolves once the spool is empty (every entry acknowledged by Kafka). */
  drained(): Promise<void>;
  /** Stops replaying after waiting up to `drainMs` for the spool to empty; what is left stays on disk. */
  close(drainMs?: number): Promise<void>;
}

const HEALTH = 'spool';

/**
 * Puts `spool` in front of the sink's Kafka writes (the methods of `sink` are replaced, as
 * watchFeeds does). Entries found on disk at start are replayed first.
 */
export function spoolWrites<S extends KafkaSink>(sink: S, spool: Spool, o: SpoolWritesOptions): { sink: S; spooler: Spooler } {
  const direct = { raw: sink.raw.bind(sink), events: sink.canonical.bind(sink), dlq: sink.dlq.bind(sink) };
  const rawTopic = topicName(o.cfg, 'raw');
  const maxDelay = o.maxReplayDelayMs ?? 5_000;
  // Spooled entries whose direct write is still pending: the replayer waits for it and sends the
  // entry only if it failed, so a slow write that went through is not written twice.
  const inFlight = new Map<number, Promise<unknown>>();
  let closed = false;
  let replaying: Promise<void> | null = null;
  let spoolingSince = 0;
  let full = false;
  // The disk refused an entry (full, or a file size limit): said once per episode, not per retry.
  let diskRefused = false;
  let wake: (() => void) | null = null;
  let changed = new Promise<void>((r) => (wake = r));
  const signal = () => {
    wake?.();
    changed = new Promise<void>((r) => (wake = r));
  };

  const report = () => {
    if (!o.health) return;
    const mb = (b: number) => `${(b / 1048576).toFixed(1)} MB`;
    const of = `${mb(spool.usedBytes)} of ${mb(spool.maxBytes)} (${Math.round(spool.usedRatio * 100)} %)`;
    if (spool.entries === 0) o.health.set(HEALTH, 'ok', `empty (bound ${mb(spool.maxBytes)})`);
    else if (full) o.health.set(HEALTH, 'error', `FULL: ${of} waiting for Kafka; reading from the PBXes is paused until Kafka takes them`);
    else o.health.set(HEALTH, 'degraded', `Kafka away since ${new Date(spoolingSince).toISOString()}: ${spool.entries} batches, ${of} spooled`);
  };

  const startReplay = () => {
    if (spool.entries === 0 || replaying || closed) return;
    if (!spoolingSince) spoolingSince = Date.now();
    replaying = replay().finally(() => {
      replaying = null;
      startReplay();
    });
  };

  const sendEntry = async (e: SpoolEntry): Promise<void> => {
    if (e.topic === 'raw') {
      await sendSplitting(
        e.records as RawRecord[],
        async (b) => void (await direct.raw(b)),
        // Only a broker limit lower than the pipeline's check can refuse one record; it must not
        // block the spool behind it.
        (r, err) =>
          direct.dlq([
            deadLetter(
              { source: r.source, tenant_id: r.tenant_id, pbx_id: r.pbx_id },
              'ingest',
              'OVERSIZED_RECORD',
              `raw record refused by the broker on replay from the spool: ${(err as Error).message}`,
              r.body,
            ),
          ]),
      );
    } else if (e.topic === 'events') await sendSplitting(e.records as CanonicalEvent[], (b) => direct.events(b));
    else await sendSplitting(e.records as DlqRecord[], (b) => direct.dlq(b));
  };

  async function replay(): Promise<void> {
    let failures = 0;
    while (spool.entries > 0 && !closed) {
      let e: SpoolEntry;
      try {
        e = spool.head()!;
      } catch (err) {
        // Appends are whole or absent, so only a hand or a failing disk makes this: keep the file
        // for a person to read, and let the rest through.
        o.log.error({ err: (err as Error).message, file: spool.setAside() }, 'unreadable spool entry set aside (*.bad): its records are not replayed');
        signal();
        continue;
      }
      const pending = inFlight.get(e.seq);
      if (pending) {
        const went = await pending.then(
          () => true,
          () => false,
        );
        inFlight.delete(e.seq);
        if (went) {
          spool.shift();
          signal();
          continue;
        }
      }
      try {
        await sendEntry(e);
        spool.shift();
        failures = 0;
        signal();
      } catch (err) {
        failures++;
        if (failures === 1 || failures % 10 === 0)
          o.log.warn({ error: summarizeError(err).text, failures, entries: spool.entries, bytes: spool.usedBytes }, 'Kafka still away; the spool waits');
        const until = Date.now() + Math.min(maxDelay, 250 * 2 ** Math.min(failures, 8));
        while (Date.now() < until && !closed) await new Promise((r) => setTimeout(r, Math.min(250, until - Date.now())));
      }
      report();
    }
    if (spool.entries === 0 && spoolingSince) {
      o.log.info({ spooled_for_ms: Date.now() - spoolingSince }, 'spool replayed: Kafka has every record again');
      spoolingSince = 0;
      full = false;
      report();
    }
  }

  /**
   * Appends a batch when there is room; with none, waits (back-pressure) until the replayer
   * frees some or the spool empties. Returns false when the batch should go to Kafka directly
   * (`behind`: the spool emptied meanwhile), or stay with its pending write (`pending`), or its
   * error stand for the pipeline to retry (`failed`, when the disk refuses the entry).
   */
  const toSpool = async (topic: SpoolTopic, records: unknown[], why: 'behind' | 'failed' | { pending: Promise<unknown> }): Promise<boolean> => {
    const body = Spool.encode(topic, records);
    const bytes = Buffer.byteLength(body);
    for (;;) {
      if (closed) throw new Error('ingest is stopping: the spool takes no more records');
      if (why === 'behind' && spool.entries === 0) return false;
      if (spool.fits(bytes)) {
        try {
          const seq = spool.append(topic, body);
          if (diskRefused) o.log.warn({ dir: spool.dir }, 'the ingest spool takes writes again');
          diskRefused = false;
          if (typeof why === 'object') inFlight.set(seq, why.pending);
          if (full) o.log.warn({ bytes: spool.usedBytes }, 'spool has room again: reading from the PBXes resumes');
          full = false;
          startReplay();
          report();
          return true;
        } catch (e) {
          if (!diskRefused)
            o.log.error(
              { err: (e as Error).message, dir: spool.dir },
              'cannot write to the ingest spool (disk full?): the batch waits in memory and the PBX reader is paused',
            );
          diskRefused = true;
          if (why !== 'behind') return false;
        }
      } else if (typeof why === 'object') {
        return false;
      } else if (!full) {
        full = true;
        o.log.error(
          { bytes: spool.usedBytes, max_bytes: spool.maxBytes, dir: spool.dir },
          'INGEST SPOOL FULL: Kafka has been away too long; reading from the PBXes is paused (nothing is dropped) until Kafka takes the spooled records',
        );
        report();
      }
      await Promise.race([changed, new Promise((r) => setTimeout(r, 1000).unref())]);
    }
  };

  // A batch larger than the whole bound never fits: it goes to Kafka directly once the spool is empty.
  const write = async <R>(topic: SpoolTopic, records: unknown[], send: () => Promise<R>, spooled: () => R): Promise<R> => {
    if (records.length === 0) return send();
    if (spool.entries > 0 && (await toSpool(topic, records, 'behind'))) return spooled();
    const attempt = send();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), o.afterMs)));
    try {
      const first = await Promise.race([attempt, late]);
      if (first !== 'late') return first as R;
    } catch (e) {
      // Too large is a verdict on the batch, not on Kafka: the pipeline splits it.
      if (isTooLarge(e) || !(await toSpool(topic, records, 'failed'))) throw e;
      return spooled();
    } finally {
      clearTimeout(timer);
    }
    attempt.catch(() => {});
    if (await toSpool(topic, records, { pending: attempt })) return spooled();
    return attempt;
  };

  sink.raw = (records: RawRecord[]) =>
    write<RawRef[]>(
      'raw',
      records,
      () => direct.raw(records),
      () => records.map((r) => ({ topic: rawTopic, connection: r.connection, seq: r.seq })),
    );
  sink.canonical = (events: CanonicalEvent[]) =>
    write<void>(
      'events',
      events,
      () => direct.events(events),
      () => undefined,
    );
  sink.dlq = (records: DlqRecord[]) =>
    write<void>(
      'dlq',
      records,
      () => direct.dlq(records),
      () => undefined,
    );

  report();
  startReplay();
  return {
    sink,
    spooler: {
      spool,
      async drained() {
        while (spool.entries > 0) {
          if (closed) throw new Error('the spool was closed before it emptied');
          await changed;
        }
      },
      async close(drainMs = 0) {
        const deadline = Date.now() + drainMs;
        while (spool.entries > 0 && Date.now() < deadline)
          await Promise.race([changed, new Promise((r) => setTimeout(r, Math.min(250, deadline - Date.now())).unref())]);
        closed = true;
        signal();
        await replaying;
        spool.release();
        if (spool.entries > 0)
          o.log.warn(
            { entries: spool.entries, bytes: spool.usedBytes, dir: spool.dir },
            'stopping with records still in the spool: they are sent at the next start',
          );
      },
    },
  };
}

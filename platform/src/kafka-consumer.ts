// Reading a topic in per-partition batches on @platformatic/kafka, the way every consumer of the
// project reads: a batch is one partition's messages in offset order, handed over once the
// previous batch of that partition is done, and (for a group that commits) committed only after
// its handler resolved: at-least-once, with the handlers idempotent. The client delivers a
// stream of single messages from all partitions; `BatchQueues` (pure, tested without a broker)
// turns it into those batches, and `runBatches` is the I/O around it: the group, the stream,
// commits, restarts after a failure, and the high watermarks for the lag.
import { Base, Consumer, TimeoutError, type Message, type MessagesStream } from '@platformatic/kafka';
import { kafkaErrorIs, someKafkaError, type KafkaConnection } from './kafka.ts';
import { RepeatLimiter } from './log-errors.ts';
import './platformatic-fixes.ts';

/** A consumed message. Offsets and timestamps as decimal strings, as the services log them. */
export interface ConsumedMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer>;
  /** Append time (ms since the epoch). */
  timestamp: string;
}

export interface PartitionBatch {
  topic: string;
  partition: number;
  messages: ConsumedMessage[];
  firstOffset: string;
  lastOffset: string;
  /**
   * Messages after this batch's last, as of the partition's latest high watermark (read every
   * second from the first call on: a reader that never asks costs the broker nothing).
   */
  offsetLag(): string;
}

export interface BatchConsumerEvents {
  /** The group assigned these partitions of the topic (every join, first included). */
  joined?(partitions: number[]): void;
  /** The group is rebalancing: this member will rejoin. */
  rebalancing?(): void;
  /** A fetch request completed (with or without messages). */
  fetched?(): void;
  /** A batch of the partition went through its handler (before its commit). */
  batchDone?(partition: number): void;
  /** A batch handler (`partition` given), a commit or the stream failed; the consumer retries. */
  failed?(error: Error, what: string, partition?: number): void;
}

export interface BatchConsumerOptions {
  groupId: string;
  topic: string;
  /**
   * `committed`: from the group's committed offsets (the earliest kept without one), committing
   * each batch after its handler. A map: from these offsets, with nothing committed (a reader of
   * its own, like the API's live fold).
   */
  start: 'committed' | Map<number, bigint>;
  eachBatch(batch: PartitionBatch): Promise<void>;
  /** Partitions whose batches run at once (default 1). */
  concurrency?: number;
  /** A fetch returns once it holds this many bytes, or after maxWaitMs. */
  minBytes?: number;
  maxWaitMs?: number;
  /** At most this many bytes per partition per fetch (the broker still returns a first record batch larger than this). */
  maxBytesPerPartition?: number;
  /**
   * A batch is what waited for its partition, cut at this size (default: maxBytesPerPartition,
   * at least 1 MiB: small fetches must not make small batches, each of which costs its handler
   * a round of writes and a commit).
   */
  batchBytes?: number;
  maxBytes?: number;
  sessionTimeout?: number;
  heartbeatInterval?: number;
  on?: BatchConsumerEvents;
}

export interface BatchConsumer {
  /** Lets running batches finish (and commit), then leaves the group. */
  stop(): Promise<void>;
}

/** What `BatchQueues` needs of a message: its partition, offset, size, and the client's own object. */
export interface QueuedMessage<T> {
  partition: number;
  offset: bigint;
  bytes: number;
  message: T;
}

/**
 * Messages waiting per partition, as batches. A message is taken once: one at an offset below
 * what the partition already holds or handed out is a refetch (the client reads again from the
 * committed offset after a rebalance or a restart) and is dropped. Partitions the group took
 * away are forgotten, so if they come back they start from what is committed.
 */
export class BatchQueues<T> {
  private readonly waiting = new Map<number, QueuedMessage<T>[]>();
  private readonly next = new Map<number, bigint>();
  private readonly busy = new Set<number>();
  private owned: Set<number> | null = null;
  /** Per partition, how many times the group took it away: a batch taken before is stale. */
  private readonly epochs = new Map<number, number>();
  /** Bytes waiting, over all partitions. */
  bytes = 0;

  constructor(private readonly maxBatchBytes: number) {}

  /** False when the message was not queued (not ours, or already held). */
  add(m: QueuedMessage<T>): boolean {
    if (this.owned && !this.owned.has(m.partition)) return false;
    const next = this.next.get(m.partition);
    if (next !== undefined && m.offset < next) return false;
    this.next.set(m.partition, m.offset + 1n);
    let q = this.waiting.get(m.partition);
    if (!q) this.waiting.set(m.partition, (q = []));
    q.push(m);
    this.bytes += m.bytes;
    return true;
  }

  /** The group's assignment: partitions not in it lose what waits and where they were. */
  assign(partitions: Iterable<number>): void {
    const before = this.owned;
    this.owned = new Set(partitions);
    for (const p of before ?? []) if (!this.owned.has(p)) this.epochs.set(p, (this.epochs.get(p) ?? 0) + 1);
    for (const p of [...this.waiting.keys(), ...this.next.keys()]) {
      if (this.owned.has(p)) continue;
      for (const m of this.waiting.get(p) ?? []) this.bytes -= m.bytes;
      this.waiting.delete(p);
      this.next.delete(p);
    }
  }

  owns(partition: number): boolean {
    return !this.owned || this.owned.has(partition);
  }

  /** True when the last assignment included the partition (false before any). */
  assigned(partition: number): boolean {
    return this.owned?.has(partition) ?? false;
  }

  /** True when the group took the partition away from this member at some point. */
  lostBefore(partition: number): boolean {
    return this.epochs.has(partition);
  }

  /**
   * True while the partition has stayed ours since a batch of `epoch` was taken. A batch taken
   * before the partition went away and came back must not commit: the member that held it in
   * between may have committed further, and the commit would move the group back.
   */
  holds(partition: number, epoch: number): boolean {
    return this.owns(partition) && (this.epochs.get(partition) ?? 0) === epoch;
  }

  /**
   * The next batch: the oldest-waiting idle partition's messages, up to maxBatchBytes (at least
   * one). Marks the partition busy until `done`.
   */
  take(): { partition: number; epoch: number; messages: QueuedMessage<T>[] } | null {
    for (const [partition, q] of this.waiting) {
      if (this.busy.has(partition) || q.length === 0) continue;
      let n = 0;
      let size = 0;
      while (n < q.length && (n === 0 || size + q[n]!.bytes <= this.maxBatchBytes)) size += q[n++]!.bytes;
      const messages = q.splice(0, n);
      this.bytes -= size;
      if (q.length === 0) this.waiting.delete(partition);
      // Round robin: a partition that just got a turn goes to the back.
      else {
        this.waiting.delete(partition);
        this.waiting.set(partition, q);
      }
      this.busy.add(partition);
      return { partition, epoch: this.epochs.get(partition) ?? 0, messages };
    }
    return null;
  }

  done(partition: number): void {
    this.busy.delete(partition);
  }

  get running(): number {
    return this.busy.size;
  }

  /**
   * Where a reader without commits goes on from, per partition: its first message still
   * waiting, or the offset after the last one taken in (batches running now finish).
   */
  resumeFrom(): Map<number, bigint> {
    const at = new Map(this.next);
    for (const [p, q] of this.waiting) if (q.length > 0) at.set(p, q[0]!.offset);
    return at;
  }

  /** Where each partition's reading stands: the offset after the last message taken in. */
  positions(): Map<number, bigint> {
    return new Map(this.next);
  }
}

type Raw = Message<Buffer, Buffer, Buffer, Buffer>;
type Client = Consumer<Buffer, Buffer, Buffer, Buffer>;

/**
 * An error of a group request that only a new lookup of the group's coordinator gets past. The
 * client looks the coordinator up once per Consumer and never again, so when the coordinator's
 * broker stops, commits and joins keep going to it (NOT_COORDINATOR, a network error, or the
 * broker gone from the metadata: platformatic-fixes.ts).
 */
export function coordinatorLost(e: unknown): boolean {
  // One request timing out says nothing about the coordinator (the client gives a timeout the network code).
  if (e instanceof TimeoutError) return false;
  return someKafkaError(e, (p) => p.broker === 'NOT_COORDINATOR' || p.broker === 'COORDINATOR_NOT_AVAILABLE' || p.brokerGone === true || p.code === 'PLT_KFK_NETWORK');
}

const RETRY_FIRST_MS = 200;
const RETRY_MAX_MS = 5_000;
const WATERMARK_EVERY_MS = 1_000;

export async function runBatches(conn: KafkaConnection, o: BatchConsumerOptions): Promise<BatchConsumer> {
  const commits = o.start === 'committed';
  const maxBytesPerPartition = o.maxBytesPerPartition ?? 1024 * 1024;
  const concurrency = Math.max(1, o.concurrency ?? 1);
  const batchBytes = o.batchBytes ?? Math.max(maxBytesPerPartition, 1024 * 1024);
  const queues = new BatchQueues<ConsumedMessage>(batchBytes);
  // Reading pauses while this much waits: two batches per partition that may run at once.
  const pauseAbove = batchBytes * 2 * concurrency;
  const sessionTimeout = o.sessionTimeout ?? 30_000;
  const makeConsumer = (): Client => {
    const c: Client = new Consumer<Buffer, Buffer, Buffer, Buffer>({
      clientId: conn.clientId,
      bootstrapBrokers: conn.bootstrapBrokers,
      timeout: conn.timeout,
      retries: conn.retries,
      retryDelay: conn.retryDelay,
      groupId: o.groupId,
      sessionTimeout,
      rebalanceTimeout: Math.max(sessionTimeout, 60_000),
      heartbeatInterval: o.heartbeatInterval ?? Math.min(3000, Math.floor(sessionTimeout / 5)),
      autocommit: false,
    });
    // The client subscribes a topic while a stream of it is open and joins the group again when
    // the next stream opens: a leader's join rebalances the whole group, and one made while its
    // stream is closed assigns nobody anything. Tracked once here, the topic stays subscribed for
    // the client's life, so reopening a stream (after a fault, or a partition given back) is not
    // a join.
    c.topics.track(o.topic);
    // The client reports a failed rejoin as 'error' (without a listener that would end the
    // process), and stops heartbeating then: whatever the cause, only a new client rejoins.
    c.on('error', (e: Error) => groupFailed(c, e, 'the consumer group', true));
    c.on('consumer:group:join', (p) => {
      if (c !== consumer) return;
      const mine = (p.assignments ?? []).filter((a) => a.topic === o.topic).flatMap((a) => a.partitions);
      // Only a partition this member held before can have a fetch of its own still in flight.
      const given = mine.filter((partition) => !queues.assigned(partition) && queues.lostBefore(partition));
      const back = renewals.recovery();
      if (back) log?.info({ renewals: back.failures, down_ms: back.ms }, `rejoined the group after ${back.failures} new client(s)`);
      queues.assign(mine);
      o.on?.joined?.(mine);
      // A member with nothing assigned (more members than partitions) fetches nothing, so no
      // fetch would ever say it is reading: it is as caught up as it can be.
      if (mine.length === 0) o.on?.fetched?.();
      // A fetch sent before the rebalance can still be answered after it. For a partition taken
      // away and now given back, its messages start where this member had read to, past what the
      // group committed (another member's batches may have failed, or ours was dropped when the
      // partition went), and the client then goes on from there: the records between would
      // never be read. A new stream reads only from the committed offsets; the old one's answers
      // are ignored.
      if (stream && given.length > 0) reopen(`partitions ${given.join(', ')} given back`);
    });
    c.on('consumer:group:rebalance', () => {
      if (c === consumer) o.on?.rebalancing?.();
    });
    // A heartbeat the coordinator does not answer is not a rejoin error to the client, which
    // then only reports it: the stream would go on fetching an assignment the group may have moved.
    c.on('consumer:heartbeat:error', (p) => groupFailed(c, p.error, 'the group heartbeat'));
    return c;
  };
  const log = conn.log?.child({ component: 'kafka-consumer', groupId: o.groupId, topic: o.topic });
  const groupFailed = (c: Client, e: Error, what: string, left = false) => {
    if (c !== consumer) return;
    o.on?.failed?.(e, what);
    if (left) renew(`${what} failed and the client left the group`);
    else if (coordinatorLost(e)) renew('the group coordinator is unreachable');
  };
  // A client that will look the coordinator up again: the old one is dropped (its membership
  // expires with its session), nothing is ours until the new member joins, so batches running
  // now do not commit, and reading starts again from what the group committed.
  const renew = (why: string) => {
    if (stopping) return;
    // While a broker is away this repeats every few seconds: the first, then now and then.
    const v = renewals.failure(why);
    if (v.log) log?.warn({ renewals: v.failures, since: new Date(v.since).toISOString() }, `${why}: a new client looks the coordinator up and rejoins`);
    const old = consumer;
    const s = stream;
    stream = null;
    // A reader of its own goes on where it was; a group member starts again from what is committed.
    if (o.start !== 'committed') for (const [p, at] of queues.resumeFrom()) resumeAt.set(p, at);
    queues.assign([]);
    consumer = makeConsumer();
    s?.close().catch(() => undefined);
    closeClient(old);
    if (restartTimer) clearTimeout(restartTimer);
    restartTimer = null;
    restart();
  };
  const reopen = (why: string) => {
    const s = stream;
    stream = null;
    log?.info(`${why}: reading again from the committed offsets`);
    s?.close().catch(() => undefined);
    // Not a failure: at once, and the backoff of real failures left as it is.
    restart(0);
  };
  const renewals = new RepeatLimiter();
  let consumer = makeConsumer();

  let stopping = false;
  const resumeAt = new Map<number, bigint>();
  // Per partition, the earliest offset retention left, once a read fell below it.
  const keptFrom = new Map<number, bigint>();
  let stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | null = null;
  let restartTimer: NodeJS.Timeout | null = null;
  let failures = 0;
  const running = new Set<Promise<void>>();
  const high = new Map<number, bigint>();

  const backoff = (n: number) => Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.min(n, 10));

  const handle = async (partition: number, epoch: number, batch: QueuedMessage<ConsumedMessage>[]): Promise<void> => {
    const messages = batch.map((q) => q.message);
    const last = batch[batch.length - 1]!;
    const payload: PartitionBatch = {
      topic: o.topic,
      partition,
      messages,
      firstOffset: messages[0]!.offset,
      lastOffset: messages[messages.length - 1]!.offset,
      offsetLag: () => {
        watchWatermarks();
        const h = high.get(partition);
        return String(h === undefined || h <= last.offset ? 0n : h - last.offset - 1n);
      },
    };
    for (let attempt = 0; ; attempt++) {
      if (stopping && attempt > 0) return;
      try {
        await o.eachBatch(payload);
        o.on?.batchDone?.(partition);
        break;
      } catch (e) {
        o.on?.failed?.(e as Error, `batch ${o.topic}[${partition}] ${payload.firstOffset}..${payload.lastOffset}`, partition);
        await sleep(backoff(attempt));
        // A group member drops a batch of a partition taken away: its new owner reads it from
        // the committed offset. A reader of its own goes on trying: after a new client it
        // resumes past this batch, so the batch is its only chance.
        if (commits && !queues.holds(partition, epoch)) return;
      }
    }
    if (!commits || !queues.holds(partition, epoch)) return;
    const c = consumer;
    try {
      // The next offset to read; the leader epoch is left to the broker (-1: not known here).
      await c.commit({ offsets: [{ topic: o.topic, partition, offset: last.offset + 1n, leaderEpoch: -1 }] });
    } catch (e) {
      // A later batch's commit covers this one; a partition lost meanwhile is someone else's.
      if (queues.holds(partition, epoch)) groupFailed(c, e as Error, `committing ${o.topic}[${partition}] ${payload.lastOffset}`);
    }
  };

  let scheduled = false;
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    // After the client has pushed every message of a fetch: they are one batch, not many.
    setImmediate(pump);
  };
  function pump(): void {
    scheduled = false;
    while (!stopping && queues.running < concurrency) {
      const b = queues.take();
      if (!b) break;
      const p = handle(b.partition, b.epoch, b.messages).finally(() => {
        queues.done(b.partition);
        running.delete(p);
        if (stream && stream.isPaused() && queues.bytes < pauseAbove / 2) stream.resume();
        schedule();
      });
      running.add(p);
    }
  }

  const onMessage = (m: Raw) => {
    if (m.topic !== o.topic) return;
    const bytes = (m.value?.length ?? 0) + (m.key?.length ?? 0) + 64;
    // Kept as a small object of its own: the client's message (its commit closure, metadata,
    // header map) would be held for as long as the batch waits, and promoted by the GC.
    const kept: ConsumedMessage = { offset: String(m.offset), key: m.key ?? null, value: m.value ?? null, headers: headersOf(m.headers), timestamp: String(m.timestamp) };
    if (!queues.add({ partition: m.partition, offset: m.offset, bytes, message: kept })) return;
    if (queues.bytes > pauseAbove && stream && !stream.isPaused()) stream.pause();
    schedule();
  };

  let opens = 0;
  const open = async (): Promise<void> => {
    const gen = ++opens;
    const c = consumer;
    const fixed = o.start !== 'committed' ? o.start : null;
    // After a restart, a reader of its own resumes where it was.
    const from = fixed ? new Map([...fixed, ...resumeAt, ...queues.positions()]) : null;
    if (from) for (const [p, first] of keptFrom) if (first > (from.get(p) ?? -1n)) from.set(p, first);
    const s = await c.consume({
      topics: [o.topic],
      mode: from ? 'manual' : 'committed',
      fallbackMode: 'earliest',
      ...(from ? { offsets: [...from].map(([partition, offset]) => ({ topic: o.topic, partition, offset })) } : {}),
      autocommit: false,
      minBytes: o.minBytes ?? 1,
      maxWaitTime: o.maxWaitMs ?? 500,
      maxBytesPerPartition,
      maxBytes: o.maxBytes ?? maxBytesPerPartition * 2,
      sessionTimeout,
      rebalanceTimeout: Math.max(sessionTimeout, 60_000),
      heartbeatInterval: o.heartbeatInterval ?? Math.min(3000, Math.floor(sessionTimeout / 5)),
    });
    // Stopped, renewed or opened again while this one waited: this stream is nobody's.
    if (stopping || c !== consumer || gen !== opens || stream) {
      await s.close().catch(() => undefined);
      return;
    }
    stream = s;
    s.on('data', (m: Raw) => {
      if (stream !== s) return;
      failures = 0;
      onMessage(m);
    });
    // A closed stream still reports its last fetches; only the current one speaks.
    s.on('fetch', () => {
      if (stream === s) o.on?.fetched?.();
    });
    s.on('error', (e: Error) => {
      if (stopping || stream !== s) return;
      o.on?.failed?.(e, 'reading the topic');
      stream = null;
      s.close().catch(() => undefined);
      if (kafkaErrorIs(e, 'OFFSET_OUT_OF_RANGE')) void skipExpired().finally(restart);
      else restart();
    });
  };

  // Retention deleted what a partition was to be read from (the consumer was away longer than
  // KAFKA_RETENTION_MS), or the committed offset lies past the log's end (the topic was deleted
  // and made again, or truncated): the client does not reset it, so every reopen would fail
  // the same way. Go on from the earliest offset kept, as kafkajs and the Java client do with
  // auto.offset.reset=earliest, and say so.
  const skipExpired = async (): Promise<void> => {
    try {
      const earliest = (await consumer.listOffsets({ topics: [o.topic], timestamp: -2n })).get(o.topic) ?? [];
      if (commits) {
        const latest = (await consumer.listOffsets({ topics: [o.topic], timestamp: -1n })).get(o.topic) ?? [];
        const mine = consumer.assignments?.find((a) => a.topic === o.topic)?.partitions ?? [];
        const committed = (await consumer.listCommittedOffsets({ topics: [{ topic: o.topic, partitions: mine }] })).get(o.topic) ?? [];
        const outside = (p: number) => {
          const at = committed[p] ?? -1n;
          return earliest[p] !== undefined && at >= 0n && (at < earliest[p]! || (latest[p] !== undefined && at > latest[p]!));
        };
        const behind = mine.filter(outside);
        if (behind.length) {
          await consumer.commit({ offsets: behind.map((partition) => ({ topic: o.topic, partition, offset: earliest[partition]!, leaderEpoch: -1 })) });
          log?.warn(
            { partitions: behind.map((p) => ({ partition: p, from: String(committed[p]), to: String(earliest[p]), logEnd: String(latest[p]) })) },
            'committed offsets outside the log (retention took them, or the topic was made again): going on from the earliest kept',
          );
        }
      } else {
        earliest.forEach((first, p) => keptFrom.set(p, first));
        log?.warn('offsets no longer in the log (retention): going on from the earliest kept');
      }
    } catch (e) {
      o.on?.failed?.(e as Error, 'finding the earliest offsets kept');
    }
  };

  const restart = (delayMs?: number) => {
    if (stopping || restartTimer) return;
    restartTimer = setTimeout(() => {
      restartTimer = null;
      const c = consumer;
      const opening = open();
      const gen = opens;
      opening.catch((e: Error) => {
        // Failures of an open that a new client or a newer open replaced are not ours to retry.
        if (c !== consumer || gen !== opens) return;
        failures++;
        groupFailed(c, e, 'opening the topic');
        restart();
      });
    }, delayMs ?? backoff(failures++));
  };

  let watermarks: NodeJS.Timeout | null = null;
  function watchWatermarks(): void {
    if (watermarks || stopping) return;
    const read = () =>
      consumer
        .listOffsets({ topics: [o.topic] })
        .then((offsets) => (offsets.get(o.topic) ?? []).forEach((h, p) => high.set(p, h)))
        .catch((e: Error) => log?.debug({ err: e }, 'high watermarks not read'));
    void read();
    watermarks = setInterval(read, WATERMARK_EVERY_MS);
    watermarks.unref();
  }

  try {
    await open();
  } catch (e) {
    if (watermarks) clearInterval(watermarks);
    await new Promise<void>((r) => closeClient(consumer, r));
    throw e;
  }

  return {
    stop: async () => {
      if (stopping) return;
      stopping = true;
      if (watermarks) clearInterval(watermarks);
      if (restartTimer) clearTimeout(restartTimer);
      stream?.pause();
      await Promise.allSettled([...running]);
      await stream?.close().catch(() => undefined);
      await consumer.close().catch(() => new Promise<void>((r) => closeClient(consumer, r)));
    },
  };
}

/**
 * Closes a client even when its coordinator is gone: the client's close fails at LeaveGroup then
 * and leaves its connections open, so they are closed without leaving (the membership expires
 * with its session).
 */
function closeClient(c: Consumer<Buffer, Buffer, Buffer, Buffer>, done: () => void = () => undefined): void {
  c.close(true, (e) => {
    if (!e) return done();
    (Base.prototype.close as (this: unknown, cb: () => void) => void).call(c, done);
  });
}

function headersOf(h: Map<Buffer, Buffer> | undefined): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  if (h) for (const [k, v] of h) out[k.toString()] = v;
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

// What a failure that is retried looks like in the logs. A Kafka client nests one fact ("the
// broker at 127.0.0.1:9092 refuses connections") in aggregates per attempt and per broker, with
// causes, each with its stack: pino's `err` serializer printed all of it, on every retry. Here
// an error becomes its summary (each distinct innermost error once), and a failure that keeps
// repeating becomes a line now and then with a count, then one line when it recovers. A stack is
// still logged, once per streak, for an error that looks like a bug rather than a service away;
// at debug level every failure is logged with its whole error.
import { someKafkaError } from './kafka.ts';
import type { BatchConsumerEvents } from './kafka-consumer.ts';
import type { Logger } from './log.ts';

/** A repeating failure is logged at most once per this long (plus once per new kind of error). */
export const FAILURE_LOG_EVERY_MS = 30_000;
/** Distinct leaves named in a summary; more are counted. */
const MAX_LEAVES = 5;
/** Characters of one leaf's message (its first line). */
const MAX_LEAF_CHARS = 200;

export interface ErrorSummary {
  /** Each distinct leaf of the error once, in the order met, joined by "; ". */
  text: string;
  leaves: string[];
  /**
   * Every leaf is what a server or broker away, or a broker's error code, looks like (errno
   * codes, the Kafka clients' network, timeout and protocol errors, errors marked retriable): no
   * stack is needed to understand it. Anything else may be a bug.
   */
  expected: boolean;
}

type Part = {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  address?: unknown;
  port?: unknown;
  hostname?: unknown;
  broker?: unknown;
  apiId?: unknown;
  type?: unknown;
  serverErrorMessage?: unknown;
  retriable?: unknown;
  canRetry?: unknown;
  errors?: unknown;
  cause?: unknown;
};

/** A system error's code (ECONNREFUSED, EAI_AGAIN), not node's own (ERR_…). */
const ERRNO = /^E(?!RR_)[A-Z0-9_]+$/;
/** @platformatic/kafka codes of a broker away or answering with an error (its TimeoutError carries the network code). */
const KAFKA_EXPECTED = new Set(['PLT_KFK_NETWORK', 'PLT_KFK_TIMEOUT', 'PLT_KFK_PROTOCOL', 'PLT_KFK_RESPONSE', 'PLT_KFK_AUTHENTICATION']);
const KAFKAJS_EXPECTED = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSProtocolError',
]);

function childrenOf(x: Part): unknown[] {
  const out = Array.isArray(x.errors) ? [...(x.errors as unknown[])] : [];
  if (x.cause !== x) out.push(x.cause);
  return out.filter((c) => typeof c === 'object' && c !== null);
}

/** The class a person knows the error by: its own name, else its constructor's ("NetworkError"); empty for a plain Error. */
function kindOf(x: Part): string {
  if (typeof x.name === 'string' && x.name !== 'Error' && x.name !== 'AggregateError') return x.name;
  const ctor = (x as { constructor?: { name?: string } }).constructor?.name;
  return ctor && ctor !== 'Error' && ctor !== 'Object' ? ctor : typeof x.name === 'string' && x.name !== 'Error' ? x.name : '';
}

function firstLine(m: unknown): string {
  const s = String(m ?? '')
    .split('\n')[0]!
    .trim()
    .replace(/\.$/, '');
  return s.length > MAX_LEAF_CHARS ? `${s.slice(0, MAX_LEAF_CHARS)}…` : s;
}

const hostPort = (address: string, port: unknown) => (port === undefined ? address : address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`);

/** One innermost error as a few words: `ECONNREFUSED 127.0.0.1:9092`, `NOT_COORDINATOR`, `TimeoutError: Request timed out`. */
export function describeLeaf(e: unknown): string {
  if (typeof e !== 'object' || e === null) return String(e);
  const x = e as Part;
  const message = firstLine(x.message);
  if (typeof x.code === 'string' && ERRNO.test(x.code)) {
    const where =
      typeof x.address === 'string' ? hostPort(x.address, x.port) : typeof x.broker === 'string' ? x.broker : typeof x.hostname === 'string' ? x.hostname : '';
    if (where) return `${x.code} ${where}`;
    return message.includes(x.code) ? message : `${x.code} ${message}`.trim();
  }
  // The broker's answer: its error code is the fact (@platformatic/kafka's apiId, kafkajs' type).
  const broker = typeof x.apiId === 'string' ? x.apiId : typeof x.type === 'string' && /^KafkaJS/.test(String(x.name)) ? x.type : undefined;
  if (broker) return typeof x.serverErrorMessage === 'string' && x.serverErrorMessage ? `${broker}: ${firstLine(x.serverErrorMessage)}` : broker;
  const kind = kindOf(x);
  const where = typeof x.broker === 'string' && !message.includes(x.broker) ? ` (${x.broker})` : '';
  if (!kind) return (message || 'unknown error') + where;
  return message ? `${kind}: ${message}${where}` : kind + where;
}

function expectedLeaf(x: Part): boolean {
  if (x.retriable === true || x.canRetry === true || typeof x.apiId === 'string') return true;
  if (typeof x.code === 'string' && (ERRNO.test(x.code) || KAFKA_EXPECTED.has(x.code))) return true;
  // The client's own word (a UserError) for a partition leader no longer in the metadata: a
  // broker stopped, not a mistake of ours.
  if (x.code === 'PLT_KFK_USER' && /^Cannot find broker with node id/.test(String(x.message))) return true;
  return typeof x.name === 'string' && KAFKAJS_EXPECTED.has(x.name);
}

/**
 * The summary of an error and everything nested in it, walked as `someKafkaError` walks Kafka
 * errors (aggregates' `errors`, then `cause`): each distinct leaf once.
 */
export function summarizeError(e: unknown): ErrorSummary {
  const seen = new Set<object>();
  const order: Part[] = [];
  someKafkaError(e, (p) => {
    if (!seen.has(p.error)) {
      seen.add(p.error);
      order.push(p.error as Part);
    }
    return false;
  });
  if (order.length === 0) return { text: describeLeaf(e), leaves: [describeLeaf(e)], expected: false };
  // A leaf: nothing under it was walked (none there, or below the walk's depth).
  const leaves = order.filter((x) => !childrenOf(x).some((c) => seen.has(c as object)));
  const described = [...new Set(leaves.map(describeLeaf))];
  const shown = described.slice(0, MAX_LEAVES);
  const more = described.length - shown.length;
  return { text: shown.join('; ') + (more > 0 ? `; +${more} more` : ''), leaves: described, expected: leaves.every(expectedLeaf) };
}

/**
 * Log fields for an error logged once (not in a retry loop): its summary as `error`, and, when
 * it may be a bug, the whole error as `err` for pino's serializer (stack included).
 */
export function errorFields(e: unknown): { error: string; err?: unknown } {
  const s = summarizeError(e);
  return s.expected ? { error: s.text } : { error: s.text, err: e };
}

// ---------------------------------------------------------------------------------------------
// Repeats

export interface RepeatVerdict {
  /** Write a line for this failure. */
  log: boolean;
  /** Failures in this streak, this one included. */
  failures: number;
  /** When the streak's first failure was (the clock's ms). */
  since: number;
  /** Failures not logged since the last line that was (0 on the first). */
  unlogged: number;
  /** This kind of failure is new in the streak. */
  firstOfKind: boolean;
}

export interface Recovery {
  failures: number;
  since: number;
  /** From the first failure to the recovery. */
  ms: number;
}

/**
 * Which failures of a streak to log: the first, the first of each new kind (at most `maxKinds`
 * kinds are told apart; a kind is the error's summary), and otherwise at most one per `everyMs`,
 * counting those left out. A success ends the streak: `recovery()` says so once. Pure: the
 * clock is given.
 */
export class RepeatLimiter {
  private streak: { since: number; failures: number; lastLine: number; unlogged: number; kinds: Set<string> } | null = null;
  private readonly everyMs: number;
  private readonly maxKinds: number;
  private readonly now: () => number;

  constructor(o: { everyMs?: number; maxKinds?: number; now?: () => number } = {}) {
    this.everyMs = o.everyMs ?? FAILURE_LOG_EVERY_MS;
    this.maxKinds = o.maxKinds ?? 8;
    this.now = o.now ?? Date.now;
  }

  get failing(): boolean {
    return this.streak !== null;
  }

  failure(kind: string): RepeatVerdict {
    const t = this.now();
    const s = (this.streak ??= { since: t, failures: 0, lastLine: t, unlogged: 0, kinds: new Set() });
    s.failures++;
    const firstOfKind = !s.kinds.has(kind) && s.kinds.size < this.maxKinds;
    if (firstOfKind) s.kinds.add(kind);
    const log = s.failures === 1 || firstOfKind || t - s.lastLine >= this.everyMs;
    const unlogged = s.unlogged;
    if (log) {
      s.lastLine = t;
      s.unlogged = 0;
    } else s.unlogged++;
    return { log, failures: s.failures, since: s.since, unlogged: log ? unlogged : s.unlogged, firstOfKind };
  }

  /** The end of a streak, once; null when nothing was failing. */
  recovery(): Recovery | null {
    const s = this.streak;
    if (!s) return null;
    this.streak = null;
    return { failures: s.failures, since: s.since, ms: this.now() - s.since };
  }
}

export interface FailureLogOptions {
  log: Logger;
  /** What recovers, for the recovery line ("consuming cc.events.v1"). */
  subject: string;
  /** Level of the failure lines (the recovery is info). Default warn. */
  level?: 'warn' | 'error';
  /** Fields of every line (topic, pbx…). */
  fields?: Record<string, unknown>;
  everyMs?: number;
  now?: () => number;
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;
const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/**
 * The log of a failure that is retried until it goes through: one line per failure, rate
 * limited by a `RepeatLimiter`, each with the error's summary (`error`), `what` failed, the
 * streak's `failures` and `since`; then `recovered after N failures in T s` once.
 */
export class FailureLog {
  private readonly limiter: RepeatLimiter;
  private readonly level: 'warn' | 'error';
  private readonly now: () => number;

  constructor(private readonly o: FailureLogOptions) {
    this.now = o.now ?? Date.now;
    this.limiter = new RepeatLimiter({ now: this.now, ...(o.everyMs !== undefined ? { everyMs: o.everyMs } : {}) });
    this.level = o.level ?? 'warn';
  }

  get failing(): boolean {
    return this.limiter.failing;
  }

  failed(e: unknown, what: string, fields: Record<string, unknown> = {}): void {
    const s = summarizeError(e);
    const v = this.limiter.failure(s.text);
    // A bug's stack once per streak; an expected failure's only at debug level.
    const withStack = v.log && v.firstOfKind && !s.expected;
    if (v.log) {
      const line = {
        ...this.o.fields,
        ...fields,
        what,
        error: s.text,
        failures: v.failures,
        since: new Date(v.since).toISOString(),
        ...(v.unlogged ? { unlogged: v.unlogged } : {}),
        ...(withStack ? { err: e } : {}),
      };
      const again =
        v.failures === 1 ? '' : ` (${plural(v.failures, 'failure')} in ${seconds(this.now() - v.since)}${v.unlogged ? `, ${v.unlogged} not logged` : ''})`;
      this.o.log[this.level](line, `${what} failed; retrying: ${s.text}${again}`);
    }
    if (!withStack && this.o.log.isLevelEnabled('debug'))
      this.o.log.debug({ ...this.o.fields, ...fields, what, failures: v.failures, err: e }, `${what} failed (the whole error)`);
  }

  /** A success: logs the recovery if something was failing. */
  recovered(fields: Record<string, unknown> = {}): void {
    const r = this.limiter.recovery();
    if (!r) return;
    this.o.log.info(
      { ...this.o.fields, ...fields, failures: r.failures, since: new Date(r.since).toISOString(), down_ms: r.ms },
      `${this.o.subject} recovered after ${plural(r.failures, 'failure')} in ${seconds(r.ms)}`,
    );
  }
}

/**
 * A `FailureLog` for the events of a `runBatches` consumer: its failures stream until it reads
 * again, that is until a fetch completes with no partition's batch failing. A batch that failed
 * counts until it went through (`batchDone`) or the partition is no longer this member's.
 */
export class ConsumerFailureLog {
  private readonly failures: FailureLog;
  private readonly batches = new Set<number>();
  private unreadable = false;

  constructor(o: FailureLogOptions) {
    this.failures = new FailureLog(o);
  }

  failed(e: unknown, what: string, partition?: number): void {
    if (partition === undefined) this.unreadable = true;
    else this.batches.add(partition);
    this.failures.failed(e, what, partition === undefined ? {} : { partition });
  }

  fetched(): void {
    this.unreadable = false;
    this.settle();
  }

  batchDone(partition: number): void {
    this.batches.delete(partition);
    this.settle();
  }

  /** The group's assignment: failures of partitions no longer ours are someone else's. */
  assigned(partitions: Iterable<number>): void {
    const mine = new Set(partitions);
    for (const p of this.batches) if (!mine.has(p)) this.batches.delete(p);
  }

  /** The consumer's events, for a consumer with nothing else to do on them. */
  events(): Required<Pick<BatchConsumerEvents, 'failed' | 'fetched' | 'joined' | 'batchDone'>> {
    return {
      failed: (e, what, partition) => this.failed(e, what, partition),
      fetched: () => this.fetched(),
      joined: (partitions) => this.assigned(partitions),
      batchDone: (partition) => this.batchDone(partition),
    };
  }

  private settle(): void {
    if (!this.unreadable && this.batches.size === 0) this.failures.recovered();
  }
}

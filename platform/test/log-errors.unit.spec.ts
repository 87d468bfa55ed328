// The summary of a failure as the logs give it, and how often a repeating one is logged. The
// Kafka errors are built by each client's own error classes, nested as each client nests them
// when a broker is away (@platformatic/kafka: an aggregate per operation and attempt, one per
// broker tried, a network error caused by the socket's; kafkajs: causes behind its retries).
import { createRequire } from 'node:module';
import { KafkaJSAggregateError, KafkaJSConnectionError, KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded } from 'kafkajs';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { MultipleErrors, NetworkError, ResponseError, TimeoutError, UserError } from '@platformatic/kafka';
import { ConsumerFailureLog, FailureLog, RepeatLimiter, errorFields, summarizeError } from '../src/log-errors.ts';

const { createErrorFromCode } = createRequire(import.meta.url)('kafkajs/src/protocol/error.js') as { createErrorFromCode: (code: number) => Error };
const NOT_COORDINATOR = 16;
const OFFSET_COMMIT = 8;

/** A socket's connect error, with the fields node gives it. */
const refusedBy = (address: string, port: number) =>
  Object.assign(new Error(`connect ECONNREFUSED ${address}:${port}`), { errno: -111, code: 'ECONNREFUSED', syscall: 'connect', address, port });
/** @platformatic/kafka failing to reach the broker, as its connection reports it. */
const unreachable = (address = '127.0.0.1', port = 9092) => new NetworkError(`Connection to ${address}:${port} failed.`, { cause: refusedBy(address, port) });
/** `op` given up after `n` attempts, each "Cannot connect to any broker" (the pool's aggregate). */
const gaveUp = (op: string, n: number, ...tried: Error[]) =>
  new MultipleErrors(
    `${op} failed ${n} times.`,
    Array.from({ length: n }, () => new MultipleErrors('Cannot connect to any broker.', tried.length ? tried : [unreachable()])),
  );

describe('summarizeError', () => {
  it('says a broker away once, however many attempts and aggregates the client wrapped it in', () => {
    const s = summarizeError(gaveUp('findGroupCoordinator', 9));
    expect(s).toEqual({ text: 'ECONNREFUSED 127.0.0.1:9092', leaves: ['ECONNREFUSED 127.0.0.1:9092'], expected: true });
  });

  it('names each distinct leaf once, in the order met: a dropped connection, then the refusals', () => {
    const fetch = new MultipleErrors('fetch failed 9 times.', [new NetworkError('Connection closed'), ...gaveUp('fetch', 8).errors]);
    expect(summarizeError(fetch).text).toBe('NetworkError: Connection closed; ECONNREFUSED 127.0.0.1:9092');
    // Two brokers of a cluster, one by IPv6.
    const two = gaveUp('metadata', 3, unreachable('127.0.0.1', 9092), unreachable('::1', 9094));
    expect(summarizeError(two).text).toBe('ECONNREFUSED 127.0.0.1:9092; ECONNREFUSED [::1]:9094');
  });

  it("gives the broker's error code for a response error, once for all its partitions", () => {
    const answer = new ResponseError(
      OFFSET_COMMIT,
      8,
      { '/topics/0/partitions/0': [NOT_COORDINATOR, null], '/topics/0/partitions/3': [NOT_COORDINATOR, null] },
      {},
    );
    const s = summarizeError(new MultipleErrors('commit failed 2 times.', [answer, answer]));
    expect(s).toMatchObject({ text: 'NOT_COORDINATOR', expected: true });
    // With the broker's own words when it gives some.
    const worded = new ResponseError(OFFSET_COMMIT, 8, { '/topics/0/partitions/0': [NOT_COORDINATOR, 'coordinator moved'] }, {});
    expect(summarizeError(worded).text).toBe('NOT_COORDINATOR: coordinator moved');
  });

  it("names the host a lookup failed for, and does not take node's own error codes for a service away", () => {
    const lookup = (code: string) =>
      Object.assign(new Error(`getaddrinfo ${code} kafka-1`), { errno: -3001, code, syscall: 'getaddrinfo', hostname: 'kafka-1' });
    expect(summarizeError(new NetworkError('Connection to kafka-1:9092 failed.', { cause: lookup('EAI_AGAIN') }))).toMatchObject({
      text: 'EAI_AGAIN kafka-1',
      expected: true,
    });
    expect(summarizeError(new NetworkError('Connection to kafka-1:9092 failed.', { cause: lookup('ENOTFOUND') })).text).toBe('ENOTFOUND kafka-1');
    const internal = Object.assign(new TypeError('The "chunk" argument must be of type string'), { code: 'ERR_INVALID_ARG_TYPE' });
    expect(summarizeError(internal)).toMatchObject({ text: 'TypeError: The "chunk" argument must be of type string', expected: false });
  });

  it('keeps the class of leaves that have no code of their own, without the trailing full stop', () => {
    expect(summarizeError(new MultipleErrors('listOffsets failed 1 times.', [new TimeoutError('Request timed out')]))).toEqual({
      text: 'TimeoutError: Request timed out',
      leaves: ['TimeoutError: Request timed out'],
      expected: true,
    });
    const gone = new NetworkError('the broker is no longer in the cluster metadata (a coordinator that moved?)', { brokerGone: true });
    expect(summarizeError(gone).text).toBe('NetworkError: the broker is no longer in the cluster metadata (a coordinator that moved?)');
  });

  it('reads kafkajs errors: behind its retries, in its aggregates, and its protocol errors by type', () => {
    const conn = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092', { broker: '127.0.0.1:9092', code: 'ECONNREFUSED' });
    expect(summarizeError(new KafkaJSNumberOfRetriesExceeded(conn, { retryCount: 5, retryTime: 3000 }))).toMatchObject({
      text: 'ECONNREFUSED 127.0.0.1:9092',
      expected: true,
    });
    const timeout = new KafkaJSConnectionError('Connection timeout', { broker: '127.0.0.1:9093' });
    expect(summarizeError(new KafkaJSAggregateError('2 errors', [createErrorFromCode(NOT_COORDINATOR), timeout]))).toEqual({
      text: 'NOT_COORDINATOR_FOR_GROUP; KafkaJSConnectionError: Connection timeout (127.0.0.1:9093)',
      leaves: ['NOT_COORDINATOR_FOR_GROUP', 'KafkaJSConnectionError: Connection timeout (127.0.0.1:9093)'],
      expected: true,
    });
    expect(summarizeError(new KafkaJSNonRetriableError('Invalid message')).expected).toBe(false);
  });

  it('takes a leader gone from the metadata (a broker stopped) for a broker away, though the client calls it a UserError', () => {
    // As the projections saw it in CI when the scale-out test stopped broker 2.
    const e = new MultipleErrors('fetch failed 8 times.', [new NetworkError('Connection closed'), new UserError('Cannot find broker with node id 2')]);
    expect(summarizeError(e)).toMatchObject({ text: 'NetworkError: Connection closed; UserError: Cannot find broker with node id 2', expected: true });
  });

  it('does not take a mistake of ours for a broker away, and still walks plain causes', () => {
    expect(summarizeError(new MultipleErrors('send failed', [new UserError('/messages/0/topic must be string')]))).toEqual({
      text: 'UserError: /messages/0/topic must be string',
      leaves: ['UserError: /messages/0/topic must be string'],
      expected: false,
    });
    expect(
      summarizeError(new Error('writing the batch', { cause: new TypeError("Cannot read properties of undefined (reading 'x')\n    at f (a.ts:1:1)") })),
    ).toMatchObject({
      text: "TypeError: Cannot read properties of undefined (reading 'x')",
      expected: false,
    });
    // One of many leaves that is not expected makes the whole error unexpected.
    expect(summarizeError(new MultipleErrors('x', [unreachable(), new RangeError('bad offset')])).expected).toBe(false);
    expect(summarizeError(new Error('plain'))).toEqual({ text: 'plain', leaves: ['plain'], expected: false });
  });

  it('copes with what is not an error, with cycles, with depth and with many leaves', () => {
    expect(summarizeError('a string').text).toBe('a string');
    expect(summarizeError(undefined).text).toBe('undefined');
    const selfish = new Error('loops');
    (selfish as { cause?: unknown }).cause = selfish;
    expect(summarizeError(selfish).text).toBe('loops');
    // Deeper than the walk goes: the deepest error it reached stands for what is below.
    let deep: Error = unreachable();
    for (let i = 0; i < 10; i++) deep = new MultipleErrors(`level ${i}`, [deep]);
    expect(summarizeError(deep).text).toMatch(/^MultipleErrors: level \d$/);
    const many = new MultipleErrors(
      'x',
      Array.from({ length: 8 }, (_, i) => unreachable('127.0.0.1', 9100 + i)),
    );
    expect(summarizeError(many).text).toBe(
      'ECONNREFUSED 127.0.0.1:9100; ECONNREFUSED 127.0.0.1:9101; ECONNREFUSED 127.0.0.1:9102; ECONNREFUSED 127.0.0.1:9103; ECONNREFUSED 127.0.0.1:9104; +3 more',
    );
    expect(summarizeError(many).leaves).toHaveLength(8);
  });
});

describe('errorFields', () => {
  it('keeps the whole error (for its stack) only when it may be a bug', () => {
    expect(errorFields(gaveUp('metadata', 2))).toEqual({ error: 'ECONNREFUSED 127.0.0.1:9092' });
    const bug = new TypeError('x is not a function');
    expect(errorFields(bug)).toEqual({ error: 'TypeError: x is not a function', err: bug });
  });
});

/** A clock the test moves. */
function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('RepeatLimiter', () => {
  it('logs the first failure, then one per interval with the count left out, and the recovery once', () => {
    const c = clock();
    const r = new RepeatLimiter({ now: c.now });
    expect(r.recovery()).toBeNull();
    expect(r.failure('refused')).toEqual({ log: true, failures: 1, since: 1_000_000, unlogged: 0, firstOfKind: true });
    for (let i = 0; i < 5; i++) {
      c.advance(5_000);
      expect(r.failure('refused').log).toBe(false);
    }
    c.advance(5_000); // 30 s after the first line
    expect(r.failure('refused')).toEqual({ log: true, failures: 7, since: 1_000_000, unlogged: 5, firstOfKind: false });
    c.advance(1_000);
    expect(r.failure('refused')).toMatchObject({ log: false, failures: 8, unlogged: 1 });
    c.advance(500);
    expect(r.recovery()).toEqual({ failures: 8, since: 1_000_000, ms: 31_500 });
    expect(r.recovery()).toBeNull();
    expect(r.failing).toBe(false);
    // A new streak starts over.
    c.advance(1_000);
    expect(r.failure('refused')).toMatchObject({ log: true, failures: 1, since: 1_032_500 });
  });

  it('logs a new kind of failure at once, but only the first few kinds', () => {
    const c = clock();
    const r = new RepeatLimiter({ maxKinds: 2, now: c.now });
    expect(r.failure('refused').log).toBe(true);
    c.advance(200);
    expect(r.failure('NOT_COORDINATOR')).toMatchObject({ log: true, firstOfKind: true, failures: 2 });
    c.advance(200);
    expect(r.failure('refused').log).toBe(false);
    expect(r.failure('NOT_COORDINATOR').log).toBe(false);
    // Kinds beyond the cap (messages with offsets in them, say) wait like repeats.
    expect(r.failure('batch 1..5')).toMatchObject({ log: false, firstOfKind: false });
    expect(r.failure('batch 6..9').log).toBe(false);
  });

  it('keeps a long outage retried at the consumer backoff to a line per interval', () => {
    const c = clock();
    const r = new RepeatLimiter({ now: c.now });
    let lines = 0;
    let failures = 0;
    // Ten minutes, retried after 0.2 s doubling to 5 s, the consumer's backoff.
    for (let n = 0; c.now() < 1_000_000 + 600_000; n++) {
      failures++;
      if (r.failure('ECONNREFUSED 127.0.0.1:9092').log) lines++;
      c.advance(Math.min(5_000, 200 * 2 ** n));
    }
    expect(failures).toBeGreaterThan(100);
    expect(lines).toBeLessThanOrEqual(1 + 600_000 / 30_000);
    expect(lines).toBeGreaterThanOrEqual(600_000 / 30_000 - 1);
  });
});

/** A logger at `level` whose lines are kept, parsed. */
function captured(level = 'info') {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level, base: { service: 'test' } }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, lines };
}

describe('FailureLog', () => {
  it('writes one short line per logged failure, with the summary, what failed, the count and since when', () => {
    const c = clock(Date.parse('2026-01-01T00:00:00Z'));
    const { log, lines } = captured();
    const f = new FailureLog({ log, subject: 'consuming cc.events.v1', level: 'error', fields: { topic: 'cc.events.v1' }, now: c.now });
    f.failed(gaveUp('findGroupCoordinator', 9), 'opening the topic');
    for (let i = 0; i < 10; i++) {
      c.advance(3_000);
      f.failed(gaveUp('findGroupCoordinator', 9), 'opening the topic');
    }
    c.advance(1_500);
    f.recovered();
    f.recovered();
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [50, 'opening the topic failed; retrying: ECONNREFUSED 127.0.0.1:9092'],
      [50, 'opening the topic failed; retrying: ECONNREFUSED 127.0.0.1:9092 (11 failures in 30 s, 9 not logged)'],
      [30, 'consuming cc.events.v1 recovered after 11 failures in 31.5 s'],
    ]);
    expect(lines[0]).toMatchObject({
      topic: 'cc.events.v1',
      what: 'opening the topic',
      error: 'ECONNREFUSED 127.0.0.1:9092',
      failures: 1,
      since: '2026-01-01T00:00:00.000Z',
    });
    expect(lines[1]).toMatchObject({ failures: 11, unlogged: 9, since: '2026-01-01T00:00:00.000Z' });
    expect(lines[2]).toMatchObject({ topic: 'cc.events.v1', failures: 11, down_ms: 31_500 });
    // No stacks for a broker away.
    expect(JSON.stringify(lines)).not.toMatch(/stack|at .*\.js:\d+/);
  });

  it("logs a bug's stack once per streak, and every failure's whole error at debug level", () => {
    const c = clock();
    const { log, lines } = captured();
    const f = new FailureLog({ log, subject: 'x', now: c.now });
    const bug = new TypeError('x is not a function');
    f.failed(bug, 'batch t[0] 1..2', { partition: 0 });
    c.advance(30_000);
    f.failed(bug, 'batch t[0] 1..2', { partition: 0 });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: 40,
      partition: 0,
      error: 'TypeError: x is not a function',
      err: { type: 'TypeError', stack: expect.stringContaining('log-errors.unit.spec.ts') },
    });
    expect(lines[1]!.err).toBeUndefined();

    const debug = captured('debug');
    const g = new FailureLog({ log: debug.log, subject: 'x', now: c.now });
    g.failed(gaveUp('fetch', 2), 'reading the topic');
    g.failed(gaveUp('fetch', 2), 'reading the topic');
    expect(debug.lines.map((l) => [l.level, l.msg, typeof (l.err as { stack?: unknown } | undefined)?.stack])).toEqual([
      [40, 'reading the topic failed; retrying: ECONNREFUSED 127.0.0.1:9092', 'undefined'],
      [20, 'reading the topic failed (the whole error)', 'string'],
      [20, 'reading the topic failed (the whole error)', 'string'],
    ]);
  });
});

describe('ConsumerFailureLog', () => {
  it('recovers once the consumer reads again with no batch failing', () => {
    const { log, lines } = captured();
    const f = new ConsumerFailureLog({ log, subject: 'consuming t', now: clock().now });
    f.failed(unreachable(), 'reading the topic');
    f.failed(new TypeError('bug'), 'batch t[3] 1..2', 3);
    f.fetched();
    expect(lines.map((l) => l.msg)).toEqual([
      'reading the topic failed; retrying: ECONNREFUSED 127.0.0.1:9092',
      'batch t[3] 1..2 failed; retrying: TypeError: bug (2 failures in 0 s)',
    ]);
    f.batchDone(3);
    expect(lines.at(-1)).toMatchObject({ msg: 'consuming t recovered after 2 failures in 0 s', failures: 2 });
    // A partition taken away is no longer this member's failure.
    f.failed(new TypeError('bug'), 'batch t[4] 1..2', 4);
    f.fetched();
    expect(lines).toHaveLength(4);
    f.assigned([1, 2]);
    f.fetched();
    expect(lines).toHaveLength(5);
    expect(lines[4]!.msg).toBe('consuming t recovered after 1 failure in 0 s');
    // The same through the consumer's events.
    const on = new ConsumerFailureLog({ log, subject: 'consuming u', now: clock().now }).events();
    on.failed(new TypeError('bug'), 'batch u[0] 1..2', 0);
    on.fetched();
    on.joined([1]);
    expect(lines).toHaveLength(6);
    on.fetched();
    expect(lines.at(-1)!.msg).toBe('consuming u recovered after 1 failure in 0 s');
    // A batch that went through (runBatches says so) ends its partition's failure.
    on.failed(new TypeError('bug'), 'batch u[1] 1..2', 1);
    on.fetched();
    expect(lines).toHaveLength(8);
    on.batchDone(1);
    expect(lines.at(-1)!.msg).toBe('consuming u recovered after 1 failure in 0 s');
    expect(lines).toHaveLength(9);
  });
});

// Fault 8: a client that subscribes to the call-event SSE stream and never reads it, with a tiny
// receive buffer (SO_RCVBUF 4 KiB, set before connecting, in a raw TCP client), while call events
// flow until the kernel's buffers on both ends are full. What the API then holds for that client
// must be bounded (API_SUBSCRIBER_BUFFER events, then the subscriber is dropped, with the
// `callboard_api_subscribers_dropped_total` metric), and a subscriber beside it that reads must
// get every event, its delivery lag unaffected by the stuck one.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createClickHouse, createKafka, ensureTopics, Health, migrate, registry, type ClickHouse } from '@callboard/platform';
import type { CanonicalEvent } from '@callboard/schemas';
import { startApi, type RunningApi } from '../../api/src/main.ts';
import { MemoryPubSub, type Topics } from '../../api/src/pubsub.ts';
import { createToken } from '../../api/src/tokens.ts';
import { queueCall } from '../../api/test/events.ts';
import { allMigrations } from '../../cli/migrations.ts';
import { streamSubscription } from '../../wallboard/src/lib/sse.ts';
import { eventually, testConfig, uniqueId } from '../helpers.ts';
import { record } from './helpers.ts';

const BUFFER = 200;
const SUBSCRIPTION = 'subscription { callEvents { event_id type occurred_at call_id payload } }';

/**
 * The stalled client: connects with SO_RCVBUF set first (the kernel then advertises a small
 * window), posts the subscription, reads the response head, and never reads again. Prints
 * `subscribed` once the head is in.
 */
const STALLED_CLIENT = String.raw`
import socket, sys
host, port, token, body = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4].encode()
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect((host, port))
s.sendall(b'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\nAuthorization: Bearer ' + token.encode() + b'\r\nContent-Length: ' + str(len(body)).encode() + b'\r\n\r\n' + body)
head = b''
while b'\r\n\r\n' not in head:
    chunk = s.recv(1)
    if not chunk:
        sys.exit(3)
    head += chunk
print('subscribed ' + head.split(b'\r\n')[0].decode() + ' rcvbuf ' + str(s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)), flush=True)
sys.stdin.readline()
# Told to read at last: everything the server still had for it, then whether the server closed.
s.settimeout(120)
total, tail = 0, b''
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        total += len(chunk)
        tail = (tail + chunk)[-2000:]
    print('eof after %d bytes; stream ended %s' % (total, 'with an error' if b'errors' in tail else 'without an error'), flush=True)
except socket.timeout:
    print('no eof: %d bytes, then the server held the connection open' % total, flush=True)
`;

async function dropped(): Promise<number> {
  const m = registry.getSingleMetric('callboard_api_subscribers_dropped_total');
  const v = m ? await m.get() : { values: [] };
  return v.values.filter((x) => x.labels.subscription === 'callEvents').reduce((a, x) => a + x.value, 0);
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)]! : NaN;
};

let api: RunningApi | undefined;
let ch: ClickHouse | undefined;
let stalled: ChildProcess | undefined;
const reader = new AbortController();
const dirs: string[] = [];
afterAll(async () => {
  reader.abort();
  if (stalled && stalled.exitCode === null && stalled.signalCode === null) {
    const gone = new Promise((r) => stalled!.once('exit', r));
    stalled.kill('SIGKILL');
    await gone;
  }
  await api?.stop();
  await ch?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// Node cannot set SO_RCVBUF on a TCP socket; python3 can (README "Requirements").
const PYTHON = spawnSync('python3', ['--version']).status === 0;
if (!PYTHON) console.warn('slow-sse fault case skipped: python3 is not on PATH (it makes the raw client with a 4 KiB receive buffer)');

describe('fault: an SSE client that never reads', () => {
  it.skipIf(!PYTHON)('fills the socket buffers, is dropped once API_SUBSCRIBER_BUFFER events wait for it; a reading subscriber beside it gets every event', { timeout: 600_000 }, async () => {
    const began = Date.now();
    const cfg = testConfig({ tenants: [{ id: 'acme', timezone: 'UTC' }] });
    dirs.push(cfg.dataDir);
    const chDir = mkdtempSync(join(tmpdir(), 'callboard-fault-sse-'));
    dirs.push(chDir);
    ch = await createClickHouse(cfg, { embeddedPath: join(chDir, 'clickhouse') });
    await migrate(ch, allMigrations());
    const token = (await createToken(ch, { tenant_id: 'acme', role: 'supervisor', label: 'fault sse' })).token;
    const kafka = createKafka(cfg);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, cfg);
    await admin.disconnect();
    // The live consumer's own publications are not needed: the events are published straight
    // into the API's pubsub, as fast as the reading subscriber takes them.
    const pubsub = new MemoryPubSub<Topics>();
    const warnings: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
    api = await startApi({ cfg, log, health: new Health(), ch, port: 0, host: '127.0.0.1', pubsub, settings: { subscriberBuffer: BUFFER } });
    const url = new URL('/graphql', api.url);

    const sentAt = new Map<string, number>();
    const lags: { at: number; ms: number }[] = [];
    let received = 0;
    let problem = '';
    void streamSubscription<{ callEvents: { event_id: string } }>(
      url.href,
      token,
      { query: SUBSCRIPTION },
      {
        onAlive: () => {},
        onNext: (r) => {
          if (r.errors?.length) problem = JSON.stringify(r.errors);
          const id = r.data?.callEvents.event_id;
          if (!id) return;
          received++;
          const t = sentAt.get(id);
          if (t !== undefined) lags.push({ at: Date.now(), ms: Date.now() - t });
        },
      },
      reader.signal,
    ).then(
      () => (problem ||= 'the reading stream ended'),
      (e: unknown) => (problem ||= String(e)),
    );
    let published = 0;
    /** One call's events into the pubsub, then wait until the reading subscriber has them all. */
    const batch = async (calls: number, waitMs = 60_000) => {
      const events: CanonicalEvent[] = [];
      for (let i = 0; i < calls; i++) events.push(...queueCall({ call: uniqueId('sse'), queue: 'sales', at: new Date().toISOString(), waitS: 3, outcome: 'answered', agent: '2001', talkS: 30 }));
      for (const e of events) {
        sentAt.set(e.event_id, Date.now());
        pubsub.publish('callEvent', 'acme', e);
      }
      published += events.length;
      await eventually(
        () => {
          if (problem) throw new Error(problem);
          return received >= published ? true : undefined;
        },
        waitMs,
        `the reading subscriber to get ${published} events`,
      );
    };
    // The reader is subscribed once it gets what is published (what came before is not for it).
    await eventually(
      async () => {
        received = published;
        await batch(1, 1_000);
        return true;
      },
      60_000,
      'the reading subscriber to be subscribed',
    );
    // The reading subscriber's lag with nobody stuck beside it.
    for (let k = 0; k < 10; k++) await batch(20);
    const before = lags.length;

    const body = JSON.stringify({ query: SUBSCRIPTION });
    stalled = spawn('python3', ['-c', STALLED_CLIENT, url.hostname, url.port, token, body], { stdio: ['pipe', 'pipe', 'inherit'] });
    let said = '';
    stalled.stdout!.on('data', (b: Buffer) => (said += b.toString()));
    await eventually(() => (said.includes('subscribed') ? true : undefined), 60_000, 'the stalled client to be subscribed');
    expect(said).toContain('200');
    const stalledAt = Date.now();
    const droppedBefore = await dropped();

    // Events flow until the stalled client's buffers are full and the API has dropped it.
    let stalledWhile = 0;
    await eventually(
      async () => {
        await batch(20);
        stalledWhile = published;
        return (await dropped()) > droppedBefore ? true : undefined;
      },
      300_000,
      'the API to drop the client that never reads',
    );
    const droppedAt = Date.now();
    const droppedAfterEvents = stalledWhile;
    // After the drop nothing more is held for it: the reader still gets everything.
    for (let k = 0; k < 10; k++) await batch(20);
    // Now the stuck client reads: the API ended its stream (an error event, then the close).
    stalled.stdin!.write('\n');
    await eventually(() => (/eof|no eof/.test(said) ? true : undefined), 180_000, 'the stalled client to read to the end of its stream');

    const lagBefore = lags.slice(0, before).map((x) => x.ms);
    const lagStalled = lags.filter((x) => x.at >= stalledAt && x.at < droppedAt).map((x) => x.ms);
    const lagAfter = lags.filter((x) => x.at >= droppedAt).map((x) => x.ms);
    const fmt = (xs: number[]) => `p50 ${percentile(xs, 50)} ms, p99 ${percentile(xs, 99)} ms, max ${Math.max(...xs)} ms (${xs.length})`;
    record({
      case: 'SSE client that never reads',
      events: published,
      lost: published - received,
      doubled: Math.max(0, received - published),
      seconds: Math.round((Date.now() - began) / 1000),
      note: `${said.trim().replace(/\n/g, '; ')}; dropped by the API after ${droppedAfterEvents} events (bound API_SUBSCRIBER_BUFFER=${BUFFER}) in ${((droppedAt - stalledAt) / 1000).toFixed(1)} s; reading subscriber's lag before: ${fmt(lagBefore)}; while the other was stuck: ${fmt(lagStalled)}; after the drop: ${fmt(lagAfter)}`,
    });
    expect(said).toMatch(/eof after \d+ bytes; stream ended with an error/);
    expect(received).toBe(published);
    expect(warnings.filter((w) => w.includes('subscriber dropped') && w.includes('"subscription":"callEvents"'))).toHaveLength(1);
    expect(await dropped()).toBe(droppedBefore + 1);
    // The drop came from a full socket, not from the first events: far more were sent than the bound.
    expect(droppedAfterEvents).toBeGreaterThan(BUFFER);
  });
});

// The peer of bench/api-fanout.ts: the plainest server that can feed the same SSE screens from the
// same topic. A bare node:http server and a plain @platformatic/kafka consumer stream (the API's
// client and fetch wait, without its batching layer); it
// keeps the waiting callers per queue, and at most once per gap (the API's board coalescing, same
// leading edge) builds one JSON frame of the board's shape and writes the same bytes to every
// socket. No GraphQL, no auth, no live fold beyond that. Prints one JSON line: { url, pid }.
// A helper, not a benchmark: api-fanout.ts starts it with --brokers, --topic and --gap-ms.
import { createServer, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { Consumer } from '@platformatic/kafka';

const { values } = parseArgs({ options: { brokers: { type: 'string' }, topic: { type: 'string' }, 'gap-ms': { type: 'string', default: '250' } } });
const gapMs = Number(values['gap-ms']);
const screens = new Set<ServerResponse>();
const waiting = new Map<string, { queue: string; since: number }>();
const offered = new Map<string, number>();
let seq = 0;
let last = 0;
let timer: ReturnType<typeof setTimeout> | null = null;

function frame(): Buffer {
  const now = Date.now();
  const queues = [...offered.keys()].sort().map((queue) => {
    let n = 0;
    let oldest = now;
    for (const w of waiting.values()) {
      if (w.queue !== queue) continue;
      n++;
      oldest = Math.min(oldest, w.since);
    }
    return { queue, waiting: n, max_wait: (now - oldest) / 1000, today: { offered: offered.get(queue), service_level: null } };
  });
  const board = { server_time: new Date(now).toISOString(), seq: ++seq, live: { waiting_calls: [...waiting.keys()].map((call_id) => ({ call_id })), queues } };
  return Buffer.from(`event: next\ndata: ${JSON.stringify({ data: { board } })}\n\n`);
}

function send(): void {
  timer = null;
  last = Date.now();
  if (!screens.size) return;
  const f = frame();
  for (const res of screens) res.write(f);
}

function changed(): void {
  if (timer) return;
  timer = setTimeout(send, Math.max(0, last + gapMs - Date.now()));
}

const server = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  res.write(':\n\n');
  res.write(frame());
  screens.add(res);
  req.on('close', () => screens.delete(res));
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));

const consumer = new Consumer({ clientId: 'bench-api-fanout-peer', bootstrapBrokers: values.brokers!.split(','), groupId: `bench-api-fanout-peer-${process.pid}`, autocommit: false });
const joined = new Promise<void>((r) => consumer.once('consumer:group:join', () => r()));
const stream = await consumer.consume({ topics: [values.topic!], mode: 'latest', maxWaitTime: 50 });
let pending = false;
stream.on('data', (m) => {
  const e = JSON.parse(m.value!.toString('utf8')) as { type: string; call_id: string; occurred_at: string; payload: { queue: string } };
  if (e.type === 'call.queued') {
    waiting.set(e.call_id, { queue: e.payload.queue, since: Date.parse(e.occurred_at) });
    offered.set(e.payload.queue, (offered.get(e.payload.queue) ?? 0) + 1);
  } else if (e.type === 'call.abandoned') waiting.delete(e.call_id);
  // Once per fetch's messages, as the API does per batch.
  if (!pending) {
    pending = true;
    setImmediate(() => {
      pending = false;
      changed();
    });
  }
});
await joined;
const { port } = server.address() as { port: number };
process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}`, pid: process.pid })}\n`);
const stop = () => void stream.close().then(() => consumer.close()).finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.stdin.on('end', stop).resume();

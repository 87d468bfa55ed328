// The AMI client's resynchronisation reply wait against a local TCP endpoint: a reply that
// arrives late behind a stream of events (a busy PBX, a backed-up socket) must not cost the
// connection, and every event in between reaches the handler; a link on which nothing at all
// arrives is still declared dead.
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@callboard/platform';
import { AmiClient, replyTimeLeft, type AmiHandler } from '../src/ami/client.ts';
import { parseAll, type AmiFrame } from '../src/ami/parser.ts';

const wire = (f: Record<string, string>) => Object.entries(f).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n';

/** An AMI endpoint whose CoreShowChannels reply comes after `eventsBefore` events, `gapMs` apart (null: never). */
async function endpoint(eventsBefore: number | null, gapMs: number): Promise<{ server: Server; port: number }> {
  const server = createServer((s: Socket) => {
    s.write('Asterisk Call Manager/11.0.0\r\n');
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString();
      const end = buf.lastIndexOf('\r\n\r\n');
      if (end < 0) return;
      const frames = parseAll(buf.slice(0, end + 4));
      buf = buf.slice(end + 4);
      for (const f of frames) {
        const id = f.headers.ActionID ?? '';
        const action = f.headers.Action;
        if (action === 'Login' || action === 'Ping') s.write(wire({ Response: 'Success', ActionID: id }));
        else if (action === 'QueueStatus') s.write(wire({ Response: 'Success', ActionID: id }) + wire({ Event: 'QueueStatusComplete', ActionID: id, EventList: 'Complete', ListItems: '0' }));
        else if (action === 'CoreShowChannels' && eventsBefore !== null) {
          let n = 0;
          const tick = setInterval(() => {
            if (s.destroyed) return clearInterval(tick);
            if (n < eventsBefore) {
              s.write(wire({ Event: 'Newexten', Privilege: 'dialplan,all', Uniqueid: `1.${n}`, Extension: 's', Application: 'Wait' }));
              n++;
              return;
            }
            clearInterval(tick);
            s.write(wire({ Response: 'Success', ActionID: id, EventList: 'start' }) + wire({ Event: 'CoreShowChannelsComplete', ActionID: id, EventList: 'Complete', ListItems: '0' }));
          }, gapMs);
        }
      }
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return { server, port: typeof addr === 'object' && addr ? addr.port : 0 };
}

function recorder(onFrames: (fs: AmiFrame[]) => void = () => {}) {
  const frames: AmiFrame[] = [];
  const downs: { reason: string; kind: string }[] = [];
  let readyResolve!: () => void;
  let downResolve!: () => void;
  const ready = new Promise<void>((r) => (readyResolve = r));
  const down = new Promise<void>((r) => (downResolve = r));
  const handler: AmiHandler = {
    frames: (fs) => {
      frames.push(...fs);
      onFrames(fs);
    },
    ready: () => readyResolve(),
    down: (reason, kind) => {
      downs.push({ reason, kind });
      downResolve();
    },
  };
  return { handler, frames, downs, ready, down };
}

const servers: Server[] = [];
const clients: AmiClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.stop();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

function client(port: number, handler: AmiHandler): AmiClient {
  const c = new AmiClient(
    { name: 'resync-test', host: '127.0.0.1', port, tls: false, username: 'u', secret: () => 's', log: createLogger('ami-resync-test', 'silent'), resyncTimeoutMs: 150, backoffInitialMs: 60_000 },
    handler,
  );
  clients.push(c);
  c.start();
  return c;
}

describe('AMI client resynchronisation wait', () => {
  it('counts the reply wait from the last bytes received, not from the request', () => {
    expect(replyTimeLeft(1000, 0, 150, 1100)).toBe(50);
    expect(replyTimeLeft(1000, 5000, 150, 5100)).toBe(50);
    expect(replyTimeLeft(1000, 5000, 150, 5150)).toBe(0);
  });

  it('a reply that comes behind a stream of events, long after the timeout, keeps the connection and every event', async () => {
    // 20 events 40 ms apart: the reply comes ~800 ms after the request, the timeout is 150 ms.
    const { server, port } = await endpoint(20, 40);
    servers.push(server);
    const r = recorder();
    client(port, r.handler);
    await Promise.race([r.ready, r.down]);
    expect(r.downs).toEqual([]);
    expect(r.frames.filter((f) => f.name === 'Newexten')).toHaveLength(20);
  });

  it('a stall of this process longer than the timeout is not taken for a silent PBX', async () => {
    // The event loop blocked for 400 ms (a loaded host, a long GC) while the PBX kept sending:
    // when it runs again, the reply timer is due before the bytes waiting in the socket are read.
    const { server, port } = await endpoint(20, 40);
    servers.push(server);
    let stalled = false;
    const r = recorder((fs) => {
      if (stalled || !fs.some((f) => f.name === 'Newexten')) return;
      stalled = true;
      const until = Date.now() + 400;
      while (Date.now() < until);
    });
    client(port, r.handler);
    await Promise.race([r.ready, r.down]);
    expect(stalled).toBe(true);
    expect(r.downs).toEqual([]);
    expect(r.frames.filter((f) => f.name === 'Newexten')).toHaveLength(20);
  });

  it('a link on which nothing arrives after the request is declared dead, naming the action', async () => {
    const { server, port } = await endpoint(null, 0);
    servers.push(server);
    const r = recorder();
    client(port, r.handler);
    await r.down;
    expect(r.downs[0]?.kind).toBe('network');
    expect(r.downs[0]?.reason).toMatch(/CoreShowChannels.*nothing else received for 150 ms/);
  });
});

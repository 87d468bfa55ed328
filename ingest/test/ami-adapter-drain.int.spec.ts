// The AMI adapter writes every frame it received before `stop()` resolves, including frames that
// arrive while its last canonical write is still in flight (a replay's tail, a shutdown in a
// busy moment). A small AMI endpoint on 127.0.0.1 sends frames in two parts; the sink holds the
// canonical write of the first part until the second part has been received.
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@callboard/platform';
import type { CanonicalEvent, DlqRecord, RawRecord, RawRef } from '@callboard/schemas';
import { AmiAdapter } from '../src/ami/adapter.ts';
import { AmiParser } from '../src/ami/parser.ts';
import { frame } from './ami-test-server.ts';
import { eventually } from '../../test/helpers.ts';

// A pause or unpause of an agent: a frame that gives canonical events, so each part has a canonical write.
const agentEvent = (i: number) =>
  frame({
    Event: 'QueueMemberPause',
    Privilege: 'agent,all',
    Timestamp: `${1795306500 + i}.000000`,
    Queue: 'sales',
    MemberName: `PJSIP/${1001 + i}`,
    Interface: `PJSIP/${1001 + i}`,
    StateInterface: `PJSIP/${1001 + i}`,
    Membership: 'dynamic',
    Penalty: '0',
    CallsTaken: '0',
    LastCall: '0',
    LastPause: '0',
    InCall: '0',
    Status: '1',
    Paused: String(i % 2),
    PausedReason: 'lunch',
    Ringinuse: '0',
    Wrapuptime: '0',
  });

/** An AMI endpoint: banner, Login, the two resync lists, then whatever the test sends. */
async function endpoint(): Promise<{ port: number; streaming: Promise<Socket>; server: Server }> {
  let streamOn!: (s: Socket) => void;
  const streaming = new Promise<Socket>((r) => (streamOn = r));
  const server = createServer((socket) => {
    socket.on('error', () => {});
    socket.write('Asterisk Call Manager/11.0.0\r\n');
    const parser = new AmiParser();
    socket.on('data', (chunk) => {
      for (const f of parser.push(chunk)) {
        const id = f.headers.ActionID ?? '';
        if (f.name === 'Login') socket.write(frame({ Response: 'Success', ActionID: id, Message: 'Authentication accepted' }));
        else if (f.name === 'CoreShowChannels' || f.name === 'QueueStatus') {
          const done = f.name === 'QueueStatus' ? 'QueueStatusComplete' : 'CoreShowChannelsComplete';
          socket.write(frame({ Response: 'Success', ActionID: id, EventList: 'start', Message: 'will follow' }) + frame({ Event: done, ActionID: id, EventList: 'Complete', ListItems: '0' }));
          if (f.name === 'QueueStatus') streamOn(socket);
        } else if (f.name === 'Ping') socket.write(frame({ Response: 'Success', ActionID: id, Ping: 'Pong', Timestamp: '0' }));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as { port: number }).port, streaming, server };
}

let cleanup: (() => Promise<void>) | null = null;
afterEach(async () => {
  await cleanup?.();
  cleanup = null;
});

describe('AMI adapter stop()', () => {
  it('writes frames that arrived while the last canonical write was in flight', async () => {
    const { port, streaming, server } = await endpoint();
    const raw: string[] = [];
    let releaseFirst!: () => void;
    const firstHeld = new Promise<void>((r) => (releaseFirst = r));
    let canonicalWrites = 0;
    let holding = false;
    const sink = {
      raw: async (rs: RawRecord[]): Promise<RawRef[]> => {
        raw.push(...rs.map((r) => r.body));
        return rs.map((r, i) => ({ topic: 'pbx.raw.v1', partition: 0, offset: String(raw.length - rs.length + i), connection: r.connection, seq: r.seq }));
      },
      canonical: async (_: CanonicalEvent[]) => {
        if (canonicalWrites++ === 0) {
          holding = true;
          await firstHeld;
        }
      },
      dlq: async (_: DlqRecord[]) => {},
    };
    const adapter = new AmiAdapter({
      tenant_id: 'acme',
      pbx_id: 'pbx1',
      sink,
      log: createLogger('test', 'error'),
      client: { host: '127.0.0.1', port, tls: false, username: 'u', secret: () => 's', pingIntervalMs: 60_000 },
    }).start();
    cleanup = async () => {
      releaseFirst();
      await adapter.stop();
      await new Promise<void>((r) => server.close(() => r()));
    };
    const socket = await streaming;
    const part1 = Array.from({ length: 5 }, (_, i) => agentEvent(i));
    socket.write(part1.join(''));
    // The first part is in raw and its canonical write is held: the adapter's loop has nothing
    // else queued and waits for that write.
    await eventually(() => (holding && part1.every((f) => raw.includes(f)) ? true : undefined), 10_000, 'the first part written to raw, its canonical write held');
    const part2 = Array.from({ length: 5 }, (_, i) => agentEvent(5 + i));
    // The adapter's own count of frames received (private: no public figure says it).
    const received = () => (adapter as unknown as { received: number }).received;
    const before = received();
    socket.write(part2.join(''));
    // Received (the client has read it) while the loop still awaits the held write.
    await eventually(() => (received() >= before + 5 ? true : undefined), 10_000, 'the second part received');
    releaseFirst();
    await adapter.stop();
    cleanup = async () => void (await new Promise<void>((r) => server.close(() => r())));
    for (const f of [...part1, ...part2]) expect(raw).toContain(f);
  });
});

// A test AMI endpoint on 127.0.0.1 that replays a real capture: banner, Login (checks the
// secret), then the capture's bytes in the chunks they were received in (from
// capture.ami.rxtimes.jsonl); it answers Ping, QueueStatus and CoreShowChannels from what it
// has replayed so far. Tests can drop every socket or stop answering pings (half-open link).
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { AmiParser, parseAll, type AmiFrame } from '../src/ami/parser.ts';

export interface TestAmiServer {
  port: number;
  logins: { username: string; ok: boolean }[];
  /** Frames sent to clients, all connections together. */
  sent: number;
  /** Resolves when the capture has been replayed once, completely. */
  replayed: Promise<void>;
  drop(): void;
  mute(on: boolean): void;
  close(): Promise<void>;
}

/** An AMI frame of these fields, in order, closed by its empty line. */
export function frame(fields: Record<string, string>): string {
  return Object.entries(fields).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n';
}

export async function startTestAmiServer(capturePath: string, opts: { username: string; secret: string; tls?: { key: string; cert: string } }): Promise<TestAmiServer> {
  const bytes = readFileSync(capturePath);
  const chunks = readFileSync(`${capturePath}.rxtimes.jsonl`, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { offset: number; len: number });
  // Skip what the capture client itself caused before the stream: banner and its login reply.
  const head = parseAll(bytes.subarray(0, 4096)).slice(0, 2);
  const skip = Buffer.byteLength(head.map((f) => f.raw).join(''));

  const sockets = new Set<Socket>();
  const members = new Map<string, Record<string, string>>();
  const channels = new Map<string, Record<string, string>>();
  let muted = false;
  let replayDone!: () => void;
  const replayed = new Promise<void>((r) => (replayDone = r));
  let position = skip;
  const state: TestAmiServer = {
    port: 0,
    logins: [],
    sent: 0,
    replayed,
    drop() {
      for (const s of sockets) s.destroy();
    },
    mute(on) {
      muted = on;
    },
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };

  const track = (f: AmiFrame) => {
    const h = f.headers;
    if (f.kind !== 'event' || h.ActionID) return;
    if (f.name === 'QueueMemberAdded') members.set(`${h.Queue}|${h.Interface}`, h);
    if (f.name === 'QueueMemberRemoved') members.delete(`${h.Queue}|${h.Interface}`);
    if (f.name === 'Newchannel' && h.Uniqueid) channels.set(h.Uniqueid, h);
    if (f.name === 'Hangup' && h.Uniqueid) channels.delete(h.Uniqueid);
  };

  const write = (s: Socket, text: string | Buffer) => {
    if (!s.destroyed) s.write(text);
  };

  const onSocket = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    write(socket, 'Asterisk Call Manager/11.0.0\r\n');
    state.sent++;
    const parser = new AmiParser();
    let streaming = false;
    const stream = async () => {
      // Replay from where the last connection stopped, chunk by chunk, yielding between chunks
      // so the client sees realistic packet boundaries.
      const tracker = new AmiParser();
      for (const c of chunks) {
        if (socket.destroyed) return;
        const end = c.offset + c.len;
        if (end <= position) continue;
        const part = bytes.subarray(Math.max(position, c.offset), end);
        position = end;
        for (const f of tracker.push(part)) {
          track(f);
          state.sent++;
        }
        write(socket, part);
        await new Promise((r) => setImmediate(r));
      }
      replayDone();
    };
    socket.on('data', (chunk) => {
      for (const f of parser.push(chunk)) {
        const h = f.headers;
        const id = h.ActionID ?? '';
        switch (f.name.toLowerCase()) {
          case 'login': {
            const ok = h.Username === opts.username && h.Secret === opts.secret;
            state.logins.push({ username: h.Username ?? '', ok });
            write(socket, frame(ok ? { Response: 'Success', ActionID: id, Message: 'Authentication accepted' } : { Response: 'Error', ActionID: id, Message: 'Authentication failed' }));
            if (ok && !streaming) {
              streaming = true;
              void stream();
            }
            break;
          }
          case 'ping':
            if (!muted) write(socket, frame({ Response: 'Success', ActionID: id, Ping: 'Pong', Timestamp: (Date.now() / 1000).toFixed(6) }));
            break;
          case 'queuestatus': {
            let out = frame({ Response: 'Success', ActionID: id, EventList: 'start', Message: 'Queue status will follow' });
            for (const m of members.values()) {
              out += frame({ Event: 'QueueMember', Queue: m.Queue!, Name: m.MemberName!, Location: m.Interface!, StateInterface: m.StateInterface ?? m.Interface!, Membership: 'dynamic', Penalty: '0', CallsTaken: '0', LastCall: '0', InCall: '0', Status: '1', Paused: m.Paused ?? '0', PausedReason: m.PausedReason ?? '', ActionID: id });
            }
            out += frame({ Event: 'QueueStatusComplete', ActionID: id, EventList: 'Complete', ListItems: String(members.size) });
            write(socket, out);
            break;
          }
          case 'coreshowchannels': {
            let out = frame({ Response: 'Success', ActionID: id, EventList: 'start', Message: 'Channels will follow' });
            for (const c of channels.values()) out += frame({ Event: 'CoreShowChannel', ActionID: id, Channel: c.Channel!, ChannelState: c.ChannelState ?? '6', Uniqueid: c.Uniqueid!, Linkedid: c.Linkedid ?? c.Uniqueid!, Duration: '00:00:05' });
            out += frame({ Event: 'CoreShowChannelsComplete', ActionID: id, EventList: 'Complete', ListItems: String(channels.size) });
            write(socket, out);
            break;
          }
          case 'logoff':
            write(socket, frame({ Response: 'Goodbye', ActionID: id, Message: 'Thanks for all the fish.' }));
            socket.end();
            break;
          default:
            write(socket, frame({ Response: 'Error', ActionID: id, Message: 'Invalid/unknown command' }));
        }
      }
    });
  };
  const server: Server = opts.tls ? createTlsServer({ key: opts.tls.key, cert: opts.tls.cert }, onSocket) : createServer(onSocket);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  state.port = (server.address() as { port: number }).port;
  return state;
}

// `callboard replay --source ami CAPTURE`: a recorded AMI stream played through the live adapter
// (client, translator, ingest shell), Kafka and the projections, at the recorded pace divided by
// --speed or as fast as the adapter takes it (--speed max). The capture is served by a local AMI
// endpoint on 127.0.0.1 that answers the adapter's Login, Ping and resync actions, so nothing of
// the live path is bypassed. The capture starts once the adapter has resynchronised: the empty
// lists it is answered with are true only before the recording's first frame (a caller already
// queued that QueueStatus does not list is taken as gone). Events keep the capture's own Timestamp headers: a support engineer
// gets the customer's day as it happened, in a tenant of their choosing.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Health, type CallboardConfig, type Logger, type PbxConfig } from '@callboard/platform';
import { startAmiAdapter } from '../ami/adapter.ts';
import { AmiParser, parseAll } from '../ami/parser.ts';
import type { IngestSink } from '../sink.ts';

export interface CaptureServer {
  port: number;
  /**
   * Resolves once the whole capture was written to a logged-in client and the client closed its
   * side: it has then read every byte (a socket's data comes before its end), and the adapter
   * holds every frame; its stop() drains them to Kafka.
   */
  done: Promise<void>;
  close(): Promise<void>;
}

/** Receive time (ms) of each chunk of a capture, from `<capture>.rxtimes.jsonl`; null without one. */
export function readChunks(path: string): { offset: number; len: number; at: number }[] | null {
  const p = `${path}.rxtimes.jsonl`;
  if (!existsSync(p)) return null;
  return readFileSync(p, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { offset: number; len: number; rx_time: number })
    .map((c) => ({ offset: c.offset, len: c.len, at: Math.round(c.rx_time * 1000) }));
}

/**
 * Delay before each chunk: the recorded gap divided by `speed` (Infinity: none). A capture
 * without receive times is sent in one piece.
 */
export function chunkDelays(chunks: { at: number }[], speed: number): number[] {
  return chunks.map((c, i) => (i === 0 || !Number.isFinite(speed) ? 0 : Math.max(0, (c.at - chunks[i - 1]!.at) / speed)));
}

/** CoreShowChannels and QueueStatus: what the adapter's client asks after every login (ami/client.ts). */
const RESYNC_LISTS = 2;

const frame = (fields: Record<string, string>): string =>
  Object.entries(fields)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('') + '\r\n';

/** Serves `path` to the first client that logs in with `username`/`secret`. */
export async function serveCapture(path: string, o: { username: string; secret: string; speed: number }): Promise<CaptureServer> {
  const bytes = readFileSync(path);
  // The capture client's own banner and login reply are not part of the stream to replay.
  const head = parseAll(bytes.subarray(0, 4096)).slice(0, 2);
  const start = Buffer.byteLength(head.map((f) => f.raw).join(''));
  const chunks = (readChunks(path) ?? [{ offset: 0, len: bytes.length, at: 0 }]).filter((c) => c.offset + c.len > start);
  const delays = chunkDelays(chunks, o.speed);
  const sockets = new Set<Socket>();
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  let streaming = false;

  const stream = async (socket: Socket) => {
    for (let i = 0; i < chunks.length; i++) {
      if (socket.destroyed) return;
      const c = chunks[i]!;
      if (delays[i]! > 0) await new Promise((r) => setTimeout(r, delays[i]));
      else await new Promise((r) => setImmediate(r));
      const part = bytes.subarray(Math.max(start, c.offset), c.offset + c.len);
      // Respect backpressure: at --speed max the adapter sets the pace.
      if (!socket.write(part)) await new Promise((r) => socket.once('drain', r));
    }
    // No reconnect after the end of a recording.
    server.close();
    socket.once('close', () => resolveDone());
    socket.end();
  };

  // Per logged-in socket, the resync lists answered so far; the stream starts after both.
  const resynced = new Map<Socket, Set<string>>();
  const listed = (socket: Socket, list: string) => {
    const lists = resynced.get(socket);
    if (!lists || streaming) return;
    lists.add(list);
    if (lists.size < RESYNC_LISTS) return;
    streaming = true;
    void stream(socket);
  };

  const onSocket = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      resynced.delete(socket);
    });
    socket.on('error', () => {});
    socket.write('Asterisk Call Manager/11.0.0\r\n');
    const parser = new AmiParser();
    socket.on('data', (chunk) => {
      for (const f of parser.push(chunk)) {
        const id = f.headers.ActionID ?? '';
        switch (f.name.toLowerCase()) {
          case 'login': {
            const ok = f.headers.Username === o.username && f.headers.Secret === o.secret;
            socket.write(
              frame(
                ok
                  ? { Response: 'Success', ActionID: id, Message: 'Authentication accepted' }
                  : { Response: 'Error', ActionID: id, Message: 'Authentication failed' },
              ),
            );
            if (ok && !streaming) resynced.set(socket, new Set());
            break;
          }
          case 'ping':
            socket.write(frame({ Response: 'Success', ActionID: id, Ping: 'Pong', Timestamp: (Date.now() / 1000).toFixed(6) }));
            break;
          // A resync asked of a recording has nothing to add: what was live is in the stream.
          case 'queuestatus':
            socket.write(
              frame({ Response: 'Success', ActionID: id, EventList: 'start', Message: 'Queue status will follow' }) +
                frame({ Event: 'QueueStatusComplete', ActionID: id, EventList: 'Complete', ListItems: '0' }),
            );
            listed(socket, 'queuestatus');
            break;
          case 'coreshowchannels':
            socket.write(
              frame({ Response: 'Success', ActionID: id, EventList: 'start', Message: 'Channels will follow' }) +
                frame({ Event: 'CoreShowChannelsComplete', ActionID: id, EventList: 'Complete', ListItems: '0' }),
            );
            listed(socket, 'coreshowchannels');
            break;
          case 'logoff':
            socket.end(frame({ Response: 'Goodbye', ActionID: id, Message: 'Thanks for all the fish.' }));
            break;
          default:
            socket.write(frame({ Response: 'Error', ActionID: id, Message: 'Invalid/unknown command' }));
        }
      }
    });
  };
  const server: Server = createServer(onSocket);
  server.on('error', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as { port: number }).port,
    done,
    close: async () => {
      for (const s of sockets) s.destroy();
      if (server.listening) await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A throwaway data dir, so a replay never reports a gap since some earlier run of that PBX id. */
export const replayDataDir = (): string => mkdtempSync(join(tmpdir(), 'callboard-replay-'));

export interface ReplayOptions {
  capture: string;
  /** Divides the recorded pace; Infinity: as fast as the adapter reads. */
  speed: number;
  cfg: CallboardConfig;
  tenant_id: string;
  pbx_id: string;
  sink: IngestSink;
  log: Logger;
}

/** Plays a capture through the AMI adapter and returns once everything received was written. */
export async function replayAmi(o: ReplayOptions): Promise<void> {
  const secret = randomUUID();
  const secretEnv = `CALLBOARD_REPLAY_SECRET_${process.pid}`;
  process.env[secretEnv] = secret;
  const server = await serveCapture(o.capture, { username: 'callboard-replay', secret, speed: o.speed });
  const pbx: PbxConfig = {
    id: o.pbx_id,
    tenant: o.tenant_id,
    kind: 'ami',
    timezone: 'UTC',
    host: '127.0.0.1',
    port: server.port,
    tls: false,
    username: 'callboard-replay',
    secret_env: secretEnv,
    allow_from: [],
    base_url: '',
  };
  const adapter = await startAmiAdapter({ cfg: { ...o.cfg, dataDir: replayDataDir() }, pbx, sink: o.sink, health: new Health(), log: o.log });
  try {
    await server.done;
  } finally {
    await adapter.stop();
    await server.close();
    delete process.env[secretEnv];
  }
}

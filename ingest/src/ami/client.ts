// AMI client (I/O shell): TCP or TLS, banner check, Login, Ping keepalive, reconnect with
// exponential backoff and jitter, resynchronisation requests after every login. It hands every
// received frame, in order, to its handler and decides nothing about their meaning.
import { connect as tcpConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { backoffDelay, type Logger } from '@callboard/platform';
import { AmiParser, MAX_FRAME_CHARS, type AmiFrame } from './parser.ts';
import { RESYNC_ACTION_PREFIX } from './translator.ts';

export interface AmiEndpoint {
  host: string;
  port: number;
  tls: boolean;
  /** PEM of the CA(s) that sign the PBX's TLS certificate, when not a system CA. */
  ca?: string;
  username: string;
  /** Reads the secret at each login, so a fixed environment variable takes effect on retry. */
  secret: () => string;
}

export interface AmiClientOptions extends AmiEndpoint {
  /** Used in connection ids (raw records) and logs. */
  name: string;
  log: Logger;
  /** `Events:` on Login: "on" (default) or a class list such as "call,agent,cdr". */
  events?: string;
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
  /** How long a resynchronisation list (CoreShowChannels, QueueStatus) may go with nothing at all arriving. */
  resyncTimeoutMs?: number;
  connectTimeoutMs?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** Wait after a rejected login: a wrong password is retried slowly, never in a tight loop. */
  authRetryMs?: number;
  random?: () => number;
  /**
   * Where an earlier process left off (last moment it was known connected): the first
   * connection then reports the gap since, like a reconnect does.
   */
  resumeFrom?: { at: number; reason: string };
  /** Called (often) with the latest moment the connection was known good, to persist it. */
  onGood?: (at: number) => void;
  /** Size limit of one frame (characters, default MAX_FRAME_CHARS): memory per connection stays bounded. */
  maxFrameChars?: number;
}

export interface AmiConnectionInfo {
  id: string;
  startedAt: number;
}

export interface AmiHandler {
  /** Every frame received on a connection, in order, before anything else is done with it. */
  frames(frames: AmiFrame[], conn: AmiConnectionInfo, receivedAt: number): void;
  /**
   * Logged in and resynchronised. `gap` is the span without a connection before this one, on the
   * receive clock (the adapter places it on the PBX clock from the frames' Timestamps).
   */
  ready(conn: AmiConnectionInfo, gap: { from: number; to: number; reason: string } | null): void;
  /** Connection lost or refused; `auth` when the PBX rejected the credentials. */
  down(reason: string, kind: 'auth' | 'network' | 'protocol' | 'config', retryInMs: number): void;
}

/**
 * Milliseconds before a reply is overdue (≤ 0: overdue): counted from the later of the send and
 * the last bytes received, so a busy connection is never declared dead.
 */
export function replyTimeLeft(sentAt: number, lastActivity: number, timeoutMs: number, now: number): number {
  return Math.max(sentAt, lastActivity) + timeoutMs - now;
}

class AmiError extends Error {
  constructor(
    message: string,
    readonly kind: 'auth' | 'network' | 'protocol' | 'config',
  ) {
    super(message);
  }
}

export function encodeAction(fields: Record<string, string>): string {
  let s = '';
  for (const [k, v] of Object.entries(fields)) s += `${k}: ${v.replace(/[\r\n]+/g, ' ')}\r\n`;
  return `${s}\r\n`;
}

export class AmiClient {
  private socket: Socket | null = null;
  private stopped = false;
  private attempt = 0;
  private seq = 0;
  /** Last moment a ready connection was known good; where the next gap starts. */
  private lastGood = 0;
  private ready = false;
  private gapFrom = 0;
  private lastDownReason = '';
  private timer: NodeJS.Timeout | null = null;
  private readonly waiting = new Map<string, { resolve: (f: AmiFrame) => void; reject: (e: Error) => void }>();
  private closed: Promise<void> = Promise.resolve();
  private readonly o: Required<Omit<AmiClientOptions, 'secret' | 'resumeFrom' | 'onGood' | 'ca'>> & Pick<AmiClientOptions, 'secret' | 'onGood' | 'ca'>;

  constructor(
    opts: AmiClientOptions,
    private readonly handler: AmiHandler,
  ) {
    this.o = {
      events: 'on',
      pingIntervalMs: 15_000,
      pingTimeoutMs: 10_000,
      resyncTimeoutMs: 30_000,
      connectTimeoutMs: 10_000,
      backoffInitialMs: 500,
      backoffMaxMs: 30_000,
      authRetryMs: 60_000,
      maxFrameChars: MAX_FRAME_CHARS,
      random: Math.random,
      ...opts,
    };
    if (opts.resumeFrom && opts.resumeFrom.at > 0) {
      this.gapFrom = opts.resumeFrom.at;
      this.lastDownReason = opts.resumeFrom.reason;
    }
  }

  private good(at: number): void {
    this.lastGood = at;
    this.o.onGood?.(at);
  }

  start(): void {
    this.stopped = false;
    void this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const s = this.socket;
    if (s) {
      s.end(encodeAction({ Action: 'Logoff', ActionID: 'callboard-logoff' }));
      setTimeout(() => s.destroy(), 1000).unref();
    }
    await this.closed;
  }

  /** Flow control: stop (false) or resume (true) reading the socket while the writer catches up. */
  setReading(on: boolean): void {
    this.reading = on;
    this.lastActivity = Date.now();
    if (on) this.socket?.resume();
    else this.socket?.pause();
  }
  private reading = true;
  /** When bytes last arrived (or reading resumed): a reply waits behind whatever is queued. */
  private lastActivity = 0;

  private async loop(): Promise<void> {
    while (!this.stopped) {
      let retryIn = 0;
      try {
        await this.session();
        retryIn = backoffDelay(0, this.o.backoffInitialMs, this.o.backoffMaxMs, this.o.random);
      } catch (e) {
        const err = e instanceof AmiError ? e : new AmiError((e as Error).message, 'network');
        if (this.ready) {
          this.gapFrom = this.lastGood;
          this.lastDownReason = err.message;
          this.ready = false;
        }
        retryIn = err.kind === 'auth' || err.kind === 'config' ? this.o.authRetryMs : backoffDelay(this.attempt++, this.o.backoffInitialMs, this.o.backoffMaxMs, this.o.random);
        if (!this.stopped) this.handler.down(err.message, err.kind, retryIn);
      }
      if (this.stopped) break;
      await new Promise<void>((r) => {
        this.timer = setTimeout(r, retryIn);
      });
    }
  }

  /** One connection, from connect to close. Resolves when the PBX closes a healthy session. */
  private session(): Promise<void> {
    const o = this.o;
    const conn: AmiConnectionInfo = { id: `${o.name}-${Date.now().toString(36)}-${++this.seq}`, startedAt: Date.now() };
    let secret: string;
    try {
      secret = o.secret();
    } catch (e) {
      return Promise.reject(new AmiError((e as Error).message, 'config'));
    }
    return new Promise<void>((resolve, reject) => {
      const parser = new AmiParser(o.maxFrameChars);
      let bannerSeen = false;
      let loggedIn = false;
      let settled = false;
      let pingTimer: NodeJS.Timeout | null = null;
      let closedResolve!: () => void;
      this.closed = new Promise<void>((r) => (closedResolve = r));
      const socket = o.tls ? tlsConnect({ host: o.host, port: o.port, ...(isIP(o.host) ? {} : { servername: o.host }), ...(o.ca ? { ca: o.ca } : {}) }) : tcpConnect({ host: o.host, port: o.port });
      this.socket = socket;
      if (!this.reading) socket.pause();
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 10_000);
      const connectTimer = setTimeout(() => fail(new AmiError(`no connection to ${o.host}:${o.port} within ${o.connectTimeoutMs} ms`, 'network')), o.connectTimeoutMs);

      const fail = (err: AmiError) => {
        if (settled) return;
        settled = true;
        cleanup();
        socket.destroy();
        reject(err);
      };
      const cleanup = () => {
        clearTimeout(connectTimer);
        if (pingTimer) clearInterval(pingTimer);
        for (const w of this.waiting.values()) w.reject(new AmiError('connection closed', 'network'));
        this.waiting.clear();
      };
      const send = (fields: Record<string, string>, timeoutMs = o.pingTimeoutMs): Promise<AmiFrame> => {
        const id = fields.ActionID!;
        const sentAt = Date.now();
        return new Promise<AmiFrame>((res, rej) => {
          // A reply queued behind a backlog of events arrives late on a healthy link: only a
          // link silent for the whole timeout (while we were reading) is dead.
          const check = (afterRead = false) => {
            if (!this.waiting.has(id)) return;
            const left = this.reading ? replyTimeLeft(sentAt, this.lastActivity, timeoutMs, Date.now()) : timeoutMs;
            if (left > 0) {
              t = setTimeout(check, left);
              return;
            }
            // After a stall of this process (a loaded host) the timers run before the socket's
            // waiting bytes are read: let the event loop read them once (setImmediate runs after
            // the poll phase), then judge. Our own stall is not the PBX's silence.
            if (!afterRead) {
              setImmediate(() => check(true));
              return;
            }
            this.waiting.delete(id);
            rej(new AmiError(`no reply to ${fields.Action} and nothing else received for ${timeoutMs} ms: dead or half-open connection`, 'network'));
          };
          let t = setTimeout(check, timeoutMs);
          this.waiting.set(id, {
            resolve: (f) => {
              clearTimeout(t);
              res(f);
            },
            reject: (e) => {
              clearTimeout(t);
              rej(e);
            },
          });
          socket.write(encodeAction(fields));
        });
      };

      const afterLogin = async () => {
        // Channels first, so waiting callers found by QueueStatus already belong to their call.
        const rid = `${RESYNC_ACTION_PREFIX}-${conn.id}`;
        const lists = [
          { id: `${rid}-channels`, action: 'CoreShowChannels', complete: 'CoreShowChannelsComplete' },
          { id: `${rid}-queues`, action: 'QueueStatus', complete: 'QueueStatusComplete' },
        ];
        for (const l of lists) {
          const done = new Promise<void>((res) => this.waiting.set(`${l.id}#complete`, { resolve: () => res(), reject: () => res() }));
          const reply = await send({ Action: l.action, ActionID: l.id }, o.resyncTimeoutMs);
          if (reply.headers.Response === 'Error') throw new AmiError(`${l.action} refused: ${reply.headers.Message ?? 'no reason given'} (the AMI user needs read access to call and agent classes)`, 'protocol');
          await done;
        }
        const now = Date.now();
        const gap = this.gapFrom > 0 ? { from: this.gapFrom, to: now, reason: this.lastDownReason } : null;
        this.gapFrom = 0;
        this.good(now);
        this.ready = true;
        this.attempt = 0;
        this.handler.ready(conn, gap);
        pingTimer = setInterval(() => {
          send({ Action: 'Ping', ActionID: `callboard-ping-${Date.now()}` }).then(
            () => {
              this.good(Date.now());
            },
            (e: Error) => fail(e instanceof AmiError ? e : new AmiError(e.message, 'network')),
          );
        }, o.pingIntervalMs);
      };

      socket.once(o.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(connectTimer);
        o.log.info({ host: o.host, port: o.port, tls: o.tls, connection: conn.id }, 'AMI connected');
      });
      socket.on('data', (chunk: Buffer) => {
        const at = Date.now();
        this.lastActivity = at;
        const frames = parser.push(chunk);
        if (frames.length === 0) return;
        if (this.ready) this.good(at);
        this.handler.frames(frames, conn, at);
        for (const f of frames) {
          if (!bannerSeen) {
            if (f.kind !== 'banner') {
              fail(new AmiError(`${o.host}:${o.port} is not an AMI endpoint: expected "Asterisk Call Manager/<version>", got ${JSON.stringify(f.raw.slice(0, 60))}`, 'protocol'));
              return;
            }
            bannerSeen = true;
            o.log.info({ version: f.name, connection: conn.id }, 'AMI banner');
            send({ Action: 'Login', ActionID: `callboard-login-${conn.id}`, Username: o.username, Secret: secret, Events: o.events }).then(
              (reply) => {
                if (reply.headers.Response !== 'Success') {
                  fail(new AmiError(`login rejected for AMI user "${o.username}": ${reply.headers.Message ?? reply.headers.Response ?? 'no reason given'}`, 'auth'));
                  return;
                }
                loggedIn = true;
                afterLogin().catch((e: Error) => fail(e instanceof AmiError ? e : new AmiError(e.message, 'protocol')));
              },
              (e: Error) => fail(e instanceof AmiError ? e : new AmiError(e.message, 'network')),
            );
            continue;
          }
          const id = f.headers.ActionID;
          if (id === undefined) continue;
          if (f.kind === 'response') {
            const w = this.waiting.get(id);
            if (w) {
              this.waiting.delete(id);
              w.resolve(f);
            }
          } else if (f.headers.EventList === 'Complete') {
            const w = this.waiting.get(`${id}#complete`);
            if (w) {
              this.waiting.delete(`${id}#complete`);
              w.resolve(f);
            }
          }
        }
      });
      socket.on('error', (e) => fail(new AmiError(`${o.host}:${o.port}: ${e.message}`, 'network')));
      socket.on('close', () => {
        closedResolve();
        if (this.socket === socket) this.socket = null;
        for (const f of parser.end()) this.handler.frames([f], conn, Date.now());
        if (!settled) {
          settled = true;
          cleanup();
          if (this.stopped) resolve();
          else reject(new AmiError(loggedIn ? `${o.host}:${o.port} closed the connection` : `${o.host}:${o.port} closed the connection before login completed`, 'network'));
        }
      });
    });
  }
}

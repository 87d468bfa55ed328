// A TCP server that speaks AMI like Asterisk 22: banner, Login (plain), Events, Ping,
// QueueStatus and CoreShowChannels (what an adapter sends to resynchronise after a reconnect),
// Logoff. Events are pushed to every logged-in session that has events on. Thin shell: the
// frames and the resync answers come from AmiRenderer. `restart()` and `up()` play Asterisk's
// `core restart now` (j_restart): every connection closed after the Shutdown event, no
// connection accepted while the PBX is down, then a fresh process (FullyBooted Uptime 0);
// `crash()` plays a `kill -9`: the connections drop with no Shutdown and no reply to anything.
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '@callboard/platform';
import { frameToWire, type Headers } from './ami-render.ts';

export const AMI_BANNER = 'Asterisk Call Manager/11.0.0';

export interface AmiStateProvider {
  queueStatus(t: number, actionId: string, queue?: string): Headers[];
  coreShowChannels(t: number, actionId: string): Headers[];
}

export interface AmiServerOptions {
  host?: string;
  /** 0: any free port. */
  port?: number;
  username: string;
  secret: string;
  /** The simulated PBX clock (virtual UTC ms) for Ping and resync answers. */
  clock: () => number;
  /** How far the PBX's clock is off the true time (the renderer's `clockSkewMs`): shifts the Ping reply's Timestamp. */
  clockSkewMs?: number;
  state: AmiStateProvider;
  log?: Logger;
}

interface Session {
  socket: Socket;
  buf: string;
  authed: boolean;
  events: boolean;
  /** The PBX died under this session: nothing more is read or answered. */
  dead?: boolean;
}

function parseAction(block: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of block.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    m.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  return m;
}

function stamp(ms: number): string {
  return `${Math.floor(ms / 1000)}.${String((ms % 1000) * 1000).padStart(6, '0')}`;
}

export class AmiServer {
  private server: Server | null = null;
  private readonly sessions = new Set<Session>();
  private loginWaiters: (() => void)[] = [];
  private resyncWaiters: (() => void)[] = [];
  /** Wall time the current PBX process started (FullyBooted's Uptime). */
  private bootedAt = Date.now();
  port = 0;

  constructor(private readonly o: AmiServerOptions) {}

  async start(): Promise<number> {
    const server = createServer((s) => this.accept(s));
    this.server = server;
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(this.port || (this.o.port ?? 0), this.o.host ?? '127.0.0.1', () => res());
    });
    const addr = server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
    this.o.log?.info({ port: this.port }, 'simulated AMI server listening');
    return this.port;
  }

  /** Resolves once a client has logged in with events on (so no history is sent into the void). */
  whenSubscribed(): Promise<void> {
    if ([...this.sessions].some((s) => s.authed && s.events)) return Promise.resolve();
    return new Promise((r) => this.loginWaiters.push(r));
  }

  get subscribers(): number {
    return [...this.sessions].filter((s) => s.authed && s.events).length;
  }

  /** Sends one event frame to every subscribed session; returns false if a socket is backed up. */
  broadcast(h: Headers): boolean {
    const wire = frameToWire(h);
    let ok = true;
    for (const s of this.sessions) if (s.authed && s.events && !s.socket.destroyed) ok = s.socket.write(wire) && ok;
    return ok;
  }

  /** Resolves when every subscribed socket has drained its write buffer. */
  async drained(): Promise<void> {
    await Promise.all(
      [...this.sessions].filter((s) => s.socket.writableNeedDrain && !s.socket.destroyed).map((s) => new Promise<void>((r) => {
        s.socket.once('drain', r);
        s.socket.once('close', r);
      })),
    );
  }

  /**
   * The PBX goes down (after the Shutdown event of a `core restart now`, or at a `kill -9`): from
   * this call on nothing is answered (a Ping the client sends now must not carry a time after the
   * last frame); what was already written reaches the client, as the kernel still sends a killed
   * process's socket buffers before it closes them; then every connection is closed, with no
   * Goodbye, and the port stops accepting.
   */
  async restart(why = 'restarting'): Promise<void> {
    const server = this.server;
    this.server = null;
    const sessions = [...this.sessions];
    this.sessions.clear();
    for (const s of sessions) s.dead = true;
    for (const s of sessions) if (!s.socket.destroyed) s.socket.end(() => s.socket.destroy());
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    this.o.log?.info({ port: this.port }, `simulated PBX ${why}: AMI connections closed`);
  }

  /** `kill -9`: the connections drop with no Shutdown before (the caller sends none). */
  crash(): Promise<void> {
    return this.restart('crashed');
  }

  /** The restarted PBX accepts connections again on the same port. */
  async up(): Promise<void> {
    this.bootedAt = Date.now();
    await this.start();
  }

  /** Resolves once a client logged in after this call has asked QueueStatus (its resync). */
  whenResynced(): Promise<void> {
    return new Promise((r) => this.resyncWaiters.push(r));
  }

  async close(): Promise<void> {
    for (const s of this.sessions) s.socket.destroy();
    this.sessions.clear();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server = null;
  }

  private accept(socket: Socket): void {
    const s: Session = { socket, buf: '', authed: false, events: true };
    this.sessions.add(s);
    socket.setNoDelay(true);
    socket.write(`${AMI_BANNER}\r\n`);
    socket.on('data', (d) => {
      if (s.dead) return;
      s.buf += d.toString('utf8');
      for (;;) {
        const m = /\r?\n\r?\n/.exec(s.buf);
        if (!m) break;
        const block = s.buf.slice(0, m.index);
        s.buf = s.buf.slice(m.index + m[0].length);
        if (block.trim() && !s.dead) this.handle(s, parseAction(block));
      }
    });
    socket.on('error', (e) => this.o.log?.debug({ err: e.message }, 'AMI client socket error'));
    socket.on('close', () => this.sessions.delete(s));
  }

  private reply(s: Session, h: Headers): void {
    s.socket.write(frameToWire(h));
  }

  private handle(s: Session, a: Map<string, string>): void {
    const action = (a.get('action') ?? '').toLowerCase();
    const id: Headers = a.has('actionid') ? [['ActionID', a.get('actionid')!]] : [];
    const now = this.o.clock();
    if (action === 'login') {
      if (a.get('username') === this.o.username && a.get('secret') === this.o.secret) {
        s.authed = true;
        const ev = (a.get('events') ?? 'on').toLowerCase();
        s.events = ev !== 'off' && ev !== 'no' && ev !== 'false';
        this.reply(s, [['Response', 'Success'], ...id, ['Message', 'Authentication accepted']]);
        const uptime = String(Math.floor((Date.now() - this.bootedAt) / 1000));
        this.reply(s, [['Event', 'FullyBooted'], ['Privilege', 'system,all'], ['Uptime', uptime], ['LastReload', uptime], ['Status', 'Fully Booted']]);
        this.o.log?.info({ user: this.o.username }, 'AMI client logged in');
        if (s.events) this.notifyLogin();
      } else {
        this.o.log?.warn({ user: a.get('username') }, 'AMI login refused: wrong username or secret');
        this.reply(s, [['Response', 'Error'], ...id, ['Message', 'Authentication failed']]);
        s.socket.end();
      }
      return;
    }
    if (action === 'logoff') {
      this.reply(s, [['Response', 'Goodbye'], ...id, ['Message', 'Thanks for all the fish.']]);
      s.socket.end();
      return;
    }
    if (!s.authed) {
      this.reply(s, [['Response', 'Error'], ...id, ['Message', 'Missing authentication']]);
      return;
    }
    switch (action) {
      case 'ping':
        this.reply(s, [['Response', 'Success'], ...id, ['Ping', 'Pong'], ['Timestamp', stamp(now + (this.o.clockSkewMs ?? 0))]]);
        return;
      case 'events': {
        const mask = (a.get('eventmask') ?? 'on').toLowerCase();
        s.events = mask !== 'off';
        this.reply(s, [['Response', 'Success'], ...id, ['Events', s.events ? 'On' : 'Off']]);
        if (s.events) this.notifyLogin();
        return;
      }
      case 'queuestatus': {
        const aid = a.get('actionid') ?? '';
        this.reply(s, [['Response', 'Success'], ...id, ['EventList', 'start'], ['Message', 'Queue status will follow']]);
        for (const h of this.o.state.queueStatus(now, aid, a.get('queue') || undefined)) this.reply(s, h);
        const w = this.resyncWaiters;
        this.resyncWaiters = [];
        for (const r of w) r();
        return;
      }
      case 'coreshowchannels': {
        const aid = a.get('actionid') ?? '';
        this.reply(s, [['Response', 'Success'], ...id, ['EventList', 'start'], ['Message', 'Channels will follow']]);
        for (const h of this.o.state.coreShowChannels(now, aid)) this.reply(s, h);
        return;
      }
      default:
        this.reply(s, [['Response', 'Error'], ...id, ['Message', 'Invalid/unknown command']]);
    }
  }

  private notifyLogin(): void {
    const w = this.loginWaiters;
    this.loginWaiters = [];
    for (const r of w) r();
  }
}

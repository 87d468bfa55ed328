// The simulated AMI server over real TCP: banner, login (wrong and right secret), Ping,
// QueueStatus and CoreShowChannels lists for resync, the event stream, Logoff; and a `core
// restart now` (j_restart): Shutdown, the connection closed, a new process to reconnect to; and a
// crash (`kill -9`): the connection dropped after the last event, with nothing else.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../test/helpers.ts';
import { AmiRenderer } from '../src/ami-render.ts';
import { startAmiSimulator, type RunningSimulator } from '../src/run.ts';
import { callCentreScenario, dayWindow } from '../src/scenarios.ts';

class Conn {
  buf = '';
  constructor(readonly s: Socket) {
    s.on('data', (d) => {
      this.buf += d.toString('utf8');
    });
  }
  static open(port: number): Promise<Conn> {
    return new Promise((res, rej) => {
      const s = connect(port, '127.0.0.1', () => res(new Conn(s)));
      s.once('error', rej);
    });
  }
  send(fields: Record<string, string>): void {
    this.s.write(Object.entries(fields).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n');
  }
  /** Waits until the buffer holds `text`, then returns everything up to and including it. */
  async until(text: string, timeoutMs = 10_000): Promise<string> {
    await eventually(() => (this.buf.includes(text) ? true : undefined), timeoutMs, `${JSON.stringify(text)} from the AMI server`).catch((e: Error) => {
      throw new Error(`${e.message}; have ${JSON.stringify(this.buf.slice(-300))}`);
    });
    const i = this.buf.indexOf(text) + text.length;
    const out = this.buf.slice(0, i);
    this.buf = this.buf.slice(i);
    return out;
  }
}

/** Reconnects as an adapter does: until the PBX back from a restart or crash accepts. */
async function reconnect(port: number): Promise<Conn> {
  return eventually(() => Conn.open(port), 10_000, `the PBX on port ${port} to accept connections again`);
}

/** Banner, Login as `u`, and the FullyBooted that follows (returned). */
async function login(c: Conn, id: string): Promise<string> {
  await c.until('Asterisk Call Manager/11.0.0\r\n');
  c.send({ Action: 'Login', ActionID: id, Username: 'u', Secret: 's3cret' });
  await c.until('Message: Authentication accepted\r\n\r\n');
  return c.until('Status: Fully Booted\r\n\r\n');
}

/** The adapter's resync on a PBX just back: it must list no channel, no member and no caller. */
async function expectEmptyResync(d: Conn): Promise<string> {
  d.send({ Action: 'CoreShowChannels', ActionID: 'cs' });
  d.send({ Action: 'QueueStatus', ActionID: 'qs' });
  const resync = await d.until('Event: QueueStatusComplete\r\nActionID: qs\r\n');
  expect(resync).toContain('Event: CoreShowChannelsComplete\r\nActionID: cs\r\nEventList: Complete\r\nListItems: 0\r\n');
  expect(resync).not.toContain('Event: QueueMember\r\n');
  expect(resync).not.toContain('Event: QueueEntry\r\n');
  return resync;
}

const closed = (c: Conn): Promise<unknown> => new Promise((r) => (c.s.destroyed ? r(null) : c.s.once('close', r)));

/** Frames the PBX rendered for the actions after the `kind` action: what the new connection must receive. */
function framesAfter(sim: RunningSimulator, kind: 'pbx_up'): number {
  const up = sim.actions.findIndex((a) => a.kind === kind);
  const r = new AmiRenderer(sim.ledger);
  return sim.actions.flatMap((a, i) => r.render(a).filter(() => i > up)).length;
}

describe('simulated AMI server', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    const w = dayWindow('2026-11-20', 'Africa/Nairobi', 0, 0);
    // Two hours of a morning, played at 600x: enough traffic, a few seconds of wall time.
    const scenario = callCentreScenario({ tenant: 'acme', pbx: 'sim', timezone: 'Africa/Nairobi', seed: 5, from_ms: w.from_ms + 9 * 3600_000, to_ms: w.from_ms + 11 * 3600_000 });
    sim = await startAmiSimulator({ scenario, speed: 600, port: 0, username: 'u', secret: 's3cret' });
  });
  afterAll(() => sim?.stop());

  it('refuses a wrong secret and closes the connection', async () => {
    const c = await Conn.open(sim.port);
    expect(await c.until('\r\n')).toBe('Asterisk Call Manager/11.0.0\r\n');
    c.send({ Action: 'Login', ActionID: 'l1', Username: 'u', Secret: 'nope' });
    expect(await c.until('\r\n\r\n')).toBe('Response: Error\r\nActionID: l1\r\nMessage: Authentication failed\r\n\r\n');
    await closed(c);
  });

  it('logs in, answers Ping and the resync lists, streams events, says goodbye', async () => {
    const c = await Conn.open(sim.port);
    await c.until('Asterisk Call Manager/11.0.0\r\n');
    c.send({ Action: 'Login', ActionID: 'l2', Username: 'u', Secret: 's3cret' });
    expect(await c.until('\r\n\r\n')).toBe('Response: Success\r\nActionID: l2\r\nMessage: Authentication accepted\r\n\r\n');
    await c.until('Status: Fully Booted\r\n\r\n');
    c.send({ Action: 'Ping', ActionID: 'p1' });
    const pong = await c.until('ActionID: p1\r\nPing: Pong\r\nTimestamp: ');
    expect(pong).toContain('Response: Success');
    await sim.done;
    c.send({ Action: 'QueueStatus', ActionID: 'qs' });
    const qs = await c.until('Event: QueueStatusComplete\r\nActionID: qs\r\nEventList: Complete\r\n');
    expect(qs).toContain('Response: Success\r\nActionID: qs\r\nEventList: start\r\nMessage: Queue status will follow\r\n\r\n');
    expect(qs).toMatch(/Event: QueueParams\r\nQueue: sales\r\n/);
    expect(qs).toMatch(/Event: QueueMember\r\nQueue: sales\r\nName: Agent 10\d\d\r\nLocation: Local\/10\d\d@agents\r\n/);
    c.send({ Action: 'CoreShowChannels', ActionID: 'cs' });
    const cs = await c.until('Event: CoreShowChannelsComplete\r\nActionID: cs\r\nEventList: Complete\r\n');
    expect(cs).toContain('Message: Channels will follow');
    expect(await c.until('\r\n\r\n')).toBe('ListItems: 0\r\n\r\n'); // the day is over: no channel left up
    // The stream before the lists carried the morning's queue events, stamped with model time.
    expect(pong + qs).toMatch(/Event: QueueCallerJoin\r\nPrivilege: agent,all\r\nTimestamp: \d+\.\d{6}\r\nChannel: Local\/07\d+@callers-[0-9a-f]{8};2\r\n/);
    c.send({ Action: 'Logoff', ActionID: 'bye' });
    await c.until('Response: Goodbye\r\nActionID: bye\r\nMessage: Thanks for all the fish.\r\n\r\n', 5000);
    await closed(c);
  });
});

describe('simulated AMI server through a core restart now', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    const w = dayWindow('2026-11-20', 'Africa/Nairobi', 0, 0);
    const from = w.from_ms + 10 * 3600_000;
    const scenario = { ...callCentreScenario({ tenant: 'acme', pbx: 'sim', timezone: 'Africa/Nairobi', seed: 5, from_ms: from, to_ms: from + 3600_000 }), restarts: [{ at_ms: from + 1800_000 }] };
    // As fast as possible: whatever the PBX did after its return would be gone before any client
    // could log in again, unless the simulator holds the day until the resync.
    sim = await startAmiSimulator({ scenario, speed: Infinity, port: 0, username: 'u', secret: 's3cret' });
  });
  afterAll(() => sim?.stop());

  it('sends Shutdown last and closes; the PBX comes back empty and holds the day until the client has resynchronised', async () => {
    const c = await Conn.open(sim.port);
    await login(c, 'l1');
    const before = await c.until('Event: Shutdown\r\nPrivilege: system,all\r\n', 30_000);
    expect(before).toContain('Event: SoftHangupRequest\r\n');
    expect(before).toContain('Reason: agent\r\n');
    expect(await c.until('\r\n\r\n')).toMatch(/^Timestamp: \d+\.\d{6}\r\nShutdown: Cleanly\r\nRestart: True\r\n\r\n$/);
    await closed(c);
    expect(c.buf).toBe('');

    const d = await reconnect(sim.port);
    expect(await login(d, 'l2')).toContain('Event: FullyBooted\r\nPrivilege: system,all\r\nUptime: 0\r\n');
    // No channel and no member survived, and no event was sent before the resync was answered.
    expect(await expectEmptyResync(d)).not.toContain('Timestamp: ');
    await sim.done;
    // Every event the restarted PBX sent reached the new connection.
    const after = framesAfter(sim, 'pbx_up');
    expect(after).toBeGreaterThan(100);
    d.send({ Action: 'Logoff', ActionID: 'bye' });
    const rest = await d.until('Response: Goodbye\r\nActionID: bye\r\n');
    expect(rest.split('\r\nTimestamp: ').length - 1).toBe(after);
  });
});

describe('simulated AMI server through a crash (kill -9)', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    const w = dayWindow('2026-11-20', 'Africa/Nairobi', 0, 0);
    const from = w.from_ms + 10 * 3600_000;
    const scenario = { ...callCentreScenario({ tenant: 'acme', pbx: 'sim', timezone: 'Africa/Nairobi', seed: 5, from_ms: from, to_ms: from + 3600_000 }), crashes: [{ at_ms: from + 1800_000, down_ms: 5000 }] };
    sim = await startAmiSimulator({ scenario, speed: Infinity, port: 0, username: 'u', secret: 's3cret' });
  });
  afterAll(() => sim?.stop());

  it('drops the connection after the last event before the crash, with no Shutdown; the PBX comes back empty', async () => {
    const c = await Conn.open(sim.port);
    await login(c, 'l1');
    await closed(c);
    const crash = sim.ledger.crashes[0]!;
    expect(crash.calls_cut.length).toBeGreaterThan(0);
    // Everything the PBX sent before it died arrived, whole, and nothing else: the last frame is
    // the ledger's gap start, and no call was hung up by an event.
    const at = sim.actions.findIndex((a) => a.kind === 'pbx_crash');
    const r = new AmiRenderer(sim.ledger);
    const before = sim.actions.slice(0, at).flatMap((a) => r.render(a));
    expect(c.buf.split('\r\nTimestamp: ').length - 1).toBe(before.length);
    expect(c.buf.endsWith('\r\n\r\n')).toBe(true);
    expect(c.buf).not.toContain('Event: Shutdown');
    const stamps = [...c.buf.matchAll(/\r\nTimestamp: (\d+)\.(\d{3})\d{3}\r\n/g)];
    const last = stamps[stamps.length - 1]!;
    expect(Number(last[1]) * 1000 + Number(last[2])).toBe(crash.gap_from_ms);

    const d = await reconnect(sim.port);
    expect(await login(d, 'l2')).toContain('Event: FullyBooted\r\nPrivilege: system,all\r\nUptime: 0\r\n');
    await expectEmptyResync(d);
    await sim.done;
    const after = framesAfter(sim, 'pbx_up');
    expect(after).toBeGreaterThan(100);
    d.send({ Action: 'Logoff', ActionID: 'bye' });
    const rest = await d.until('Response: Goodbye\r\nActionID: bye\r\n');
    expect(rest.split('\r\nTimestamp: ').length - 1).toBe(after);
  });
});

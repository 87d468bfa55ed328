// Wiring: scenario → model → AMI renderer → AMI server (or the Yeastar P- and S-Series fakes),
// played by the player at the chosen speed, with the ground-truth ledger written next to it.
// Used by `callboard simulate`, `callboard start` and the end-to-end truth test.
import { writeFileSync } from 'node:fs';
import type { Logger } from '@callboard/platform';
import { AmiRenderer } from './ami-render.ts';
import { AmiServer } from './ami-server.ts';
import { ledgerToNdjson, type Ledger } from './ledger.ts';
import { simulate, type Scenario, type SimAction } from './model.ts';
import { SimPlayer } from './player.ts';

export interface AmiSimulatorOptions {
  scenario: Scenario;
  /** Virtual ms per wall ms (1 = real time, Infinity = as fast as the client reads). */
  speed: number;
  /** Play everything before this virtual time at once (a day of history); default: nothing. */
  catchUpTo?: number;
  host?: string;
  port?: number;
  username: string;
  secret: string;
  /** Write the ledger here (.json: one document; .ndjson: one record per line). */
  ledgerPath?: string;
  /** Ceiling on actions per second while catching up (see PlayerOptions.catchUpRate). */
  catchUpRate?: number;
  /** Wait for a logged-in AMI client before playing (so nothing is sent to nobody). Default true. */
  waitForClient?: boolean;
  /** The PBX clock this far off the true time (AmiRenderOptions.clockSkewMs); the ledger stays true. */
  clockSkewMs?: number;
  log?: Logger;
}

export interface RunningSimulator {
  port: number;
  ledger: Ledger;
  actions: readonly SimAction[];
  /** The simulated PBX clock (virtual UTC ms). */
  now(): number;
  /** Resolves when every action has been played. */
  done: Promise<void>;
  progress(): { played: number; total: number };
  stop(): Promise<void>;
}

export function writeLedger(path: string, ledger: Ledger): void {
  writeFileSync(path, path.endsWith('.ndjson') ? ledgerToNdjson(ledger) : JSON.stringify(ledger));
}

export async function startAmiSimulator(o: AmiSimulatorOptions): Promise<RunningSimulator> {
  const calledAt = Date.now();
  const { ledger, actions } = simulate(o.scenario);
  if (o.ledgerPath) writeLedger(o.ledgerPath, ledger);
  const renderer = new AmiRenderer(ledger, { clockSkewMs: o.clockSkewMs });
  let player: SimPlayer | null = null;
  const server = new AmiServer({
    host: o.host,
    port: o.port,
    username: o.username,
    secret: o.secret,
    clock: () => (player ? player.now() : o.scenario.from_ms),
    clockSkewMs: o.clockSkewMs,
    state: renderer,
    log: o.log,
  });
  const port = await server.start();
  player = new SimPlayer({
    actions,
    startAt: o.scenario.from_ms,
    catchUpTo: o.catchUpTo,
    catchUpAtWall: calledAt,
    speed: o.speed,
    catchUpRate: o.catchUpRate,
    sink: (a) => {
      for (const f of renderer.render(a)) server.broadcast(f.headers);
    },
    // A scenario restart (j_restart): the connections close after the Shutdown event; a crash
    // drops them with nothing sent; once the PBX is back the timeline holds until the client has
    // logged in again and resynchronised, so a sped-up day loses nothing a real adapter,
    // reconnecting within a second, would not lose.
    gate: (a) => {
      if (a.kind === 'pbx_shutdown') return server.restart();
      if (a.kind === 'pbx_crash') return server.crash();
      if (a.kind !== 'pbx_up') return undefined;
      const resynced = server.whenResynced();
      return server.up().then(() => (o.waitForClient === false ? undefined : resynced));
    },
    drain: () => server.drained(),
  });
  const p = player;
  const done = (async () => {
    if (o.waitForClient !== false) await server.whenSubscribed();
    o.log?.info({ actions: actions.length, calls: ledger.calls.length, speed: o.speed }, 'simulator playing');
    await p.run();
    o.log?.info({ played: p.played }, 'simulator finished its timeline');
  })();
  return {
    port,
    ledger,
    actions,
    now: () => p.now(),
    done,
    progress: () => ({ played: p.played, total: p.total }),
    async stop() {
      p.stop();
      await server.close();
    },
  };
}

/** What the simulated Yeastar P- and S-Series share: a live day, its queue numbers, its ledger. */
interface YeastarSimulatorOptions {
  scenario: Scenario;
  /** Model queue name → Yeastar queue number (call_path / callpath, queue-<number>). */
  queueNumbers: Record<string, string>;
  /** 1 for figures that match the model's clock: Yeastar events carry no time (receive time is used). */
  speed: number;
  ledgerPath?: string;
  log?: Logger;
}

export interface YeastarPSimulatorOptions extends YeastarSimulatorOptions {
  clientId: string;
  clientSecret: string;
  port?: number;
}

export interface RunningYeastarPSimulator extends Omit<RunningSimulator, 'port'> {
  /** The fake PBX's API (PbxConfig.base_url). */
  base_url: string;
}

/** The model's day and ledger (written when asked) of a simulated Yeastar. */
function yeastarDay(o: YeastarSimulatorOptions): ReturnType<typeof simulate> {
  const day = simulate(o.scenario);
  if (o.ledgerPath) writeLedger(o.ledgerPath, day.ledger);
  return day;
}

/** A simulated Yeastar as its caller sees it: played by `player` until `stop` closes the fake PBX. */
function runningYeastar(base_url: string, day: ReturnType<typeof simulate>, player: SimPlayer, done: Promise<void>, stop: () => Promise<void>): RunningYeastarPSimulator {
  return {
    base_url,
    ledger: day.ledger,
    actions: day.actions,
    now: () => player.now(),
    done,
    progress: () => ({ played: player.played, total: player.total }),
    async stop() {
      player.stop();
      await stop();
    },
  };
}

/** A simulated Yeastar P-Series: the fake OpenAPI server fed with the model's calls, played live. */
export async function startYeastarPSimulator(o: YeastarPSimulatorOptions): Promise<RunningYeastarPSimulator> {
  const { startYeastarPServer } = await import('./yeastar-p-server.ts');
  const { YeastarPRenderer } = await import('./yeastar-p-render.ts');
  const day = yeastarDay(o);
  const { ledger, actions } = day;
  const server = await startYeastarPServer({ client_id: o.clientId, client_secret: o.clientSecret, port: o.port ?? 0 });
  const renderer = new YeastarPRenderer(ledger, { queueNumbers: o.queueNumbers });
  // queue/list and queue/agent_status answer from the same membership the pushes announce.
  const members = new Map<string, Map<string, { paused: boolean; reason: string }>>();
  const publishState = (): void =>
    server.setState({
      queues: Object.entries(o.queueNumbers).map(([name, number], i) => ({
        id: i + 1,
        number,
        name,
        agents: [...(members.get(name) ?? new Map()).entries()].map(([agent, s]) => ({
          number: agent, name: `Agent ${agent}`, is_login: 1, is_pause: s.paused ? 1 : 0, pause_reason: s.reason, call_status: 'idle', agent_type: 'dynamic',
        })),
      })),
    });
  publishState();
  const player = new SimPlayer({
    actions,
    startAt: o.scenario.from_ms,
    speed: o.speed,
    sink: (a) => {
      if (a.kind === 'member_added' || a.kind === 'member_removed' || a.kind === 'pause') {
        for (const [q, m] of members.entries()) {
          if (a.kind === 'pause' && m.has(a.agent)) m.set(a.agent, { paused: a.paused, reason: a.paused ? a.reason : '' });
          if (a.kind === 'member_removed' && q === a.queue) m.delete(a.agent);
        }
        if (a.kind === 'member_added') (members.get(a.queue) ?? members.set(a.queue, new Map()).get(a.queue)!).set(a.agent, { paused: false, reason: '' });
        publishState();
      }
      for (const p of renderer.render(a)) server.push({ type: p.type, sn: server.sn, msg: p.msg });
    },
  });
  const done = (async () => {
    await server.waitForSubscribers(1, 24 * 3600_000);
    o.log?.info({ actions: actions.length, calls: ledger.calls.length, speed: o.speed }, 'Yeastar P-Series simulator playing');
    await player.run();
  })();
  return runningYeastar(server.base_url, day, player, done, () => server.close());
}

export interface YeastarSSimulatorOptions extends YeastarSimulatorOptions {
  /** The API user and password the client logs in with (it sends the password's MD5). */
  username: string;
  password: string;
}

export type RunningYeastarSSimulator = RunningYeastarPSimulator;

/**
 * A simulated Yeastar S-Series: the fake API (login, heartbeat, logout) that pushes the model's
 * calls as HTTP reports to where the client asked at login, played live. Reports go out one at a
 * time in model order, each re-sent until answered 200, as the PBX does.
 */
export async function startYeastarSSimulator(o: YeastarSSimulatorOptions): Promise<RunningYeastarSSimulator> {
  const { startYeastarSApi } = await import('./yeastar-s-pusher.ts');
  const { YeastarSRenderer } = await import('./yeastar-s-render.ts');
  const day = yeastarDay(o);
  const { ledger, actions } = day;
  const api = await startYeastarSApi({ username: o.username, password: o.password });
  const renderer = new YeastarSRenderer(ledger, { queueNumbers: o.queueNumbers, sn: api.sn });
  let stopped = false;
  let sending: Promise<unknown> = Promise.resolve();
  const player = new SimPlayer({
    actions,
    startAt: o.scenario.from_ms,
    speed: o.speed,
    sink: (a) => {
      for (const r of renderer.render(a)) {
        sending = sending.then(async () => {
          // A stopped PBX sends nothing more; one that cannot reach its client gives up after a minute.
          if (stopped) return;
          const res = await api.pushReport(r.report, { retry_ms: 1000, max_attempts: 60 });
          if (res.status !== 200) o.log?.warn({ event: r.report.event, status: res.status, attempts: res.attempts }, 'S-Series report not taken; dropped');
        });
      }
    },
  });
  const done = (async () => {
    // Nothing is sent to nobody: the PBX pushes to where a client logged in from.
    while (!stopped && api.stats.logins === 0) await new Promise((r) => setTimeout(r, 100));
    if (stopped) return;
    o.log?.info({ actions: actions.length, calls: ledger.calls.length, speed: o.speed }, 'Yeastar S-Series simulator playing');
    await player.run();
    await sending;
  })();
  return runningYeastar(api.base_url, day, player, done, () => {
    stopped = true;
    return api.close();
  });
}

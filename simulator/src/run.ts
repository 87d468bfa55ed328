// Wiring: scenario → model → AMI renderer → AMI server, played by the player at the chosen
// speed, with the ground-truth ledger written next to it. Used by `callboard simulate`,
// `callboard start` and the end-to-end truth test.
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

export interface YeastarPSimulatorOptions {
  scenario: Scenario;
  /** Model queue name → Yeastar queue number (call_path, queue-<number>). */
  queueNumbers: Record<string, string>;
  clientId: string;
  clientSecret: string;
  /** 1 for figures that match the model's clock: Yeastar events carry no time (receive time is used). */
  speed: number;
  port?: number;
  ledgerPath?: string;
  log?: Logger;
}

export interface RunningYeastarPSimulator extends Omit<RunningSimulator, 'port'> {
  base_url: string;
}

/** A simulated Yeastar P-Series: the fake OpenAPI server fed with the model's calls, played live. */
export async function startYeastarPSimulator(o: YeastarPSimulatorOptions): Promise<RunningYeastarPSimulator> {
  const { startYeastarPServer } = await import('./yeastar-p-server.ts');
  const { YeastarPRenderer } = await import('./yeastar-p-render.ts');
  const { ledger, actions } = simulate(o.scenario);
  if (o.ledgerPath) writeLedger(o.ledgerPath, ledger);
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
  return {
    base_url: server.base_url,
    ledger,
    actions,
    now: () => player.now(),
    done,
    progress: () => ({ played: player.played, total: player.total }),
    async stop() {
      player.stop();
      await server.close();
    },
  };
}

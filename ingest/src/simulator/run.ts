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
  const { ledger, actions } = simulate(o.scenario);
  if (o.ledgerPath) writeLedger(o.ledgerPath, ledger);
  const renderer = new AmiRenderer(ledger);
  let player: SimPlayer | null = null;
  const server = new AmiServer({
    host: o.host,
    port: o.port,
    username: o.username,
    secret: o.secret,
    clock: () => (player ? player.now() : o.scenario.from_ms),
    state: renderer,
    log: o.log,
  });
  const port = await server.start();
  player = new SimPlayer({
    actions,
    startAt: o.scenario.from_ms,
    catchUpTo: o.catchUpTo,
    speed: o.speed,
    catchUpRate: o.catchUpRate,
    sink: (a) => {
      for (const f of renderer.render(a)) server.broadcast(f.headers);
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

// #16 "Must show": a live wait on screen within 1 s of the simulator's ledger wait 3 minutes after
// start. Runs the real `callboard start` (the demo's simulated Asterisk with a day of history,
// ingest, projections, the API and the wallboard) in a child process and its board in Chromium,
// then reads the demo board's "Oldest call" tile at the instant it ticks and compares it with the
// oldest call the ledger has waiting at that instant. The ledger is the simulator's own: the
// demo's scenario is seeded, so the same call recomputes it here.
//
// The demo's tenant is moved to the fixed-offset zone (Etc/GMT±N) in whose working day the
// ledger has callers waiting longest in the minutes the test reads the board: at the demo's
// volume a queue is often empty for minutes, and at night nearly always.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, expect, it, inject } from 'vitest';
import { freePort, loadConfigFile } from '@callboard/platform';
import { simulate } from '@callboard/simulator/model';
import { callCentreScenario } from '@callboard/simulator/scenarios';
import { DEMO_CONFIG } from '../../cli/start.ts';
import { eventually } from '../helpers.ts';
import { buildWallboard, repoRoot } from './wallboard-stack.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const THREE_MINUTES = 180_000;

let child: ChildProcess | undefined;
let browser: Browser | undefined;
afterAll(async () => {
  await browser?.close();
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
});

type Ledger = ReturnType<typeof simulate>['ledger'];

/** The demo's ledger (cli/start.ts startAmi: seed 1, a day of history from local midnight, live until the day after tomorrow). */
function demoLedger(zone: string, atMs: number): Ledger {
  const today = DateTime.fromMillis(atMs, { zone }).startOf('day');
  return simulate(callCentreScenario({ tenant: 'acme', pbx: 'acme-ami', timezone: zone, seed: 1, from_ms: today.minus({ days: 1 }).toMillis(), to_ms: today.plus({ days: 2 }).toMillis() })).ledger;
}

/** How long within [from, to) someone waits in `queues`, by the ledger. */
function waitedMs(ledger: Ledger, queues: Set<string>, from: number, to: number): number {
  const spans = ledger.legs
    .filter((l) => queues.has(l.queue) && l.left_at_ms > from && l.offered_at_ms < to)
    .map((l) => [Math.max(from, l.offered_at_ms), Math.min(to, l.left_at_ms)] as const)
    .sort((a, b) => a[0] - b[0]);
  let total = 0;
  let end = from;
  for (const [a, b] of spans) {
    if (b <= end) continue;
    total += b - Math.max(a, end);
    end = b;
  }
  return total;
}

/** The demo config with only acme and its simulated Asterisk, acme in `zone`. */
function demoConfigIn(zone: string, dir: string): string {
  const demo = loadConfigFile(DEMO_CONFIG) as Record<string, Record<string, unknown>[]>;
  const acme = (x: Record<string, unknown>) => x.tenant === 'acme';
  const file = {
    ...demo,
    tenants: demo.tenants!.filter((t) => t.id === 'acme').map((t) => ({ ...t, timezone: zone })),
    queues: demo.queues!.filter(acme),
    schedules: (demo.schedules ?? []).filter(acme),
    agents: (demo.agents ?? []).filter(acme),
    pbxes: demo.pbxes!.filter((p) => acme(p) && p.kind === 'ami'),
  };
  const path = join(dir, 'demo.json');
  writeFileSync(path, JSON.stringify(file));
  return path;
}

it.skipIf(!existsSync(CHROMIUM))('shows a live wait within 1 s of the ledger 3 minutes after start', async () => {
  buildWallboard();
  const dir = mkdtempSync(join(tmpdir(), 'callboard-live-wait-'));
  const queues = new Set(['sales', 'support']);
  // Fixed-offset zones where it is working hours now; the one whose ledger has someone waiting
  // longest from 3 to 8 minutes after now.
  const now = Date.now();
  const zones = Array.from({ length: 27 }, (_, i) => i - 12)
    .filter((h) => {
      const local = (new Date(now).getUTCHours() + h + 24) % 24;
      return local >= 9 && local < 17;
    })
    .map((h) => (h === 0 ? 'UTC' : `Etc/GMT${h > 0 ? '-' : '+'}${Math.abs(h)}`));
  const ranked = zones.map((z) => ({ zone: z, waited: waitedMs(demoLedger(z, now), queues, now + THREE_MINUTES, now + THREE_MINUTES + 300_000) })).sort((a, b) => b.waited - a.waited);
  const zone = ranked[0]!.zone;
  const config = demoConfigIn(zone, dir);
  const port = await freePort();
  const started = Date.now();
  child = spawn(process.execPath, [join(repoRoot, 'bin', 'callboard.mjs'), 'start', '--port', String(port)], {
    cwd: repoRoot,
    env: {
      ...process.env,
      CALLBOARD_CONFIG: config,
      CALLBOARD_DATA_DIR: join(dir, 'data'),
      KAFKA_BROKERS: inject('kafkaBrokers').join(','),
      KAFKA_TOPIC_PREFIX: `livewait${process.pid}x${started.toString(36)}.`,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
  const board = await eventually(() => /Wallboard:\s+(\S+)/.exec(out)?.[1] ?? (child!.exitCode !== null ? Promise.reject(new Error(`callboard start exited ${child!.exitCode}`)) : undefined), 240_000, 'callboard start to print the wallboard URL');

  // The simulator's ledger: demo start-up takes seconds, not a day, so the child read the same local date.
  const ledger = demoLedger(zone, started);

  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  const tv = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  await tv.goto(board);
  const oldest = '[data-testid="kpi"][data-metric="max_wait"] [data-testid="value"]';
  await tv.waitForSelector(oldest, { timeout: 120_000 });

  // Three minutes after start, and a caller waiting (not "—", not "?" while catching up).
  await eventually(
    async () => {
      const text = (await tv.locator(oldest).innerText()).trim();
      if (Date.now() - started >= THREE_MINUTES && /^\d+:\d{2}(:\d{2})?$/.test(text)) return true;
      // Thrown, so that a time-out says what the tile last showed.
      throw new Error(`the tile says "${text}" ${Math.round((Date.now() - started) / 1000)} s after start`);
    },
    THREE_MINUTES + 300_000,
    `three minutes after start with a caller waiting (zone ${zone}; by the ledger someone waits ${Math.round(ranked[0]!.waited / 1000)} s of minutes 3–8)`,
  );

  // At the instant the tile ticks (the board re-renders it from its clock once a second), its text
  // is the wait floored to whole seconds at that instant.
  const seen = await tv.evaluate(
    (sel) =>
      new Promise<{ text: string; at: number }>((resolve, reject) => {
        const el = document.querySelector(sel)!;
        const before = el.textContent;
        const obs = new MutationObserver(() => {
          if (el.textContent === before) return;
          obs.disconnect();
          resolve({ text: el.textContent!.trim(), at: Date.now() });
        });
        obs.observe(el, { characterData: true, childList: true, subtree: true });
        setTimeout(() => reject(new Error('the oldest-call tile did not tick within 5 s')), 5_000);
      }),
    oldest,
  );
  const shownS = seen.text.split(':').reduce((s, x) => s * 60 + Number(x), 0);
  const open = ledger.legs.filter((l) => queues.has(l.queue) && l.offered_at_ms <= seen.at && l.left_at_ms > seen.at);
  expect(open.length, `a call of the ledger waiting at ${new Date(seen.at).toISOString()} (screen: ${seen.text})`).toBeGreaterThan(0);
  const truthS = (seen.at - Math.min(...open.map((l) => l.offered_at_ms))) / 1000;
  console.info(`live-wait: ${Math.round((seen.at - started) / 1000)} s after start, oldest call on screen ${seen.text}, ledger ${truthS.toFixed(2)} s`);
  // The screen says the wait lies in [shown, shown + 1): that span must be within 1 s of the truth.
  expect(truthS, `oldest call on screen ${seen.text}, ledger ${truthS.toFixed(2)} s, ${Math.round((seen.at - started) / 1000)} s after start`).toBeGreaterThan(shownS - 1);
  expect(truthS).toBeLessThan(shownS + 2);
}, 600_000);

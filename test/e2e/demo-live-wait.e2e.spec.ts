// Issue #16 "Must show": the demo as `npm start` runs it (`callboard start`: a simulated Asterisk
// replaying a day of history, then live), opened in Chromium; 3 minutes after start a caller
// waiting live is on screen within 1 s of the simulator's ledger, and no agent's time in state is
// longer than the ledger's own run of that state (no day-long times left over from the replay).
//
// The simulator's ledger is recomputed here: a scenario is a pure function of its date, zone and
// seed (simulator/src/scenarios.ts), so `simulate` gives the very calls the child process plays.
// The ledger's times are the model's clock, which after the replay must be the wall clock: a
// simulator lagging by its replay's length (#16, ~95 s) puts callers on screen who, by the
// ledger, left long ago, or with a wait a lag too long.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfigFile } from '@callboard/platform';
import type { Ledger, LedgerLeg } from '@callboard/simulator/ledger';
import { simulate } from '@callboard/simulator/model';
import { callCentreScenario } from '@callboard/simulator/scenarios';
import { DEMO_CONFIG } from '../../cli/start.ts';
import { eventually, freePort, uniqueId } from '../helpers.ts';
import { buildWallboard, repoRoot } from './wallboard-stack.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const shots = join(repoRoot, 'test-results', 'screenshots');
const TENANT = 'acme';
const PBX = 'acme-ami';
const QUEUES = ['sales', 'support'];
const AFTER_START_MS = 180_000;
/** How long after the 3 minutes a caller may take to wait in a readable way (the day decides). */
const READ_WINDOW_MS = 300_000;
/**
 * What the pipeline (AMI → Kafka → projections → SSE → screen) may lag behind the ledger on this
 * loaded machine: a reading is taken only where the ledger's longest waiter has waited at least
 * this long and no older caller left within it, so the screen and the ledger mean the same caller.
 */
const SETTLE_MS = 5_000;

/** The caller who has waited longest at `t` by the ledger, when that is unambiguous on screen. */
function settledOldest(legs: readonly LedgerLeg[], t: number): LedgerLeg | null {
  let oldest: LedgerLeg | null = null;
  for (const l of legs) if (l.offered_at_ms <= t && l.left_at_ms > t && (!oldest || l.offered_at_ms < oldest.offered_at_ms)) oldest = l;
  if (!oldest || t - oldest.offered_at_ms < SETTLE_MS || oldest.left_at_ms - t < 2_000) return null;
  const olderJustLeft = legs.some((l) => l.offered_at_ms < oldest.offered_at_ms && l.left_at_ms <= t && l.left_at_ms > t - SETTLE_MS);
  return olderJustLeft ? null : oldest;
}

/** The board's queue legs of a ledger. */
const boardLegs = (l: Ledger) => l.legs.filter((x) => QUEUES.includes(x.queue));

/** The demo's ledger for its zone and seed, as `callboard start` builds the scenario (cli/start.ts startAmi). */
function demoLedger(zone: string, seed: number, now: number): Ledger {
  const today = DateTime.fromMillis(now, { zone }).startOf('day');
  return simulate(
    callCentreScenario({
      tenant: TENANT,
      pbx: PBX,
      timezone: zone,
      seed,
      from_ms: today.minus({ days: 1 }).toMillis(),
      to_ms: today.plus({ days: 2 }).toMillis(),
    }),
  ).ledger;
}

/**
 * A fixed-offset zone where it is late morning or early afternoon now, and the seed (of a few)
 * whose day has the most seconds with a settled waiting caller in the read window: the test must
 * not depend on the hour it runs at (the demo's Nairobi is nearly idle at night).
 */
function chooseDay(now: number): { zone: string; seed: number; ledger: Ledger; readable: number } {
  let best: { zone: string; seed: number; ledger: Ledger; readable: number } | null = null;
  for (let hour = 10; hour <= 14; hour++) {
    const offset = hour - DateTime.fromMillis(now, { zone: 'UTC' }).hour;
    const east = (((offset % 24) + 24 + 11) % 24) - 11; // -11 … +12: every whole-hour Etc zone
    const zone = east === 0 ? 'Etc/GMT' : `Etc/GMT${east > 0 ? '-' : '+'}${Math.abs(east)}`; // Etc signs are inverted
    for (const seed of [1, 2, 3]) {
      const ledger = demoLedger(zone, seed, now);
      const legs = boardLegs(ledger);
      let readable = 0;
      for (let t = now + AFTER_START_MS + 10_000; t < now + AFTER_START_MS + READ_WINDOW_MS - 30_000; t += 1000) if (settledOldest(legs, t)) readable++;
      if (!best || readable > best.readable) best = { zone, seed, ledger, readable };
    }
  }
  return best!;
}

/** m:ss or h:mm:ss → seconds; null for "—". */
function secondsOf(text: string): number | null {
  if (!/^\d+(:\d\d){1,2}$/.test(text)) return null;
  return text.split(':').reduce((s, x) => s * 60 + Number(x), 0);
}

/**
 * The Oldest call KPI's text right after it changed, and when: the board recomputes live waits on
 * a 1 s tick, so a changed text was computed at the moment read (within the observer's latency),
 * not up to a second before. Unchanged within 2.5 s (nobody waits, "—"): `changed` false.
 */
async function readOldest(page: Page): Promise<{ text: string; at: number; changed: boolean }> {
  return page.evaluate(
    () =>
      new Promise<{ text: string; at: number; changed: boolean }>((resolve) => {
        const el = document.querySelector('[data-testid="kpi"][data-metric="max_wait"] [data-testid="value"]')!;
        const before = el.textContent;
        const done = (changed: boolean) => {
          mo.disconnect();
          clearTimeout(timer);
          resolve({ text: (el.textContent ?? '').trim(), at: Date.now(), changed });
        };
        const mo = new MutationObserver(() => done(el.textContent !== before));
        mo.observe(el, { childList: true, characterData: true, subtree: true });
        const timer = setTimeout(() => done(false), 2500);
      }),
  );
}

describe.skipIf(!existsSync(CHROMIUM))(`the demo's live wait against its ledger (needs ${CHROMIUM})`, () => {
  let child: ChildProcess | null = null;
  let browser: Browser | null = null;
  let dir: string;

  beforeAll(() => {
    mkdirSync(shots, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'callboard-demo-e2e-'));
    buildWallboard();
  });

  afterAll(async () => {
    await browser?.close();
    const c = child;
    if (c && c.exitCode === null && c.signalCode === null) {
      c.kill('SIGTERM');
      // Its own controlled stop first (it stops what it started); SIGKILL only past the deadline.
      const stopped = await eventually(() => (c.exitCode !== null || c.signalCode !== null ? true : undefined), 60_000, 'the demo to stop').then(
        () => true,
        () => false,
      );
      if (!stopped) c.kill('SIGKILL');
    }
  });

  it('3 minutes after start a live wait on screen is within 1 s of the ledger, and no time in state outlasts the ledger', { timeout: 900_000 }, async () => {
    const planned = Date.now();
    const day = chooseDay(planned);
    expect(day.readable, `no settled waiting caller in ${READ_WINDOW_MS / 60_000} minutes after the 3rd in any candidate day`).toBeGreaterThan(0);

    // The demo config as `npm start` reads it, with acme (its simulated Asterisk, the one that
    // replays history) alone and in the chosen zone: the Yeastar tenants start live, have no replay
    // and would only load the machine.
    const demo = loadConfigFile(DEMO_CONFIG) as Record<string, Record<string, unknown>[]>;
    const config = {
      ...demo,
      tenants: demo.tenants!.filter((t) => t.id === TENANT).map((t) => ({ ...t, timezone: day.zone })),
      queues: demo.queues!.filter((q) => q.tenant === TENANT),
      schedules: demo.schedules!.filter((s) => s.tenant === TENANT),
      agents: demo.agents!.filter((a) => a.tenant === TENANT),
      pbxes: demo.pbxes!.filter((p) => p.id === PBX),
    };
    const configPath = join(dir, 'demo.json');
    writeFileSync(configPath, JSON.stringify(config));
    const port = await freePort();
    const id = uniqueId();
    const clickhouseUrl = inject('clickhouseUrl');
    const logPath = join(dir, 'start.log');
    const log = openSync(logPath, 'a');
    const started = Date.now();
    child = spawn(process.execPath, [join(repoRoot, 'bin', 'callboard.mjs'), 'start', '--port', String(port), '--seed', String(day.seed)], {
      cwd: repoRoot,
      env: {
        ...process.env,
        CALLBOARD_CONFIG: configPath,
        KAFKA_BROKERS: inject('kafkaBrokers').join(','),
        KAFKA_TOPIC_PREFIX: `${id}.`,
        KAFKA_PARTITIONS: '3',
        CLICKHOUSE_DATABASE: `cb_${id}`,
        CALLBOARD_DATA_DIR: join(dir, 'data'),
        LOG_LEVEL: 'info',
        ...(clickhouseUrl ? { CLICKHOUSE_URL: clickhouseUrl } : {}),
      },
      stdio: ['ignore', 'pipe', log],
    });
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      writeFileSync(join(dir, 'start.out'), out);
    });
    const exited = () =>
      child!.exitCode !== null || child!.signalCode !== null
        ? `callboard start exited (${child!.exitCode ?? child!.signalCode}); log: ${readFileSync(logPath, 'utf8').slice(-2000)}`
        : null;
    const url = await eventually(
      () => {
        const gone = exited();
        if (gone) throw new Error(gone);
        return /Wallboard: +(\S+)/.exec(out)?.[1];
      },
      240_000,
      'the wallboard URL from callboard start',
    );
    // The board shown is the zone's day the test computed: the same local date in the child.
    expect(DateTime.fromMillis(started, { zone: day.zone }).toISODate()).toBe(DateTime.fromMillis(planned, { zone: day.zone }).toISODate());

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    await page.goto(url);
    await page.locator('[data-testid="kpi"][data-metric="max_wait"]').waitFor({ timeout: 60_000 });

    // A condition on the clock, not a sleep: 3 minutes after `callboard start` was started.
    await eventually(
      () => {
        const gone = exited();
        if (gone) throw new Error(gone);
        return Date.now() >= started + AFTER_START_MS ? true : undefined;
      },
      AFTER_START_MS + 60_000,
      '3 minutes after start',
    );
    const shot = join(shots, 'demo-3min-1920x1080.png');
    await page.screenshot({ path: shot });
    // History must be replayed by now (it takes well under a minute at 150 actions/s).
    expect(await page.locator('[data-testid="catching-up"]').count(), 'still catching up 3 minutes after start').toBe(0);

    // No day-long times: each agent's time in state is at most the ledger's latest run of that
    // state (adjacent intervals merged) up to now, plus the display's floor and a pipeline delay.
    const agents = await page.evaluate(() =>
      [...document.querySelectorAll<HTMLElement>('[data-testid="agent-grid"] li[data-agent]')].map((li) => ({
        agent: li.dataset.agent!,
        state: li.dataset.state!,
        time: (li.querySelector('[data-testid="time-in-state"]')?.textContent ?? '').trim(),
        at: Date.now(),
      })),
    );
    expect(agents.length, 'agents on the board').toBeGreaterThan(0);
    const tooLong: string[] = [];
    let timed = 0;
    for (const a of agents) {
      const s = secondsOf(a.time);
      if (s === null) continue;
      timed++;
      // The agent's latest interval in the board's state, extended back over touching ones in it.
      const own = day.ledger.agent_intervals.filter((i) => i.agent === a.agent && i.from_ms <= a.at).sort((x, y) => x.from_ms - y.from_ms);
      let i = own.findLastIndex((x) => x.state === a.state);
      while (i > 0 && own[i - 1]!.state === a.state && own[i - 1]!.to_ms >= own[i]!.from_ms - 1000) i--;
      const runStart = i >= 0 ? own[i]!.from_ms : null;
      const limit = runStart === null ? null : (a.at - runStart + SETTLE_MS) / 1000;
      if (limit === null || s > limit)
        tooLong.push(`${a.agent} ${a.state} ${a.time} (ledger allows ${limit === null ? 'no such state' : `${Math.floor(limit)} s`})`);
    }
    expect(timed, 'agents with a time in state').toBeGreaterThan(0);
    expect(tooLong, 'times in state longer than the ledger allows').toEqual([]);

    // The first settled reading decides: the screen is read when the ledger's longest waiter is
    // unambiguous, and then it must show that caller's wait. No retry after a wrong figure.
    const legs = boardLegs(day.ledger);
    const reading = await eventually(
      async () => {
        const gone = exited();
        if (gone) throw new Error(gone);
        const r = await readOldest(page);
        // A figure that did not tick was computed up to a second before `at`: read again. A "—"
        // does not tick: it stands, and is wrong if the ledger has a settled waiter then.
        if (!r.changed && secondsOf(r.text) !== null) return undefined;
        const leg = settledOldest(legs, r.at);
        return leg ? { ...r, leg } : undefined;
      },
      READ_WINDOW_MS,
      'a caller waiting live, settled in the ledger',
    );
    await page.screenshot({ path: join(shots, 'demo-live-wait-1920x1080.png') });
    const screen = secondsOf(reading.text);
    const ledgerWait = (reading.at - reading.leg.offered_at_ms) / 1000;
    const what = `screen "${reading.text}" at ${new Date(reading.at).toISOString()}, ledger: ${reading.leg.queue} caller since ${new Date(reading.leg.offered_at_ms).toISOString()} (${ledgerWait.toFixed(1)} s)`;
    // The run's evidence, for whoever reads the log: the day chosen and the figures compared.
    console.log(`demo-live-wait: zone ${day.zone}, seed ${day.seed} (${day.readable} readable seconds planned); ${what}; agents timed ${timed}`);
    expect(screen, what).not.toBeNull();
    // The board floors to whole seconds, so "m:ss" says its figure lies in [s, s + 1); that range
    // must come within 1 s of the ledger's wait: s − 1 ≤ ledger < s + 2.
    expect(ledgerWait, what).toBeGreaterThanOrEqual(screen! - 1);
    expect(ledgerWait, what).toBeLessThan(screen! + 2);
  });
});

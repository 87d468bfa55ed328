// The wallboard in real Chromium against the real API fed through Kafka: what is on screen
// equals what GraphQL answers, changes arrive within a second, an API restart shows the stale
// banner and recovers without a reload, and drill-down reaches a call's timeline.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, testConfig } from '../helpers.ts';
import { periodRange } from '../../wallboard/src/lib/board.ts';
import { formatCount, formatRatio, formatSeconds } from '../../wallboard/src/lib/format.ts';
import { agentState, buildWallboard, joinQueue, queueCall, repoRoot, STACK_FILE, startWallboardStack, type WallboardStack } from './wallboard-stack.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const shots = join(repoRoot, 'test-results', 'screenshots');
const LOCALE = 'en-KE';
const ZONE = 'Africa/Nairobi';

const LIVE_QUERY = `{ live { server_time today { offered answered waiting service_level asa abandon_rate }
  queues { queue waiting today { offered answered abandoned service_level asa abandon_rate } }
  agents { agent_id agent_name state reason } } }`;

interface LiveAnswer {
  live: {
    today: { offered: number; answered: number; waiting: number; service_level: number | null; asa: number | null; abandon_rate: number | null };
    queues: { queue: string; waiting: number; today: { offered: number; answered: number; abandoned: number; service_level: number | null; asa: number | null; abandon_rate: number | null } }[];
    agents: { agent_id: string; agent_name: string | null; state: string; reason: string | null }[];
  };
}

async function kpiText(page: Page, metric: string): Promise<string> {
  return (await page.locator(`[data-testid="kpi"][data-metric="${metric}"] [data-testid="value"]`).innerText()).trim();
}

describe.skipIf(!existsSync(CHROMIUM))(`wallboard in Chromium (needs ${CHROMIUM})`, () => {
  let stack: WallboardStack;
  let browser: Browser;
  let calls = 0;

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    buildWallboard();
    stack = await startWallboardStack(testConfig(STACK_FILE));
    // Today in the tenant's zone, within the last hour (but never before local midnight).
    const now = Date.now();
    const dayStart = DateTime.fromMillis(now, { zone: ZONE }).startOf('day').toMillis();
    const t0 = Math.max(now - 50 * 60_000, dayStart + 60_000);
    const at = (s: number) => Math.min(t0 + s * 1000, now - 1000);
    const agents: [string, string, string][] = [
      ['1001', 'Amina Odhiambo', 'sales'],
      ['1002', 'Brian Kiptoo', 'sales'],
      ['1003', 'Chloé Wanjiru', 'support'],
      ['1004', 'David Mwangi', 'support'],
      ['1005', 'Esther Njeri', 'support'],
    ];
    await stack.produce(agents.flatMap(([id, name, q]) => [joinQueue(id, name, q, at(0)), ...agentState(id, name, at(1), 'available')]));
    await stack.produce([
      ...queueCall('c-1', 'sales', at(60), 8, 'answered', '1001'),
      ...queueCall('c-2', 'sales', at(300), 35, 'answered', '1002'),
      ...queueCall('c-3', 'sales', at(600), 40, 'abandoned'),
      ...queueCall('c-4', 'support', at(900), 12, 'answered', '1003'),
      ...queueCall('c-5', 'support', at(1200), 3, 'abandoned'),
      ...queueCall('c-6', 'support', at(1500), 15, 'answered', '1004'),
      ...agentState('1002', 'Brian Kiptoo', at(1800), 'paused', 'Lunch'),
      ...agentState('1005', 'Esther Njeri', at(1900), 'on_call'),
      ...queueCall('c-7', 'sales', now - 20_000, 0, 'waiting'),
    ]);
    calls = 7;
    await eventually(async () => {
      const r = await stack.gql<LiveAnswer>(stack.supervisorToken, LIVE_QUERY);
      return r.live.today.offered === calls && r.live.agents.length === 5 ? r : undefined;
    }, 60_000, 'the live state to fold the seeded events');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  let tv: Page;

  it('opens a TV with a display token, then moves the token out of the address bar', async () => {
    tv = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    // A display token may not read the tenant, so the screen is told the zone and locale.
    await tv.goto(`${stack.url}/?token=${encodeURIComponent(stack.displayToken)}&boards=${stack.boardId}&tv=1&tz=${ZONE}&locale=${LOCALE}`);
    await tv.locator('[data-testid="kpi"][data-metric="offered"]').waitFor();
    expect(tv.url()).not.toContain('token');
    expect(tv.url()).toContain(`boards=${stack.boardId}`);
    expect(await tv.evaluate(() => localStorage.getItem('callboard.token'))).toBe(stack.displayToken);
    // Marks this document: if the page reloads later, the mark is gone.
    await tv.evaluate(() => ((window as unknown as { __mark: number }).__mark = 42));
  });

  it('shows the same numbers as the GraphQL API', async () => {
    const { live } = await stack.gql<LiveAnswer>(stack.supervisorToken, LIVE_QUERY);
    await eventually(async () => ((await kpiText(tv, 'offered')) === formatCount(live.today.offered, LOCALE) ? true : undefined), 10_000, 'offered on screen');
    expect(await kpiText(tv, 'service_level')).toBe(formatRatio(live.today.service_level, LOCALE));
    expect(await kpiText(tv, 'asa')).toBe(formatSeconds(live.today.asa));
    expect(await kpiText(tv, 'abandon_rate')).toBe(formatRatio(live.today.abandon_rate, LOCALE));
    expect(await kpiText(tv, 'answered')).toBe(formatCount(live.today.answered, LOCALE));
    expect(await kpiText(tv, 'waiting')).toBe(formatCount(live.today.waiting, LOCALE));
    expect(live.today.offered).toBe(calls);

    for (const q of live.queues) {
      const row = tv.locator(`tr[data-queue="${q.queue}"]`);
      const cell = async (c: string) => (await row.locator(`[data-col="${c}"] .v`).innerText()).trim();
      expect(await cell('offered')).toBe(formatCount(q.today.offered, LOCALE));
      expect(await cell('answered')).toBe(formatCount(q.today.answered, LOCALE));
      expect(await cell('abandoned')).toBe(formatCount(q.today.abandoned, LOCALE));
      expect(await cell('service_level')).toBe(formatRatio(q.today.service_level, LOCALE));
      expect(await cell('waiting')).toBe(formatCount(q.waiting, LOCALE));
    }

    for (const a of live.agents) {
      const card = tv.locator(`[data-agent="${a.agent_id}"]`);
      expect(await card.getAttribute('data-state')).toBe(a.state);
      if (a.agent_name) expect(await card.innerText()).toContain(a.agent_name);
      if (a.reason) expect(await card.innerText()).toContain(a.reason);
    }
    const count = async (m: string) => (await tv.locator(`[data-testid="agent-counts"] [data-metric="${m}"] [data-testid="value"]`).innerText()).trim();
    expect(await count('agents_available')).toBe(String(live.agents.filter((a) => a.state === 'available').length));
    expect(await count('agents_paused')).toBe(String(live.agents.filter((a) => a.state === 'paused').length));

    // Thresholds are shown with a word, not colour alone.
    const sl = tv.locator('[data-testid="kpi"][data-metric="service_level"]');
    const level = await sl.getAttribute('data-level');
    expect(['ok', 'warn', 'alert']).toContain(level);
    expect(await sl.locator('[data-testid="level"]').innerText()).toContain({ ok: 'OK', warn: 'WARN', alert: 'ALERT' }[level as 'ok']);
  });

  it('ticks time in state locally between snapshots', async () => {
    const t = tv.locator('[data-agent="1002"] [data-testid="time-in-state"]');
    const first = await t.innerText();
    await eventually(async () => ((await t.innerText()) !== first ? true : undefined), 5_000, 'the time in state to tick');
  });

  it('shows a change in the events on screen within one second', async () => {
    const before = Number(await kpiText(tv, 'waiting'));
    await tv.evaluate(() => {
      const w = window as unknown as { __changes: { t: number; v: string }[] };
      w.__changes = [];
      const el = document.querySelector('[data-testid="kpi"][data-metric="waiting"] [data-testid="value"]')!;
      new MutationObserver(() => w.__changes.push({ t: Date.now(), v: el.textContent!.trim() })).observe(el, { childList: true, characterData: true, subtree: true });
    });
    const events = queueCall('c-8', 'support', Date.now(), 0, 'waiting');
    const sentAt = Date.now();
    await stack.produce(events);
    calls++;
    const change = await eventually(
      async () => (await tv.evaluate(() => (window as unknown as { __changes: { t: number; v: string }[] }).__changes)).find((c) => c.v === String(before + 1)),
      10_000,
      'the new waiting call on screen',
    );
    const latency = change.t - sentAt;
    console.log(`[wallboard e2e] event produced → on screen: ${latency} ms`);
    expect(latency).toBeLessThan(1000);
  });

  it('saves TV screenshots at 1920×1080 and 3840×2160', async () => {
    await tv.screenshot({ path: join(shots, 'wallboard-tv-1920x1080.png') });
    // Nothing may spill out of its tile at either size.
    const overflow = async () =>
      tv.evaluate(() =>
        [...document.querySelectorAll('.tile, .tile .scroll')].filter((el) => el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1).map((el) => (el as HTMLElement).dataset.testid ?? el.className),
      );
    expect(await overflow()).toEqual([]);
    await tv.setViewportSize({ width: 3840, height: 2160 });
    // Laid out again at the new size: ResizeObserver callbacks and their re-render land within two frames.
    await tv.waitForFunction(() => window.innerWidth === 3840, undefined, { timeout: 10_000 });
    await tv.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    await tv.screenshot({ path: join(shots, 'wallboard-tv-3840x2160.png') });
    expect(await overflow()).toEqual([]);
    const px = await tv.evaluate(() => parseFloat(getComputedStyle(document.querySelector('[data-metric="offered"] [data-testid="value"]')!).fontSize));
    // Legible from three metres on a 4K panel: the big numbers are well over 100 px tall.
    expect(px).toBeGreaterThan(100);
    await tv.setViewportSize({ width: 1920, height: 1080 });
  });

  it('shows the stale banner when the API dies, keeps the numbers, and recovers without a reload', async () => {
    const shown = await kpiText(tv, 'offered');
    await stack.stopApi();
    const banner = tv.locator('[data-testid="stale"]');
    await banner.waitFor({ timeout: 20_000 });
    expect(await banner.innerText()).toMatch(/Stale — last update \d+ s ago/);
    expect(await kpiText(tv, 'offered')).toBe(shown);
    await tv.screenshot({ path: join(shots, 'wallboard-tv-stale.png') });

    // Something happens while the API is down; the fresh snapshot on reconnect must include it.
    await stack.produce(queueCall('c-9', 'sales', Date.now(), 0, 'waiting'));
    calls++;
    await stack.startApi();
    await banner.waitFor({ state: 'detached', timeout: 60_000 });
    await eventually(async () => ((await kpiText(tv, 'offered')) === formatCount(calls, LOCALE) ? true : undefined), 20_000, 'the missed call after reconnect');
    expect(await tv.evaluate(() => (window as unknown as { __mark?: number }).__mark)).toBe(42);
  });

  it('on a desktop: the period switch, drill-down to the calls and a call timeline, by keyboard', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await page.goto(`${stack.url}/?token=${encodeURIComponent(stack.supervisorToken)}&boards=${stack.boardId}&tv=0`);
    await page.locator('[data-testid="kpi"][data-metric="offered"]').waitFor();
    // The intraday chart draws what the intraday query answers: a bar per interval, the day's total.
    const intraday = await eventually(async () => {
      const r = await stack.gql<{ intraday: { points: { queue_metrics: { offered: number } }[] } }>(stack.supervisorToken, '{ intraday(interval: MIN_15) { points { queue_metrics { offered } } } }');
      return r.intraday.points.reduce((n, p) => n + p.queue_metrics.offered, 0) === calls ? r.intraday : undefined;
    }, 60_000, 'the projections to roll up every call');
    await page.reload();
    const chart = page.locator('[data-testid="intraday"]');
    await eventually(async () => ((await chart.innerText()).includes(`offered ${calls}`) ? true : undefined), 20_000, 'the intraday chart');
    expect(await chart.locator('rect.bar').count()).toBe(intraday.points.length);
    expect(await page.locator('.clock time').innerText()).toBe(DateTime.now().setZone(ZONE).setLocale(LOCALE).toLocaleString(DateTime.TIME_SIMPLE));
    await page.screenshot({ path: join(shots, 'wallboard-desktop-1280x720.png') });

    // This week, from the metrics query (the projections in ClickHouse).
    await page.getByRole('button', { name: 'This week' }).focus();
    await page.keyboard.press('Enter');
    expect(await page.getByRole('button', { name: 'This week' }).getAttribute('aria-pressed')).toBe('true');
    const week = await eventually(async () => {
      const r = await stack.gql<{ metrics: { rows: { queue_metrics: { offered: number; answered: number; service_level: number | null } }[] } }>(
        stack.supervisorToken,
        '{ metrics(period: { kind: THIS_WEEK }, groupBy: TENANT) { rows { queue_metrics { offered answered service_level } } } }',
      );
      const m = r.metrics.rows[0]?.queue_metrics;
      return m && m.offered === calls ? m : undefined;
    }, 60_000, 'the projections to hold every call');
    await eventually(async () => ((await kpiText(page, 'offered')) === formatCount(week.offered, LOCALE) ? true : undefined), 40_000, 'this week on screen');
    expect(await kpiText(page, 'answered')).toBe(formatCount(week.answered, LOCALE));
    expect(await kpiText(page, 'service_level')).toBe(formatRatio(week.service_level, LOCALE));

    // Drill down from "answered": the calls behind the number.
    await page.getByRole('button', { name: /Answered: .* Show the calls/ }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.locator('[data-testid="drilldown"]');
    await dialog.waitFor();
    const range = periodRange('THIS_WEEK', Date.now(), ZONE, 'MONDAY');
    const answer = await stack.gql<{ calls: { edges: { node: { call_id: string } }[] } }>(
      stack.supervisorToken,
      'query($f: CallFilter) { calls(filter: $f, first: 50) { edges { node { call_id } } } }',
      { f: { outcome: ['ANSWERED'], from: range.from, to: range.to } },
    );
    expect(answer.calls.edges.length).toBe(week.answered);
    await eventually(async () => ((await dialog.locator('tbody tr button').count()) === answer.calls.edges.length ? true : undefined), 10_000, 'the calls list');
    await page.screenshot({ path: join(shots, 'wallboard-desktop-drilldown.png') });

    // A call opens its event timeline.
    await dialog.locator('tbody tr button').first().focus();
    await page.keyboard.press('Enter');
    const timeline = dialog.locator('[data-testid="timeline"] li');
    await timeline.first().waitFor();
    const id = (await dialog.locator('#drill-title').innerText()).replace(/^Call /, '');
    const call = await stack.gql<{ call: { timeline: { type: string }[] } }>(stack.supervisorToken, 'query($id: ID!) { call(id: $id) { timeline { type } } }', { id });
    expect(await timeline.count()).toBe(call.call.timeline.length);
    expect(await dialog.innerText()).toContain('call.answered');
    await page.screenshot({ path: join(shots, 'wallboard-desktop-timeline.png') });
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await page.close();
  });

  it('pages a large agent grid on a TV instead of cutting cards off', async () => {
    const many = Array.from({ length: 45 }, (_, i) => [String(2001 + i), `Agent ${2001 + i}`] as const);
    await stack.produce(many.flatMap(([id, name]) => [joinQueue(id, name, 'support', Date.now()), ...agentState(id, name, Date.now(), 'available')]));
    const available = tv.locator('[data-testid="agent-counts"] [data-metric="agents_available"] [data-testid="value"]');
    await eventually(async () => ((await available.innerText()).trim() === '48' ? true : undefined), 20_000, 'every new agent on the board');
    const indicator = tv.locator('[data-testid="agent-page"]');
    await indicator.waitFor({ timeout: 5_000 });
    // Pages follow the clock (like rotation), so any page may come first.
    const first = (await indicator.innerText()).trim();
    expect(first).toMatch(/^\d+\/\d+$/);
    const [page, pages] = first.split('/').map(Number) as [number, number];
    const ids = async () => tv.locator('[data-agent]').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.agent!));
    const onThisPage = await ids();
    expect(onThisPage.length).toBeGreaterThan(0);
    expect(onThisPage.length).toBeLessThan(50);
    const grid = tv.locator('[data-testid="agent-grid"] ul');
    expect(await grid.evaluate((el) => el.scrollHeight <= el.clientHeight + 1)).toBe(true);
    const next = `${(page % pages) + 1}/${pages}`;
    await eventually(async () => ((await indicator.innerText()).trim() === next ? true : undefined), 15_000, 'the next page of agents');
    const onNextPage = await ids();
    expect(onNextPage.filter((id) => onThisPage.includes(id))).toEqual([]);
    await tv.screenshot({ path: join(shots, 'wallboard-tv-many-agents-1920x1080.png') });
  });

  it('renders the high-contrast theme', async () => {
    const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    await page.goto(`${stack.url}/?token=${encodeURIComponent(stack.displayToken)}&boards=${stack.boardId}&tv=1&theme=contrast&tz=${ZONE}&locale=${LOCALE}`);
    await page.locator('[data-testid="kpi"][data-metric="offered"]').waitFor();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('contrast');
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(0, 0, 0)');
    await page.screenshot({ path: join(shots, 'wallboard-tv-contrast-1920x1080.png') });
    await page.close();
  });
});

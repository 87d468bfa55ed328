// The board designer in real Chromium against the whole stack: a supervisor opens the demo board
// in the designer (live figures in its tiles, nothing cut at 1920×1080), creates a board with the
// keyboard alone (add, move, resize, undo, redo, delete), saves it, and a display token's TV shows
// the new tile with the figure GraphQL gives; a save over someone else's edit is refused with a
// clear message, and both ways out (reload, overwrite) work.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, testConfig } from '../helpers.ts';
import { formatCount } from '../../wallboard/src/lib/format.ts';
import { agentState, buildWallboard, joinQueue, queueCall, repoRoot, STACK_FILE, startWallboardStack, type WallboardStack } from './wallboard-stack.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const shots = join(repoRoot, 'test-results', 'screenshots');
const LOCALE = 'en-KE';
const ZONE = 'Africa/Nairobi';

const BOARD_QUERY = 'query($id: ID!) { board(id: $id) { name version tiles { id kind x y w h metric queues } } }';
interface BoardAnswer {
  board: { name: string; version: number; tiles: { id: string; kind: string; x: number; y: number; w: number; h: number; metric: string | null; queues: string[] }[] };
}
const UPDATE = 'mutation($id: ID!, $input: BoardInput!, $v: Int) { updateBoard(id: $id, input: $input, expected_version: $v) { version } }';

/** Elements whose text is wider than their box (cut, ellipsed or spilling out). */
function overflowing(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll('body *')]
      .filter((el): el is HTMLElement => el instanceof HTMLElement && !el.classList.contains('sr-only') && el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1)
      .map((el) => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')} ${el.scrollWidth}>${el.clientWidth}: ${el.innerText.slice(0, 40)}`),
  );
}

const rect = async (page: Page, id: string) => {
  const t = page.locator(`[data-design-tile="${id}"]`);
  return Object.fromEntries(await Promise.all(['x', 'y', 'w', 'h'].map(async (k) => [k, Number(await t.getAttribute(`data-${k}`))])));
};

describe.skipIf(!existsSync(CHROMIUM))(`board designer in Chromium (needs ${CHROMIUM})`, () => {
  let stack: WallboardStack;
  let browser: Browser;
  let desk: Page;
  let created = '';

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    buildWallboard();
    stack = await startWallboardStack(testConfig(STACK_FILE));
    const now = Date.now();
    const dayStart = DateTime.fromMillis(now, { zone: ZONE }).startOf('day').toMillis();
    const t0 = Math.max(now - 30 * 60_000, dayStart + 60_000);
    const at = (s: number) => Math.min(t0 + s * 1000, now - 1000);
    const agents: [string, string, string][] = [
      ['1001', 'Amina Odhiambo', 'sales'],
      ['1002', 'Brian Kiptoo', 'sales'],
      ['1003', 'Chloé Wanjiru', 'support'],
    ];
    await stack.produce(agents.flatMap(([id, name, q]) => [joinQueue(id, name, q, at(0)), ...agentState(id, name, at(1), 'available')]));
    await stack.produce([
      ...queueCall('d-1', 'sales', at(60), 8, 'answered', '1001'),
      ...queueCall('d-2', 'sales', at(300), 35, 'answered', '1002'),
      ...queueCall('d-3', 'support', at(600), 12, 'answered', '1003'),
      ...queueCall('d-4', 'support', at(900), 40, 'abandoned'),
      ...agentState('1002', 'Brian Kiptoo', at(1000), 'paused', 'Lunch'),
      ...queueCall('d-5', 'sales', now - 15_000, 0, 'waiting'),
    ]);
    await eventually(async () => {
      const r = await stack.gql<{ live: { today: { offered: number; answered: number } } }>(stack.supervisorToken, '{ live { today { offered answered } } }');
      return r.live.today.offered === 5 && r.live.today.answered === 3 ? r : undefined;
    }, 60_000, 'the live state to fold the seeded events');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('opens the demo board in the designer with live figures, nothing cut at 1920×1080 or 1280×720', async () => {
    desk = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    await desk.goto(`${stack.url}/?token=${encodeURIComponent(stack.supervisorToken)}#/design/${stack.boardId}`);
    await desk.locator(`[data-testid="designer"][data-board="${stack.boardId}"][data-version="1"]`).waitFor({ timeout: 30_000 });
    expect(desk.url()).not.toContain('token');
    // The preview is the board's own tiles with today's figures.
    await desk.locator('[data-design-tile="abandoned"] [data-testid="kpi"] [data-testid="value"]').filter({ hasText: /^1$/ }).waitFor({ timeout: 30_000 });
    await desk.locator('[data-design-tile="agents"] [data-agent="1001"]').waitFor();
    // A tile selected: its settings in the side panel.
    await desk.locator('[data-design-tile="sl"]').click();
    const panel = desk.locator('[data-testid="tile-panel"]');
    await panel.locator('[data-threshold="service_level"] [data-testid="th-warn"]').waitFor();
    expect(await panel.locator('[data-threshold="service_level"] [data-testid="th-warn"]').inputValue()).toBe('80');
    expect(await panel.locator('[data-testid="tile-metric"]').inputValue()).toBe('service_level');
    // Let the intraday chart draw before the screenshot and the overflow check.
    await desk.locator('[data-design-tile="intraday"] svg').first().waitFor({ timeout: 30_000 });
    await desk.screenshot({ path: join(shots, 'designer-1920x1080.png') });
    expect(await overflowing(desk)).toEqual([]);
    // The smallest desktop the board supports, too.
    await desk.setViewportSize({ width: 1280, height: 720 });
    await desk.waitForFunction(() => window.innerWidth === 1280 && document.querySelector<HTMLElement>('[data-testid="design-grid"]')!.style.width === `${1280 - 1.2 * parseFloat(getComputedStyle(document.documentElement).fontSize)}px`, undefined, { timeout: 10_000 });
    await desk.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    await desk.screenshot({ path: join(shots, 'designer-1280x720.png') });
    expect(await overflowing(desk)).toEqual([]);
    await desk.setViewportSize({ width: 1920, height: 1080 });
  });

  it('creates a board with the keyboard and the mouse: add, move, resize, undo, redo, delete, save', async () => {
    await desk.goto(`${stack.url}/#/design/new`);
    await desk.locator('[data-testid="designer"][data-board=""]').waitFor();
    await desk.fill('[data-testid="board-name"]', 'Designed in e2e');
    await desk.press('[data-testid="board-name"]', 'Enter');

    await desk.click('[data-add="KPI"]');
    const tile = desk.locator('[data-design-tile="kpi-1"]');
    await tile.waitFor();
    expect(await rect(desk, 'kpi-1')).toEqual({ x: 0, y: 0, w: 2, h: 1 });
    await desk.selectOption('[data-testid="tile-metric"]', 'answered');

    await tile.focus();
    for (const k of ['ArrowRight', 'ArrowRight', 'ArrowDown', 'Shift+ArrowRight', 'Shift+ArrowDown']) await desk.keyboard.press(k);
    expect(await rect(desk, 'kpi-1')).toEqual({ x: 2, y: 1, w: 3, h: 2 });
    await desk.keyboard.press('Control+z');
    expect(await rect(desk, 'kpi-1')).toEqual({ x: 2, y: 1, w: 3, h: 1 });
    await desk.keyboard.press('Control+Shift+z');
    expect(await rect(desk, 'kpi-1')).toEqual({ x: 2, y: 1, w: 3, h: 2 });
    // The focused tile is visibly marked.
    expect(await tile.evaluate((el) => el === document.activeElement && getComputedStyle(el).outlineStyle !== 'none')).toBe(true);

    // The mouse: drag the tile a column right, then its corner a row up; both undone with Ctrl+Z.
    const grid = (await desk.locator('[data-testid="design-grid"]').boundingBox())!;
    const rows = await desk.locator('[data-testid="design-grid"] .slot').count() / 12;
    const box = (await tile.boundingBox())!;
    await desk.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await desk.mouse.down();
    await desk.mouse.move(box.x + box.width / 2 + grid.width / 12, box.y + box.height / 2, { steps: 5 });
    await desk.mouse.up();
    expect(await rect(desk, 'kpi-1')).toEqual({ x: 3, y: 1, w: 3, h: 2 });
    const corner = (await tile.locator('.handle').boundingBox())!;
    await desk.mouse.move(corner.x + corner.width / 2, corner.y + corner.height / 2);
    await desk.mouse.down();
    await desk.mouse.move(corner.x + corner.width / 2, corner.y + corner.height / 2 - grid.height / rows, { steps: 5 });
    await desk.mouse.up();
    expect(await rect(desk, 'kpi-1')).toEqual({ x: 3, y: 1, w: 3, h: 1 });
    await desk.keyboard.press('Control+z');
    await desk.keyboard.press('Control+z');
    expect(await rect(desk, 'kpi-1')).toEqual({ x: 2, y: 1, w: 3, h: 2 });

    // A second tile, removed with Delete; the undo button brings it back, redo removes it again.
    await desk.click('[data-add="QUEUE_TABLE"]');
    await desk.locator('[data-design-tile="queue-table-1"]').focus();
    await desk.keyboard.press('Delete');
    await desk.locator('[data-design-tile="queue-table-1"]').waitFor({ state: 'detached' });
    await desk.click('[data-testid="undo"]');
    await desk.locator('[data-design-tile="queue-table-1"]').waitFor();
    await desk.click('[data-testid="redo"]');
    await desk.locator('[data-design-tile="queue-table-1"]').waitFor({ state: 'detached' });

    await desk.click('[data-testid="save"]');
    const designer = desk.locator('[data-testid="designer"][data-version="1"]:not([data-board=""])');
    await designer.waitFor({ timeout: 30_000 });
    created = (await designer.getAttribute('data-board'))!;
    expect(created).toMatch(/^b_/);
    expect(new URL(desk.url()).hash).toBe(`#/design/${created}`);
    const b = await stack.gql<BoardAnswer>(stack.adminToken, BOARD_QUERY, { id: created });
    expect(b.board).toEqual({ name: 'Designed in e2e', version: 1, tiles: [{ id: 'kpi-1', kind: 'KPI', x: 2, y: 1, w: 3, h: 2, metric: 'answered', queues: [] }] });
  });

  it("a display token's TV shows the new board's tile with GraphQL's figure, and may not open the designer", async () => {
    const { createToken } = await stack.gql<{ createToken: { token: string } }>(stack.adminToken, 'mutation($b: ID!) { createToken(role: DISPLAY, board_id: $b, label: "designer e2e tv") { token } }', { b: created });
    const ctx = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
    const tv = await ctx.newPage();
    await tv.goto(`${stack.url}/?token=${encodeURIComponent(createToken.token)}&boards=${created}&tv=1`);
    const value = tv.locator('[data-testid="kpi"][data-metric="answered"] [data-testid="value"]');
    await value.waitFor({ timeout: 30_000 });
    const live = await stack.gql<{ live: { today: { answered: number } } }>(stack.supervisorToken, '{ live { today { answered } } }');
    expect(live.live.today.answered).toBe(3);
    await eventually(async () => ((await value.innerText()).trim() === formatCount(live.live.today.answered, LOCALE) ? true : undefined), 10_000, 'the new tile to show GraphQL’s figure');
    // The tile spans what the designer gave it: 3 of 12 columns, 2 rows.
    expect(await tv.locator('[data-tile="kpi-1"]').evaluate((el) => getComputedStyle(el).gridColumnStart + '/' + getComputedStyle(el).gridRowStart)).toBe('3/2');
    expect(await overflowing(tv)).toEqual([]);

    await tv.goto(`${stack.url}/#/design/${created}`);
    await tv.getByText('may not edit boards').waitFor({ timeout: 30_000 });
    expect(await tv.locator('[data-testid="designer"]').count()).toBe(0);
    await ctx.close();
  });

  it('a save over someone else’s edit is refused with a clear message; reload and overwrite both work', async () => {
    const input = (name: string, x: number) => ({ name, columns: 12, tiles: [{ id: 'kpi-1', kind: 'KPI', x, y: 1, w: 3, h: 2, metric: 'answered' }] });
    // Someone else saves while the designer has version 1 open.
    await stack.gql(stack.adminToken, UPDATE, { id: created, input: input('Renamed elsewhere', 6), v: 1 });

    const tile = desk.locator('[data-design-tile="kpi-1"]');
    await tile.focus();
    await desk.keyboard.press('ArrowLeft');
    await desk.click('[data-testid="save"]');
    const conflict = desk.locator('[data-testid="conflict"]');
    await conflict.waitFor({ timeout: 30_000 });
    expect((await conflict.innerText()).replace(/\s+/g, ' ')).toContain('changed by someone else since you opened it — reload or overwrite');
    await desk.screenshot({ path: join(shots, 'designer-conflict-1920x1080.png') });
    expect(await overflowing(desk)).toEqual([]);
    expect((await stack.gql<BoardAnswer>(stack.adminToken, BOARD_QUERY, { id: created })).board).toMatchObject({ name: 'Renamed elsewhere', version: 2 });

    // Reload: their version, the conflict gone.
    await desk.click('[data-testid="conflict-reload"]');
    await desk.locator('[data-testid="designer"][data-version="2"]').waitFor();
    expect(await desk.locator('[data-testid="board-name"]').inputValue()).toBe('Renamed elsewhere');
    expect(await rect(desk, 'kpi-1')).toMatchObject({ x: 6 });
    expect(await conflict.count()).toBe(0);

    // Again, and this time overwrite: the designer's draft is stored over the other edit.
    await stack.gql(stack.adminToken, UPDATE, { id: created, input: input('Renamed again', 9), v: 2 });
    await tile.focus();
    await desk.keyboard.press('ArrowLeft');
    await desk.click('[data-testid="save"]');
    await conflict.waitFor({ timeout: 30_000 });
    await desk.click('[data-testid="conflict-overwrite"]');
    await desk.locator('[data-testid="designer"][data-version="4"]').waitFor({ timeout: 30_000 });
    expect(await desk.locator('[data-testid="save-status"]').innerText()).toBe('Saved · version 4');
    expect((await stack.gql<BoardAnswer>(stack.adminToken, BOARD_QUERY, { id: created })).board).toMatchObject({ name: 'Renamed elsewhere', version: 4, tiles: [{ id: 'kpi-1', x: 5 }] });

    // Ctrl+S while still typing a name saves what was typed.
    await desk.fill('[data-testid="board-name"]', 'Saved with Ctrl+S');
    await desk.keyboard.press('Control+s');
    await desk.locator('[data-testid="designer"][data-version="5"]').waitFor({ timeout: 30_000 });
    expect((await stack.gql<BoardAnswer>(stack.adminToken, BOARD_QUERY, { id: created })).board).toMatchObject({ name: 'Saved with Ctrl+S', version: 5 });

    // From the board list (no board chosen on this screen): each board has an Edit link.
    await desk.goto(`${stack.url}/`);
    await desk.locator('li').filter({ hasText: 'Saved with Ctrl+S' }).getByRole('link', { name: 'Edit' }).click();
    await desk.locator(`[data-testid="designer"][data-board="${created}"][data-version="5"]`).waitFor({ timeout: 30_000 });

    // The designer came to this board by creating it; "new" again is a new, empty board.
    await desk.goto(`${stack.url}/#/design/new`);
    await desk.locator('[data-testid="designer"][data-board=""]').waitFor();
    expect(await desk.locator('[data-design-tile]').count()).toBe(0);
  });
});

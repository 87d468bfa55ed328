// The designer component against a stand-in GraphQL endpoint: it opens the board at its version,
// draws the tiles with live figures, edits with the keyboard and undoes, sends updateBoard with
// the version it opened, and on CONFLICT says so and overwrites only against the version stored now.
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import Designer from '../src/designer/Designer.svelte';
import { createClient } from '../src/lib/client.ts';
import { live, qm } from './fixtures.ts';

const tile = { id: 'ans', kind: 'KPI', title: null, x: 0, y: 0, w: 2, h: 1, metric: 'answered', queues: [], interval: null, compare: null, thresholds: [] };
const stored = (version: number, name = 'Floor') => ({ id: 'b_1', name, columns: 12, version, tiles: [tile] });

interface Sent {
  op: string;
  variables: Record<string, unknown>;
}

/** A GraphQL endpoint answering by operation name; `board` is what is stored, `conflict` refuses the next update. */
function server() {
  const st = { board: stored(3), conflict: false };
  const sent: Sent[] = [];
  const f = vi.fn(async (_url: string, init: RequestInit) => {
    const body = JSON.parse(String(init.body)) as { query: string; variables: Record<string, unknown> };
    const op = /(?:query|mutation) (\w+)/.exec(body.query)![1]!;
    sent.push({ op, variables: body.variables });
    const ok = (data: unknown) => new Response(JSON.stringify({ data }), { status: 200, headers: { 'content-type': 'application/json' } });
    switch (op) {
      case 'DesignBoard':
        return ok({ board: st.board });
      case 'Queues':
        return ok({ queues: [{ queue: 'sales', name: 'Sales' }] });
      case 'DesignLive':
        return ok({ live: live({ server_time: new Date().toISOString(), today: qm({ answered: 42, offered: 50 }) }) });
      case 'UpdateBoard': {
        if (st.conflict || body.variables.expected_version !== st.board.version) {
          st.conflict = false;
          return new Response(JSON.stringify({ errors: [{ message: `board b_1 is at version ${st.board.version}, not ${String(body.variables.expected_version)}`, extensions: { code: 'CONFLICT' } }] }), { status: 409 });
        }
        const input = body.variables.input as { name: string; tiles: (typeof tile)[] };
        st.board = { ...st.board, name: input.name, version: st.board.version + 1, tiles: input.tiles.map((t) => ({ ...tile, ...t })) };
        return ok({ updateBoard: st.board });
      }
      default:
        return new Response(JSON.stringify({ errors: [{ message: `not stubbed: ${op}` }] }), { status: 400 });
    }
  });
  return { st, sent, f };
}

// jsdom lays nothing out: the grid's fit-to-panel measuring (bind:clientWidth) gets an observer that never fires.
beforeEach(() => vi.stubGlobal('ResizeObserver', class { observe() {} unobserve() {} disconnect() {} }));
afterEach(() => vi.unstubAllGlobals());

const rectOf = (el: HTMLElement) => ['x', 'y', 'w', 'h'].map((k) => Number(el.dataset[k]));

describe('Designer', () => {
  it('opens the board with live figures, edits with the keyboard, undoes, and saves with the version it opened', async () => {
    const s = server();
    vi.stubGlobal('fetch', s.f);
    const { container } = render(Designer, { props: { client: createClient('http://api.test/graphql', 'cb_sup'), boardId: 'b_1', loc: { locale: 'en-GB', timezone: 'UTC' } } });
    await waitFor(() => expect(container.querySelector('[data-testid="designer"]')!.getAttribute('data-version')).toBe('3'));
    const t = container.querySelector<HTMLElement>('[data-design-tile="ans"]')!;
    await waitFor(() => expect(t.querySelector('[data-testid="value"]')?.textContent?.trim()).toBe('42'));

    await fireEvent.keyDown(t, { key: 'ArrowRight' });
    await fireEvent.keyDown(t, { key: 'ArrowDown', shiftKey: true });
    expect(rectOf(container.querySelector<HTMLElement>('[data-design-tile="ans"]')!)).toEqual([1, 0, 2, 2]);
    await fireEvent.keyDown(window, { key: 'z', ctrlKey: true });
    expect(rectOf(container.querySelector<HTMLElement>('[data-design-tile="ans"]')!)).toEqual([1, 0, 2, 1]);
    expect(screen.getByTestId('save-status').textContent).toBe('Unsaved changes');

    await fireEvent.click(screen.getByTestId('save'));
    await waitFor(() => expect(screen.getByTestId('save-status').textContent).toBe('Saved · version 4'));
    const update = s.sent.find((x) => x.op === 'UpdateBoard')!;
    expect(update.variables).toMatchObject({ id: 'b_1', expected_version: 3, input: { name: 'Floor', columns: 12, tiles: [{ id: 'ans', x: 1, y: 0, w: 2, h: 1, metric: 'answered' }] } });
  });

  it('a save over a newer version shows the conflict; Overwrite saves against the version stored now', async () => {
    const s = server();
    vi.stubGlobal('fetch', s.f);
    const { container } = render(Designer, { props: { client: createClient('http://api.test/graphql', 'cb_sup'), boardId: 'b_1', loc: { locale: 'en-GB', timezone: 'UTC' } } });
    await waitFor(() => expect(container.querySelector('[data-testid="designer"]')!.getAttribute('data-version')).toBe('3'));
    // Someone else saves meanwhile.
    s.st.board = stored(5, 'Theirs');
    await fireEvent.keyDown(container.querySelector<HTMLElement>('[data-design-tile="ans"]')!, { key: 'ArrowRight' });
    await fireEvent.click(screen.getByTestId('save'));
    const conflict = await screen.findByTestId('conflict');
    expect(conflict.textContent).toContain('changed by someone else since you opened it — reload or overwrite');
    expect(s.st.board.name).toBe('Theirs');

    await fireEvent.click(screen.getByTestId('conflict-overwrite'));
    await waitFor(() => expect(screen.getByTestId('save-status').textContent).toBe('Saved · version 6'));
    expect(screen.queryByTestId('conflict')).toBeNull();
    expect(s.sent.filter((x) => x.op === 'UpdateBoard').map((x) => x.variables.expected_version)).toEqual([3, 5]);
    expect(s.st.board).toMatchObject({ name: 'Floor', tiles: [{ id: 'ans', x: 1 }] });
  });
});

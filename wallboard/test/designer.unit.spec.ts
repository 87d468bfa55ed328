// The designer's pure logic: placement, collision, moves and resizes kept on the grid, the
// undo stack, and a board surviving the round trip through the draft unchanged.
import { describe, expect, it } from 'vitest';
import {
  addTile,
  applyKey,
  commit,
  designHash,
  emptyDraft,
  fits,
  freeSpot,
  fromBoard,
  historyOf,
  keyEdit,
  levelText,
  levelValue,
  MAX_ROWS,
  moveTile,
  parseDesignHash,
  placeTile,
  problems,
  redo,
  removeTile,
  resizeTile,
  setThreshold,
  sizeTile,
  toInput,
  undo,
  updateTile,
  type Draft,
  type DraftTile,
} from '../src/lib/designer.ts';

const tile = (id: string, x: number, y: number, w: number, h: number, extra: Partial<DraftTile> = {}): DraftTile => ({
  id,
  kind: 'KPI',
  title: null,
  x,
  y,
  w,
  h,
  metric: 'offered',
  queues: [],
  interval: null,
  compare: null,
  thresholds: [],
  ...extra,
});
const board = (...tiles: DraftTile[]): Draft => ({ name: 'Floor', columns: 12, tiles });
const at = (d: Draft, id: string) => {
  const t = d.tiles.find((x) => x.id === id)!;
  return { x: t.x, y: t.y, w: t.w, h: t.h };
};

describe('placement', () => {
  it('a new tile takes the first free place, row by row', () => {
    const d = board(tile('a', 0, 0, 2, 1), tile('b', 2, 0, 10, 1));
    expect(freeSpot(d, 2, 1)).toEqual({ x: 0, y: 1 });
    const r = addTile(d, 'QUEUE_TABLE')!;
    expect(r.id).toBe('queue-table-1');
    expect(at(r.draft, r.id)).toEqual({ x: 0, y: 1, w: 6, h: 2 });
    const kpi = addTile(r.draft, 'KPI', ['sales'])!;
    expect(kpi.draft.tiles.find((t) => t.id === kpi.id)).toMatchObject({ x: 6, y: 1, w: 2, h: 1, metric: 'offered', queues: ['sales'] });
  });

  it('a kind that does not fit at its usual size comes smaller, and a full grid takes none', () => {
    const full = board(...Array.from({ length: MAX_ROWS }, (_, y) => tile(`r${y}`, 0, y, y === MAX_ROWS - 1 ? 11 : 12, 1)));
    const r = addTile(full, 'AGENT_GRID')!;
    expect(at(r.draft, r.id)).toEqual({ x: 11, y: MAX_ROWS - 1, w: 1, h: 1 });
    expect(addTile(r.draft, 'KPI')).toBeNull();
  });

  it('ids are unique per board', () => {
    const d = board(tile('kpi-1', 0, 0, 1, 1), tile('kpi-2', 1, 0, 1, 1));
    expect(addTile(d, 'KPI')!.id).toBe('kpi-3');
  });

  it('fits: inside the grid and clear of other tiles', () => {
    const d = board(tile('a', 2, 2, 2, 2));
    expect(fits(d, { x: 0, y: 0, w: 2, h: 2 })).toBe(true);
    expect(fits(d, { x: 3, y: 3, w: 2, h: 2 })).toBe(false);
    expect(fits(d, { x: 3, y: 3, w: 2, h: 2 }, 'a')).toBe(true);
    expect(fits(d, { x: 11, y: 0, w: 2, h: 1 })).toBe(false);
    expect(fits(d, { x: -1, y: 0, w: 1, h: 1 })).toBe(false);
    expect(fits(d, { x: 0, y: MAX_ROWS - 1, w: 1, h: 2 })).toBe(false);
  });
});

describe('moving', () => {
  it('moves by a cell and stops at the edges', () => {
    const d = board(tile('a', 0, 0, 2, 1));
    expect(at(moveTile(d, 'a', 1, 0), 'a')).toEqual({ x: 1, y: 0, w: 2, h: 1 });
    expect(moveTile(d, 'a', -1, 0)).toBe(d);
    expect(moveTile(d, 'a', 0, -1)).toBe(d);
    const right = board(tile('a', 10, 0, 2, 1));
    expect(moveTile(right, 'a', 1, 0)).toBe(right);
  });

  it('jumps over a tile in the way, and stays when nothing is free beyond it', () => {
    const d = board(tile('a', 0, 0, 2, 1), tile('b', 2, 0, 3, 1));
    expect(at(moveTile(d, 'a', 1, 0), 'a')).toEqual({ x: 5, y: 0, w: 2, h: 1 });
    const blocked = board(tile('a', 0, 0, 2, 1), tile('b', 2, 0, 10, 1));
    expect(moveTile(blocked, 'a', 1, 0)).toBe(blocked);
    expect(at(moveTile(blocked, 'b', 0, 1), 'b')).toEqual({ x: 2, y: 1, w: 10, h: 1 });
  });

  it('a drop is clamped into the grid and refused on another tile', () => {
    const d = board(tile('a', 0, 0, 2, 1), tile('b', 4, 0, 2, 1));
    expect(at(placeTile(d, 'a', 20, 3), 'a')).toEqual({ x: 10, y: 3, w: 2, h: 1 });
    expect(at(placeTile(d, 'a', 0, 99), 'a')).toEqual({ x: 0, y: MAX_ROWS - 1, w: 2, h: 1 });
    expect(placeTile(d, 'a', 3, 0)).toBe(d);
    expect(placeTile(d, 'a', 0, 0)).toBe(d);
  });
});

describe('resizing', () => {
  it('grows and shrinks from the top left, never below one cell or past the edge', () => {
    const d = board(tile('a', 9, 0, 2, 1));
    expect(at(resizeTile(d, 'a', 1, 1), 'a')).toEqual({ x: 9, y: 0, w: 3, h: 2 });
    expect(at(sizeTile(d, 'a', 40, 1), 'a')).toEqual({ x: 9, y: 0, w: 3, h: 1 });
    expect(at(resizeTile(d, 'a', -1, 0), 'a')).toEqual({ x: 9, y: 0, w: 1, h: 1 });
    const one = board(tile('a', 0, 0, 1, 1));
    expect(resizeTile(one, 'a', -1, 0)).toBe(one);
    expect(resizeTile(one, 'a', 0, -1)).toBe(one);
  });

  it('does not grow over another tile', () => {
    const d = board(tile('a', 0, 0, 2, 1), tile('b', 2, 0, 2, 1));
    expect(resizeTile(d, 'a', 1, 0)).toBe(d);
    expect(at(resizeTile(d, 'a', 0, 1), 'a')).toEqual({ x: 0, y: 0, w: 2, h: 2 });
  });
});

describe('keys', () => {
  it('arrows move, Shift+arrows resize, Delete and Backspace remove; with Ctrl nothing', () => {
    expect(keyEdit({ key: 'ArrowRight', shiftKey: false })).toEqual({ kind: 'move', dx: 1, dy: 0 });
    expect(keyEdit({ key: 'ArrowUp', shiftKey: false })).toEqual({ kind: 'move', dx: 0, dy: -1 });
    expect(keyEdit({ key: 'ArrowDown', shiftKey: true })).toEqual({ kind: 'resize', dw: 0, dh: 1 });
    expect(keyEdit({ key: 'ArrowLeft', shiftKey: true })).toEqual({ kind: 'resize', dw: -1, dh: 0 });
    expect(keyEdit({ key: 'Delete', shiftKey: false })).toEqual({ kind: 'remove' });
    expect(keyEdit({ key: 'Backspace', shiftKey: false })).toEqual({ kind: 'remove' });
    expect(keyEdit({ key: 'ArrowLeft', shiftKey: false, ctrlKey: true })).toBeNull();
    expect(keyEdit({ key: 'a', shiftKey: false })).toBeNull();
  });

  it('applies to the focused tile', () => {
    const d = board(tile('a', 0, 0, 1, 1), tile('b', 5, 5, 1, 1));
    expect(at(applyKey(d, 'a', { kind: 'move', dx: 0, dy: 1 }), 'a')).toEqual({ x: 0, y: 1, w: 1, h: 1 });
    expect(at(applyKey(d, 'a', { kind: 'resize', dw: 1, dh: 0 }), 'a')).toEqual({ x: 0, y: 0, w: 2, h: 1 });
    expect(applyKey(d, 'a', { kind: 'remove' }).tiles.map((t) => t.id)).toEqual(['b']);
  });
});

describe('undo and redo', () => {
  it('undoes and redoes edits in order; a new edit drops the redo list', () => {
    const d0 = board(tile('a', 0, 0, 1, 1));
    const d1 = moveTile(d0, 'a', 1, 0);
    const d2 = resizeTile(d1, 'a', 1, 0);
    let h = commit(commit(historyOf(d0), d1), d2);
    h = undo(h);
    expect(h.present).toBe(d1);
    h = undo(h);
    expect(h.present).toBe(d0);
    expect(undo(h)).toBe(h);
    h = redo(h);
    expect(h.present).toBe(d1);
    const d3 = removeTile(d1, 'a');
    h = commit(h, d3);
    expect(h.future).toEqual([]);
    expect(redo(h)).toBe(h);
    expect(undo(h).present).toBe(d1);
  });

  it('an edit that changed nothing is not recorded', () => {
    const d = board(tile('a', 0, 0, 1, 1));
    const h = historyOf(d);
    expect(commit(h, moveTile(d, 'a', -1, 0))).toBe(h);
  });
});

describe('tile settings', () => {
  it("a KPI's threshold follows its metric, with the new metric's direction", () => {
    let d = board(tile('a', 0, 0, 2, 1, { metric: 'service_level', thresholds: [{ metric: 'service_level', direction: 'BELOW', warn: 0.8, critical: 0.6 }] }));
    d = updateTile(d, 'a', { metric: 'asa' });
    expect(d.tiles[0]!.thresholds).toEqual([{ metric: 'asa', direction: 'ABOVE', warn: 0.8, critical: 0.6 }]);
  });

  it('a kind change drops what the new kind cannot have; waiting has no comparison', () => {
    let d = board(tile('a', 0, 0, 2, 1, { compare: 'PREVIOUS' }));
    d = updateTile(d, 'a', { kind: 'INTRADAY_CHART' });
    expect(d.tiles[0]).toMatchObject({ kind: 'INTRADAY_CHART', metric: null, interval: 'MIN_15', compare: null });
    d = updateTile(d, 'a', { kind: 'KPI' });
    expect(d.tiles[0]).toMatchObject({ kind: 'KPI', metric: 'offered', interval: null });
    d = updateTile(updateTile(d, 'a', { compare: 'PREVIOUS' }), 'a', { metric: 'waiting' });
    expect(d.tiles[0]!.compare).toBeNull();
  });

  it('thresholds are set, replaced and removed per metric', () => {
    let d = board(tile('q', 0, 0, 6, 2, { kind: 'QUEUE_TABLE', metric: null }));
    d = setThreshold(d, 'q', 'asa', { direction: 'ABOVE', warn: 20, critical: 40 });
    d = setThreshold(d, 'q', 'service_level', { direction: 'BELOW', warn: 0.8, critical: null });
    d = setThreshold(d, 'q', 'asa', { direction: 'ABOVE', warn: 25, critical: 40 });
    expect(d.tiles[0]!.thresholds).toEqual([
      { metric: 'asa', direction: 'ABOVE', warn: 25, critical: 40 },
      { metric: 'service_level', direction: 'BELOW', warn: 0.8, critical: null },
    ]);
    expect(setThreshold(d, 'q', 'asa', null).tiles[0]!.thresholds.map((t) => t.metric)).toEqual(['service_level']);
  });

  it('ratio levels are typed as percentages, times in seconds', () => {
    expect(levelText('service_level', 0.8)).toBe('80');
    expect(levelText('abandon_rate', 0.055)).toBe('5.5');
    expect(levelValue('service_level', '80')).toBe(0.8);
    expect(levelValue('abandon_rate', '5,5')).toBe(0.055);
    expect(levelValue('asa', '20')).toBe(20);
    expect(levelValue('asa', ' ')).toBeNull();
    expect(levelValue('asa', 'x')).toBeNaN();
    expect(levelText('asa', null)).toBe('');
  });

  it('says what the API would refuse', () => {
    expect(problems(board(tile('a', 0, 0, 1, 1)))).toEqual([]);
    expect(problems({ ...board(), name: '  ' })).toEqual(['The board needs a name (1–100 characters).']);
    expect(problems(board(tile('a', 0, 0, 1, 1, { metric: null })))).toEqual(['Tile “a”: choose a metric.']);
    expect(problems(board(tile('a', 0, 0, 1, 1, { title: 'SL', metric: 'service_level', thresholds: [{ metric: 'service_level', direction: 'BELOW', warn: 0.6, critical: 0.8 }] })))).toEqual([
      'Tile “SL”, Service level threshold: alarm must be at or below warn.',
    ]);
    expect(problems(board(tile('a', 0, 0, 1, 1, { thresholds: [{ metric: 'offered', direction: 'ABOVE', warn: null, critical: null }] }))).length).toBe(1);
  });
});

describe('board ⇄ draft', () => {
  it('a stored board comes back as the same input, optional fields only when set', () => {
    const stored = {
      name: 'Floor',
      columns: 12,
      tiles: [
        tile('q', 0, 1, 6, 2, { kind: 'QUEUE_TABLE', metric: null, title: 'Queues', queues: ['sales'], thresholds: [{ metric: 'asa', direction: 'ABOVE' as const, warn: 20, critical: null }] }),
        tile('sl', 0, 0, 2, 1, { metric: 'service_level', compare: 'PREVIOUS' }),
        tile('day', 6, 1, 6, 2, { kind: 'INTRADAY_CHART', metric: null, interval: 'MIN_30' }),
      ],
    };
    const d = fromBoard(stored);
    expect(d.tiles.map((t) => t.id)).toEqual(['sl', 'q', 'day']);
    expect(d.tiles[0]).not.toBe(stored.tiles[1]);
    expect(toInput(d)).toEqual({
      name: 'Floor',
      columns: 12,
      tiles: [
        { id: 'sl', kind: 'KPI', x: 0, y: 0, w: 2, h: 1, metric: 'service_level', queues: [], thresholds: [], compare: 'PREVIOUS' },
        { id: 'q', kind: 'QUEUE_TABLE', title: 'Queues', x: 0, y: 1, w: 6, h: 2, queues: ['sales'], thresholds: [{ metric: 'asa', direction: 'ABOVE', warn: 20, critical: null }] },
        { id: 'day', kind: 'INTRADAY_CHART', x: 6, y: 1, w: 6, h: 2, queues: [], interval: 'MIN_30', thresholds: [] },
      ],
    });
    expect(toInput({ ...emptyDraft(), name: '  Night shift ' }).name).toBe('Night shift');
  });

  it('the designer address names the board, or a new one', () => {
    expect(designHash('b_x1')).toBe('#/design/b_x1');
    expect(designHash(null)).toBe('#/design/new');
    expect(parseDesignHash('#/design/b_x1')).toBe('b_x1');
    expect(parseDesignHash('#/design/new')).toBe('');
    expect(parseDesignHash('#/design')).toBe('');
    expect(parseDesignHash('')).toBeNull();
    expect(parseDesignHash('#/other')).toBeNull();
  });
});

// The board designer's logic, pure so it is tested without a browser: tiles on the board's
// grid (placement, collision, moving and resizing clamped to the grid), the edit history behind
// undo and redo, and the board ⇄ draft conversion for `createBoard` / `updateBoard`. The API
// checks the board again on save (api/src/boards.ts validateBoard); the checks here only let the
// designer say what is wrong before the round trip.
import type { BoardInput, Comparison, IntradayInterval, ThresholdDirection, TileKind } from './gql-types.ts';
import type { TileDef, ThresholdDef } from './model.ts';
import { metricDoc } from './metrics.ts';

export type DraftTile = TileDef;
export type DraftThreshold = ThresholdDef;

/** A board being edited: what `BoardInput` carries, with every tile field present. */
export interface Draft {
  name: string;
  columns: number;
  tiles: DraftTile[];
}

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * Rows the designer lets tiles reach. The board itself has no row count (it shows as many rows
 * as its lowest tile reaches, each an equal share of the screen), so this only keeps a tile from
 * being pushed off into rows nobody would put on a TV.
 */
export const MAX_ROWS = 12;
/** The API's limits (validateBoard). */
export const MAX_TILES = 64;
export const MAX_COLUMNS = 48;

/**
 * The live QueueMetrics a KPI tile may show: the API's KPI_METRICS (api/src/boards.ts) that the
 * live state fills, most used first.
 */
export const KPI_METRICS = [
  'service_level', 'abandon_rate', 'asa', 'waiting', 'max_wait', 'offered', 'answered', 'abandoned', 'short_abandoned',
  'exited', 'answered_within_sl', 'abandoned_within_sl', 'avg_abandon_wait', 'aht', 'wait_p90', 'transferred',
] as const;

export const TILE_KINDS: { kind: TileKind; label: string }[] = [
  { kind: 'KPI', label: 'KPI' },
  { kind: 'QUEUE_TABLE', label: 'Queue table' },
  { kind: 'AGENT_GRID', label: 'Agent grid' },
  { kind: 'INTRADAY_CHART', label: 'Intraday chart' },
];

/** The size a new tile of each kind starts at: big enough for what it shows at 1080p. */
const NEW_SIZE: Record<TileKind, { w: number; h: number }> = {
  KPI: { w: 2, h: 1 },
  QUEUE_TABLE: { w: 6, h: 2 },
  AGENT_GRID: { w: 6, h: 3 },
  INTRADAY_CHART: { w: 6, h: 2 },
};

export const overlaps = (a: Rect, b: Rect): boolean => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/** Inside the grid and clear of every other tile. */
export function fits(draft: Draft, r: Rect, ignoreId: string | null = null): boolean {
  if (r.x < 0 || r.y < 0 || r.w < 1 || r.h < 1 || r.x + r.w > draft.columns || r.y + r.h > MAX_ROWS) return false;
  return draft.tiles.every((t) => t.id === ignoreId || !overlaps(t, r));
}

/** The first free place for a w×h tile, row by row from the top left; null when the grid is full. */
export function freeSpot(draft: Draft, w: number, h: number): { x: number; y: number } | null {
  const cw = Math.min(w, draft.columns);
  for (let y = 0; y + h <= MAX_ROWS; y++) {
    for (let x = 0; x + cw <= draft.columns; x++) if (fits(draft, { x, y, w: cw, h })) return { x, y };
  }
  return null;
}

/** Rows the designer shows: every tile, plus one free row to move or add into. */
export const designRows = (draft: Draft): number => Math.min(MAX_ROWS, Math.max(4, ...draft.tiles.map((t) => t.y + t.h + 1)));

/** A tile id not used on the board, from its kind: `kpi-3`. */
export function newTileId(draft: Draft, kind: TileKind): string {
  const stem = kind.toLowerCase().replace(/_/g, '-');
  const used = new Set(draft.tiles.map((t) => t.id));
  let n = 1;
  while (used.has(`${stem}-${n}`)) n++;
  return `${stem}-${n}`;
}

/** The default direction of a threshold on a metric: which side of it is bad (METRICS.md). */
export const defaultDirection = (metric: string): ThresholdDirection => (metricDoc(metric).bad === 'below' ? 'BELOW' : 'ABOVE');

/** Adds a tile of `kind` at the first free place (smaller if it does not fit at its usual size); null when the grid is full. */
export function addTile(draft: Draft, kind: TileKind, queues: readonly string[] = []): { draft: Draft; id: string } | null {
  if (draft.tiles.length >= MAX_TILES) return null;
  const size = NEW_SIZE[kind];
  const tries = [size, { w: Math.min(size.w, 2), h: 1 }, { w: 1, h: 1 }];
  for (const s of tries) {
    const at = freeSpot(draft, s.w, s.h);
    if (!at) continue;
    const id = newTileId(draft, kind);
    const tile: DraftTile = {
      id,
      kind,
      title: null,
      ...at,
      w: Math.min(s.w, draft.columns),
      h: s.h,
      metric: kind === 'KPI' ? 'offered' : null,
      queues: [...queues],
      interval: kind === 'INTRADAY_CHART' ? 'MIN_15' : null,
      compare: null,
      thresholds: [],
    };
    return { draft: { ...draft, tiles: [...draft.tiles, tile] }, id };
  }
  return null;
}

const withTile = (draft: Draft, id: string, f: (t: DraftTile) => DraftTile): Draft => ({ ...draft, tiles: draft.tiles.map((t) => (t.id === id ? f(t) : t)) });

/**
 * Moves a tile by (dx, dy) cells. A tile in the way is jumped over (the next free place further
 * in that direction), so arrow keys can take a tile anywhere on a crowded board; at the grid's
 * edge or with no free place beyond, the tile stays where it is.
 */
export function moveTile(draft: Draft, id: string, dx: number, dy: number): Draft {
  const t = draft.tiles.find((x) => x.id === id);
  if (!t || (dx === 0 && dy === 0)) return draft;
  const sx = Math.sign(dx);
  const sy = Math.sign(dy);
  let r = { x: t.x + dx, y: t.y + dy, w: t.w, h: t.h };
  while (r.x >= 0 && r.y >= 0 && r.x + r.w <= draft.columns && r.y + r.h <= MAX_ROWS) {
    if (fits(draft, r, id)) return withTile(draft, id, (x) => ({ ...x, x: r.x, y: r.y }));
    r = { ...r, x: r.x + sx, y: r.y + sy };
  }
  return draft;
}

/** Puts a tile at (x, y) (a mouse drop), clamped into the grid; unchanged when it would cover another tile. */
export function placeTile(draft: Draft, id: string, x: number, y: number): Draft {
  const t = draft.tiles.find((z) => z.id === id);
  if (!t) return draft;
  const r = { x: clamp(x, 0, draft.columns - t.w), y: clamp(y, 0, MAX_ROWS - t.h), w: t.w, h: t.h };
  if ((r.x === t.x && r.y === t.y) || !fits(draft, r, id)) return draft;
  return withTile(draft, id, (z) => ({ ...z, x: r.x, y: r.y }));
}

/** Sets a tile's size (top left fixed), clamped to 1 cell and the grid's edge; unchanged when it would cover another tile. */
export function sizeTile(draft: Draft, id: string, w: number, h: number): Draft {
  const t = draft.tiles.find((z) => z.id === id);
  if (!t) return draft;
  const r = { x: t.x, y: t.y, w: clamp(w, 1, draft.columns - t.x), h: clamp(h, 1, MAX_ROWS - t.y) };
  if ((r.w === t.w && r.h === t.h) || !fits(draft, r, id)) return draft;
  return withTile(draft, id, (z) => ({ ...z, w: r.w, h: r.h }));
}

export function resizeTile(draft: Draft, id: string, dw: number, dh: number): Draft {
  const t = draft.tiles.find((z) => z.id === id);
  return t ? sizeTile(draft, id, t.w + dw, t.h + dh) : draft;
}

export function removeTile(draft: Draft, id: string): Draft {
  return { ...draft, tiles: draft.tiles.filter((t) => t.id !== id) };
}

/** Changes a tile's settings (not its place: see moveTile and sizeTile). Thresholds follow a KPI's metric. */
export function updateTile(draft: Draft, id: string, patch: Partial<Pick<DraftTile, 'title' | 'kind' | 'metric' | 'queues' | 'interval' | 'compare' | 'thresholds'>>): Draft {
  return withTile(draft, id, (t) => {
    const next = { ...t, ...patch };
    if (patch.kind && patch.kind !== t.kind) {
      next.metric = patch.kind === 'KPI' ? (t.metric ?? 'offered') : null;
      next.interval = patch.kind === 'INTRADAY_CHART' ? (t.interval ?? 'MIN_15') : null;
      next.compare = patch.kind === 'KPI' ? t.compare : null;
    }
    // A KPI's threshold judges the figure it shows: a new metric takes its threshold along.
    if (next.kind === 'KPI' && patch.metric && patch.metric !== t.metric && !patch.thresholds) {
      next.thresholds = t.thresholds.filter((x) => x.metric !== t.metric).concat(t.thresholds.filter((x) => x.metric === t.metric).map((x) => ({ ...x, metric: patch.metric!, direction: defaultDirection(patch.metric!) })));
    }
    if (next.kind === 'KPI' && next.metric === 'waiting') next.compare = null;
    return next;
  });
}

/** The metrics a tile's thresholds can judge: a KPI its figure, a queue table its columns, a chart its SL target line. */
export function thresholdMetrics(t: Pick<DraftTile, 'kind' | 'metric'>): string[] {
  if (t.kind === 'KPI') return t.metric ? [t.metric] : [];
  if (t.kind === 'QUEUE_TABLE') return ['service_level', 'abandon_rate', 'asa', 'waiting', 'max_wait'];
  if (t.kind === 'INTRADAY_CHART') return ['service_level'];
  return [];
}

/** The threshold of a tile on `metric`, or null. */
export const thresholdOf = (t: DraftTile, metric: string): DraftThreshold | null => t.thresholds.find((x) => x.metric === metric) ?? null;

/** Sets (or, with null, removes) the tile's threshold on `metric`. */
export function setThreshold(draft: Draft, id: string, metric: string, th: Omit<DraftThreshold, 'metric'> | null): Draft {
  return withTile(draft, id, (t) => ({
    ...t,
    thresholds: th ? (thresholdOf(t, metric) ? t.thresholds.map((x) => (x.metric === metric ? { metric, ...th } : x)) : [...t.thresholds, { metric, ...th }]) : t.thresholds.filter((x) => x.metric !== metric),
  }));
}

// Ratios are stored 0..1 but read as percentages: a supervisor types 80, not 0.8.

/** A threshold level as the designer's field shows it: percent for ratios, seconds or a count otherwise. */
export function levelText(metric: string, v: number | null): string {
  if (v === null) return '';
  const shown = metricDoc(metric).format === 'ratio' ? v * 100 : v;
  return String(Math.round(shown * 1000) / 1000);
}

/** A level typed into the designer, back to the stored unit; null for an empty field, NaN for one that is not a number. */
export function levelValue(metric: string, text: string): number | null {
  const s = text.trim().replace(',', '.');
  if (s === '') return null;
  const n = Number(s);
  if (!Number.isFinite(n)) return Number.NaN;
  return metricDoc(metric).format === 'ratio' ? Math.round(n * 1000) / 100_000 : n;
}

export const levelUnit = (metric: string): string => ({ ratio: '%', seconds: 's', count: '' })[metricDoc(metric).format];

/** What would make the API refuse the board, in words a supervisor can act on; empty when it would save. */
export function problems(draft: Draft): string[] {
  const out: string[] = [];
  const name = draft.name.trim();
  if (!name || name.length > 100) out.push('The board needs a name (1–100 characters).');
  for (const t of draft.tiles) {
    const label = t.title || t.id;
    if (t.kind === 'KPI' && !t.metric) out.push(`Tile “${label}”: choose a metric.`);
    if (t.x + t.w > draft.columns) out.push(`Tile “${label}” is wider than the board.`);
    for (const th of t.thresholds) {
      const what = `Tile “${label}”, ${metricDoc(th.metric).label} threshold`;
      if ((th.warn !== null && Number.isNaN(th.warn)) || (th.critical !== null && Number.isNaN(th.critical))) out.push(`${what}: the levels must be numbers.`);
      else if (th.warn === null && th.critical === null) out.push(`${what}: give warn, alarm or both.`);
      else if (th.warn !== null && th.critical !== null && (th.direction === 'ABOVE' ? th.critical < th.warn : th.critical > th.warn)) {
        out.push(`${what}: alarm must be ${th.direction === 'ABOVE' ? 'at or above' : 'at or below'} warn.`);
      }
    }
  }
  return out;
}

/** A stored board as a draft: fields the API may leave out filled in, tiles in reading order. */
export function fromBoard(b: { name: string; columns: number; tiles: readonly DraftTile[] }): Draft {
  const tiles = b.tiles.map((t) => ({ ...t, queues: [...t.queues], thresholds: t.thresholds.map((x) => ({ ...x })) }));
  return { name: b.name, columns: b.columns, tiles: tiles.sort((p, q) => p.y - q.y || p.x - q.x) };
}

/** The draft as `BoardInput`: optional fields sent only when set, so a board saved unchanged stays byte-identical. */
export function toInput(d: Draft): BoardInput {
  return {
    name: d.name.trim(),
    columns: d.columns,
    tiles: d.tiles.map((t) => ({
      id: t.id,
      kind: t.kind,
      ...(t.title ? { title: t.title } : {}),
      x: t.x,
      y: t.y,
      w: t.w,
      h: t.h,
      ...(t.metric ? { metric: t.metric } : {}),
      queues: [...t.queues],
      ...(t.interval ? { interval: t.interval as IntradayInterval } : {}),
      thresholds: t.thresholds.map((x) => ({ metric: x.metric, direction: x.direction, warn: x.warn, critical: x.critical })),
      ...(t.compare ? { compare: t.compare as Comparison } : {}),
    })),
  };
}

export const emptyDraft = (): Draft => ({ name: 'New board', columns: 12, tiles: [] });

// ---------------------------------------------------------------- undo and redo

export interface History<T> {
  past: T[];
  present: T;
  future: T[];
}

/** Edits kept for undo: far more than a session makes, few enough to bound memory. */
export const HISTORY_LIMIT = 200;

export const historyOf = <T>(present: T): History<T> => ({ past: [], present, future: [] });

/** Records an edit; an edit that changed nothing (a move against the edge) is not one to undo. */
export function commit<T>(h: History<T>, next: T): History<T> {
  if (next === h.present) return h;
  return { past: [...h.past, h.present].slice(-HISTORY_LIMIT), present: next, future: [] };
}

export function undo<T>(h: History<T>): History<T> {
  if (h.past.length === 0) return h;
  return { past: h.past.slice(0, -1), present: h.past[h.past.length - 1]!, future: [h.present, ...h.future] };
}

export function redo<T>(h: History<T>): History<T> {
  if (h.future.length === 0) return h;
  return { past: [...h.past, h.present], present: h.future[0]!, future: h.future.slice(1) };
}

// ---------------------------------------------------------------- keys

export type KeyEdit = { kind: 'move'; dx: number; dy: number } | { kind: 'resize'; dw: number; dh: number } | { kind: 'remove' };

const ARROWS: Record<string, [number, number]> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

/** What a key on a focused tile does: arrows move, Shift+arrows resize, Delete or Backspace removes. */
export function keyEdit(e: { key: string; shiftKey: boolean; ctrlKey?: boolean; metaKey?: boolean; altKey?: boolean }): KeyEdit | null {
  if (e.ctrlKey || e.metaKey || e.altKey) return null;
  const a = ARROWS[e.key];
  if (a) return e.shiftKey ? { kind: 'resize', dw: a[0], dh: a[1] } : { kind: 'move', dx: a[0], dy: a[1] };
  if (e.key === 'Delete' || e.key === 'Backspace') return { kind: 'remove' };
  return null;
}

export function applyKey(draft: Draft, id: string, k: KeyEdit): Draft {
  if (k.kind === 'move') return moveTile(draft, id, k.dx, k.dy);
  if (k.kind === 'resize') return resizeTile(draft, id, k.dw, k.dh);
  return removeTile(draft, id);
}

/** The designer's address for a board (`new` for a board not yet saved). */
export const designHash = (boardId: string | null): string => `#/design/${boardId ? encodeURIComponent(boardId) : 'new'}`;

/** The board a `#/design/<id>` address edits: the id, '' for a new board, null when the address is not the designer's. */
export function parseDesignHash(hash: string): string | null {
  const m = /^#\/design(?:\/([^/?#]*))?$/.exec(hash);
  if (!m) return null;
  const id = decodeURIComponent(m[1] ?? '');
  return id === 'new' ? '' : id;
}

const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v));

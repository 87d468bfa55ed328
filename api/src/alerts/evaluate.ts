// Alerts from board thresholds: a pure evaluator. Given the boards, a live snapshot per tile and
// the time, it says which alerts are raised and which are cleared. No I/O: the engine (engine.ts)
// feeds it on a timer and delivers what it returns.
//
// Each level (warn, critical) of each threshold of each tile is its own alert, per queue row for
// a queue table. A figure must stay beyond its level for `minDurationMs` before the alert is
// raised (a single long wait does not page anyone); once raised it stays raised — one alert per
// crossing — until the figure is back past the level by the hysteresis margin, so a figure
// hovering at the level does not raise and clear it over and over. A figure with no value (a
// ratio with a zero denominator, max_wait with nobody waiting) is no breach.
import { createHash } from 'node:crypto';
import type { Board, Threshold, Tile } from '../boards.ts';
import type { LiveSnapshot } from '../live.ts';

export type AlertLevel = 'WARN' | 'CRITICAL';

/** One level of one threshold of one tile, for one queue row (queue tables) or the tile's queues. */
export interface AlertRule {
  key: string;
  board_id: string;
  board_name: string;
  tile_id: string;
  tile_title: string | null;
  metric: string;
  /** the queue-table row; null for a KPI tile (its figure is over `queues`) */
  queue: string | null;
  /** the tile's queues; empty = every queue */
  queues: string[];
  direction: Threshold['direction'];
  level: AlertLevel;
  threshold: number;
}

export interface AlertOptions {
  /** the figure stays beyond the level this long before the alert is raised */
  minDurationMs: number;
  /** an alert clears only once the figure is past the level by this fraction of the level */
  hysteresis: number;
}

type Raised = { phase: 'raised'; id: string; raised_at: number; value: number; current: number; clear_level: number; rule: AlertRule };
export type RuleState = { phase: 'pending'; since: number } | Raised;

export interface Alert {
  /** the same for the raise and the clear of one crossing */
  id: string;
  state: 'RAISED' | 'CLEARED';
  rule: AlertRule;
  /** the figure when raised; when cleared, the figure that cleared it (null: it has no value now, or the tile is gone) */
  value: number | null;
  /** while raised, the figure now (a banner showing the raise's figure would contradict the tile beside it); null once cleared */
  current: number | null;
  raised_at: number;
  cleared_at: number | null;
  /**
   * The figure that clears it: the level moved back by the hysteresis margin. A screen shows it
   * while the figure is back on the good side of the level but not yet this far (e.g. an SL of
   * 60.04 % under a 60 % level still raised: "clears at 63.0 %").
   */
  clear_level: number;
  /** true: no crossing, only the figure of a raised alert moved (for screens: no webhook, no count) */
  moved: boolean;
}

export function beyond(value: number, rule: Pick<AlertRule, 'direction' | 'threshold'>): boolean {
  return rule.direction === 'ABOVE' ? value > rule.threshold : value < rule.threshold;
}

/** Back on the good side of the level by the hysteresis margin (a fraction of the level). */
export function recovered(value: number, rule: Pick<AlertRule, 'direction' | 'threshold'>, hysteresis: number): boolean {
  // The slack absorbs binary rounding: 0.8 + 5% of 0.8 is 0.8400000000000001, and an SL of 0.84 is past it.
  const margin = Math.abs(rule.threshold) * hysteresis - 1e-9 * Math.max(1, Math.abs(rule.threshold));
  return rule.direction === 'ABOVE' ? value <= rule.threshold - margin : value >= rule.threshold + margin;
}

/**
 * The figure at which a raised alert clears (`recovered`'s edge, without its rounding slack), to 12
 * significant digits: receivers get 0.84 for 80 % + 5 %, not binary noise (0.8400000000000001).
 */
export function clearLevel(rule: Pick<AlertRule, 'direction' | 'threshold'>, hysteresis: number): number {
  const margin = Math.abs(rule.threshold) * hysteresis;
  return Number((rule.direction === 'ABOVE' ? rule.threshold - margin : rule.threshold + margin).toPrecision(12));
}

/** An alert of a raised crossing: what the crossing fixes (id, rule, raise time, clear level) and what this message says. */
const alertOf = (s: Raised, says: Pick<Alert, 'state' | 'value' | 'current' | 'cleared_at' | 'moved'> & { rule?: AlertRule }): Alert => ({
  id: s.id,
  rule: s.rule,
  raised_at: s.raised_at,
  clear_level: s.clear_level,
  ...says,
});

export const alertId = (key: string, raisedAt: number) => `al_${createHash('sha256').update(`${key}\u0000${raisedAt}`).digest('base64url').slice(0, 20)}`;

/**
 * One rule's next state for a figure observed at `now`, and the alert it raises or clears, if
 * any. `undefined` state is "ok" (nothing pending, nothing raised).
 */
export function step(state: RuleState | undefined, rule: AlertRule, value: number | null, now: number, opts: AlertOptions): { state: RuleState | undefined; alert: Alert | null; moved?: Alert } {
  const isBeyond = value !== null && Number.isFinite(value) && beyond(value, rule);
  if (state?.phase === 'raised') {
    if (value !== null && Number.isFinite(value) && !recovered(value, rule, opts.hysteresis)) {
      if (value === state.current) return { state, alert: null };
      const next = { ...state, current: value };
      return { state: next, alert: null, moved: alertOf(state, { state: 'RAISED', rule, value: state.value, current: value, cleared_at: null, moved: true }) };
    }
    return { state: undefined, alert: alertOf(state, { state: 'CLEARED', rule, value, current: null, cleared_at: now, moved: false }) };
  }
  if (!isBeyond) return { state: undefined, alert: null };
  const since = state?.phase === 'pending' ? state.since : now;
  if (now - since < opts.minDurationMs) return { state: { phase: 'pending', since }, alert: null };
  const raised: Raised = { phase: 'raised', id: alertId(rule.key, now), raised_at: now, value: value!, current: value!, clear_level: clearLevel(rule, opts.hysteresis), rule };
  return { state: raised, alert: alertOf(raised, { state: 'RAISED', value, current: value, cleared_at: null, moved: false }) };
}

const LEVELS: [AlertLevel, 'warn' | 'critical'][] = [
  ['WARN', 'warn'],
  ['CRITICAL', 'critical'],
];

function rulesOfThreshold(board: Board, tile: Tile, th: Threshold, queue: string | null): AlertRule[] {
  const out: AlertRule[] = [];
  for (const [level, field] of LEVELS) {
    const threshold = th[field];
    if (threshold === null) continue;
    out.push({
      key: [board.id, tile.id, th.metric, queue ?? '', level].join('\u0000'),
      board_id: board.id,
      board_name: board.name,
      tile_id: tile.id,
      tile_title: tile.title,
      metric: th.metric,
      queue,
      queues: tile.queues,
      direction: th.direction,
      level,
      threshold,
    });
  }
  return out;
}

/** A rule with the figure it is judged on now. */
export interface Check {
  rule: AlertRule;
  value: number | null;
}

const figure = (row: object, metric: string): number | null => {
  const v = (row as Record<string, unknown>)[metric];
  return typeof v === 'number' ? v : null;
};

/**
 * What a tile's thresholds are judged on, as the board shows it: a KPI tile's own metric over the
 * tile's queues taken together (`snapshotOf(tile.queues)`); a queue table's thresholds per row, one
 * row per queue of the live state. Other tiles show no thresholded figure.
 */
export function checksOf(board: Board, snapshotOf: (queues: string[]) => LiveSnapshot): Check[] {
  const out: Check[] = [];
  for (const tile of board.tiles) {
    if (tile.thresholds.length === 0) continue;
    if (tile.kind === 'KPI') {
      const th = tile.thresholds.filter((t) => t.metric === tile.metric);
      if (!th.length) continue;
      const snap = snapshotOf(tile.queues);
      const value = kpiFigure(snap, tile.metric!, tile.queues.length > 0);
      for (const t of th) for (const rule of rulesOfThreshold(board, tile, t, null)) out.push({ rule, value });
    } else if (tile.kind === 'QUEUE_TABLE') {
      const snap = snapshotOf(tile.queues);
      for (const row of snap.queues) {
        for (const t of tile.thresholds) {
          const value = t.metric === 'waiting' || t.metric === 'max_wait' ? figure(row, t.metric) : figure(row.today, t.metric);
          for (const rule of rulesOfThreshold(board, tile, t, row.queue)) out.push({ rule, value });
        }
      }
    }
  }
  return out;
}

/**
 * A KPI tile's figure: the snapshot's totals over the tile's queues, as the wallboard's
 * kpiValue() takes them (wallboard/src/lib/board.ts): `waiting` of a tile naming queues is the
 * sum of their rows (every caller waiting, yesterday's too), of a tile over all queues today's
 * total; `max_wait` is the longest current wait of any of them.
 */
function kpiFigure(snap: LiveSnapshot, metric: string, namesQueues: boolean): number | null {
  if (metric === 'waiting' && namesQueues) return snap.queues.reduce((s, q) => s + q.waiting, 0);
  if (metric === 'max_wait') {
    const waits = snap.queues.map((q) => q.max_wait).filter((w): w is number => w !== null);
    return waits.length ? Math.max(...waits) : null;
  }
  return figure(snap.today, metric);
}

/**
 * Steps every check of a tenant; rules that no longer exist (a tile or board removed, a
 * threshold changed) clear what they had raised and drop what was pending.
 */
export function evaluate(states: Map<string, RuleState>, checks: readonly Check[], now: number, opts: AlertOptions): Alert[] {
  const alerts: Alert[] = [];
  const seen = new Set<string>();
  for (const { rule, value } of checks) {
    seen.add(rule.key);
    const r = step(states.get(rule.key), rule, value, now, opts);
    if (r.state) states.set(rule.key, r.state);
    else states.delete(rule.key);
    if (r.alert) alerts.push(r.alert);
    if (r.moved) alerts.push(r.moved);
  }
  for (const [key, s] of states) {
    if (seen.has(key)) continue;
    states.delete(key);
    if (s.phase === 'raised') alerts.push(alertOf(s, { state: 'CLEARED', value: null, current: null, cleared_at: now, moved: false }));
  }
  return alerts;
}

/** Alerts raised and not cleared, oldest first. */
export function active(states: ReadonlyMap<string, RuleState>): Alert[] {
  const out: Alert[] = [];
  for (const s of states.values()) if (s.phase === 'raised') out.push(alertOf(s, { state: 'RAISED', value: s.value, current: s.current, cleared_at: null, moved: false }));
  return out.sort((a, b) => a.raised_at - b.raised_at);
}

// Threshold states for KPI tiles. Colour alone fails colour-blind viewers and dim TVs, so every
// state also has a shape and a word; the tile shows all three.

export type Level = 'none' | 'ok' | 'warn' | 'alert';

/**
 * `warn` and `alert` are the limits from the board definition. Direction says which side is
 * bad: service level is bad when BELOW (SL < 0.8 warn, < 0.6 alert), ASA when ABOVE.
 */
export interface Threshold {
  direction: 'below' | 'above';
  warn?: number | null;
  alert?: number | null;
}

export interface LevelView {
  level: Level;
  label: string;
  shape: string;
}

export const LEVEL_VIEW: Record<Level, LevelView> = {
  none: { level: 'none', label: '', shape: '' },
  ok: { level: 'ok', label: 'OK', shape: '●' },
  warn: { level: 'warn', label: 'WARN', shape: '▲' },
  alert: { level: 'alert', label: 'ALERT', shape: '■' },
};

/** Strictly past the limit on its bad side (at the limit is not past it): tiles and the alert banner alike. */
export function crosses(value: number, limit: number | null | undefined, direction: Threshold['direction']): boolean {
  if (limit === null || limit === undefined) return false;
  return direction === 'below' ? value < limit : value > limit;
}

/** The state of a value against its threshold; no threshold or no value (null ratio) → none. */
export function levelOf(value: number | null | undefined, t: Threshold | null | undefined): LevelView {
  if (!t || value === null || value === undefined || !Number.isFinite(value)) return LEVEL_VIEW.none;
  if (crosses(value, t.alert, t.direction)) return LEVEL_VIEW.alert;
  if (crosses(value, t.warn, t.direction)) return LEVEL_VIEW.warn;
  return LEVEL_VIEW.ok;
}

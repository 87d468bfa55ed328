// How a screen is told what to show. A TV is set up once with a URL such as
//   /?token=…&boards=floor,sales&rotate=30&theme=contrast
// The token must not stay in the address bar (it would leak through screenshots, history and
// the kiosk's session restore), so it is moved into localStorage and the URL rewritten.

export type Theme = 'dark' | 'contrast';
export const THEMES: readonly Theme[] = ['dark', 'contrast'];

export interface LaunchParams {
  /** Token given in the URL, if any (moved to storage on start). */
  token: string | null;
  boards: string[];
  /** Seconds each board stays on screen when several rotate; 0 = no rotation. */
  rotateS: number;
  theme: Theme | null;
  /** TV mode: no interaction expected, drill-down off, larger type. */
  tv: boolean;
  /** The tenant's zone and locale, for tokens that may not read the tenant (display tokens). */
  tz: string | null;
  locale: string | null;
}

const key = (name: string) => `callboard.${name}`;

/** localStorage keys of the screen's settings. */
export const STORAGE = {
  token: key('token'),
  boards: key('boards'),
  rotate: key('rotate'),
  theme: key('theme'),
  tv: key('tv'),
  tz: key('tz'),
  locale: key('locale'),
} as const;

const BOARD_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

/** Reads the launch parameters from a query string. Unknown or malformed values are ignored. */
export function parseLaunch(search: string): LaunchParams {
  const q = new URLSearchParams(search);
  const token = q.get('token')?.trim() || null;
  const boards = (q.get('boards') ?? q.get('board') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => BOARD_ID.test(s));
  const rotateRaw = Number(q.get('rotate') ?? '');
  const rotateS = Number.isFinite(rotateRaw) && rotateRaw >= 5 ? Math.min(Math.round(rotateRaw), 3600) : 0;
  const themeRaw = q.get('theme');
  const theme = THEMES.includes(themeRaw as Theme) ? (themeRaw as Theme) : null;
  const tvRaw = q.get('tv');
  const tv = tvRaw === '1' || tvRaw === 'true' || (tvRaw === null && (token !== null || rotateS > 0));
  const tzRaw = q.get('tz');
  const tz = tzRaw && validZone(tzRaw) ? tzRaw : null;
  const localeRaw = q.get('locale');
  const locale = localeRaw && validLocale(localeRaw) ? localeRaw : null;
  return { token, boards, rotateS, theme, tv, tz, locale };
}

function validZone(z: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: z });
    return true;
  } catch {
    return false;
  }
}

function validLocale(l: string): boolean {
  try {
    return Intl.NumberFormat.supportedLocalesOf([l]).length > 0;
  } catch {
    return false;
  }
}

/** The same URL without the token, for history.replaceState. */
export function urlWithoutToken(href: string): string {
  const u = new URL(href);
  u.searchParams.delete('token');
  return u.pathname + (u.search === '?' ? '' : u.search) + u.hash;
}

export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface Settings {
  token: string | null;
  boards: string[];
  rotateS: number;
  theme: Theme;
  tv: boolean;
  tz: string | null;
  locale: string | null;
}

/**
 * Merges the URL with what this screen remembered. Whatever the URL says wins and is stored,
 * so a TV that reboots into the bare address keeps showing the same boards.
 */
export function resolveSettings(p: LaunchParams, store: KeyValueStore, hasBoardsParam: boolean): Settings {
  if (p.token) store.setItem(STORAGE.token, p.token);
  if (hasBoardsParam) {
    store.setItem(STORAGE.boards, p.boards.join(','));
    store.setItem(STORAGE.rotate, String(p.rotateS));
    store.setItem(STORAGE.tv, p.tv ? '1' : '0');
  }
  if (p.theme) store.setItem(STORAGE.theme, p.theme);
  if (p.tz) store.setItem(STORAGE.tz, p.tz);
  if (p.locale) store.setItem(STORAGE.locale, p.locale);
  const storedBoards = (store.getItem(STORAGE.boards) ?? '').split(',').filter((s) => BOARD_ID.test(s));
  const storedTheme = store.getItem(STORAGE.theme);
  return {
    token: store.getItem(STORAGE.token),
    boards: hasBoardsParam ? p.boards : storedBoards,
    rotateS: hasBoardsParam ? p.rotateS : Number(store.getItem(STORAGE.rotate) ?? 0) || 0,
    theme: THEMES.includes(storedTheme as Theme) ? (storedTheme as Theme) : 'dark',
    tv: hasBoardsParam ? p.tv : store.getItem(STORAGE.tv) === '1',
    tz: store.getItem(STORAGE.tz),
    locale: store.getItem(STORAGE.locale),
  };
}

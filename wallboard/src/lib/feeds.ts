// What the board can say about its PBX feeds: history still replaying ("catching up: 12:40 of
// 21:46"), a link down (which PBX, since when), a gap that just ended. While a PBX's link is down
// its agents and waiting calls are unknown, not what they were when the link dropped; while its
// history replays, its agents are as of the replayed time, not now. A PBX whose clock is off by
// more than 2 s is named: the server already serves its live times on the server clock, but the
// PBX's own reports (and its phones' displays) are off by that much.
import type { LiveAgent, PbxFeed } from './model.ts';

export interface FeedView {
  /** The feed furthest behind while history replays: its data-until time. */
  catchingUp: { pbx_id: string; data_until: string | null } | null;
  /** PBX links down now. */
  down: PbxFeed[];
  /** Gaps that ended within `recentMs`: the figures around them miss what happened meanwhile. */
  recentGaps: { pbx_id: string; from: string; to: string; reason: string }[];
  /** Ids of PBXes whose live state is unknown (link down) or not yet current (catching up). */
  unknown: ReadonlySet<string>;
  behind: ReadonlySet<string>;
  /** PBX clocks off by more than CLOCK_WARN_S (PBX minus server, s; negative: behind). */
  clockOff: { pbx_id: string; offset_s: number }[];
}

export const RECENT_GAP_MS = 15 * 60_000;
/** The server's bound (ingest/src/pbx-clock.ts CLOCK_WARN_MS), in seconds. */
export const CLOCK_WARN_S = 2;

export function feedView(feeds: readonly PbxFeed[], serverNowMs: number, recentMs = RECENT_GAP_MS): FeedView {
  const behind = feeds.filter((f) => f.catching_up);
  const slowest = behind.reduce<PbxFeed | null>((a, f) => (a === null || (f.data_until ?? '') < (a.data_until ?? '') ? f : a), null);
  const down = feeds.filter((f) => f.link === 'DOWN');
  return {
    catchingUp: slowest ? { pbx_id: slowest.pbx_id, data_until: slowest.data_until } : null,
    down,
    recentGaps: feeds.flatMap((f) => (f.last_gap && serverNowMs - Date.parse(f.last_gap.to) < recentMs ? [{ pbx_id: f.pbx_id, ...f.last_gap }] : [])),
    unknown: new Set(down.map((f) => f.pbx_id)),
    behind: new Set(behind.map((f) => f.pbx_id)),
    // While history replays the measured offset is not yet the clock's (the catching-up line says so).
    clockOff: feeds.flatMap((f) => (f.clock_offset_s !== null && Math.abs(f.clock_offset_s) > CLOCK_WARN_S && !f.catching_up ? [{ pbx_id: f.pbx_id, offset_s: f.clock_offset_s }] : [])),
  };
}

/** "90 s behind", "3 min ahead", "2 h 5 min behind": how far a PBX clock is off. */
export function clockOffText(offsetS: number): string {
  const s = Math.round(Math.abs(offsetS));
  const size = s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
  return `${size} ${offsetS < 0 ? 'behind' : 'ahead'}`;
}

/** How much of an agent's card is true now. */
export function agentStanding(a: Pick<LiveAgent, 'pbx_id'>, view: Pick<FeedView, 'unknown' | 'behind'>): 'now' | 'unknown' | 'behind' {
  if (a.pbx_id && view.unknown.has(a.pbx_id)) return 'unknown';
  if (a.pbx_id && view.behind.has(a.pbx_id)) return 'behind';
  return 'now';
}

/**
 * Live-only figures (waiting, longest wait) are unknown while any of the board's PBX links is
 * down: the calls of that PBX may be waiting or gone, nobody can tell.
 */
export function liveFiguresUnknown(view: Pick<FeedView, 'down'>): boolean {
  return view.down.length > 0;
}

// What the board can say about its PBX feeds: history still replaying ("catching up: 12:40 of
// 21:46"), a link down (which PBX, since when), a gap that just ended. While a PBX's link is down
// its agents and waiting calls are unknown, not what they were when the link dropped; while its
// history replays, its agents are as of the replayed time, not now.
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
}

export const RECENT_GAP_MS = 15 * 60_000;

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
  };
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

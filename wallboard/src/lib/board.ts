// Pure board logic: which number a tile shows, which threshold applies, what a drill-down asks
// for. No I/O here, so all of it is tested without a browser.
import { DateTime } from 'luxon';
import type { AgentStateName, BoardQueue, CallOutcome, LiveAgent, LiveState, PeriodKind, QueueMetrics, ThresholdDef, TileDef, TileToday, WeekStart } from './model.ts';
import { metricDoc } from './metrics.ts';
import type { Threshold } from './thresholds.ts';

/** KPIs that only exist "now": they ignore the period switch. */
export const LIVE_ONLY = new Set([
  'waiting', 'max_wait', 'agents_available', 'agents_ringing', 'agents_on_call', 'agents_on_hold', 'agents_wrap_up', 'agents_paused', 'agents_offline', 'agents_logged_in', 'agents_staffed',
]);

/** Agents now per METRICS.md state, plus logged in (every state but offline) and staffed (logged in and not paused). */
export interface AgentCounts {
  agents_available: number;
  agents_ringing: number;
  agents_on_call: number;
  agents_on_hold: number;
  agents_wrap_up: number;
  agents_paused: number;
  agents_offline: number;
  agents_logged_in: number;
  agents_staffed: number;
}

const COUNT_OF: Record<AgentStateName, keyof AgentCounts> = {
  available: 'agents_available',
  ringing: 'agents_ringing',
  on_call: 'agents_on_call',
  on_hold: 'agents_on_hold',
  wrap_up: 'agents_wrap_up',
  paused: 'agents_paused',
  offline: 'agents_offline',
};

const inQueues = (a: LiveAgent, queues: readonly string[]) => queues.length === 0 || a.queues.some((q) => queues.includes(q));

export function agentCounts(agents: readonly LiveAgent[], queues: readonly string[] = []): AgentCounts {
  const c: AgentCounts = { agents_available: 0, agents_ringing: 0, agents_on_call: 0, agents_on_hold: 0, agents_wrap_up: 0, agents_paused: 0, agents_offline: 0, agents_logged_in: 0, agents_staffed: 0 };
  for (const a of agents) {
    if (!inQueues(a, queues)) continue;
    c[COUNT_OF[a.state]]++;
    if (a.state !== 'offline') c.agents_logged_in++;
    if (a.state !== 'offline' && a.state !== 'paused') c.agents_staffed++;
  }
  return c;
}

/** Paused agents by pause reason, most first ("no reason" for a pause the PBX gave none). */
export function pauseReasons(agents: readonly LiveAgent[], queues: readonly string[] = []): { reason: string; n: number }[] {
  const by = new Map<string, number>();
  for (const a of agents) if (a.state === 'paused' && inQueues(a, queues)) by.set(a.reason || 'no reason', (by.get(a.reason || 'no reason') ?? 0) + 1);
  return [...by].map(([reason, n]) => ({ reason, n })).sort((x, y) => y.n - x.n || x.reason.localeCompare(y.reason));
}

const div = (n: number, d: number): number | null => (d > 0 ? n / d : null);

/**
 * Queue metrics of several queues as one, from their counts. Ratios are recomputed with the
 * default METRICS.md formulas (never averaged); means are weighted by their counts.
 */
export function combineQueueMetrics(list: readonly QueueMetrics[]): QueueMetrics | null {
  if (list.length === 0) return null;
  if (list.length === 1) return list[0]!;
  const sum = (k: keyof QueueMetrics) => list.reduce((s, m) => s + ((m[k] as number | null) ?? 0), 0);
  const weighted = (k: 'asa' | 'avg_abandon_wait' | 'aht', w: 'answered' | 'abandoned') => {
    const total = sum(w);
    return total > 0 ? list.reduce((s, m) => s + (m[k] ?? 0) * m[w], 0) / total : null;
  };
  const offered = sum('offered');
  const short = sum('short_abandoned');
  const waiting = sum('waiting');
  const maxes = list.map((m) => m.max_wait).filter((x): x is number => x !== null);
  const denom = offered - short - waiting;
  return {
    offered,
    answered: sum('answered'),
    abandoned: sum('abandoned'),
    short_abandoned: short,
    exited: sum('exited'),
    waiting,
    answered_within_sl: sum('answered_within_sl'),
    abandoned_within_sl: sum('abandoned_within_sl'),
    service_level: div(sum('answered_within_sl'), denom),
    abandon_rate: div(sum('abandoned') - short, denom),
    asa: weighted('asa', 'answered'),
    avg_abandon_wait: weighted('avg_abandon_wait', 'abandoned'),
    max_wait: maxes.length ? Math.max(...maxes) : null,
    aht: weighted('aht', 'answered'),
    // A percentile of a union cannot be derived from the parts' percentiles.
    wait_p90: null,
    transferred: sum('transferred'),
  };
}

/**
 * The live queue metrics a tile covers: all the board's queues, one queue, or several as one.
 * Several: the API's figures for the tile (`BoardUpdate.tiles_today`, what the alerts judge), as
 * their ratios count in-hours legs only and the queues' rows cannot be added up into them; added
 * up from the rows only where the API sent none (a tile added in the designer since its last
 * poll). `waiting` and
 * `max_wait` are the queues' now, yesterday's callers still waiting included.
 */
export function liveMetricsFor(tile: Pick<TileDef, 'queues'> & { id?: string }, live: LiveState, tilesToday?: readonly TileToday[]): QueueMetrics | null {
  if (tile.queues.length === 0) return live.today;
  const rows = live.queues.filter((q) => tile.queues.includes(q.queue));
  const combined = combineQueueMetrics(rows.map((q) => ({ ...q.today, waiting: q.waiting, max_wait: q.max_wait })));
  const fromApi = tile.queues.length > 1 && tile.id !== undefined ? tilesToday?.find((t) => t.tile_id === tile.id)?.today : undefined;
  if (!fromApi) return combined;
  return { ...fromApi, waiting: combined?.waiting ?? 0, max_wait: combined?.max_wait ?? null };
}

/** Period metrics (grouped by queue) for a tile's queues. */
export function periodMetricsFor(tile: Pick<TileDef, 'queues'>, rows: readonly { key: string; queue_metrics: QueueMetrics | null }[]): QueueMetrics | null {
  const pick = rows.filter((r) => r.queue_metrics && (tile.queues.length === 0 || tile.queues.includes(r.key)));
  return combineQueueMetrics(pick.map((r) => r.queue_metrics!));
}

export interface KpiInput {
  live: LiveState;
  period: PeriodKind;
  /** Metrics of the selected period grouped by queue; null while not loaded (or TODAY). */
  periodRows: readonly { key: string; queue_metrics: QueueMetrics | null }[] | null;
  /** For max_wait, which ticks locally between snapshots. */
  offsetMs?: number;
  nowMs?: number;
  /** The board's queues with their configured names (BoardUpdate.queues). */
  boardQueues?: readonly BoardQueue[];
  /** The API's live figures of the KPI tiles that name queues (BoardUpdate.tiles_today). */
  tilesToday?: readonly TileToday[];
}

/** A queue's configured name, its id when it has none. */
export function queueName(queue: string, boardQueues: readonly BoardQueue[] | undefined): string {
  return boardQueues?.find((q) => q.queue === queue)?.name ?? queue;
}

/** The value of a KPI tile: live-only metrics from the live state, the rest from the period. */
export function kpiValue(tile: Pick<TileDef, 'metric' | 'queues'> & { id?: string }, input: KpiInput): number | null {
  const metric = tile.metric ?? '';
  if (metric === 'max_wait' && input.nowMs !== undefined) return longestWaitS(input.live, tile.queues, input.offsetMs ?? 0, input.nowMs);
  if (metric.startsWith('agents_')) {
    return (agentCounts(input.live.agents, tile.queues) as unknown as Record<string, number>)[metric] ?? null;
  }
  const m =
    input.period === 'TODAY' || LIVE_ONLY.has(metric) || !input.periodRows ? liveMetricsFor(tile, input.live, input.tilesToday) : periodMetricsFor(tile, input.periodRows);
  if (!m) return null;
  const v = (m as unknown as Record<string, number | null | undefined>)[metric];
  return v === undefined ? null : v;
}

/** The board definition's threshold for a metric, in the form levelOf() takes. */
export function thresholdFor(tile: Pick<TileDef, 'thresholds'>, metric: string): Threshold | null {
  const t: ThresholdDef | undefined = tile.thresholds.find((x) => x.metric === metric);
  if (!t) return null;
  return { direction: t.direction === 'BELOW' ? 'below' : 'above', warn: t.warn, alert: t.critical };
}

export function tileTitle(tile: Pick<TileDef, 'title' | 'metric' | 'queues'>, boardQueues?: readonly BoardQueue[]): string {
  if (tile.title) return tile.title;
  const label = tile.metric ? metricDoc(tile.metric).label : '';
  return tile.queues.length ? `${label} · ${tile.queues.map((q) => queueName(q, boardQueues)).join(', ')}` : label;
}

/** A local calendar period as a UTC half-open interval [start, end), like the API resolves it. */
export function periodRange(kind: PeriodKind, nowMs: number, zone: string, weekStart: WeekStart = 'MONDAY'): { from: string; to: string } {
  const now = DateTime.fromMillis(nowMs, { zone });
  let start: DateTime;
  let end: DateTime;
  if (kind === 'TODAY') {
    start = now.startOf('day');
    end = start.plus({ days: 1 });
  } else if (kind === 'THIS_WEEK') {
    // luxon weeks start on Monday; a Sunday week starts one day earlier.
    const monday = now.startOf('week');
    start = weekStart === 'SUNDAY' ? (now.weekday === 7 ? now.startOf('day') : monday.minus({ days: 1 })) : monday;
    end = start.plus({ weeks: 1 });
  } else {
    start = now.startOf('month');
    end = start.plus({ months: 1 });
  }
  return { from: start.toUTC().toISO()!, to: end.toUTC().toISO()! };
}

/** Which calls a drill-down from a metric shows. `null` outcome = every call of those queues. */
export function drillOutcomes(metric: string | null): CallOutcome[] | null {
  switch (metric) {
    case 'answered':
    case 'asa':
    case 'aht':
    case 'answered_within_sl':
    case 'transferred':
      return ['ANSWERED'];
    case 'abandoned':
    case 'abandon_rate':
    case 'short_abandoned':
    case 'avg_abandon_wait':
      return ['ABANDONED'];
    case 'exited':
      return ['EXITED'];
    default:
      return null;
  }
}

export const PERIODS: { kind: PeriodKind; label: string }[] = [
  { kind: 'TODAY', label: 'Today' },
  { kind: 'THIS_WEEK', label: 'This week' },
  { kind: 'THIS_MONTH', label: 'This month' },
];

/**
 * The longest current wait among the tile's queues, ticking locally: from the waiting calls'
 * wait_start when the snapshot lists them, otherwise the snapshot's max_wait aged by the time
 * since server_time. Seconds; null when nobody waits.
 */
export function longestWaitS(live: LiveState, queues: readonly string[], offsetMs: number, clientNowMs: number): number | null {
  const serverNow = clientNowMs + offsetMs;
  let oldest = Infinity;
  for (const c of live.waiting_calls) {
    if (queues.length > 0 && !queues.includes(c.queue)) continue;
    const t = Date.parse(c.wait_start);
    if (t < oldest) oldest = t;
  }
  if (oldest !== Infinity) return Math.max(0, (serverNow - oldest) / 1000);
  const rows = live.queues.filter((q) => (queues.length === 0 || queues.includes(q.queue)) && q.waiting > 0 && q.max_wait !== null);
  if (rows.length === 0) return null;
  const aged = Math.max(0, (serverNow - Date.parse(live.server_time)) / 1000);
  return Math.max(...rows.map((q) => q.max_wait!)) + aged;
}

const STATE_ORDER: Record<AgentStateName, number> = { ringing: 0, on_call: 1, on_hold: 2, wrap_up: 3, available: 4, paused: 5, offline: 6 };

/** Agents a grid shows, busiest first, then by name; offline agents last. */
export function agentsFor(agents: readonly LiveAgent[], queues: readonly string[]): LiveAgent[] {
  return agents
    .filter((a) => queues.length === 0 || a.queues.some((q) => queues.includes(q)))
    .sort((a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state] || (a.agent_name ?? a.agent_id).localeCompare(b.agent_name ?? b.agent_id));
}

export interface QueueRow {
  queue: string;
  /** configured display name */
  name: string;
  waiting: number;
  /** Longest current wait, seconds, ticking. */
  max_wait: number | null;
  offered: number | null;
  answered: number | null;
  abandoned: number | null;
  service_level: number | null;
  asa: number | null;
  abandon_rate: number | null;
  /** Business hours now (BoardQueue.open/opens_at); a queue the API has not listed yet counts as open. */
  open: boolean;
  opens_at: string | null;
}

/** Queue table rows: waiting now from the live state, the rest from the selected period; every queue of the board, by its configured name. */
export function queueRows(tile: Pick<TileDef, 'queues'>, input: KpiInput): QueueRow[] {
  const names = new Set<string>();
  for (const q of input.boardQueues ?? []) names.add(q.queue);
  for (const q of input.live.queues) names.add(q.queue);
  if (input.period !== 'TODAY' && input.periodRows) for (const r of input.periodRows) names.add(r.key);
  const wanted = [...names].filter((q) => tile.queues.length === 0 || tile.queues.includes(q)).sort();
  return wanted.map((queue) => {
    const liveRow = input.live.queues.find((q) => q.queue === queue);
    const bq = input.boardQueues?.find((q) => q.queue === queue);
    const m = input.period === 'TODAY' || !input.periodRows ? (liveRow?.today ?? null) : (input.periodRows.find((r) => r.key === queue)?.queue_metrics ?? null);
    return {
      queue,
      name: queueName(queue, input.boardQueues),
      waiting: liveRow?.waiting ?? 0,
      max_wait: input.nowMs !== undefined ? longestWaitS(input.live, [queue], input.offsetMs ?? 0, input.nowMs) : (liveRow?.max_wait ?? null),
      offered: m?.offered ?? null,
      answered: m?.answered ?? null,
      abandoned: m?.abandoned ?? null,
      service_level: m?.service_level ?? null,
      asa: m?.asa ?? null,
      abandon_rate: m?.abandon_rate ?? null,
      open: bq?.open ?? true,
      opens_at: bq?.opens_at ?? null,
    };
  });
}

export interface DrillRequest {
  title: string;
  /** A CallFilter for the calls query. */
  filter: { queues?: string[]; outcome?: CallOutcome[]; from: string; to: string };
}

/** The calls query behind a tile's number (or a queue row) for the selected period. */
export function drillRequest(title: string, metric: string | null, queues: readonly string[], range: { from: string; to: string }): DrillRequest {
  const outcome = drillOutcomes(metric);
  return {
    title,
    filter: { ...(queues.length ? { queues: [...queues] } : {}), ...(outcome ? { outcome } : {}), from: range.from, to: range.to },
  };
}

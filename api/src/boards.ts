// Board definitions: validated here (pure), stored in ClickHouse `boards` (versioned rows).
import { randomBytes } from 'node:crypto';
import { DEFAULT_INTERVAL_SL_MIN_LEGS, queueSettings, tenantById, tenantHours, type CallboardConfig, type ClickHouse, type Health, type LinkHealth, type ScheduleConfig, type TenantConfig } from '@callboard/platform';
import { COMPARISONS, type Comparison } from '@callboard/projections/read';
import { DateTime } from 'luxon';
import { inSpans, openSpans, type Span } from '@callboard/projections/schedule';
import { CLOCK_WARN_MS } from '@callboard/ingest/pbx-clock';
import { PBX_STATUS_STALE_MS, type PbxStatus } from '@callboard/ingest/pbx-status';
import { ApiError, badInput } from './errors.ts';
import type { History } from './history.ts';
import { isCatchingUp, type LiveSnapshot, type LiveStore } from './live.ts';
import type { PubSub, Topics } from './pubsub.ts';

export const TILE_KINDS = ['KPI', 'QUEUE_TABLE', 'AGENT_GRID', 'INTRADAY_CHART'] as const;
export type TileKind = (typeof TILE_KINDS)[number];

/** Live QueueMetrics a KPI tile or threshold may name (METRICS.md names). */
export const KPI_METRICS = [
  'offered', 'answered', 'abandoned', 'short_abandoned', 'exited', 'waiting', 'answered_within_sl', 'abandoned_within_sl',
  'service_level', 'abandon_rate', 'asa', 'avg_abandon_wait', 'wait_p50', 'wait_p90', 'wait_p99', 'max_wait',
  'talk_time', 'hold_time', 'wrap_time', 'aht', 'transferred',
] as const;

export interface Threshold {
  metric: string;
  direction: 'ABOVE' | 'BELOW';
  warn: number | null;
  critical: number | null;
}
export interface Tile {
  id: string;
  kind: TileKind;
  title: string | null;
  x: number;
  y: number;
  w: number;
  h: number;
  metric: string | null;
  queues: string[];
  interval: 'MIN_15' | 'MIN_30' | 'MIN_60' | null;
  thresholds: Threshold[];
  /** KPI tiles: the comparison period whose figure the tile shows the change against; null: none. */
  compare?: Comparison | null;
}
export interface BoardDefinition {
  name: string;
  columns: number;
  tiles: Tile[];
}
export interface Board extends BoardDefinition {
  id: string;
  version: number;
  updated_at: string;
}

interface TileInput {
  id: string;
  kind: TileKind;
  title?: string | null;
  x: number;
  y: number;
  w: number;
  h: number;
  metric?: string | null;
  queues?: string[] | null;
  interval?: Tile['interval'];
  thresholds?: Threshold[] | null;
  compare?: string | null;
}
export interface BoardInput {
  name: string;
  columns?: number | null;
  tiles: TileInput[];
}

const MAX_TILES = 64;

/** Checks a board and returns it normalised; BAD_INPUT names the tile and field at fault. */
export function validateBoard(input: BoardInput): BoardDefinition {
  const name = input.name.trim();
  if (!name || name.length > 100) throw badInput('board name must be 1–100 characters', 'name');
  const columns = input.columns ?? 12;
  if (!Number.isInteger(columns) || columns < 1 || columns > 48) throw badInput(`columns must be 1–48, got ${columns}`, 'columns');
  if (input.tiles.length > MAX_TILES) throw badInput(`a board holds at most ${MAX_TILES} tiles, got ${input.tiles.length}`, 'tiles');
  const ids = new Set<string>();
  const tiles = input.tiles.map((t, i): Tile => {
    const at = `tiles[${i}]`;
    if (!/^[\w-]{1,64}$/.test(t.id)) throw badInput(`${at}.id must be 1–64 letters, digits, "-" or "_"`, `${at}.id`);
    if (ids.has(t.id)) throw badInput(`${at}.id ${JSON.stringify(t.id)} is used twice`, `${at}.id`);
    ids.add(t.id);
    for (const k of ['x', 'y', 'w', 'h'] as const) {
      const v = t[k];
      const min = k === 'w' || k === 'h' ? 1 : 0;
      if (!Number.isInteger(v) || v < min || v > 100) throw badInput(`${at}.${k} must be an integer from ${min} to 100, got ${v}`, `${at}.${k}`);
    }
    if (t.x + t.w > columns) throw badInput(`${at} spans columns ${t.x}–${t.x + t.w - 1} but the board has ${columns} columns`, `${at}.w`);
    const metric = t.metric ?? null;
    if (t.kind === 'KPI') {
      if (!metric) throw badInput(`${at} is a KPI tile: give metric (one of ${KPI_METRICS.join(', ')})`, `${at}.metric`);
    }
    if (metric !== null && !(KPI_METRICS as readonly string[]).includes(metric)) throw badInput(`${at}.metric ${JSON.stringify(metric)} is not a METRICS.md queue metric (${KPI_METRICS.join(', ')})`, `${at}.metric`);
    const thresholds = (t.thresholds ?? []).map((th, j) => {
      const where = `${at}.thresholds[${j}]`;
      if (!(KPI_METRICS as readonly string[]).includes(th.metric)) throw badInput(`${where}.metric ${JSON.stringify(th.metric)} is not a METRICS.md queue metric`, `${where}.metric`);
      const warn = th.warn ?? null;
      const critical = th.critical ?? null;
      if (warn === null && critical === null) throw badInput(`${where} needs warn, critical or both`, where);
      if (warn !== null && critical !== null && (th.direction === 'ABOVE' ? critical < warn : critical > warn)) {
        throw badInput(`${where}: critical (${critical}) must be ${th.direction === 'ABOVE' ? 'at or above' : 'at or below'} warn (${warn}) for direction ${th.direction}`, where);
      }
      return { metric: th.metric, direction: th.direction, warn, critical };
    });
    const queues = [...new Set(t.queues ?? [])];
    if (queues.some((q) => !q || q.length > 256)) throw badInput(`${at}.queues holds an empty or over-long queue name`, `${at}.queues`);
    const compare = (t.compare ?? null) as Comparison | null;
    if (compare !== null) {
      if (!COMPARISONS.includes(compare)) throw badInput(`${at}.compare ${JSON.stringify(compare)} is not ${COMPARISONS.join(', ')}`, `${at}.compare`);
      if (t.kind !== 'KPI') throw badInput(`${at}.compare: only KPI tiles show a comparison`, `${at}.compare`);
      // `waiting` exists only live: no past period has a figure to compare it with.
      if (metric === 'waiting') throw badInput(`${at}.compare: waiting is a live-only figure, it has no past period to compare with`, `${at}.compare`);
    }
    return {
      id: t.id,
      kind: t.kind,
      title: t.title ?? null,
      x: t.x,
      y: t.y,
      w: t.w,
      h: t.h,
      metric,
      queues,
      interval: t.kind === 'INTRADAY_CHART' ? (t.interval ?? 'MIN_15') : (t.interval ?? null),
      thresholds,
      // Only set when asked, so boards stored before comparisons existed export unchanged.
      ...(compare ? { compare } : {}),
    };
  });
  return { name, columns, tiles };
}

/** Queues a board shows: the union of its tiles' queues; empty means every queue. */
export function boardQueues(b: BoardDefinition): string[] {
  if (b.tiles.some((t) => t.queues.length === 0)) return [];
  return [...new Set(b.tiles.flatMap((t) => t.queues))].sort();
}

export const newBoardId = () => `b_${randomBytes(9).toString('base64url')}`;

interface Row {
  board_id: string;
  name: string;
  definition: string;
  version: number;
  deleted: number;
  updated_at: string;
}

function toBoard(r: Row): Board {
  const def = JSON.parse(r.definition) as Omit<BoardDefinition, 'name'>;
  return { id: r.board_id, name: r.name, columns: def.columns, tiles: def.tiles, version: Number(r.version), updated_at: new Date(r.updated_at.endsWith('Z') ? r.updated_at : `${r.updated_at}Z`).toISOString() };
}

/** Every read is scoped by tenant in SQL: another tenant's board id finds nothing. */
export class BoardStore {
  constructor(private readonly ch: ClickHouse) {}

  private async rows(tenant: string, id?: string): Promise<Row[]> {
    const rs = await this.ch.client.query({
      query: `SELECT board_id, name, definition, version, deleted, updated_at FROM ${this.ch.db}.boards FINAL
              WHERE tenant_id = {t:String} ${id ? 'AND board_id = {id:String}' : ''} ORDER BY name, board_id`,
      query_params: { t: tenant, id: id ?? '' },
      format: 'JSONEachRow',
    });
    return rs.json<Row>();
  }

  async list(tenant: string): Promise<Board[]> {
    return (await this.rows(tenant)).filter((r) => !Number(r.deleted)).map(toBoard);
  }

  async get(tenant: string, id: string): Promise<Board | null> {
    const r = (await this.rows(tenant, id))[0];
    return r && !Number(r.deleted) ? toBoard(r) : null;
  }

  async put(tenant: string, id: string, def: BoardDefinition, version: number, deleted = false): Promise<Board> {
    const updated_at = new Date().toISOString();
    const row = { tenant_id: tenant, board_id: id, name: def.name, definition: JSON.stringify({ columns: def.columns, tiles: def.tiles }), version, deleted: deleted ? 1 : 0, updated_at: updated_at.replace('Z', '') };
    await this.ch.client.insert({ table: `${this.ch.db}.boards`, values: [row], format: 'JSONEachRow', clickhouse_settings: { date_time_input_format: 'best_effort' } });
    return { id, ...def, version, updated_at };
  }
}

// Export and import (`callboard board export|import`): a board as a JSON file an operator can
// keep, review and bring back. The file carries the version it was exported at, so an import
// over a board someone has edited since is refused (CONFLICT) unless forced, as `updateBoard`
// refuses a stale `expected_version`.

/** Marks a file as a Callboard board and says which shape it has. */
export const BOARD_FILE_FORMAT = 'callboard.board.v1';

export interface BoardFile extends BoardDefinition {
  format: typeof BOARD_FILE_FORMAT;
  id: string;
  /** The version exported; an import checks the board is still at it. */
  version: number;
}

export const exportBoard = (b: Board): BoardFile => ({ format: BOARD_FILE_FORMAT, id: b.id, version: b.version, name: b.name, columns: b.columns, tiles: b.tiles });

export interface ImportedBoard {
  board: Board;
  /** The board did not exist (or was deleted) in this tenant before. */
  created: boolean;
}

/**
 * Validates `file` (parsed JSON) as a board and stores it in `tenant` under the file's id: a new
 * board at the version after any deleted one, or the next version of the existing board when
 * that is still at the file's version (or `force`). BAD_INPUT names the field at fault.
 */
export async function importBoard(ch: ClickHouse, tenant: string, file: unknown, opts: { force?: boolean } = {}): Promise<ImportedBoard> {
  if (!file || typeof file !== 'object' || Array.isArray(file)) throw badInput('a board file is one JSON object, as `callboard board export` writes it');
  const f = file as Partial<BoardFile>;
  if (f.format !== BOARD_FILE_FORMAT) throw badInput(`format must be ${JSON.stringify(BOARD_FILE_FORMAT)}, got ${JSON.stringify(f.format)}`, 'format');
  if (typeof f.id !== 'string' || !/^[\w-]{1,64}$/.test(f.id)) throw badInput('id must be 1–64 letters, digits, "-" or "_"', 'id');
  if (!Number.isInteger(f.version) || f.version! < 1) throw badInput(`version must be a positive integer, got ${JSON.stringify(f.version)}`, 'version');
  if (typeof f.name !== 'string') throw badInput('name must be a string', 'name');
  if (!Array.isArray(f.tiles)) throw badInput('tiles must be a list', 'tiles');
  const def = validateBoard({ name: f.name, columns: f.columns ?? null, tiles: f.tiles as TileInput[] });
  const store = new BoardStore(ch);
  const cur = await store.get(tenant, f.id);
  if (cur && !opts.force && cur.version !== f.version) {
    throw new ApiError('CONFLICT', `board ${f.id} is at version ${cur.version}, the file was exported at version ${f.version}: someone edited it since; export it again, or import with --force to overwrite`);
  }
  // A deleted board keeps its row (deleted = 1) at its last version; a new row must be newer.
  const rs = await ch.client.query({
    query: `SELECT max(version) AS v FROM ${ch.db}.boards WHERE tenant_id = {t:String} AND board_id = {id:String}`,
    query_params: { t: tenant, id: f.id },
    format: 'JSONEachRow',
  });
  const stored = Number((await rs.json<{ v: number | string }>())[0]?.v ?? 0);
  return { board: await store.put(tenant, f.id, def, stored + 1), created: !cur };
}

// ---------------------------------------------------------------- what a board update carries
// besides the live state: the board's queues by their configured names, the PBX feeds (link,
// catching up, last gap) and agents' configured names. Everything a display token's screen
// shows comes through its board subscription, so it never needs a query it may not make.

export interface BoardQueueOut {
  queue: string;
  name: string;
  sl_threshold_s: number;
  interval_sl_min_legs: number;
  colour: string | null;
  open: boolean;
  opens_at: string | null;
  closes_at: string | null;
}

/** How far ahead the board looks for the next opening or closing: past any run of holidays. */
export const OPENING_HORIZON_MS = 14 * 24 * 3_600_000;

/**
 * Whether a schedule is open at `nowMs` and when that changes next (METRICS.md "Business hours"),
 * from the same open spans the history's `hours` uses. No schedule: open, with no change ahead.
 */
export function openState(schedule: ScheduleConfig | null, zone: string, nowMs: number): Pick<BoardQueueOut, 'open' | 'opens_at' | 'closes_at'> {
  if (!schedule) return { open: true, opens_at: null, closes_at: null };
  const horizon = nowMs + OPENING_HORIZON_MS;
  // Spans are clipped to [now, horizon) and touching ones merged (a 24:00 close meeting a 00:00
  // open is no closing), so an open now is the first span starting at now.
  const first = openSpans(schedule, zone, nowMs, horizon)[0];
  const iso = (ms: number) => new Date(ms).toISOString();
  if (first && first.start === nowMs) return { open: true, opens_at: null, closes_at: first.end < horizon ? iso(first.end) : null };
  return { open: false, opens_at: first ? iso(first.start) : null, closes_at: null };
}

/**
 * Whether a queue's business hours are open at an instant, for the live fold's in-hours legs
 * (METRICS.md: a leg is in hours when its offer falls in an open interval of its queue's
 * schedule), from the same open spans as `openState` and the history. A queue without a
 * schedule is always open. The spans are worked out once per queue and local day.
 */
export function openAtFrom(cfg: Pick<CallboardConfig, 'queues' | 'tenants' | 'schedules'>): (tenant: string, queue: string, atMs: number) => boolean {
  // The configuration does not change while the API runs: each queue's schedule is looked up once.
  const hoursOf = new Map<string, { schedule: ScheduleConfig | null; zone: string; day: { start: number; end: number; spans: Span[] } | null }>();
  return (tenant, queue, atMs) => {
    const k = `${tenant}\u0000${queue}`;
    let h = hoursOf.get(k);
    if (!h) {
      const hours = tenantHours(cfg, tenant);
      if (hoursOf.size >= 100_000) hoursOf.clear();
      hoursOf.set(k, (h = { schedule: hours.queues[queue] ?? hours.default, zone: tenantById(cfg, tenant)?.timezone ?? 'UTC', day: null }));
    }
    if (!h.schedule) return true;
    // The open spans of the local day the leg was offered on; legs come in time order, so the
    // last day worked out is nearly always the one asked for.
    if (!h.day || atMs < h.day.start || atMs >= h.day.end) {
      const start = DateTime.fromMillis(atMs, { zone: h.zone }).startOf('day');
      const end = start.plus({ days: 1 }).toMillis();
      h.day = { start: start.toMillis(), end, spans: openSpans(h.schedule, h.zone, start.toMillis(), end) };
    }
    return inSpans(h.day.spans, atMs);
  };
}

/** The board's queues: the ones its tiles name, or every configured queue and every queue seen live today. */
export function boardQueueList(cfg: Pick<CallboardConfig, 'queues' | 'tenants' | 'schedules'>, tenant: string, queues: readonly string[], live: Pick<LiveSnapshot, 'queues' | 'waiting_calls'> | null, nowMs: number): BoardQueueOut[] {
  const ids = new Set(queues);
  if (ids.size === 0) {
    for (const q of cfg.queues) if (q.tenant === tenant) ids.add(q.queue);
    for (const q of live?.queues ?? []) ids.add(q.queue);
  }
  const hours = tenantHours(cfg, tenant);
  const zone = tenantById(cfg, tenant)?.timezone ?? 'UTC';
  return [...ids].sort().map((queue) => {
    const c = cfg.queues.find((q) => q.tenant === tenant && q.queue === queue);
    return {
      queue,
      name: c?.name ?? queue,
      sl_threshold_s: queueSettings(cfg, tenant, queue).sl_threshold_s,
      interval_sl_min_legs: c?.interval_sl_min_legs ?? DEFAULT_INTERVAL_SL_MIN_LEGS,
      colour: c?.colour ?? null,
      ...openState(hours.queues[queue] ?? hours.default, zone, nowMs),
    };
  });
}

export interface TileComparisonOut {
  tile_id: string;
  compare: Comparison;
  period: unknown;
  value: number | null;
}

interface MetricsAnswer {
  comparison: { period: unknown; rows: { queue_metrics: Record<string, unknown> | null }[] } | null;
}

/**
 * The figures KPI tiles compare against, counted as the live figures are: counts over every leg,
 * service_level, abandon_rate and asa over the legs in hours (each queue's ratio_hours), which is
 * the history without `hours`. One history query per tile's queues and comparison; `reuse` keeps
 * it for 30 s, however many screens show the board.
 */
export async function tileComparisons(
  history: Pick<History, 'metrics'>,
  tenant: string,
  t: TenantConfig,
  tiles: readonly Tile[],
  reuse: (key: string, read: () => Promise<unknown>) => Promise<unknown>,
): Promise<TileComparisonOut[]> {
  const asked = tiles.filter((x): x is Tile & { compare: Comparison; metric: string } => x.kind === 'KPI' && !!x.compare && !!x.metric);
  const out = await Promise.all(
    asked.map(async (tile): Promise<TileComparisonOut | null> => {
      const key = `${tenant}\u0000${tile.compare}\u0000${tile.queues.join('\u0000')}`;
      try {
        const r = (await reuse(key, () => history.metrics(tenant, t, { kind: 'TODAY' }, 'TENANT', { queues: tile.queues }, { compare: tile.compare }))) as MetricsAnswer;
        if (!r.comparison) return null;
        const v = r.comparison.rows[0]?.queue_metrics?.[tile.metric];
        return { tile_id: tile.id, compare: tile.compare, period: r.comparison.period, value: typeof v === 'number' ? v : null };
      } catch {
        // The live board must not fail with the history (ClickHouse busy or down): the tile shows
        // no arrow until a later update reads it (a failed read is not kept).
        return null;
      }
    }),
  );
  return out.filter((c): c is TileComparisonOut => c !== null);
}

export interface PbxFeedOut {
  pbx_id: string;
  link: 'UP' | 'DOWN' | 'UNKNOWN';
  link_since: string | null;
  link_detail: string | null;
  data_until: string | null;
  catching_up: boolean;
  last_gap: { pbx_id: string; from: string; to: string; reason: string } | null;
  clock_offset_s: number | null;
}

/**
 * The tenant's PBX feeds. The link state is ingest's: from its Health when ingest runs in this
 * process (`callboard start`), else as it published it (pbx-status.ts), UNKNOWN once that is
 * older than a few heartbeats (ingest stopped or cut off) or before any arrived.
 */
export function pbxFeeds(cfg: Pick<CallboardConfig, 'pbxes'>, live: Pick<LiveStore, 'feeds'>, health: Pick<Health, 'links'> | undefined, tenant: string, nowMs: number): PbxFeedOut[] {
  const seen = new Map(live.feeds(tenant).map((f) => [f.pbx_id, f]));
  const links = health?.links() ?? {};
  const ids = new Set([...cfg.pbxes.filter((p) => p.tenant === tenant).map((p) => p.id), ...seen.keys()]);
  return [...ids].sort().map((pbx_id) => {
    const f = seen.get(pbx_id);
    const l = links[pbx_id] ?? publishedLink(f?.link, nowMs);
    return {
      pbx_id,
      link: l ? (l.up ? 'UP' : 'DOWN') : 'UNKNOWN',
      link_since: l?.since ?? null,
      link_detail: l && !l.up ? (l.detail ?? null) : null,
      data_until: f && f.data_until_ms > 0 ? new Date(f.data_until_ms).toISOString() : null,
      catching_up: f ? isCatchingUp(f, nowMs) : false,
      last_gap: f?.last_gap ? { pbx_id, ...f.last_gap } : null,
      clock_offset_s: f && f.clock.offsetMs !== null ? Math.round(f.clock.offsetMs / 100) / 10 : null,
    };
  });
}

/** A link state ingest published, while it is fresh. */
function publishedLink(s: PbxStatus | undefined, nowMs: number): LinkHealth | undefined {
  if (!s || nowMs - Date.parse(s.at) > PBX_STATUS_STALE_MS) return undefined;
  return { up: s.up, since: s.since, ...(s.detail ? { detail: s.detail } : {}) };
}

/** Whether the board warns of this PBX clock offset (ingest/src/pbx-clock.ts CLOCK_WARN_MS). */
function clockWarned(offsetS: number | null): boolean {
  return offsetS !== null && Math.abs(offsetS) * 1000 > CLOCK_WARN_MS;
}

/** An agent's display name: the PBX's (AMI MemberName) where it gives one, else the config's `agents:` entry. */
export function agentDisplayName(cfg: Pick<CallboardConfig, 'agents'>, tenant: string, agentId: string, fromPbx: string | null | undefined): string | null {
  if (fromPbx) return fromPbx;
  return cfg.agents?.find((a) => a.tenant === tenant && a.agent === agentId)?.name ?? null;
}

/**
 * Today's live figures of each KPI tile that names two or more queues, over its queues as one:
 * what the alert engine judges the tile by (alerts/engine.ts takes the same snapshot). The screen
 * cannot add them up from the queues' rows: their ratios count in-hours legs, and the rows do not
 * say how many. A tile of one queue is that queue's row. `snapshotOf` is the resolvers' shared
 * snapshot (one per state version, however many screens).
 */
export function tilesToday(snapshotOf: (queues: string[]) => LiveSnapshot, tiles: readonly Tile[]): { tile_id: string; today: LiveSnapshot['today'] }[] {
  return tiles.filter((t) => t.kind === 'KPI' && t.queues.length > 1).map((t) => ({ tile_id: t.id, today: snapshotOf([...t.queues].sort()).today }));
}

interface BoardUpdateParent {
  _auth: { tenant_id: string };
  _queues: string[];
  live: LiveSnapshot;
  board: Board;
}

/**
 * A link going down or a feed ceasing to catch up comes with no event, so nothing would mark the
 * boards dirty: check every second and publish a `live` change to the tenants whose feeds moved.
 * The first look publishes too: a board sent before it may show a state that changed meanwhile
 * (a link that went down in the second before the first tick was never shown down).
 */
export function watchFeeds(d: { cfg: CallboardConfig; live: LiveStore; health?: Health; now: () => number; pubsub: PubSub<Topics> }, everyMs = 1000): () => void {
  const last = new Map<string, string>();
  const timer = setInterval(() => {
    const tenants = new Set([...d.cfg.tenants.map((t) => t.id), ...d.live.tenantIds()]);
    for (const tenant of tenants) {
      const sig = pbxFeeds(d.cfg, d.live, d.health, tenant, d.now())
        .map((f) => `${f.pbx_id}:${f.link}:${f.catching_up}:${clockWarned(f.clock_offset_s)}`)
        .join(',');
      if (last.get(tenant) !== sig) d.pubsub.publish('live', tenant, { queues: [] });
      last.set(tenant, sig);
    }
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Field resolvers of BoardUpdate (queues, feeds) and the agent-name fallback, for resolvers.ts to spread in. */
export function boardDisplayResolvers(
  d: { cfg: CallboardConfig; live: LiveStore; health?: Health; now: () => number; pubsub: PubSub<Topics>; history: Pick<History, 'metrics'> },
  liveSnapshot: (tenant: string, queues: string[], nowMs: number) => LiveSnapshot,
) {
  // One watcher per API (createResolvers runs once per server); its timer does not hold the process.
  watchFeeds(d);
  const name = (a: { agent_id: string; agent_name: string | null }, _: unknown, ctx: { auth: { tenant_id: string } }) => agentDisplayName(d.cfg, ctx.auth.tenant_id, a.agent_id, a.agent_name);
  const cache = new Map<string, { at: number; value: Promise<unknown> }>();
  const reuse = (key: string, read: () => Promise<unknown>) => {
    const now = d.now();
    const hit = cache.get(key);
    if (hit && now - hit.at < 30_000 && now >= hit.at) return hit.value;
    const value = read();
    value.catch(() => cache.delete(key));
    if (cache.size > 10_000) cache.clear();
    cache.set(key, { at: now, value });
    return value;
  };
  const tenantOf = (id: string): TenantConfig => tenantById(d.cfg, id) ?? { id, name: id, timezone: 'UTC', week_start: 'monday', locale: 'en-GB' };
  return {
    boardUpdate: {
      queues: (u: BoardUpdateParent) => boardQueueList(d.cfg, u._auth.tenant_id, u._queues, u.live, d.now()),
      feeds: (u: BoardUpdateParent) => pbxFeeds(d.cfg, d.live, d.health, u._auth.tenant_id, d.now()),
      comparisons: (u: BoardUpdateParent) => tileComparisons(d.history, u._auth.tenant_id, tenantOf(u._auth.tenant_id), u.board.tiles, reuse),
      tiles_today: (u: BoardUpdateParent) => tilesToday((queues) => liveSnapshot(u._auth.tenant_id, queues, d.now()), u.board.tiles),
    },
    types: { LiveAgent: { agent_name: name }, Agent: { agent_name: name } },
  };
}

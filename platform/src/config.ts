// One typed configuration, fixed precedence: defaults < config file < environment < overrides,
// then invariants nobody may override. Every invalid value stops start-up with one line that
// names the setting, the value and what was expected.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DateTime, IANAZone } from 'luxon';
import YAML from 'yaml';

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(
    readonly setting: string,
    readonly value: unknown,
    readonly expected: string,
    /** Replaces the "expected" form where that would not read (an unknown or forbidden key). */
    problem?: string,
  ) {
    super(`invalid configuration: ${problem ? `\`${setting}\`: ${problem}` : `${setting}=${JSON.stringify(value)}: expected ${expected}`}`);
    this.name = 'ConfigError';
  }
}

/** Levenshtein distance, for "did you mean" (names are short: the quadratic table is fine). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** The candidate a mistyped name most likely meant, or undefined when none is close. */
export function nearestName(name: string, candidates: readonly string[]): string | undefined {
  const n = name.toLowerCase();
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    const d = editDistance(n, c.toLowerCase());
    if (!best || d < best.d) best = { c, d };
  }
  // A third of the name (at least 2 edits) still reads as a typo; more is a different word.
  return best && best.d <= Math.max(2, Math.floor(name.length / 3)) ? best.c : undefined;
}

export type WeekStart = 'monday' | 'sunday';
export type SlFormula =
  | 'answered_within_T_over_offered_excl_short'
  | 'answered_within_T_over_answered'
  | 'answered_within_T_over_answered_and_abandoned'
  | 'within_T_over_answered_and_abandoned';
export const SL_FORMULAS: readonly SlFormula[] = [
  'answered_within_T_over_offered_excl_short',
  'answered_within_T_over_answered',
  'answered_within_T_over_answered_and_abandoned',
  'within_T_over_answered_and_abandoned',
];

export interface TenantConfig {
  id: string;
  name: string;
  timezone: string;
  week_start: WeekStart;
  locale: string;
  /** Name of the tenant's default business-hours schedule; unset: its queues are always open. */
  schedule?: string;
}

/**
 * Which legs `service_level`, `abandon_rate` and `asa` count when a query does not name its
 * hours (METRICS.md "Business hours"): `open`, the legs offered in business hours (the default),
 * or `all` legs.
 */
export type RatioHours = 'open' | 'all';
export const RATIO_HOURS: readonly RatioHours[] = ['open', 'all'];

export interface QueueSettings {
  sl_threshold_s: number;
  short_abandon_s: number;
  sl_formula: SlFormula;
  wrap_up_s: number;
  /** Unset: `open`. */
  ratio_hours?: RatioHours;
}

export interface QueueConfig extends QueueSettings {
  tenant: string;
  queue: string;
  name: string;
  /** Name of the queue's business-hours schedule; unset: the tenant's default. */
  schedule?: string;
  /** Wallboard: an interval's service level is drawn only from this many offered legs on (fewer swing it 0–100 %). */
  interval_sl_min_legs?: number;
  /** Wallboard: the queue's colour (CSS hex, `#rgb` or `#rrggbb`); unset: the wallboard's palette. */
  colour?: string;
}

/** A local wall-clock open interval in minutes after local midnight, [from, to), to ≤ 1440. */
export interface OpenInterval {
  from: number;
  to: number;
}

/** Weekdays as the schedule file names them, Monday first (luxon's weekday − 1 indexes them). */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/** A named business-hours schedule of a tenant, in the tenant's zone (METRICS.md "Business hours"). */
export interface ScheduleConfig {
  tenant: string;
  name: string;
  /** Open intervals per weekday, Monday first, each list sorted and without overlaps; [] is closed. */
  weekly: OpenInterval[][];
  /** Local dates closed all day. */
  holidays: { date: string; name: string }[];
  /** Local dates with other hours than their weekday's ([] is closed all day). */
  exceptions: { date: string; hours: OpenInterval[] }[];
}

/** A display name for an agent whose PBX gives none (a Yeastar extension number, an AMI member without MemberName). */
export interface AgentConfig {
  tenant: string;
  agent: string;
  name: string;
}

/** Default of a queue's `interval_sl_min_legs`. */
export const DEFAULT_INTERVAL_SL_MIN_LEGS = 5;

export type PbxKind = 'ami' | 'yeastar-p' | 'yeastar-s';

export interface PbxConfig {
  id: string;
  tenant: string;
  kind: PbxKind;
  /** IANA zone the PBX's own local timestamps are in (Yeastar sends local times). */
  timezone: string;
  host: string;
  port: number;
  tls: boolean;
  /** AMI user or Yeastar API user / client id. Not secret. */
  username: string;
  /** Name of the environment variable that holds the secret; the secret itself never sits in a file. */
  secret_env: string;
  /** Yeastar S-Series push: allowed source addresses. */
  allow_from: string[];
  /** Base URL for Yeastar HTTP APIs (P-Series OpenAPI or S-Series API). */
  base_url: string;
}

/** Where a tenant's alerts are POSTed (docs/alerts.md). */
export interface AlertWebhookConfig {
  url: string;
  /** Name of the environment variable holding the HMAC key; the key itself never sits in a file. */
  secret_env: string;
  /** first retry delay; it doubles per attempt, with jitter */
  min_backoff_ms: number;
  /** longest retry delay */
  max_backoff_ms: number;
  /** attempts per alert, the first included; then the delivery counts as failed */
  max_attempts: number;
  /** one attempt is abandoned after this */
  timeout_ms: number;
  /** alerts waiting for delivery; more are dropped (and counted) */
  max_queue: number;
}

/** A tenant's alert settings (`alerts:` in the file); tenants not listed get the defaults and no webhook. */
export interface AlertConfig {
  tenant: string;
  /** a figure stays beyond a board threshold this long before the alert is raised */
  min_duration_s: number;
  /** an alert clears only once the figure is back past the level by this fraction of it */
  hysteresis: number;
  webhook: AlertWebhookConfig | null;
}

export const DEFAULT_ALERT_SETTINGS = { min_duration_s: 10, hysteresis: 0.05 } as const;

/** The API's own settings (graphql-yoga server, live fold, wallboard). */
export interface ApiSettings {
  /** steady request rate per token, requests per second */
  ratePerSecond: number;
  /** burst a token may spend at once */
  rateBurst: number;
  maxDepth: number;
  maxCost: number;
  /** live state rebuild reads the log from the start of the tenant's local day minus this */
  liveLookbackHours: number;
  /** board updates per second per subscriber, at most */
  boardUpdatesPerSecond: number;
  /** events a slow callEvents / agentStates subscriber may fall behind before it is dropped */
  subscriberBuffer: number;
  wallboardDist: string;
  /** The API's own ops listener (/healthz, /readyz, /metrics); -1: none, /metrics is then served nowhere. */
  opsPort: number;
  /** Bind address of that listener. */
  opsHost: string;
  /** address the HTTP/WebSocket server binds to */
  host: string;
  /** largest HTTP request body and graphql-ws message (bytes); larger ones are refused 413 / closed 1009 */
  maxRequestBytes: number;
  /** a GraphQL request's engine queries are cancelled this long after it started executing */
  queryDeadlineMs: number;
  /** lexical tokens a GraphQL document may have (refused before it is parsed any further) */
  maxTokens: number;
  /** query cost a token may spend per minute, over all its requests */
  costPerMinute: number;
  /** engine queries the API runs at once, taken round-robin from the tenants' queues */
  engineConcurrency: number;
  /** seconds a metrics result over a closed period is reused (0: never) */
  metricsCacheS: number;
}

/** Timers of the AMI connection (keep-alive ping, reconnect backoff, retry after a refused login). */
export interface AmiTimers {
  pingIntervalMs: number;
  pingTimeoutMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  authRetryMs: number;
  /** How often the last-connected mark is written (the gap reported after an ingest restart starts there). */
  lastGoodEveryMs: number;
}

export interface CallboardConfig {
  kafka: {
    /** Empty: the project's local broker is started (KRaft, Maven Central jars). */
    brokers: string[];
    clientId: string;
    topicPrefix: string;
    partitions: number;
    replicationFactor: number;
    retentionMs: number;
    localPort: number;
  };
  clickhouse: {
    /** Empty: the embedded engine (chdb) in `dataDir/clickhouse`. */
    url: string;
    username: string;
    password: string;
    database: string;
  };
  dataDir: string;
  port: number;
  logLevel: string;
  tenants: TenantConfig[];
  queues: QueueConfig[];
  /** Business-hours schedules, per tenant (`schedules` in the file). */
  schedules: ScheduleConfig[];
  pbxes: PbxConfig[];
  /** Agent display names from the config file (`agents:`); the PBX's own name wins where it gives one. */
  agents?: AgentConfig[];
  /** per tenant; see alertSettings() for a tenant not listed */
  alerts: AlertConfig[];
  configFile: string | null;
  api: ApiSettings;
  ingest: {
    /** /healthz, /readyz, /metrics of `callboard ingest`; 0 picks a free port. */
    opsPort: number;
    /** PEM file of the CA that signs AMI TLS certificates; empty: the system CAs. */
    amiTlsCaFile: string;
    ami: AmiTimers;
    /** Address the Yeastar S-Series is told to push reports to; empty: the PBX sees ours. */
    yeastarSReportHost: string;
    /** Bind address of the ops listener. */
    opsHost: string;
    /** A Kafka write retried this long (a feed stuck behind it) makes ingest unready. */
    stuckAfterMs: number;
    /** Address the S-Series report receiver binds to. */
    yeastarSListenHost: string;
    /** Largest AMI frame (characters); a larger one is dead-lettered OVERSIZED_FRAME, cut. */
    amiMaxFrameChars: number;
    /** Bound of the on-disk spool that holds records while Kafka is away (bytes); 0: no spool. */
    spoolMaxBytes: number;
    /** A Kafka write pending this long is spooled instead of holding up the feed. */
    spoolAfterMs: number;
  };
  projections: {
    opsPort: number;
    /** Kafka partitions a projections consumer folds at once. */
    concurrency: number;
    /** Tenant id → password of its read-only BI user (server ClickHouse only). */
    biPasswords: Record<string, string>;
    /** Bind address of the ops listener. */
    opsHost: string;
  };
  simulator: {
    /** AMI secret `callboard simulate` accepts; empty: a random one is printed. */
    amiSecret: string;
  };
}

/** Name of the variable holding a tenant's BI password: one per tenant, never in a file. */
export const biPasswordEnv = (tenant: string) => `CALLBOARD_BI_PASSWORD_${tenant.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`;

export const DEFAULT_QUEUE_SETTINGS: QueueSettings = {
  sl_threshold_s: 20,
  short_abandon_s: 5,
  sl_formula: 'answered_within_T_over_offered_excl_short',
  wrap_up_s: 0,
  ratio_hours: 'open',
};

// Every key the CALLBOARD_CONFIG file may hold, per level: anything else is a typo that would
// otherwise silently leave a default in force (an SL threshold of 20 s instead of 30 s).
const QUEUE_SETTING_KEYS = ['sl_threshold_s', 'short_abandon_s', 'sl_formula', 'wrap_up_s', 'ratio_hours'];
const FILE_KEYS = {
  top: ['tenants', 'queue_defaults', 'queues', 'pbxes', 'schedules', 'agents', 'alerts'],
  tenant: ['id', 'name', 'timezone', 'week_start', 'locale', 'schedule'],
  queue: ['tenant', 'queue', 'name', 'schedule', ...QUEUE_SETTING_KEYS, 'interval_sl_min_legs', 'colour'],
  schedule: ['tenant', 'name', 'weekly', 'holidays', 'exceptions'],
  holiday: ['date', 'name'],
  exception: ['date', 'hours'],
  agent: ['tenant', 'agent', 'name'],
  // simulator_queues: read by `callboard start` for the simulated Yeastar P-Series only.
  pbx: ['id', 'tenant', 'kind', 'timezone', 'host', 'port', 'tls', 'username', 'secret_env', 'allow_from', 'base_url', 'simulator_queues'],
  alerts: ['tenant', 'min_duration_s', 'hysteresis', 'webhook'],
  webhook: ['url', 'secret_env', 'min_backoff_ms', 'max_backoff_ms', 'max_attempts', 'timeout_ms', 'max_queue'],
};
/** A key that holds a secret, whatever its level: secrets come from the environment. */
const SECRET_KEY_RE = /^(password|passwd|secret|token|api_?key|private_?key)$|_(password|passwd|secret|token)$/i;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const ID_RE = /^[a-z0-9][a-z0-9_-]{0,62}$/i;

export function isIanaZone(zone: string): boolean {
  // luxon accepts fixed offsets such as "UTC+3" as zones; a tenant needs a real IANA name so
  // that DST rules apply, so require the Area/Location form (or UTC itself).
  if (zone === 'UTC') return true;
  return /^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)+$/.test(zone) && IANAZone.isValidZone(zone);
}

function parseBrokers(raw: string): string[] {
  const list = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const ok = list.length > 0 && list.every((b) => /^[A-Za-z0-9.-]+:\d{1,5}$/.test(b) || /^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(b));
  if (!ok || list.some((b) => Number(b.slice(b.lastIndexOf(':') + 1)) > 65535)) {
    throw new ConfigError('KAFKA_BROKERS', raw, 'a comma-separated list of host:port (for example 127.0.0.1:9092)');
  }
  return list;
}

function parseInteger(setting: string, raw: unknown, min: number, max: number): number {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(setting, raw, `an integer from ${min} to ${max}`);
  }
  return n;
}

/** A number from the environment; unset or empty means the default. */
function envNumber(env: NodeJS.ProcessEnv, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new ConfigError(name, raw, `a number from ${min} to ${max}`);
  return n;
}

function envInteger(env: NodeJS.ProcessEnv, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  return raw === undefined || raw === '' ? def : parseInteger(name, raw, min, max);
}

function parseUrl(setting: string, raw: string): string {
  try {
    const u = new URL(raw);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('protocol');
    return raw.replace(/\/$/, '');
  } catch {
    throw new ConfigError(setting, raw, 'an http(s) URL such as http://clickhouse:8123');
  }
}

function str(setting: string, raw: unknown, fallback?: string): string {
  if (raw === undefined || raw === null) {
    if (fallback !== undefined) return fallback;
    throw new ConfigError(setting, raw, 'a string');
  }
  if (typeof raw !== 'string' && typeof raw !== 'number') throw new ConfigError(setting, raw, 'a string');
  return String(raw);
}

/** A CSS hex colour, kept as written but lower-case. */
function hexColour(setting: string, raw: unknown): string {
  if (typeof raw !== 'string' || !/^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i.test(raw.trim())) throw new ConfigError(setting, raw, 'a CSS hex colour such as "#56b4e9" (quoted in YAML: # starts a comment)');
  return raw.trim().toLowerCase();
}

function id(setting: string, raw: unknown): string {
  const s = str(setting, raw);
  if (!ID_RE.test(s)) throw new ConfigError(setting, raw, 'an id of letters, digits, "-" or "_" (1–63 characters)');
  return s;
}

function zone(setting: string, raw: unknown, fallback?: string): string {
  const z = str(setting, raw, fallback);
  if (!isIanaZone(z)) throw new ConfigError(setting, raw, 'an IANA time zone such as Africa/Nairobi');
  return z;
}

function weekStart(setting: string, raw: unknown): WeekStart {
  const w = str(setting, raw, 'monday').toLowerCase();
  if (w !== 'monday' && w !== 'sunday') throw new ConfigError(setting, raw, '"monday" or "sunday"');
  return w;
}

function bool(setting: string, raw: unknown, fallback: boolean): boolean {
  if (raw === undefined) return fallback;
  if (typeof raw === 'boolean') return raw;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(setting, raw, 'true or false');
}

function checkKeys(path: string, raw: Record<string, unknown>, known: readonly string[]): void {
  for (const k of Object.keys(raw)) {
    if (known.includes(k)) continue;
    const near = nearestName(k, known);
    const at = path ? `${path}.${k}` : k;
    throw new ConfigError(at, raw[k], known.join(', '), near ? `unknown setting, did you mean \`${near}\`?` : `unknown setting (known here: ${known.join(', ')})`);
  }
}

/** Refuses a secret anywhere in the file, naming the key where it was found. */
function refuseSecrets(path: string, raw: unknown): void {
  if (Array.isArray(raw)) raw.forEach((x, i) => refuseSecrets(`${path}[${i}]`, x));
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return;
  for (const [k, v] of Object.entries(raw)) {
    const at = path ? `${path}.${k}` : k;
    if (SECRET_KEY_RE.test(k)) {
      const where = /^pbxes\[\d+\]$|^alerts\[\d+\]\.webhook$/.test(path) ? `set ${path}.secret_env to the name of an environment variable holding it` : 'secrets are read from the environment (NAME, or a file named by NAME_FILE) only';
      throw new ConfigError(at, '***', 'no secret in the file', `a secret in the config file is refused: ${where}`);
    }
    refuseSecrets(at, v);
  }
}

/** Ids that differ only in case name the same thing to a person and to most SQL and URLs. */
function uniqueIgnoringCase(setting: string, ids: readonly string[], what: string): void {
  const seen = new Map<string, string>();
  for (const i of ids) {
    const prior = seen.get(i.toLowerCase());
    if (prior !== undefined) throw new ConfigError(setting, i, `unique ${what} ids (case-insensitive): "${i}" repeats "${prior}"`);
    seen.set(i.toLowerCase(), i);
  }
}

export function parseQueueSettings(prefix: string, raw: Record<string, unknown>, base: QueueSettings): QueueSettings {
  const formula = raw.sl_formula ?? base.sl_formula;
  if (!SL_FORMULAS.includes(formula as SlFormula)) {
    throw new ConfigError(`${prefix}.sl_formula`, formula, `one of ${SL_FORMULAS.join(', ')}`);
  }
  const ratioHours = raw.ratio_hours ?? base.ratio_hours ?? 'open';
  if (!RATIO_HOURS.includes(ratioHours as RatioHours)) throw new ConfigError(`${prefix}.ratio_hours`, ratioHours, '"open" (in-hours legs) or "all"');
  return {
    sl_threshold_s: parseInteger(`${prefix}.sl_threshold_s`, raw.sl_threshold_s ?? base.sl_threshold_s, 1, 3600),
    short_abandon_s: parseInteger(`${prefix}.short_abandon_s`, raw.short_abandon_s ?? base.short_abandon_s, 0, 3600),
    sl_formula: formula as SlFormula,
    wrap_up_s: parseInteger(`${prefix}.wrap_up_s`, raw.wrap_up_s ?? base.wrap_up_s, 0, 86400),
    ratio_hours: ratioHours as RatioHours,
  };
}

// ---- business-hours schedules ----------------------------------------------------------------

const HHMM_RANGE_RE = /^(\d{2}):(\d{2})\s*-\s*(\d{2}):(\d{2})$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

/** "09:00-12:30" → minutes of the local day; "24:00" may end a day. */
function openInterval(setting: string, raw: unknown): OpenInterval {
  const m = typeof raw === 'string' ? HHMM_RANGE_RE.exec(raw.trim()) : null;
  const bad = () => new ConfigError(setting, raw, 'a local time range HH:mm-HH:mm such as "09:00-12:30" (00:00 to 24:00, start before end)');
  if (!m) throw bad();
  const [h1, m1, h2, m2] = m.slice(1).map(Number) as [number, number, number, number];
  const from = h1 * 60 + m1;
  const to = h2 * 60 + m2;
  if (h1 > 23 || m1 > 59 || m2 > 59 || to > 1440 || from >= to) throw bad();
  return { from, to };
}

/** A day's open intervals, sorted; overlapping ones are an error (which one was meant?). */
function openIntervals(setting: string, raw: unknown): OpenInterval[] {
  if (!Array.isArray(raw)) throw new ConfigError(setting, raw, 'a list of local time ranges such as ["09:00-12:00", "13:00-17:00"] ([] for closed)');
  const list = raw.map((x, i) => ({ ...openInterval(`${setting}[${i}]`, x), i })).sort((a, b) => a.from - b.from);
  for (let k = 1; k < list.length; k++) {
    if (list[k]!.from < list[k - 1]!.to) throw new ConfigError(`${setting}[${list[k]!.i}]`, raw[list[k]!.i], `a range that does not overlap ${String(raw[list[k - 1]!.i])}`);
  }
  return list.map(({ from, to }) => ({ from, to }));
}

function localDateSetting(setting: string, raw: unknown): string {
  const s = typeof raw === 'string' ? raw : undefined;
  if (!s || !DATE_RE.test(s) || !DateTime.fromISO(s, { zone: 'UTC' }).isValid) throw new ConfigError(setting, raw, 'a local date YYYY-MM-DD');
  return s;
}

function parseSchedule(at: string, raw: Json, tenant: string): ScheduleConfig {
  checkKeys(at, raw, FILE_KEYS.schedule);
  const weeklyRaw = raw.weekly ?? {};
  if (typeof weeklyRaw !== 'object' || weeklyRaw === null || Array.isArray(weeklyRaw)) throw new ConfigError(`${at}.weekly`, weeklyRaw, `a mapping of weekdays (${WEEKDAYS.join(', ')}) to time ranges`);
  checkKeys(`${at}.weekly`, weeklyRaw as Json, WEEKDAYS);
  const weekly = WEEKDAYS.map((d) => ((weeklyRaw as Json)[d] === undefined ? [] : openIntervals(`${at}.weekly.${d}`, (weeklyRaw as Json)[d])));
  const dates = new Map<string, string>();
  const once = (setting: string, date: string) => {
    const prior = dates.get(date);
    if (prior) throw new ConfigError(setting, date, `a date listed once per schedule (${date} is also ${prior})`);
    dates.set(date, setting);
  };
  const holidays = asArray(`${at}.holidays`, raw.holidays).map((h, i) => {
    checkKeys(`${at}.holidays[${i}]`, h, FILE_KEYS.holiday);
    const date = localDateSetting(`${at}.holidays[${i}].date`, h.date);
    once(`${at}.holidays[${i}].date`, date);
    const name = str(`${at}.holidays[${i}].name`, h.name);
    if (!name.trim()) throw new ConfigError(`${at}.holidays[${i}].name`, h.name, 'the name of the holiday');
    return { date, name };
  });
  const exceptions = asArray(`${at}.exceptions`, raw.exceptions).map((x, i) => {
    checkKeys(`${at}.exceptions[${i}]`, x, FILE_KEYS.exception);
    const date = localDateSetting(`${at}.exceptions[${i}].date`, x.date);
    once(`${at}.exceptions[${i}].date`, date);
    return { date, hours: openIntervals(`${at}.exceptions[${i}].hours`, x.hours) };
  });
  return { tenant, name: id(`${at}.name`, raw.name), weekly, holidays, exceptions };
}

type Json = Record<string, unknown>;

function asArray(setting: string, raw: unknown): Json[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || raw.some((x) => typeof x !== 'object' || x === null)) {
    throw new ConfigError(setting, raw, 'a list of objects');
  }
  return raw as Json[];
}

export function loadConfigFile(path: string): Json {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' ? 'permission denied' : err.message;
    throw new ConfigError('CALLBOARD_CONFIG', path, 'a readable YAML or JSON file', `cannot read ${path}: ${why}`);
  }
  try {
    const doc = /\.json$/i.test(path) ? JSON.parse(text) : YAML.parse(text);
    if (doc === null || doc === undefined) return {};
    if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error('top level is not a mapping');
    return doc as Json;
  } catch (e) {
    throw new ConfigError('CALLBOARD_CONFIG', path, `valid YAML or JSON with a mapping at the top (${(e as Error).message})`);
  }
}

export interface ConfigOverrides {
  env?: NodeJS.ProcessEnv;
  file?: Json;
  /** The file to read when CALLBOARD_CONFIG is unset (`callboard start` uses the demo's). */
  defaultFile?: string;
  /** Settings by variable name that win over the environment (command-line flags, benches). */
  overrides?: Record<string, string | undefined>;
}

const WALLBOARD_DIST = fileURLToPath(new URL('../../wallboard/dist', import.meta.url));

/** Builds the configuration; throws ConfigError naming the first bad setting. */
export function loadConfig(opts: ConfigOverrides = {}): CallboardConfig {
  const env: NodeJS.ProcessEnv = { ...(opts.env ?? process.env) };
  for (const [k, v] of Object.entries(opts.overrides ?? {})) if (v !== undefined) env[k] = v;
  const configPath = env.CALLBOARD_CONFIG || opts.defaultFile;
  const configFile = configPath ? resolve(configPath) : null;
  const file: Json = opts.file ?? (configFile ? loadConfigFile(configFile) : {});

  const brokersRaw = env.KAFKA_BROKERS;
  const brokers = brokersRaw === undefined || brokersRaw === '' ? [] : parseBrokers(brokersRaw);

  const chUrlRaw = env.CLICKHOUSE_URL;
  const chUrl = chUrlRaw ? parseUrl('CLICKHOUSE_URL', chUrlRaw) : '';
  const database = env.CLICKHOUSE_DATABASE ?? 'callboard';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) {
    throw new ConfigError('CLICKHOUSE_DATABASE', database, 'a ClickHouse identifier (letters, digits, _)');
  }

  const logLevel = (env.LOG_LEVEL ?? 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError('LOG_LEVEL', env.LOG_LEVEL, `one of ${LOG_LEVELS.join(', ')}`);

  refuseSecrets('', file);
  checkKeys('', file, FILE_KEYS.top);
  const tenants: TenantConfig[] = asArray('tenants', file.tenants).map((t, i) => (checkKeys(`tenants[${i}]`, t, FILE_KEYS.tenant), {
    id: id(`tenants[${i}].id`, t.id),
    name: str(`tenants[${i}].name`, t.name, String(t.id)),
    timezone: zone(`tenants[${i}].timezone`, t.timezone),
    week_start: weekStart(`tenants[${i}].week_start`, t.week_start),
    locale: str(`tenants[${i}].locale`, t.locale, 'en-GB'),
    ...(t.schedule === undefined ? {} : { schedule: id(`tenants[${i}].schedule`, t.schedule) }),
  }));
  uniqueIgnoringCase('tenants', tenants.map((t) => t.id), 'tenant');
  const tenantIds = new Set(tenants.map((t) => t.id));
  const tenantRef = (setting: string, raw: unknown): string => {
    const t = id(setting, raw);
    if (!tenantIds.has(t)) throw new ConfigError(setting, raw, `one of the configured tenants (${[...tenantIds].join(', ') || 'none'})`);
    return t;
  };

  const rawDefaults = file.queue_defaults ?? {};
  if (typeof rawDefaults !== 'object' || rawDefaults === null || Array.isArray(rawDefaults)) throw new ConfigError('queue_defaults', rawDefaults, 'a mapping of queue settings');
  checkKeys('queue_defaults', rawDefaults as Json, QUEUE_SETTING_KEYS);
  const defaults = parseQueueSettings('queue_defaults', rawDefaults as Json, DEFAULT_QUEUE_SETTINGS);
  const queues: QueueConfig[] = asArray('queues', file.queues).map((q, i) => ({
    tenant: (checkKeys(`queues[${i}]`, q, FILE_KEYS.queue), tenantRef(`queues[${i}].tenant`, q.tenant)),
    queue: str(`queues[${i}].queue`, q.queue),
    name: str(`queues[${i}].name`, q.name, String(q.queue)),
    ...(q.schedule === undefined ? {} : { schedule: id(`queues[${i}].schedule`, q.schedule) }),
    ...parseQueueSettings(`queues[${i}]`, q, defaults),
    ...(q.interval_sl_min_legs === undefined ? {} : { interval_sl_min_legs: parseInteger(`queues[${i}].interval_sl_min_legs`, q.interval_sl_min_legs, 1, 10_000) }),
    ...(q.colour === undefined ? {} : { colour: hexColour(`queues[${i}].colour`, q.colour) }),
  }));
  const agents: AgentConfig[] = asArray('agents', file.agents).map((a, i) => (checkKeys(`agents[${i}]`, a, FILE_KEYS.agent), {
    tenant: tenantRef(`agents[${i}].tenant`, a.tenant),
    agent: str(`agents[${i}].agent`, a.agent),
    name: str(`agents[${i}].name`, a.name),
  }));
  const queueKeys = new Set<string>();
  queues.forEach((q, i) => {
    const key = `${q.tenant}\u0000${q.queue}`;
    if (queueKeys.has(key)) throw new ConfigError(`queues[${i}]`, `${q.tenant}/${q.queue}`, `each queue of a tenant listed once: ${q.tenant}/${q.queue} is listed twice`);
    queueKeys.add(key);
  });

  const schedules = asArray('schedules', file.schedules).map((s, i) => parseSchedule(`schedules[${i}]`, s, tenantRef(`schedules[${i}].tenant`, s.tenant)));
  schedules.forEach((s, i) => {
    const prior = schedules.findIndex((x) => x.tenant === s.tenant && x.name.toLowerCase() === s.name.toLowerCase());
    if (prior !== i) throw new ConfigError(`schedules[${i}].name`, s.name, `schedule names unique per tenant (case-insensitive): "${s.name}" repeats schedules[${prior}]`);
  });
  const scheduleRef = (setting: string, tenant: string, name: string | undefined) => {
    if (name !== undefined && !schedules.some((s) => s.tenant === tenant && s.name === name)) {
      const mine = schedules.filter((s) => s.tenant === tenant).map((s) => s.name);
      throw new ConfigError(setting, name, `one of tenant ${tenant}'s schedules (${mine.join(', ') || 'none'})`);
    }
  };
  tenants.forEach((t, i) => scheduleRef(`tenants[${i}].schedule`, t.id, t.schedule));
  queues.forEach((q, i) => scheduleRef(`queues[${i}].schedule`, q.tenant, q.schedule));

  const pbxes: PbxConfig[] = asArray('pbxes', file.pbxes).map((p, i) => {
    checkKeys(`pbxes[${i}]`, p, FILE_KEYS.pbx);
    const kind = str(`pbxes[${i}].kind`, p.kind);
    if (kind !== 'ami' && kind !== 'yeastar-p' && kind !== 'yeastar-s') {
      throw new ConfigError(`pbxes[${i}].kind`, kind, '"ami", "yeastar-p" or "yeastar-s"');
    }
    const tenant = tenantRef(`pbxes[${i}].tenant`, p.tenant);
    const tz = tenants.find((t) => t.id === tenant)!.timezone;
    const secretEnv = str(`pbxes[${i}].secret_env`, p.secret_env, '');
    if (secretEnv && !/^[A-Z_][A-Z0-9_]*$/.test(secretEnv)) {
      throw new ConfigError(`pbxes[${i}].secret_env`, secretEnv, 'the NAME of an environment variable holding the secret');
    }
    const baseUrl = str(`pbxes[${i}].base_url`, p.base_url, '');
    const allow = p.allow_from === undefined ? [] : p.allow_from;
    if (!Array.isArray(allow) || allow.some((a) => typeof a !== 'string')) {
      throw new ConfigError(`pbxes[${i}].allow_from`, allow, 'a list of IP addresses');
    }
    return {
      id: id(`pbxes[${i}].id`, p.id),
      tenant,
      kind,
      timezone: zone(`pbxes[${i}].timezone`, p.timezone, tz),
      host: str(`pbxes[${i}].host`, p.host, '127.0.0.1'),
      port: parseInteger(`pbxes[${i}].port`, p.port ?? defaultPbxPort(kind, baseUrl), 1, 65535),
      tls: bool(`pbxes[${i}].tls`, p.tls, false),
      username: str(`pbxes[${i}].username`, p.username, ''),
      secret_env: secretEnv,
      allow_from: allow as string[],
      base_url: baseUrl,
    };
  });
  uniqueIgnoringCase('pbxes', pbxes.map((p) => p.id), 'PBX');
  const alerts = asArray('alerts', file.alerts).map((a, i) => parseAlerts(`alerts[${i}]`, a, tenantRef));
  uniqueIgnoringCase('alerts', alerts.map((a) => a.tenant), 'alert settings tenant');

  return {
    kafka: {
      brokers,
      clientId: env.KAFKA_CLIENT_ID ?? 'callboard',
      topicPrefix: env.KAFKA_TOPIC_PREFIX ?? '',
      partitions: parseInteger('KAFKA_PARTITIONS', env.KAFKA_PARTITIONS ?? 6, 1, 1024),
      replicationFactor: parseInteger('KAFKA_REPLICATION_FACTOR', env.KAFKA_REPLICATION_FACTOR ?? 1, 1, 16),
      retentionMs: parseInteger('KAFKA_RETENTION_MS', env.KAFKA_RETENTION_MS ?? -1, -1, Number.MAX_SAFE_INTEGER),
      localPort: parseInteger('KAFKA_LOCAL_PORT', env.KAFKA_LOCAL_PORT ?? 9092, 1, 65535),
    },
    clickhouse: {
      url: chUrl,
      username: env.CLICKHOUSE_USER ?? 'default',
      // Only from the environment; never defaulted to a real password.
      password: envSecret(env, 'CLICKHOUSE_PASSWORD'),
      database,
    },
    dataDir: resolve(env.CALLBOARD_DATA_DIR ?? './data'),
    port: parseInteger('PORT', env.PORT ?? 4000, 0, 65535),
    logLevel,
    tenants,
    queues,
    schedules,
    pbxes,
    agents,
    alerts,
    configFile,
    api: {
      ratePerSecond: envNumber(env, 'API_RATE_PER_SECOND', 20, 0.1, 1e6),
      rateBurst: envNumber(env, 'API_RATE_BURST', 100, 1, 1e7),
      maxDepth: envNumber(env, 'API_MAX_DEPTH', 10, 2, 100),
      maxCost: envNumber(env, 'API_MAX_COST', 5000, 10, 1e7),
      liveLookbackHours: envNumber(env, 'API_LIVE_LOOKBACK_HOURS', 24, 0, 24 * 31),
      boardUpdatesPerSecond: envNumber(env, 'API_BOARD_UPDATES_PER_SECOND', 4, 0.1, 10),
      subscriberBuffer: envNumber(env, 'API_SUBSCRIBER_BUFFER', 1000, 1, 1e6),
      wallboardDist: env.WALLBOARD_DIST ? resolve(env.WALLBOARD_DIST) : WALLBOARD_DIST,
      opsPort: envInteger(env, 'API_OPS_PORT', -1, -1, 65535),
      opsHost: env.API_OPS_HOST || '127.0.0.1',
      host: env.API_HOST || '0.0.0.0',
      maxRequestBytes: envInteger(env, 'API_MAX_REQUEST_BYTES', 131_072, 1024, 64 * 1024 * 1024),
      queryDeadlineMs: envInteger(env, 'API_QUERY_DEADLINE_MS', 10_000, 10, 600_000),
      maxTokens: envInteger(env, 'API_MAX_TOKENS', 10_000, 100, 1e6),
      costPerMinute: envNumber(env, 'API_COST_PER_MINUTE', 60_000, 10, 1e9),
      engineConcurrency: envInteger(env, 'API_ENGINE_CONCURRENCY', 2, 1, 64),
      metricsCacheS: envNumber(env, 'API_METRICS_CACHE_S', 300, 0, 86_400),
    },
    ingest: {
      opsPort: envInteger(env, 'INGEST_OPS_PORT', 9464, 0, 65535),
      amiTlsCaFile: env.AMI_TLS_CA_FILE ? resolve(env.AMI_TLS_CA_FILE) : '',
      ami: {
        pingIntervalMs: envInteger(env, 'AMI_PING_INTERVAL_MS', 15_000, 1, 86_400_000),
        pingTimeoutMs: envInteger(env, 'AMI_PING_TIMEOUT_MS', 10_000, 1, 86_400_000),
        backoffInitialMs: envInteger(env, 'AMI_BACKOFF_INITIAL_MS', 500, 1, 86_400_000),
        backoffMaxMs: envInteger(env, 'AMI_BACKOFF_MAX_MS', 30_000, 1, 86_400_000),
        authRetryMs: envInteger(env, 'AMI_AUTH_RETRY_MS', 60_000, 1, 86_400_000),
        lastGoodEveryMs: envInteger(env, 'AMI_LAST_GOOD_EVERY_MS', 5_000, 1, 86_400_000),
      },
      yeastarSReportHost: env.YEASTAR_S_REPORT_HOST ?? '',
      opsHost: env.INGEST_OPS_HOST || '127.0.0.1',
      stuckAfterMs: envInteger(env, 'INGEST_STUCK_AFTER_S', 60, 1, 86_400) * 1000,
      yeastarSListenHost: env.YEASTAR_S_LISTEN_HOST || '0.0.0.0',
      amiMaxFrameChars: envInteger(env, 'AMI_MAX_FRAME_CHARS', 262_144, 1024, 16 * 1024 * 1024),
      spoolMaxBytes: envInteger(env, 'INGEST_SPOOL_MAX_MB', 1024, 0, 1_048_576) * 1024 * 1024,
      spoolAfterMs: envInteger(env, 'INGEST_SPOOL_AFTER_MS', 5_000, 100, 600_000),
    },
    projections: {
      // Not ingest's 9464: both run on one host in the demo and the compose stack.
      opsPort: envInteger(env, 'PROJECTIONS_OPS_PORT', 9465, 0, 65535),
      concurrency: envInteger(env, 'PROJECTIONS_CONCURRENCY', 2, 1, 1024),
      biPasswords: biPasswords(env, tenants),
      opsHost: env.PROJECTIONS_OPS_HOST || '127.0.0.1',
    },
    simulator: { amiSecret: envSecret(env, 'CALLBOARD_SIM_AMI_SECRET') },
  };
}

/**
 * A P-Series reached by a base URL listens where that URL says, so the port logged is the port
 * in use. (An S-Series' port is our receiver's, not the PBX's.)
 */
export function defaultPbxPort(kind: PbxKind, baseUrl: string): number {
  if (kind === 'ami') return 5038;
  if (kind !== 'yeastar-p' || !baseUrl) return 443;
  try {
    const u = new URL(baseUrl);
    return Number(u.port) || (u.protocol === 'http:' ? 80 : 443);
  } catch {
    return 443;
  }
}

/**
 * A secret from the environment: NAME itself, or the file NAME_FILE names (Docker and Kubernetes
 * secrets are mounted as files). One trailing newline, as editors and `echo` leave, is not part of it.
 */
export function envSecret(env: NodeJS.ProcessEnv, name: string): string {
  if (env[name]) return env[name];
  const file = env[`${name}_FILE`];
  if (!file) return '';
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new ConfigError(`${name}_FILE`, file, 'a readable file holding the secret', `cannot read ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  }
}

function biPasswords(env: NodeJS.ProcessEnv, tenants: TenantConfig[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tenants) {
    const name = biPasswordEnv(t.id);
    const password = envSecret(env, name);
    if (!password) continue;
    if (password.length < 12) throw new ConfigError(name, '***', 'a password of at least 12 characters');
    out[t.id] = password;
  }
  return out;
}

/** The secret of a PBX connection, read from the environment variable the config names. */
export function pbxSecret(pbx: PbxConfig, env: NodeJS.ProcessEnv = process.env): string {
  if (!pbx.secret_env) throw new ConfigError(`pbxes[${pbx.id}].secret_env`, '', 'the name of an environment variable holding the secret');
  const v = envSecret(env, pbx.secret_env);
  if (!v) throw new ConfigError(pbx.secret_env, v ?? '', `the secret for PBX ${pbx.id} in the environment (or a file named by ${pbx.secret_env}_FILE)`);
  return v;
}

function parseAlerts(at: string, a: Json, tenantRef: (setting: string, raw: unknown) => string): AlertConfig {
  checkKeys(at, a, FILE_KEYS.alerts);
  const hysteresis = Number(a.hysteresis ?? DEFAULT_ALERT_SETTINGS.hysteresis);
  if (typeof (a.hysteresis ?? 0) !== 'number' || !(hysteresis >= 0 && hysteresis <= 1)) throw new ConfigError(`${at}.hysteresis`, a.hysteresis, 'a fraction of the level from 0 to 1, e.g. 0.05');
  let webhook: AlertWebhookConfig | null = null;
  if (a.webhook !== undefined) {
    const w = a.webhook as Json;
    if (typeof w !== 'object' || w === null || Array.isArray(w)) throw new ConfigError(`${at}.webhook`, w, 'a mapping with url and secret_env');
    checkKeys(`${at}.webhook`, w, FILE_KEYS.webhook);
    const secretEnv = str(`${at}.webhook.secret_env`, w.secret_env);
    if (!/^[A-Z_][A-Z0-9_]*$/.test(secretEnv)) throw new ConfigError(`${at}.webhook.secret_env`, secretEnv, 'the NAME of an environment variable holding the HMAC key');
    const minBackoff = parseInteger(`${at}.webhook.min_backoff_ms`, w.min_backoff_ms ?? 500, 1, 3_600_000);
    webhook = {
      url: parseUrl(`${at}.webhook.url`, str(`${at}.webhook.url`, w.url)),
      secret_env: secretEnv,
      min_backoff_ms: minBackoff,
      max_backoff_ms: parseInteger(`${at}.webhook.max_backoff_ms`, w.max_backoff_ms ?? Math.max(60_000, minBackoff), minBackoff, 3_600_000),
      max_attempts: parseInteger(`${at}.webhook.max_attempts`, w.max_attempts ?? 8, 1, 100),
      timeout_ms: parseInteger(`${at}.webhook.timeout_ms`, w.timeout_ms ?? 5000, 100, 600_000),
      max_queue: parseInteger(`${at}.webhook.max_queue`, w.max_queue ?? 1000, 1, 1_000_000),
    };
  }
  return {
    tenant: tenantRef(`${at}.tenant`, a.tenant),
    min_duration_s: parseInteger(`${at}.min_duration_s`, a.min_duration_s ?? DEFAULT_ALERT_SETTINGS.min_duration_s, 0, 86_400),
    hysteresis,
    webhook,
  };
}

/** A tenant's alert settings: its `alerts:` entry, or the defaults without a webhook. */
export function alertSettings(cfg: Pick<CallboardConfig, 'alerts'>, tenant: string): AlertConfig {
  return cfg.alerts.find((a) => a.tenant === tenant) ?? { tenant, ...DEFAULT_ALERT_SETTINGS, webhook: null };
}

/** The HMAC key of a tenant's alert webhook, read from the environment variable the config names. */
export function alertWebhookSecret(a: AlertConfig, env: NodeJS.ProcessEnv = process.env): string {
  if (!a.webhook) throw new ConfigError(`alerts[${a.tenant}].webhook`, null, 'a webhook');
  const v = envSecret(env, a.webhook.secret_env);
  if (!v) throw new ConfigError(a.webhook.secret_env, '', `the HMAC key of tenant ${a.tenant}'s alert webhook in the environment (or a file named by ${a.webhook.secret_env}_FILE)`);
  return v;
}

export function queueSettings(cfg: Pick<CallboardConfig, 'queues'>, tenant: string, queue: string): QueueSettings {
  const q = cfg.queues.find((x) => x.tenant === tenant && x.queue === queue);
  return q
    ? { sl_threshold_s: q.sl_threshold_s, short_abandon_s: q.short_abandon_s, sl_formula: q.sl_formula, wrap_up_s: q.wrap_up_s, ratio_hours: q.ratio_hours ?? 'open' }
    : DEFAULT_QUEUE_SETTINGS;
}

/** A tenant's business hours: its default schedule and the queues that name their own. */
export interface TenantHours {
  /** Schedule of every queue not in `queues`; null: always open. */
  default: ScheduleConfig | null;
  queues: Record<string, ScheduleConfig>;
}

export function tenantHours(cfg: Pick<CallboardConfig, 'tenants' | 'queues' | 'schedules'>, tenant: string): TenantHours {
  const named = (name: string | undefined) => (name === undefined ? null : (cfg.schedules.find((s) => s.tenant === tenant && s.name === name) ?? null));
  const queues: Record<string, ScheduleConfig> = {};
  for (const q of cfg.queues) {
    const s = q.tenant === tenant ? named(q.schedule) : null;
    if (s) queues[q.queue] = s;
  }
  return { default: named(tenantById(cfg, tenant)?.schedule), queues };
}

export function tenantById(cfg: Pick<CallboardConfig, 'tenants'>, tenant: string): TenantConfig | undefined {
  return cfg.tenants.find((t) => t.id === tenant);
}

/** For error messages: is this an ISO instant luxon can read? */
export function isIsoInstant(s: string): boolean {
  return DateTime.fromISO(s, { setZone: true }).isValid;
}

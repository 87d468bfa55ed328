// The API's own settings, from the environment (the shared config covers Kafka, ClickHouse,
// tenants and queues). Every bad value names the variable and what was expected.
import { ConfigError } from '@callboard/platform';
import { fileURLToPath } from 'node:url';

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
}

function num(env: NodeJS.ProcessEnv, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new ConfigError(name, raw, `a number from ${min} to ${max}`);
  return n;
}

export function apiSettings(env: NodeJS.ProcessEnv = process.env): ApiSettings {
  return {
    ratePerSecond: num(env, 'API_RATE_PER_SECOND', 20, 0.1, 1e6),
    rateBurst: num(env, 'API_RATE_BURST', 100, 1, 1e7),
    maxDepth: num(env, 'API_MAX_DEPTH', 10, 2, 100),
    maxCost: num(env, 'API_MAX_COST', 5000, 10, 1e7),
    liveLookbackHours: num(env, 'API_LIVE_LOOKBACK_HOURS', 24, 0, 24 * 31),
    boardUpdatesPerSecond: num(env, 'API_BOARD_UPDATES_PER_SECOND', 4, 0.1, 4),
    subscriberBuffer: num(env, 'API_SUBSCRIBER_BUFFER', 1000, 1, 1e6),
    wallboardDist: env.WALLBOARD_DIST ?? fileURLToPath(new URL('../../wallboard/dist', import.meta.url)),
  };
}

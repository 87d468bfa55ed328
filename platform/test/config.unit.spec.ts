import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, pbxSecret } from '../src/config.ts';

const load = (env: Record<string, string>, file: Record<string, unknown> = {}) => loadConfig({ env, file });

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('uses the embedded defaults when nothing is set', () => {
    const cfg = load({});
    expect(cfg.kafka.brokers).toEqual([]);
    expect(cfg.clickhouse.url).toBe('');
    expect(cfg.port).toBe(4000);
    expect(cfg.dataDir).toMatch(/data$/);
  });

  it('names KAFKA_BROKERS when it is malformed', () => {
    const e = errorOf(() => load({ KAFKA_BROKERS: 'not a broker' }));
    expect(e.setting).toBe('KAFKA_BROKERS');
    expect(e.message).toContain('KAFKA_BROKERS="not a broker"');
    expect(e.message).toContain('host:port');
    expect(load({ KAFKA_BROKERS: 'k1:9092, 10.0.0.2:29092' }).kafka.brokers).toEqual(['k1:9092', '10.0.0.2:29092']);
    expect(errorOf(() => load({ KAFKA_BROKERS: 'k1:99999' })).setting).toBe('KAFKA_BROKERS');
  });

  it('rejects a time zone that is not IANA, naming the tenant setting', () => {
    const e = errorOf(() => load({}, { tenants: [{ id: 'acme', timezone: 'Mars/Olympus' }] }));
    expect(e.setting).toBe('tenants[0].timezone');
    expect(errorOf(() => load({}, { tenants: [{ id: 'acme', timezone: 'EST' }] })).setting).toBe('tenants[0].timezone');
    const ok = load({}, { tenants: [{ id: 'acme', timezone: 'Africa/Nairobi', week_start: 'sunday' }] });
    expect(ok.tenants[0]).toMatchObject({ id: 'acme', timezone: 'Africa/Nairobi', week_start: 'sunday' });
  });

  it('validates ports, URLs, log levels and queue settings', () => {
    expect(errorOf(() => load({ PORT: 'eighty' })).setting).toBe('PORT');
    expect(errorOf(() => load({ CLICKHOUSE_URL: 'clickhouse:8123' })).setting).toBe('CLICKHOUSE_URL');
    expect(errorOf(() => load({ LOG_LEVEL: 'loud' })).setting).toBe('LOG_LEVEL');
    const file = { tenants: [{ id: 'a', timezone: 'UTC' }], queues: [{ tenant: 'a', queue: 'sales', sl_formula: 'best' }] };
    expect(errorOf(() => load({}, file)).setting).toBe('queues[0].sl_formula');
    const q = load({}, { tenants: [{ id: 'a', timezone: 'UTC' }], queue_defaults: { sl_threshold_s: 30 }, queues: [{ tenant: 'a', queue: 'sales' }] }).queues[0]!;
    expect(q).toMatchObject({ sl_threshold_s: 30, short_abandon_s: 5, sl_formula: 'answered_within_T_over_offered_excl_short' });
  });

  it('keeps secrets out of files: only the name of an environment variable', () => {
    const tenants = [{ id: 'a', timezone: 'UTC' }];
    expect(errorOf(() => load({}, { tenants, pbxes: [{ id: 'p1', tenant: 'a', kind: 'ami', secret: 'x' }] })).setting).toBe('pbxes[0].secret');
    const cfg = load({}, { tenants, pbxes: [{ id: 'p1', tenant: 'a', kind: 'ami', secret_env: 'AMI_SECRET_P1' }] });
    expect(pbxSecret(cfg.pbxes[0]!, { AMI_SECRET_P1: 's3cret' })).toBe('s3cret');
    expect(errorOf(() => pbxSecret(cfg.pbxes[0]!, {})).setting).toBe('AMI_SECRET_P1');
    expect(errorOf(() => load({}, { tenants, pbxes: [{ id: 'p1', tenant: 'b', kind: 'ami' }] })).setting).toBe('pbxes[0].tenant');
  });

  it('holds the API settings, named by their variable when out of range', () => {
    const api = load({}).api;
    expect(api).toMatchObject({ ratePerSecond: 20, rateBurst: 100, maxDepth: 10, maxCost: 5000, liveLookbackHours: 24, boardUpdatesPerSecond: 4, subscriberBuffer: 1000 });
    expect(api.wallboardDist).toMatch(/wallboard[/\\]dist$/);
    expect(load({ API_RATE_BURST: '5', WALLBOARD_DIST: '/srv/wb' }).api).toMatchObject({ rateBurst: 5, wallboardDist: '/srv/wb' });
    const e = errorOf(() => load({ API_BOARD_UPDATES_PER_SECOND: '10' }));
    expect(e.message).toBe('invalid configuration: API_BOARD_UPDATES_PER_SECOND="10": expected a number from 0.1 to 4');
    expect(errorOf(() => load({ API_MAX_DEPTH: 'deep' })).setting).toBe('API_MAX_DEPTH');
  });

  it('holds the settings the services read beside the shared ones', () => {
    const cfg = load({});
    expect(cfg.ingest).toEqual({
      opsPort: 9464,
      amiTlsCaFile: '',
      ami: { pingIntervalMs: 15_000, pingTimeoutMs: 10_000, backoffInitialMs: 500, backoffMaxMs: 30_000, authRetryMs: 60_000 },
      yeastarSReportHost: '',
      yeastarSListenHost: '0.0.0.0',
      amiMaxFrameChars: 262_144,
    });
    expect(cfg.projections).toEqual({ opsPort: 9464, concurrency: 2, biPasswords: {} });
    expect(cfg.simulator).toEqual({ amiSecret: '' });
    const set = load({ INGEST_OPS_PORT: '0', AMI_PING_INTERVAL_MS: '2000', YEASTAR_S_REPORT_HOST: '10.0.0.5', PROJECTIONS_CONCURRENCY: '4', PROJECTIONS_OPS_PORT: '9465', CALLBOARD_SIM_AMI_SECRET: 'x' });
    expect([set.ingest.opsPort, set.ingest.ami.pingIntervalMs, set.ingest.yeastarSReportHost, set.projections.concurrency, set.projections.opsPort, set.simulator.amiSecret]).toEqual([0, 2000, '10.0.0.5', 4, 9465, 'x']);
    expect(errorOf(() => load({ INGEST_OPS_PORT: '70000' })).setting).toBe('INGEST_OPS_PORT');
    expect(errorOf(() => load({ AMI_BACKOFF_MAX_MS: '0' })).setting).toBe('AMI_BACKOFF_MAX_MS');
    expect(errorOf(() => load({ PROJECTIONS_CONCURRENCY: 'two' })).setting).toBe('PROJECTIONS_CONCURRENCY');
  });

  it('reads a BI password per configured tenant, and names a short one without showing it', () => {
    const tenants = [{ id: 'acme-ke', timezone: 'UTC' }, { id: 'b', timezone: 'UTC' }];
    expect(load({ CALLBOARD_BI_PASSWORD_ACME_KE: 'long enough secret' }, { tenants }).projections.biPasswords).toEqual({ 'acme-ke': 'long enough secret' });
    const e = errorOf(() => load({ CALLBOARD_BI_PASSWORD_B: 'short' }, { tenants }));
    expect(e.setting).toBe('CALLBOARD_BI_PASSWORD_B');
    expect(e.message).not.toContain('short');
  });

  it('applies overrides over the environment, and the default file only when CALLBOARD_CONFIG is unset', () => {
    expect(loadConfig({ env: { PORT: '4000' }, file: {}, overrides: { PORT: '5000', LOG_LEVEL: undefined } }).port).toBe(5000);
    expect(errorOf(() => loadConfig({ env: {}, file: {}, overrides: { PORT: '-1' } })).setting).toBe('PORT');
    const dir = mkdtempSync(join(tmpdir(), 'callboard-config-'));
    const demo = join(dir, 'demo.yaml');
    const mine = join(dir, 'mine.yaml');
    writeFileSync(demo, 'tenants:\n  - { id: demo, timezone: UTC }\n');
    writeFileSync(mine, 'tenants:\n  - { id: mine, timezone: UTC }\n');
    expect(loadConfig({ env: {}, defaultFile: demo }).tenants.map((t) => t.id)).toEqual(['demo']);
    const own = loadConfig({ env: { CALLBOARD_CONFIG: mine }, defaultFile: demo });
    expect([own.configFile, own.tenants.map((t) => t.id)]).toEqual([mine, ['mine']]);
    expect(loadConfig({ env: {} }).configFile).toBeNull();
  });
});

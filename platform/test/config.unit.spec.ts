import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { alertSettings, alertWebhookSecret, ConfigError, loadConfig, loadConfigFile, nearestName, pbxSecret, queueSettings, tenantHours } from '../src/config.ts';

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

  it('reads a queue colour as a CSS hex colour, and names the setting when it is not one', () => {
    const file = (colour: unknown) => ({ tenants: [{ id: 'a', timezone: 'UTC' }], queues: [{ tenant: 'a', queue: 'sales' }, { tenant: 'a', queue: 'vip', colour }] });
    expect(load({}, file('#56B4E9')).queues[1]!.colour).toBe('#56b4e9');
    expect(load({}, file('#c7a')).queues[1]!.colour).toBe('#c7a');
    expect(load({}, file('#56B4E9')).queues[0]!.colour).toBeUndefined();
    for (const bad of ['blue', '56b4e9', '#56b4e', '#56b4e9ff', 5, null]) {
      const e = errorOf(() => load({}, file(bad)));
      expect(e.setting, String(bad)).toBe('queues[1].colour');
      expect(e.message.split('\n')).toHaveLength(1);
    }
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
    const e = errorOf(() => load({ API_BOARD_UPDATES_PER_SECOND: '11' }));
    expect(e.message).toBe('invalid configuration: API_BOARD_UPDATES_PER_SECOND="11": expected a number from 0.1 to 10');
    expect(errorOf(() => load({ API_MAX_DEPTH: 'deep' })).setting).toBe('API_MAX_DEPTH');
  });

  it('holds the settings the services read beside the shared ones', () => {
    const cfg = load({});
    expect(cfg.ingest).toEqual({
      opsPort: 9464,
      amiTlsCaFile: '',
      ami: { pingIntervalMs: 15_000, pingTimeoutMs: 10_000, backoffInitialMs: 500, backoffMaxMs: 30_000, authRetryMs: 60_000, lastGoodEveryMs: 5_000 },
      yeastarSReportHost: '',
      opsHost: '127.0.0.1',
      stuckAfterMs: 60_000,
      yeastarSListenHost: '0.0.0.0',
      amiMaxFrameChars: 262_144,
      spoolMaxBytes: 1024 * 1024 * 1024,
      spoolAfterMs: 5_000,
    });
    expect(cfg.projections).toEqual({ opsPort: 9465, concurrency: 2, biPasswords: {}, opsHost: '127.0.0.1' });
    expect(cfg.projections.opsPort, 'ingest and projections run on one host: distinct ops ports').not.toBe(cfg.ingest.opsPort);
    expect(cfg.simulator).toEqual({ amiSecret: '' });
    const set = load({ INGEST_OPS_PORT: '0', AMI_PING_INTERVAL_MS: '2000', YEASTAR_S_REPORT_HOST: '10.0.0.5', PROJECTIONS_CONCURRENCY: '4', PROJECTIONS_OPS_PORT: '9475', CALLBOARD_SIM_AMI_SECRET: 'x' });
    expect([set.ingest.opsPort, set.ingest.ami.pingIntervalMs, set.ingest.yeastarSReportHost, set.projections.concurrency, set.projections.opsPort, set.simulator.amiSecret]).toEqual([0, 2000, '10.0.0.5', 4, 9475, 'x']);
    expect(errorOf(() => load({ INGEST_OPS_PORT: '70000' })).setting).toBe('INGEST_OPS_PORT');
    expect(errorOf(() => load({ AMI_BACKOFF_MAX_MS: '0' })).setting).toBe('AMI_BACKOFF_MAX_MS');
    expect(errorOf(() => load({ PROJECTIONS_CONCURRENCY: 'two' })).setting).toBe('PROJECTIONS_CONCURRENCY');
  });

  it('bounds the ingest spool in MB (0 turns it off) and names its settings when out of range', () => {
    expect(load({ INGEST_SPOOL_MAX_MB: '0', INGEST_SPOOL_AFTER_MS: '250' }).ingest).toMatchObject({ spoolMaxBytes: 0, spoolAfterMs: 250 });
    expect(load({ INGEST_SPOOL_MAX_MB: '2' }).ingest.spoolMaxBytes).toBe(2 * 1024 * 1024);
    expect(errorOf(() => load({ INGEST_SPOOL_MAX_MB: '-1' })).setting).toBe('INGEST_SPOOL_MAX_MB');
    expect(errorOf(() => load({ INGEST_SPOOL_AFTER_MS: '10' })).setting).toBe('INGEST_SPOOL_AFTER_MS');
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
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const demo = join(dir, 'demo.yaml');
    const mine = join(dir, 'mine.yaml');
    writeFileSync(demo, 'tenants:\n  - { id: demo, timezone: UTC }\n');
    writeFileSync(mine, 'tenants:\n  - { id: mine, timezone: UTC }\n');
    expect(loadConfig({ env: {}, defaultFile: demo }).tenants.map((t) => t.id)).toEqual(['demo']);
    const own = loadConfig({ env: { CALLBOARD_CONFIG: mine }, defaultFile: demo });
    expect([own.configFile, own.tenants.map((t) => t.id)]).toEqual([mine, ['mine']]);
    expect(loadConfig({ env: {} }).configFile).toBeNull();
  });

  describe('a strict CALLBOARD_CONFIG file', () => {
    const tenants = [{ id: 'acme', timezone: 'UTC' }];
    const message = (file: Record<string, unknown>) => errorOf(() => load({}, file)).message;

    it('rejects a mistyped key with the nearest valid name, at every level', () => {
      expect(message({ tenants, queues: [{ tenant: 'acme', queue: 'sales', sl_treshold_s: 30 }] })).toBe(
        'invalid configuration: `queues[0].sl_treshold_s`: unknown setting, did you mean `sl_threshold_s`?',
      );
      expect(message({ tenants: [{ id: 'acme', timezone: 'UTC', weekstart: 'sunday' }] })).toBe('invalid configuration: `tenants[0].weekstart`: unknown setting, did you mean `week_start`?');
      expect(message({ tenants: [{ id: 'acme', timezon: 'Africa/Nairobi' }] })).toBe('invalid configuration: `tenants[0].timezon`: unknown setting, did you mean `timezone`?');
      expect(message({ tenantz: tenants })).toBe('invalid configuration: `tenantz`: unknown setting, did you mean `tenants`?');
      expect(message({ tenants, queue_defaults: { sl_treshold_s: 30 } })).toContain('`queue_defaults.sl_treshold_s`: unknown setting, did you mean `sl_threshold_s`?');
      expect(message({ tenants, pbxes: [{ id: 'p1', tenant: 'acme', kind: 'ami', secretenv: 'X' }] })).toContain('`pbxes[0].secretenv`: unknown setting, did you mean `secret_env`?');
      // Nothing near: the known names instead of a far-fetched guess.
      expect(message({ tenants, clickhouse: { url: 'http://ch:8123' } })).toBe('invalid configuration: `clickhouse`: unknown setting (known here: tenants, queue_defaults, queues, pbxes, schedules, agents, alerts)');
      expect(errorOf(() => load({}, { tenants, queue_defaults: [] })).setting).toBe('queue_defaults');
    });

    it('refuses a secret anywhere in the file, naming where it is', () => {
      const refused = (file: Record<string, unknown>) => {
        const e = errorOf(() => load({}, file));
        expect(e.message).toContain('a secret in the config file is refused');
        expect(e.message).not.toContain('hunter2');
        return e.setting;
      };
      expect(refused({ tenants, password: 'hunter2' })).toBe('password');
      expect(refused({ tenants: [{ id: 'acme', timezone: 'UTC', token: 'hunter2' }] })).toBe('tenants[0].token');
      expect(refused({ tenants, clickhouse: { password: 'hunter2' } })).toBe('clickhouse.password');
      expect(refused({ tenants, pbxes: [{ id: 'p1', tenant: 'acme', kind: 'ami', password: 'hunter2' }] })).toBe('pbxes[0].password');
      expect(refused({ tenants, pbxes: [{ id: 'p1', tenant: 'acme', kind: 'yeastar-p', client_secret: 'hunter2' }] })).toBe('pbxes[0].client_secret');
      expect(message({ tenants, pbxes: [{ id: 'p1', tenant: 'acme', kind: 'ami', password: 'x' }] })).toContain('set pbxes[0].secret_env to the name of an environment variable');
    });

    it('treats ids that differ only in case as the same id, and a queue listed twice as an error', () => {
      const e = errorOf(() => load({}, { tenants: [{ id: 'acme', timezone: 'UTC' }, { id: 'ACME', timezone: 'UTC' }] }));
      expect([e.setting, e.message]).toEqual(['tenants', 'invalid configuration: tenants="ACME": expected unique tenant ids (case-insensitive): "ACME" repeats "acme"']);
      const pbx = { tenant: 'acme', kind: 'ami' };
      expect(errorOf(() => load({}, { tenants, pbxes: [{ id: 'nbo', ...pbx }, { id: 'NBO', ...pbx }] })).setting).toBe('pbxes');
      const dup = errorOf(() => load({}, { tenants, queues: [{ tenant: 'acme', queue: 'sales' }, { tenant: 'acme', queue: 'support' }, { tenant: 'acme', queue: 'sales', sl_threshold_s: 30 }] }));
      expect([dup.setting, dup.message]).toEqual(['queues[2]', 'invalid configuration: queues[2]="acme/sales": expected each queue of a tenant listed once: acme/sales is listed twice']);
      // The same queue name in two tenants is two queues.
      const two = load({}, { tenants: [...tenants, { id: 'globex', timezone: 'UTC' }], queues: [{ tenant: 'acme', queue: 'sales' }, { tenant: 'globex', queue: 'sales' }] });
      expect(two.queues).toHaveLength(2);
    });

    it('says a config file is missing rather than invalid', () => {
      const e = errorOf(() => loadConfigFile('/nonexistent/callboard.yaml'));
      expect([e.setting, e.message]).toEqual(['CALLBOARD_CONFIG', 'invalid configuration: `CALLBOARD_CONFIG`: cannot read /nonexistent/callboard.yaml: no such file']);
    });

    it('takes a P-Series port from its base URL, so the port logged is the one in use', () => {
      const p = (extra: Record<string, unknown>) => load({}, { tenants, pbxes: [{ id: 'p', tenant: 'acme', kind: 'yeastar-p', ...extra }] }).pbxes[0]!.port;
      expect([p({ base_url: 'https://pbx.example.com:8088' }), p({ base_url: 'http://127.0.0.1' }), p({}), p({ base_url: 'https://x:8088', port: 9000 })]).toEqual([8088, 80, 443, 9000]);
    });

    it('loads every config file the repository ships and the README example', () => {
      const root = fileURLToPath(new URL('../../', import.meta.url));
      for (const f of ['deploy/callboard.yaml', 'deploy/callboard.demo.yaml', 'demo/demo.yaml']) {
        expect(() => loadConfig({ env: {}, file: loadConfigFile(join(root, f)) }), f).not.toThrow();
      }
      const readme = readFileSync(join(root, 'README.md'), 'utf8');
      const example = /### The `CALLBOARD_CONFIG` file[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
      expect(example, 'the README has a config example').toBeDefined();
      expect(() => loadConfig({ env: {}, file: YAML.parse(example!) as Record<string, unknown> })).not.toThrow();
      const demoDoc = readFileSync(join(root, 'docs/demo.md'), 'utf8');
      const own = /## Pointing it at real PBXes[\s\S]*?```yaml\n([\s\S]*?)```/.exec(demoDoc)?.[1];
      expect(own, 'docs/demo.md has a config example').toBeDefined();
      expect(() => loadConfig({ env: {}, file: YAML.parse(own!) as Record<string, unknown> })).not.toThrow();
    });
  });

  it('reads a secret from NAME or from the file NAME_FILE names, the variable winning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'callboard-secret-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'ch-password');
    writeFileSync(file, 'from a file\n');
    expect(load({ CLICKHOUSE_PASSWORD_FILE: file }).clickhouse.password).toBe('from a file');
    expect(load({ CLICKHOUSE_PASSWORD_FILE: file, CLICKHOUSE_PASSWORD: 'direct' }).clickhouse.password).toBe('direct');
    expect(load({ CALLBOARD_SIM_AMI_SECRET_FILE: file }).simulator.amiSecret).toBe('from a file');
    const tenants = [{ id: 'acme', timezone: 'UTC' }];
    const bi = join(dir, 'bi');
    writeFileSync(bi, 'a long enough BI password');
    expect(load({ CALLBOARD_BI_PASSWORD_ACME_FILE: bi }, { tenants }).projections.biPasswords).toEqual({ acme: 'a long enough BI password' });
    const cfg = load({}, { tenants, pbxes: [{ id: 'p1', tenant: 'acme', kind: 'ami', secret_env: 'AMI_SECRET_P1' }] });
    expect(pbxSecret(cfg.pbxes[0]!, { AMI_SECRET_P1_FILE: file })).toBe('from a file');
    const e = errorOf(() => load({ CLICKHOUSE_PASSWORD_FILE: join(dir, 'nope') }));
    expect([e.setting, e.message]).toEqual(['CLICKHOUSE_PASSWORD_FILE', `invalid configuration: \`CLICKHOUSE_PASSWORD_FILE\`: cannot read ${join(dir, 'nope')}: no such file`]);
  });

  describe('alerts', () => {
    const tenants = [{ id: 'acme', timezone: 'UTC' }, { id: 'beta', timezone: 'UTC' }];
    const webhook = { url: 'https://hooks.example.com/cb', secret_env: 'CB_ALERT_KEY_ACME' };

    it('reads per-tenant settings with defaults; a tenant not listed gets the defaults and no webhook', () => {
      const cfg = load({}, { tenants, alerts: [{ tenant: 'acme', min_duration_s: 0, hysteresis: 0.1, webhook }] });
      expect(alertSettings(cfg, 'acme')).toEqual({
        tenant: 'acme',
        min_duration_s: 0,
        hysteresis: 0.1,
        webhook: { ...webhook, min_backoff_ms: 500, max_backoff_ms: 60_000, max_attempts: 8, timeout_ms: 5000, max_queue: 1000 },
      });
      expect(alertSettings(cfg, 'beta')).toEqual({ tenant: 'beta', min_duration_s: 10, hysteresis: 0.05, webhook: null });
    });

    it('is strict: unknown keys, unknown tenants, a tenant twice, bad bounds, a secret in the file', () => {
      const bad = (alerts: unknown[]) => errorOf(() => load({}, { tenants, alerts }));
      expect(bad([{ tenant: 'acme', min_duraton_s: 5 }]).message).toContain('`alerts[0].min_duraton_s`: unknown setting, did you mean `min_duration_s`?');
      expect(bad([{ tenant: 'acme', webhook: { ...webhook, max_backof_ms: 1 } }]).message).toContain('did you mean `max_backoff_ms`?');
      expect(bad([{ tenant: 'gamma' }]).setting).toBe('alerts[0].tenant');
      expect(bad([{ tenant: 'acme' }, { tenant: 'acme', min_duration_s: 0 }]).setting).toBe('alerts');
      expect(bad([{ tenant: 'acme', hysteresis: 2 }]).setting).toBe('alerts[0].hysteresis');
      expect(bad([{ tenant: 'acme', hysteresis: '5%' }]).setting).toBe('alerts[0].hysteresis');
      expect(bad([{ tenant: 'acme', webhook: { ...webhook, url: 'ftp://x' } }]).setting).toBe('alerts[0].webhook.url');
      expect(bad([{ tenant: 'acme', webhook: { ...webhook, secret_env: 'lower case' } }]).setting).toBe('alerts[0].webhook.secret_env');
      expect(bad([{ tenant: 'acme', webhook: { url: webhook.url } }]).setting).toBe('alerts[0].webhook.secret_env');
      expect(bad([{ tenant: 'acme', webhook: { ...webhook, min_backoff_ms: 5000, max_backoff_ms: 1000 } }]).setting).toBe('alerts[0].webhook.max_backoff_ms');
      const secret = bad([{ tenant: 'acme', webhook: { url: webhook.url, secret: 'hunter2' } }]);
      expect([secret.setting, secret.message.includes('hunter2')]).toEqual(['alerts[0].webhook.secret', false]);
      expect(secret.message).toContain('set alerts[0].webhook.secret_env to the name of an environment variable');
    });

    it('reads the HMAC key from the environment variable (or its _FILE) the webhook names', () => {
      const cfg = load({}, { tenants, alerts: [{ tenant: 'acme', webhook }] });
      expect(alertWebhookSecret(cfg.alerts[0]!, { CB_ALERT_KEY_ACME: 'k3y' })).toBe('k3y');
      expect(errorOf(() => alertWebhookSecret(cfg.alerts[0]!, {})).setting).toBe('CB_ALERT_KEY_ACME');
    });
  });

  it('suggests only a near name', () => {
    expect(nearestName('--evnts', ['--events', '--tenant'])).toBe('--events');
    expect(nearestName('banana', ['tenants', 'queues'])).toBeUndefined();
  });
});

describe('business-hours schedules', () => {
  const tenants = [{ id: 'acme', timezone: 'Africa/Nairobi', schedule: 'office' }];
  const office = {
    tenant: 'acme',
    name: 'office',
    weekly: { mon: ['08:00-12:30', '13:30-17:00'], sat: ['09:00-13:00'], sun: [] },
    holidays: [{ date: '2026-12-25', name: 'Christmas Day' }],
    exceptions: [{ date: '2026-12-24', hours: ['08:00-12:00'] }],
  };
  const fail = (file: Record<string, unknown>) => {
    const e = errorOf(() => load({}, file));
    return [e.setting, e.message] as const;
  };

  it('reads weekly intervals, holidays, exceptions, the tenant default and a queue\'s own schedule', () => {
    const cfg = load({}, {
      tenants,
      schedules: [office, { tenant: 'acme', name: 'night', weekly: { mon: ['22:00-24:00', '00:00-06:00'] } }],
      queues: [{ tenant: 'acme', queue: 'sales' }, { tenant: 'acme', queue: 'support', schedule: 'night', ratio_hours: 'all' }],
    });
    const s = cfg.schedules[0]!;
    expect(s.weekly[0]).toEqual([{ from: 480, to: 750 }, { from: 810, to: 1020 }]);
    expect(s.weekly[1]).toEqual([]);
    expect(s.weekly[5]).toEqual([{ from: 540, to: 780 }]);
    expect(s.holidays).toEqual([{ date: '2026-12-25', name: 'Christmas Day' }]);
    expect(s.exceptions).toEqual([{ date: '2026-12-24', hours: [{ from: 480, to: 720 }] }]);
    // Sorted within the day, 24:00 ends it.
    expect(cfg.schedules[1]!.weekly[0]).toEqual([{ from: 0, to: 360 }, { from: 1320, to: 1440 }]);
    const hours = tenantHours(cfg, 'acme');
    expect(hours.default?.name).toBe('office');
    expect(Object.keys(hours.queues)).toEqual(['support']);
    expect(queueSettings(cfg, 'acme', 'support').ratio_hours).toBe('all');
    expect(queueSettings(cfg, 'acme', 'sales').ratio_hours).toBe('open');
    expect(tenantHours(load({}, { tenants: [{ id: 'acme', timezone: 'UTC' }] }), 'acme')).toEqual({ default: null, queues: {} });
  });

  it('names the setting of every mistake in one line', () => {
    const withSchedule = (patch: Record<string, unknown>) => ({ tenants, schedules: [{ ...office, ...patch }] });
    expect(fail(withSchedule({ weekly: { mon: ['8-17'] } }))[0]).toBe('schedules[0].weekly.mon[0]');
    expect(fail(withSchedule({ weekly: { mon: ['17:00-08:00'] } }))[0]).toBe('schedules[0].weekly.mon[0]');
    expect(fail(withSchedule({ weekly: { mon: ['08:00-24:30'] } }))[0]).toBe('schedules[0].weekly.mon[0]');
    expect(fail(withSchedule({ weekly: { mon: ['08:00-12:00', '11:00-13:00'] } }))).toEqual([
      'schedules[0].weekly.mon[1]',
      'invalid configuration: schedules[0].weekly.mon[1]="11:00-13:00": expected a range that does not overlap 08:00-12:00',
    ]);
    expect(fail(withSchedule({ weekly: { monday: ['08:00-12:00'] } }))[1]).toBe('invalid configuration: `schedules[0].weekly.monday`: unknown setting (known here: mon, tue, wed, thu, fri, sat, sun)');
    expect(fail(withSchedule({ weekly: { mon: '08:00-12:00' } }))[0]).toBe('schedules[0].weekly.mon');
    expect(fail(withSchedule({ holidays: [{ date: '2026-02-30', name: 'x' }] }))[0]).toBe('schedules[0].holidays[0].date');
    expect(fail(withSchedule({ holidays: [{ date: '2026-12-25' }] }))[0]).toBe('schedules[0].holidays[0].name');
    expect(fail(withSchedule({ holidays: [{ date: '2026-12-25', name: 'x', hours: [] }] }))[0]).toBe('schedules[0].holidays[0].hours');
    expect(fail(withSchedule({ exceptions: [{ date: '2026-12-25', hours: ['09:00-10:00'] }] }))).toEqual([
      'schedules[0].exceptions[0].date',
      'invalid configuration: schedules[0].exceptions[0].date="2026-12-25": expected a date listed once per schedule (2026-12-25 is also schedules[0].holidays[0].date)',
    ]);
    expect(fail(withSchedule({ exceptions: [{ date: '2026-12-24', hours: 'closed' }] }))[0]).toBe('schedules[0].exceptions[0].hours');
    expect(fail(withSchedule({ tenant: 'globex' }))[0]).toBe('schedules[0].tenant');
    expect(fail({ tenants, schedules: [office, { ...office, name: 'OFFICE' }] })[0]).toBe('schedules[1].name');
    expect(fail({ tenants: [{ ...tenants[0], schedule: 'offce' }], schedules: [office] })).toEqual([
      'tenants[0].schedule',
      'invalid configuration: tenants[0].schedule="offce": expected one of tenant acme\'s schedules (office)',
    ]);
    expect(fail({ tenants, schedules: [office], queues: [{ tenant: 'acme', queue: 'q', schedule: 'night' }] })[0]).toBe('queues[0].schedule');
    expect(fail({ tenants, schedules: [office], queues: [{ tenant: 'acme', queue: 'q', ratio_hours: 'closed' }] })[0]).toBe('queues[0].ratio_hours');
    expect(fail({ tenants, schedules: [office], queue_defaults: { ratio_hours: 'some' } })[0]).toBe('queue_defaults.ratio_hours');
  });
});

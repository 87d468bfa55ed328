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
});

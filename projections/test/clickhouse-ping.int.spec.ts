// ClickHouse reachability in the projections' readiness: the real engine answers SELECT 1 (ok);
// a server address that refuses, or one that accepts the connection and never answers, is an
// error within the ping's time limit.
import { createServer, type Socket } from 'node:net';
import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { afterAll, describe, expect, it } from 'vitest';
import { createClickHouse, Health, type ClickHouse } from '@callboard/platform';
import { eventually, freePort, testConfig } from '../../test/helpers.ts';
import { pingClickHouse } from '../src/main.ts';

const stops: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const s of stops.reverse()) await s();
});

const watch = (client: Pick<ClickHouse, 'client'>) => {
  const health = new Health();
  const ping = pingClickHouse(client, health, { everyMs: 100, timeoutMs: 500 });
  stops.push(() => ping.stop());
  return health;
};

describe('ClickHouse reachability', () => {
  it('ok while the engine answers', async () => {
    const ch = await createClickHouse(testConfig());
    stops.push(() => ch.close());
    const health = watch(ch);
    await eventually(() => (health.get('clickhouse')?.status === 'ok' ? true : undefined), 30_000, 'clickhouse ok');
    expect(health.ready()).toBe(true);
  });

  it('error when the server refuses the connection', async () => {
    const client = createClient({ url: `http://127.0.0.1:${await freePort()}`, log: { level: ClickHouseLogLevel.OFF } });
    stops.push(() => client.close());
    const health = watch({ client });
    const c = await eventually(() => (health.get('clickhouse')?.status === 'error' ? health.get('clickhouse') : undefined), 30_000, 'clickhouse error');
    expect(c!.detail).toMatch(/ECONNREFUSED|connect/i);
    expect(health.ready()).toBe(false);
  });

  it('error when the server takes the connection and never answers', async () => {
    const held: Socket[] = [];
    const silent = createServer((s) => held.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    stops.push(() => new Promise<void>((r) => (held.forEach((s) => s.destroy()), silent.close(() => r()))));
    const client = createClient({ url: `http://127.0.0.1:${(silent.address() as { port: number }).port}`, request_timeout: 60_000, log: { level: ClickHouseLogLevel.OFF } });
    stops.push(() => client.close());
    const health = watch({ client });
    const c = await eventually(() => (health.get('clickhouse')?.status === 'error' ? health.get('clickhouse') : undefined), 30_000, 'clickhouse error');
    expect(c!.detail).toBe('no answer to SELECT 1 within 500 ms');
    expect(held.length).toBeGreaterThan(0);
  });
});

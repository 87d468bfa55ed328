// API readiness after a restart means the live state is rebuilt: while today's events are being
// folded the public port is closed and the ops listener answers /readyz 503; the first answer a
// client gets already counts every call of the day (it said offered 0 before).
import { afterAll, describe, expect, it } from 'vitest';
import { createClickHouse, createKafka, createLogger, ensureTopics, Health, migrate, topicName, type ClickHouse } from '@callboard/platform';
import { partitionKey } from '@callboard/schemas';
import { allMigrations } from '../../cli/migrations.ts';
import { freePort, testConfig, uniqueId } from '../../test/helpers.ts';
import { startApi, type RunningApi } from '../src/main.ts';
import { createToken } from '../src/tokens.ts';
import { gql } from './client.ts';
import { queueCall } from './events.ts';

let ch: ClickHouse | undefined;
let api: RunningApi | undefined;
afterAll(async () => {
  await api?.stop();
  await ch?.close();
});

describe('API readiness', () => {
  it('opens the public port only once the live state is rebuilt; meanwhile /readyz is 503', async () => {
    const cfg = testConfig({ tenants: [{ id: 'acme', timezone: 'UTC' }] });
    ch = await createClickHouse(cfg);
    await migrate(ch, allMigrations());
    const kafka = createKafka(cfg);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, cfg);
    await admin.disconnect();

    // Enough of today in the log that the rebuild takes a while.
    const CALLS = 1500;
    const midnight = new Date().setUTCHours(0, 0, 0, 0);
    const span = Math.max(1, Date.now() - 60_000 - midnight);
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    for (let i = 0; i < CALLS; i += 250) {
      const events = Array.from({ length: Math.min(250, CALLS - i) }, (_, k) =>
        queueCall({ call: uniqueId('r'), queue: 'sales', at: new Date(midnight + Math.floor(((i + k) * span) / CALLS)).toISOString(), waitS: 0, outcome: 'answered', agent: '1001', talkS: 1 }),
      ).flat();
      await producer.send({ topic: topicName(cfg, 'events'), messages: events.map((e) => ({ key: partitionKey(e), value: JSON.stringify(e) })) });
    }
    await producer.disconnect();
    const token = (await createToken(ch, { tenant_id: 'acme', role: 'analyst' })).token;

    const [port, opsPort] = [await freePort(), await freePort()];
    const health = new Health();
    let started = false;
    const starting = startApi({ cfg, log: createLogger('api-readiness', 'warn'), health, ch, port, host: '127.0.0.1', settings: { opsPort } }).then((a) => {
      started = true;
      api = a;
      return a;
    });
    // Until startApi resolves: every /readyz that answers is 503, and the public port refuses.
    const seen = { readyz503: 0, publicAnswered: 0 };
    while (!started) {
      const ops = await fetch(`http://127.0.0.1:${opsPort}/readyz`).catch(() => null);
      const pub = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null);
      if (started) break;
      if (ops?.status === 503) seen.readyz503++;
      if (pub) seen.publicAnswered++;
    }
    await starting;
    expect(seen.publicAnswered).toBe(0);
    expect(seen.readyz503).toBeGreaterThan(0);
    expect((await fetch(`http://127.0.0.1:${opsPort}/readyz`)).status).toBe(200);

    // The very first answer counts the whole day.
    const r = await gql<{ live: { today: { offered: number; answered: number } } }>(api!.url, token, '{ live { today { offered answered } } }');
    expect(r.data!.live.today).toEqual({ offered: CALLS, answered: CALLS });
    // /metrics is on the ops listener only.
    expect(await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text()).toContain('callboard_api_live_events_total');
    const pub = await fetch(`${api!.url}/metrics`);
    expect(await pub.text()).not.toContain('callboard_api_live_events_total');
  });
});

// Ingest health that tells the truth, over real sockets: an AMI adapter pointed at a port that
// refuses is a link down (gauge 0, /readyz 503); the simulated Asterisk coming up on that port
// makes it ready; a feed whose Kafka writes keep failing makes it unready after the stuck bound.
// Yeastar links: P-Series up while its WebSocket is subscribed, S-Series once the session logged in.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createKafka,
  createLogger,
  ensureTopics,
  Health,
  startOpsServer,
  type CallboardConfig,
  type HealthReport,
  type KafkaProducer,
} from '@callboard/platform';
import { startAmiSimulator, type RunningSimulator } from '@callboard/simulator/run';
import { callCentreScenario, dayWindow } from '@callboard/simulator/scenarios';
import { startYeastarPServer } from '@callboard/simulator/yeastar-p-server';
import { startYeastarSApi } from '@callboard/simulator/yeastar-s-pusher';
import { eventually, freePort as refusedPort, testConfig, uniqueId } from '../../test/helpers.ts';
import { startIngest, type IngestService } from '../src/main.ts';

describe('ingest readiness follows the PBX links and the feeds', () => {
  let cfg: CallboardConfig;
  let producer: KafkaProducer;
  let svc: IngestService;
  let ops: Server;
  let opsUrl = '';
  let sim: RunningSimulator | null = null;
  let amiPort = 0;
  const health = new Health();

  const readyz = async () => {
    const r = await fetch(`${opsUrl}/readyz`);
    return { status: r.status, body: (await r.json()) as HealthReport };
  };
  const readyzBecomes = (status: number, what: string) =>
    eventually(async () => {
      const x = await readyz();
      return x.status === status ? x : undefined;
    }, 30_000, what);
  const linkGauge = async () => /callboard_pbx_link_up\{pbx="ast-health"\} (\d)/.exec(await (await fetch(`${opsUrl}/metrics`)).text())?.[1];

  beforeAll(async () => {
    amiPort = await refusedPort();
    Object.assign(process.env, { AMI_BACKOFF_INITIAL_MS: '100', AMI_BACKOFF_MAX_MS: '300', AMI_PING_INTERVAL_MS: '500', AMI_PING_TIMEOUT_MS: '2000', AMI_HEALTH_SECRET: 's3cret' });
    cfg = testConfig(
      {
        tenants: [{ id: 'acme', timezone: 'Africa/Nairobi' }],
        pbxes: [{ id: 'ast-health', tenant: 'acme', kind: 'ami', host: '127.0.0.1', port: amiPort, username: 'callboard', secret_env: 'AMI_HEALTH_SECRET' }],
      },
      { INGEST_STUCK_AFTER_S: '1' },
    );
    const log = createLogger('health-int', 'silent');
    const kafka = createKafka(cfg, log);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, cfg);
    await admin.disconnect();
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    ops = await startOpsServer(health, 0);
    opsUrl = `http://127.0.0.1:${(ops.address() as AddressInfo).port}`;
    svc = await startIngest(cfg, producer, log, health);
  });

  afterAll(async () => {
    await svc?.stop();
    await sim?.stop();
    await producer?.disconnect();
    await new Promise<void>((r) => (ops ? ops.close(() => r()) : r()));
  });

  it('binds the ops listener to 127.0.0.1 by default', () => {
    expect((ops.address() as AddressInfo).address).toBe('127.0.0.1');
  });

  it('every link refused: gauge 0, /healthz says why, /readyz 503', async () => {
    const r = await eventually(async () => {
      const x = await readyz();
      return x.body.links['ast-health']?.detail?.match(/refused/i) ? x : undefined;
    }, 20_000, 'the AMI adapter to report the refused connection');
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ ready: false, status: 'error', links: { 'ast-health': { up: false } } });
    expect(r.body.problems).toContain('no PBX link is up');
    expect(await linkGauge()).toBe('0');
    const h = await fetch(`${opsUrl}/healthz`);
    expect(h.status).toBe(200);
    expect(((await h.json()) as HealthReport).status).toBe('error');
  });

  it('the PBX comes up on that port: gauge 1, /readyz 200', async () => {
    const w = dayWindow('2026-11-20', 'Africa/Nairobi', 0, 0);
    const scenario = callCentreScenario({ tenant: 'acme', pbx: 'ast-health', timezone: 'Africa/Nairobi', seed: 7, from_ms: w.from_ms + 9 * 3600_000, to_ms: w.from_ms + 12 * 3600_000 });
    sim = await startAmiSimulator({ scenario, speed: 120, port: amiPort, host: '127.0.0.1', username: 'callboard', secret: 's3cret' });
    const r = await readyzBecomes(200, '/readyz 200 once the AMI link is up');
    expect(r.body.links['ast-health']).toMatchObject({ up: true });
    expect(await linkGauge()).toBe('1');
  });

  it('a feed whose Kafka writes keep failing is stuck after the bound: /readyz 503, then 200 once writes go through', async () => {
    // A disconnected producer refuses every send: the shell retries the batch and the feed waits.
    await producer.disconnect();
    const stuck = await readyzBecomes(503, '/readyz 503 while the feed is stuck');
    expect(stuck.body.links['ast-health']).toMatchObject({ up: true });
    expect(stuck.body.problems.some((p) => /^ast-health\/(raw|events|dlq) stuck, writes failing for \d+ s/.test(p))).toBe(true);
    await producer.connect();
    await eventually(async () => ((await readyz()).status === 200 ? true : undefined), 60_000, '/readyz 200 once the retried write went through');
  });

  it('the PBX goes away: the link is down and ingest unready again', async () => {
    await sim!.stop();
    sim = null;
    const r = await readyzBecomes(503, '/readyz 503 after the PBX went away');
    expect(r.body.links['ast-health']).toMatchObject({ up: false });
    expect(await linkGauge()).toBe('0');
  });
});

describe('Yeastar links', () => {
  it('P-Series is up while subscribed, S-Series once logged in; one link lost is degraded, still ready', async () => {
    const pId = uniqueId('hp');
    const sId = uniqueId('hs');
    const p = await startYeastarPServer({ client_id: 'cid', client_secret: 'p-secret' });
    const sApi = await startYeastarSApi({ username: 'api', password: 's-secret' });
    Object.assign(process.env, { CB_HEALTH_YP: 'p-secret', CB_HEALTH_YS: 's-secret' });
    const cfg = testConfig({
      tenants: [{ id: 'acme', timezone: 'Africa/Nairobi' }],
      pbxes: [
        { id: pId, tenant: 'acme', kind: 'yeastar-p', base_url: p.base_url, username: 'cid', secret_env: 'CB_HEALTH_YP' },
        { id: sId, tenant: 'acme', kind: 'yeastar-s', base_url: sApi.base_url, host: '127.0.0.1', port: await refusedPort(), username: 'api', secret_env: 'CB_HEALTH_YS' },
      ],
    });
    const kafka = createKafka(cfg, createLogger('health-int', 'silent'));
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, cfg);
    await admin.disconnect();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const health = new Health();
    const svc = await startIngest(cfg, producer, createLogger('health-int', 'silent'), health);
    let pClosed = false;
    try {
      const up = await eventually(() => {
        const r = health.report();
        return r.links[pId]?.up && r.links[sId]?.up ? r : undefined;
      }, 30_000, 'both Yeastar links up');
      expect(up).toMatchObject({ ready: true, status: 'ok' });
      await p.close();
      pClosed = true;
      const lost = await eventually(() => {
        const r = health.report();
        return r.links[pId]?.up === false ? r : undefined;
      }, 30_000, 'the P-Series link down once its server is gone');
      expect(lost).toMatchObject({ ready: true, status: 'degraded', links: { [sId]: { up: true } } });
      expect(lost.problems.some((x) => x.startsWith(`PBX link ${pId} down`))).toBe(true);
    } finally {
      await svc.stop();
      if (!pClosed) await p.close();
      await sApi.close();
      await producer.disconnect();
    }
  });
});

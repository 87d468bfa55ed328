// Yeastar adapters end to end over 127.0.0.1 against the local fake PBX endpoints (real
// protocols: OpenAPI tokens + WebSocket; S-Series login + HTTP push), through the real broker.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, createLogger, dlqTotal, ensureTopics, Health, topicName, type CallboardConfig, type KafkaProducer } from '@callboard/platform';
import type { CanonicalEvent, DlqRecord, RawRecord } from '@callboard/schemas';
import { eventually, freePort as refusedPort, readLog, testConfig, toolKafka, uniqueId } from '../../test/helpers.ts';
import { startYeastarPServer, type YeastarPServer } from '@callboard/simulator/yeastar-p-server';
import { pushSReport, startYeastarSApi } from '@callboard/simulator/yeastar-s-pusher';
import { IngestSink } from '../src/sink.ts';
import { YeastarPAdapter } from '../src/yeastar/p-adapter.ts';
import { YeastarPipeline } from '../src/yeastar/pipeline.ts';
import { YeastarSSession } from '../src/yeastar/s-api.ts';
import { pushToken, reportPath, YeastarSReceiver } from '../src/yeastar/s-receiver.ts';
import { YeastarTranslator } from '../src/yeastar/translate.ts';
import { gap } from '../src/yeastar/adapter.ts';
import { startIngest } from '../src/main.ts';
import { createServer } from 'node:net';
import { loadConfig } from '@callboard/platform';

const repoRoot = join(import.meta.dirname, '..', '..');
const fixtures = join(repoRoot, '..', 'shared', 'fixtures', 'yeastar');
const fixture = (f: string) => JSON.parse(readFileSync(join(fixtures, f), 'utf8')) as Record<string, unknown>;
const log = createLogger('yeastar-int', process.env.LOG_LEVEL ?? 'warn');

describe.skipIf(!existsSync(fixtures))('Yeastar adapters through the real broker (needs ../shared/fixtures)', () => {
  let cfg: CallboardConfig;
  let producer: KafkaProducer;
  let stopConsumer: (() => Promise<void>) | undefined;
  let sink: IngestSink;
  const raw: RawRecord[] = [];
  const events: CanonicalEvent[] = [];
  const dead: DlqRecord[] = [];

  beforeAll(async () => {
    cfg = testConfig();
    const kafka = createKafka(cfg, log);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, cfg);
    await admin.disconnect();
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    sink = new IngestSink(producer, cfg);
    stopConsumer = await readLog(toolKafka(cfg), cfg, 'yeastar-int', { raw, events, dead });
  });

  afterAll(async () => {
    await stopConsumer?.();
    await producer?.disconnect();
  });

  const eventsOf = (pbx: string, type?: string) => events.filter((e) => e.pbx_id === pbx && (!type || e.type === type));
  const dlqCount = async (reason: string) => (await dlqTotal.get()).values.filter((v) => v.labels.reason === reason).reduce((n, v) => n + v.value, 0);

  describe('P-Series OpenAPI over WebSocket', () => {
    let pbx: YeastarPServer;
    let adapter: YeastarPAdapter;
    const pbxId = uniqueId('yp');

    beforeAll(async () => {
      pbx = await startYeastarPServer({ client_id: 'client-id', client_secret: 'client-secret', access_ttl_s: 4, sn: '3651064E8358' });
      const pipeline = new YeastarPipeline(
        sink,
        new YeastarTranslator({ tenant_id: 'acme', pbx_id: pbxId, source: 'yeastar-p', timezone: 'Africa/Nairobi' }),
        log,
      );
      adapter = new YeastarPAdapter({
        pbx_id: pbxId,
        base_url: pbx.base_url,
        client_id: 'client-id',
        client_secret: 'client-secret',
        pipeline,
        health: new Health(),
        log,
        heartbeat_ms: 300,
        backoff_min_ms: 100,
        backoff_max_ms: 1000,
      });
      adapter.start();
      await pbx.waitForSubscribers(1);
    });

    afterAll(async () => {
      await adapter?.stop();
      await pbx?.close();
    });

    it('subscribes with a token, heartbeats, and writes raw first, then canonical events', async () => {
      expect(pbx.stats.tokens_issued).toBe(1);
      pbx.push(fixture('p-series-30011-call-status-ringing.json') as { type: number; msg: unknown });
      const started = await eventually(() => eventsOf(pbxId, 'call.ringing')[0], 30_000, 'call.ringing from the P-Series frame');
      expect(started.payload).toEqual({ agent_id: '1002' });
      // Raw and canonical records are on different topics: the event can be read before its raw
      // record, so wait for both rather than reading raw once.
      const r = await eventually(() => raw.find((x) => x.pbx_id === pbxId), 30_000, 'the raw P-Series frame');
      expect(r).toMatchObject({ tenant_id: 'acme', source: 'yeastar-p', format: 'json', seq: 0 });
      expect(JSON.parse(r.body)).toMatchObject({ type: 30011, sn: '3651064E8358' });
      // The event points back at its raw record.
      expect(started.raw_ref).toMatchObject({ topic: topicName(cfg, 'raw'), connection: r.connection, seq: r.seq });
      await eventually(() => (pbx.stats.heartbeats > 0 ? true : undefined), 10_000, 'a heartbeat');
    });

    it('refreshes the token before it expires, without a new get_token, and keeps receiving', async () => {
      await eventually(() => (pbx.stats.refreshes >= 1 ? true : undefined), 15_000, 'a token refresh');
      expect(pbx.stats.tokens_issued).toBe(pbx.stats.refreshes + 1);
      // The socket moves to the new token make-before-break: a second subscription, no gap, and
      // the replaced token is revoked.
      await eventually(() => (pbx.stats.subscriptions >= 2 && pbx.subscribers() === 1 && pbx.stats.revokes >= 1 ? true : undefined), 15_000, 'socket rotation');
      expect(eventsOf(pbxId, 'source.gap')).toEqual([]);
      pbx.push({ type: 30011, msg: (fixture('p-series-30011-call-status-answered.json') as { msg: unknown }).msg });
      const answered = await eventually(() => eventsOf(pbxId, 'call.answered')[0], 30_000, 'call.answered');
      expect(answered.payload).toMatchObject({ agent_id: '1002' });
    });

    it('recovers when the token expires mid-connection: refresh, reconnect, re-subscribe, source.gap', async () => {
      const subsBefore = pbx.stats.subscriptions;
      const gets = pbx.stats.tokens_issued - pbx.stats.refreshes;
      pbx.expireTokens();
      const g = await eventually(() => eventsOf(pbxId, 'source.gap')[0], 30_000, 'source.gap after token expiry');
      expect((g.payload as { reason: string }).reason).toMatch(/4001|expired/);
      expect(pbx.stats.subscriptions).toBeGreaterThan(subsBefore);
      // Recovered with the refresh token, not by asking for a new token.
      expect(pbx.stats.tokens_issued - pbx.stats.refreshes).toBe(gets);
      pbx.push(fixture('p-series-30029-agent-status-changed.json') as { type: number; msg: unknown }, { msg_as_object: true });
      await eventually(
        () =>
          eventsOf(pbxId, 'agent.state_changed').find((e) => 'agent_id' in e && e.agent_id === '1002' && (e.payload as { state: string }).state === 'paused'),
        30_000,
        'paused after reconnect',
      );
    });

    it('a dropped socket: reconnect with backoff, query calls and agents, correct the live state, emit source.gap', async () => {
      const gapsBefore = eventsOf(pbxId, 'source.gap').length;
      pbx.setState({
        calls: [
          {
            call_id: '1790197458.5215',
            members: [
              {
                inbound: {
                  from: '0111050596',
                  to: '1002',
                  trunk_name: 'Saf',
                  channel_id: 'PJSIP/trunk-Saf-endpoint-00000a1b',
                  member_status: 'ANSWERED',
                  call_path: '',
                },
              },
              { extension: { number: '1002', channel_id: 'PJSIP/1002-00000a1c', member_status: 'HOLD', call_path: '' } },
            ],
          },
        ],
        queues: [{ id: 1, number: '6400', agents: (fixture('p-series-queue-agent-status-response.json') as { data: Record<string, unknown>[] }).data }],
        // A call that ended while the socket was down: only the CDR back-fill can tell.
        cdrs: [{ ...fixture('p-series-cdr-search-row-v2.json'), timestamp: Math.floor(Date.now() / 1000) - 10 }],
      });
      expect(pbx.dropSockets()).toBe(1);
      await eventually(() => (eventsOf(pbxId, 'source.gap').length > gapsBefore ? true : undefined), 30_000, 'second source.gap');
      // What happened during the gap is learnt from call/query and queue/agent_status.
      const held = await eventually(() => eventsOf(pbxId, 'call.held')[0], 10_000, 'call.held from the resync');
      expect(held.payload).toMatchObject({ agent_id: '1002' });
      await eventually(
        () =>
          eventsOf(pbxId, 'agent.state_changed').find((e) => 'agent_id' in e && e.agent_id === '1001' && (e.payload as { state: string }).state === 'paused'),
        10_000,
        'agent 1001 paused from the resync',
      );
      const backfilled = await eventually(
        () => eventsOf(pbxId, 'call.ended').find((e) => 'call_id' in e && e.call_id === '1777304494.97'),
        10_000,
        'call.ended from the CDR back-fill',
      );
      expect(backfilled.payload).toMatchObject({ disposition: 'ANSWERED', duration_ms: 62000, billsec_ms: 44000 });
      // The raw record is on another topic: read until it arrives, not once.
      await eventually(
        () => (raw.some((r) => r.pbx_id === pbxId && JSON.parse(r.body).uid === '20260427184134D5F8F') ? true : undefined),
        10_000,
        'raw record of the back-filled CDR',
      );
      expect(pbx.stats.rest_calls['call/query']).toBeGreaterThanOrEqual(2);
      expect(pbx.stats.rest_calls['queue/agent_status']).toBeGreaterThanOrEqual(1);
      // Frames after the reconnect still flow.
      pbx.push(fixture('p-series-30011-call-status-bye.json') as { type: number; msg: unknown });
      await eventually(() => eventsOf(pbxId, 'call.agent_completed')[0], 30_000, 'agent_completed after reconnect');
    });

    it('an unparseable frame is dead-lettered with the body, nothing lost, the DLQ counter goes up', async () => {
      const before = await dlqCount('UNPARSEABLE_JSON');
      pbx.pushText('{"type":30011,"sn":"x","msg":');
      const d = await eventually(() => dead.find((x) => x.pbx_id === pbxId && x.reason_code === 'UNPARSEABLE_JSON'), 30_000, 'DLQ record');
      expect(d).toMatchObject({ stage: 'ingest', source: 'yeastar-p', original: '{"type":30011,"sn":"x","msg":' });
      expect(await dlqCount('UNPARSEABLE_JSON')).toBe(before + 1);
    });

    it('holds few tokens and revokes them on stop', async () => {
      expect(pbx.validTokens()).toBeLessThanOrEqual(2);
      await adapter.stop();
      expect(pbx.validTokens()).toBe(0);
      expect(pbx.stats.revokes).toBeGreaterThanOrEqual(1);
    });
  });

  describe('S-Series API v2.0.0 push', () => {
    const pbxId = uniqueId('ys');
    const secret = 'push-secret';
    let receiver: YeastarSReceiver;
    let port: number;
    let url: string;
    let pipeline: YeastarPipeline;

    beforeAll(async () => {
      pipeline = new YeastarPipeline(sink, new YeastarTranslator({ tenant_id: 'acme', pbx_id: pbxId, source: 'yeastar-s', timezone: 'Pacific/Pitcairn' }), log);
      receiver = new YeastarSReceiver({ targets: [{ pbx_id: pbxId, secret, allow_from: ['127.0.0.1'], host: '127.0.0.1', pipeline }], log });
      port = await receiver.listen(0, '127.0.0.1');
      url = `http://127.0.0.1:${port}${reportPath(pbxId, secret)}`;
    });

    afterAll(async () => {
      await receiver?.close();
    });

    it('logs in (MD5 password, report destination) and receives reports at the registered URL; 200 after Kafka', async () => {
      const api = await startYeastarSApi({ username: 'api', password: secret });
      const session = new YeastarSSession({
        pbx_id: pbxId,
        base_url: api.base_url,
        username: 'api',
        secret,
        report_port: port,
        report_url: reportPath(pbxId, secret),
        log,
        heartbeat_ms: 200,
        login_retry_ms: 200,
        onGap: (from, why) => gap(pipeline, from, why),
      });
      try {
        session.start();
        await api.waitForLogin();
        expect(api.destination()).toEqual({ ip: '127.0.0.1', port, url: reportPath(pbxId, secret) });
        const res = await api.pushReport(fixture('s-series-v2-callstatus-answered-inbound-queue.json'), { max_attempts: 3, retry_ms: 100 });
        expect(res).toMatchObject({ status: 200, attempts: 1 });
        expect(JSON.parse(res.body)).toEqual({ status: 'Success' });
        // 200 means Kafka has the raw report already.
        await eventually(() => raw.find((r) => r.pbx_id === pbxId), 10_000, 'raw report');
        const answered = await eventually(() => eventsOf(pbxId, 'call.answered')[0], 30_000, 'call.answered');
        expect(answered.payload).toMatchObject({ agent_id: '1020', queue: '6700', leg_id: '1571901993.46:6700:1' });

        // The token lapses: the heartbeat is refused, the session logs in again, the span is a gap.
        await eventually(() => (api.stats.heartbeats > 0 ? true : undefined), 10_000, 'heartbeat');
        api.expireTokens();
        await api.waitForLogin(2);
        const g = await eventually(() => eventsOf(pbxId, 'source.gap')[0], 30_000, 'source.gap after re-login');
        expect((g.payload as { reason: string }).reason).toMatch(/heartbeat refused/);
      } finally {
        await session.stop();
        await api.close();
      }
      expect(api.stats.logouts).toBe(1);
    });

    it('a re-sent report is written again raw but gives the same canonical event ids', async () => {
      const report = fixture('s-series-v2-newcdr-internal.json');
      expect((await pushSReport(url, report, { max_attempts: 1 })).status).toBe(200);
      expect((await pushSReport(url, report, { max_attempts: 1 })).status).toBe(200);
      const ended = await eventually(
        () => {
          const xs = eventsOf(pbxId, 'call.ended');
          return xs.length >= 2 ? xs : undefined;
        },
        30_000,
        'two call.ended',
      );
      expect(new Set(ended.map((e) => e.event_id)).size).toBe(1);
      expect(ended[0]!.payload).toMatchObject({ disposition: 'ANSWERED', duration_ms: 19000, billsec_ms: 14000 });
      expect(ended[0]!.occurred_at).toBe('2019-10-24T06:19:09.000Z');
    });

    it('malformed JSON: 400 with the reason, the body kept in the DLQ, the DLQ counter up', async () => {
      const before = await dlqCount('UNPARSEABLE_JSON');
      const body = '{"event":"CallStatus","callid":"1571901993.46",';
      const res = await pushSReport(url, body, { max_attempts: 1 });
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({ status: 'Failed', error: 'bad_request', reason: expect.stringMatching(/not JSON/) });
      const d = await eventually(() => dead.find((x) => x.pbx_id === pbxId && x.original === body), 30_000, 'DLQ record of the body');
      expect(d).toMatchObject({ stage: 'ingest', source: 'yeastar-s', reason_code: 'UNPARSEABLE_JSON' });
      expect(await dlqCount('UNPARSEABLE_JSON')).toBe(before + 1);
    });

    it('rejects addresses outside allow_from (403), a wrong or missing push token (401), unknown paths (404), GET (405)', async () => {
      const report = fixture('s-series-v2-extensionstatus-ringing.json');
      const from2 = await pushSReport(url, report, { max_attempts: 1, local_address: '127.0.0.2' });
      expect(from2.status).toBe(403);
      expect(JSON.parse(from2.body)).toMatchObject({ error: 'forbidden', reason: expect.stringContaining('127.0.0.2') });
      const wrong = await pushSReport(`http://127.0.0.1:${port}/yeastar-s/${pbxId}/${pushToken(pbxId, 'not-the-secret')}`, report, { max_attempts: 1 });
      expect(wrong.status).toBe(401);
      expect(JSON.parse(wrong.body)).toMatchObject({ error: 'unauthorized', reason: expect.stringContaining('wrong push token') });
      expect((await pushSReport(`http://127.0.0.1:${port}/yeastar-s/${pbxId}`, report, { max_attempts: 1 })).status).toBe(401);
      expect((await pushSReport(`http://127.0.0.1:${port}/yeastar-s/nobody/x`, report, { max_attempts: 1 })).status).toBe(404);
      const get = await fetch(url);
      expect(get.status).toBe(405);
      // None of the rejected reports reached Kafka. A report accepted afterwards is a barrier: raw
      // records of one PBX share a key, so anything written before it is read before it.
      expect((await pushSReport(url, fixture('s-series-v2-configchange.json'), { max_attempts: 1 })).status).toBe(200);
      await eventually(() => raw.find((r) => r.pbx_id === pbxId && r.body.includes('ConfigChange')), 30_000, 'the accepted barrier report');
      expect(raw.filter((r) => r.pbx_id === pbxId && r.body.includes('ExtensionStatus'))).toEqual([]);
    });

    it('answers 503 (and the PBX retries) when Kafka does not acknowledge the raw report', async () => {
      // A producer whose broker refuses connections: every send fails once the client's retries are spent.
      const idle = createKafka({ kafka: { ...cfg.kafka, brokers: [`127.0.0.1:${await refusedPort()}`] } }, log).producer();
      const deadPipeline = new YeastarPipeline(
        new IngestSink(idle, cfg),
        new YeastarTranslator({ tenant_id: 'acme', pbx_id: `${pbxId}x`, source: 'yeastar-s', timezone: 'UTC' }),
        log,
      );
      const r2 = new YeastarSReceiver({ targets: [{ pbx_id: `${pbxId}x`, secret, allow_from: [], host: '127.0.0.1', pipeline: deadPipeline }], log });
      const p2 = await r2.listen(0, '127.0.0.1');
      try {
        const res = await pushSReport(`http://127.0.0.1:${p2}${reportPath(`${pbxId}x`, secret)}`, fixture('s-series-v2-invite.json'), {
          max_attempts: 2,
          retry_ms: 50,
        });
        expect(res.status).toBe(503);
        expect(res.attempts).toBe(2);
        expect(JSON.parse(res.body)).toMatchObject({ error: 'unavailable' });
      } finally {
        await r2.close();
        await idle.disconnect();
      }
    });
  });

  describe('the ingest service with Yeastar PBXes in its configuration (adapter registry)', () => {
    it('starts yeastar-p and yeastar-s from config, with secrets from the named environment variables', async () => {
      const pId = uniqueId('cp');
      const sId = uniqueId('cs');
      const freePort = await new Promise<number>((resolve) => {
        const srv = createServer().listen(0, '127.0.0.1', () => {
          const port = (srv.address() as { port: number }).port;
          srv.close(() => resolve(port));
        });
      });
      const p = await startYeastarPServer({ client_id: 'cid', client_secret: 'p-secret' });
      const sApi = await startYeastarSApi({ username: 'api', password: 's-secret' });
      process.env.CB_TEST_YP_SECRET = 'p-secret';
      process.env.CB_TEST_YS_SECRET = 's-secret';
      const file = {
        tenants: [{ id: 'acme', timezone: 'Africa/Nairobi' }],
        queues: [{ tenant: 'acme', queue: '6700' }],
        pbxes: [
          { id: pId, tenant: 'acme', kind: 'yeastar-p', base_url: p.base_url, username: 'cid', secret_env: 'CB_TEST_YP_SECRET' },
          {
            id: sId,
            tenant: 'acme',
            kind: 'yeastar-s',
            base_url: sApi.base_url,
            host: '127.0.0.1',
            port: freePort,
            username: 'api',
            secret_env: 'CB_TEST_YS_SECRET',
          },
        ],
      };
      const withPbxes = { ...loadConfig({ env: { KAFKA_BROKERS: cfg.kafka.brokers.join(','), KAFKA_TOPIC_PREFIX: cfg.kafka.topicPrefix }, file }) };
      const svc = await startIngest(withPbxes, producer, log);
      try {
        await p.waitForSubscribers(1);
        await sApi.waitForLogin();
        expect(sApi.destination()).toMatchObject({ ip: '127.0.0.1', port: freePort });
        p.push(fixture('p-series-30011-call-status-queue-inbound-ringing.json') as { type: number; msg: unknown });
        const res = await sApi.pushReport(fixture('s-series-v2-callstatus-answered-inbound-queue.json'), { max_attempts: 5, retry_ms: 100 });
        expect(res.status).toBe(200);
        // P-Series: call_path 6400 is not one of the tenant's configured queues, so no leg opens.
        const ringing = await eventually(() => eventsOf(pId, 'call.ringing')[0], 30_000, 'P-Series ringing via the service');
        expect(ringing.payload).toEqual({ agent_id: '1001' });
        expect(eventsOf(pId, 'call.queued')).toEqual([]);
        const answered = await eventually(() => eventsOf(sId, 'call.answered')[0], 30_000, 'S-Series answered via the service');
        expect(answered.payload).toMatchObject({ agent_id: '1020', queue: '6700' });
        expect(svc.health.get(`yeastar-p:${pId}`)?.status).toBe('ok');
        expect(svc.health.get(`yeastar-s:${sId}`)?.status).toBe('ok');
      } finally {
        await svc.stop();
        await p.close();
        await sApi.close();
      }
      expect(p.validTokens()).toBe(0);
      expect(sApi.stats.logouts).toBe(1);
    });
  });
});

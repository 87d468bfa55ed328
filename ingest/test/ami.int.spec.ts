// The AMI adapter end to end on the real broker: a test AMI endpoint on 127.0.0.1 replays a
// real Asterisk 22 capture with its recorded chunking; the ingest service (registry, adapter,
// sink) writes raw frames and canonical events; the endpoint drops the socket and goes silent
// (half-open), the adapter reconnects, resynchronises and reports the gap; a wrong password
// shows in health and is not retried in a loop.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, createLogger, ensureTopics, Health, topicName, type CallboardConfig, type KafkaProducer } from '@callboard/platform';
import { validateEvent, type CanonicalEvent, type RawRecord } from '@callboard/schemas';
import { startIngest, type IngestService } from '../src/main.ts';
import { eventually, readLog, testConfig, toolKafka } from '../../test/helpers.ts';
import { startTestAmiServer, type TestAmiServer } from './ami-test-server.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CAPTURE = join(repoRoot, '..', 'shared', 'fixtures', 'ami', 'asterisk22', 'b_abandon', 'capture.ami');
const run = promisify(execFile);
const callboard = (args: string[], env: Record<string, string>) =>
  run(process.execPath, [join(repoRoot, 'bin', 'callboard.mjs'), ...args], { env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
const testStart = new Date(Date.now() - 60_000).toISOString();

describe.skipIf(!existsSync(CAPTURE))('AMI adapter against a live AMI endpoint (needs ../shared/fixtures)', () => {
  let server: TestAmiServer;
  let cfg: CallboardConfig;
  let producer: KafkaProducer;
  let svc: IngestService;
  const health = new Health();
  const raw: RawRecord[] = [];
  const events: CanonicalEvent[] = [];
  let stopConsumer: () => Promise<void>;

  beforeAll(async () => {
    server = await startTestAmiServer(CAPTURE, { username: 'callboard', secret: 'right-secret' });
    // The secrets are read from the process environment when a PBX connects; the timers are config.
    Object.assign(process.env, { AMI_IT_SECRET: 'right-secret', AMI_IT_WRONG: 'wrong-secret' });
    const timers = {
      AMI_PING_INTERVAL_MS: '300',
      AMI_PING_TIMEOUT_MS: '1000',
      AMI_BACKOFF_INITIAL_MS: '200',
      AMI_AUTH_RETRY_MS: '60000',
      AMI_LAST_GOOD_EVERY_MS: '100',
    };
    cfg = testConfig(
      {
        tenants: [{ id: 'acme', timezone: 'Europe/Berlin' }],
        pbxes: [
          { id: 'ast1', tenant: 'acme', kind: 'ami', host: '127.0.0.1', port: server.port, username: 'callboard', secret_env: 'AMI_IT_SECRET' },
          { id: 'ast-badpw', tenant: 'acme', kind: 'ami', host: '127.0.0.1', port: server.port, username: 'callboard', secret_env: 'AMI_IT_WRONG' },
        ],
      },
      timers,
    );
    const log = createLogger('ami-int', 'warn');
    const kafka = createKafka(cfg, log);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, cfg);
    await admin.disconnect();
    stopConsumer = await readLog(toolKafka(cfg), cfg, 'reader', { raw, events });
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    svc = await startIngest(cfg, producer, log, health);
  });

  afterAll(async () => {
    await svc?.stop();
    await producer?.disconnect();
    await stopConsumer?.();
    await server?.close();
  });

  // Kafka delivers at least once (a producer retry or the reader's rebalance can repeat a
  // message); the contract dedups by event_id, so a repeat of one id is one event. Two events with
  // different ids for one answer would still count twice.
  const ofType = (t: string) => [...new Map(events.filter((e) => e.type === t && e.pbx_id === 'ast1').map((e) => [e.event_id, e])).values()];

  it('writes every received frame to pbx.raw.v1 and the translated calls to cc.events.v1', async () => {
    await server.replayed;
    // b_abandon: 2 answered, 3 abandoned (see its ledger.json).
    await eventually(() => (ofType('call.ended').length >= 5 ? true : undefined), 60_000, 'five call.ended events');
    expect(ofType('call.abandoned')).toHaveLength(3);
    expect(
      ofType('call.answered')
        .map((e) => (e.payload as { agent_id: string }).agent_id)
        .sort(),
    ).toEqual(['1001', '1002']);
    for (const e of events) expect(validateEvent(e).ok).toBe(true);
    // Raw is verbatim: banner, login reply, the replayed capture frames, resync replies, pongs. It
    // is read from its own topic, which may trail the events topic: wait for it.
    const mine = await eventually(() => {
      const m = raw.filter((r) => r.pbx_id === 'ast1');
      return m.length >= 521 ? m : undefined;
    }, 60_000, 'the raw records of the capture');
    expect(mine.length).toBeGreaterThanOrEqual(521);
    expect(mine[0]).toMatchObject({ tenant_id: 'acme', source: 'ami', format: 'ami', seq: 0, body: 'Asterisk Call Manager/11.0.0\r\n' });
    const first = mine.filter((r) => r.connection === mine[0]!.connection);
    expect(first.map((r) => r.seq)).toEqual(first.map((_, i) => i));
    expect(mine.some((r) => r.body.startsWith('Event: QueueCallerAbandon\r\n'))).toBe(true);
    // Canonical events point back at their raw record.
    const ab = ofType('call.abandoned')[0]!;
    expect(ab.raw_ref).toMatchObject({ topic: topicName(cfg, 'raw'), connection: mine[0]!.connection });
    expect(health.get('pbx:ast1')?.status).toBe('ok');
  });

  it('reports a wrong password in health, and retries it slowly', async () => {
    const h = await eventually(
      () => (health.get('pbx:ast-badpw')?.status === 'error' ? health.get('pbx:ast-badpw') : undefined),
      20_000,
      'auth error in health',
    );
    expect(h.detail).toMatch(/login rejected for AMI user "callboard": Authentication failed; retrying in 60 s/);
    // A retry in a loop would come after the 200 ms reconnect backoff: once the error has stood
    // for several of those, exactly one failed login shows it waits for AMI_AUTH_RETRY_MS instead.
    await eventually(() => (Date.now() - Date.parse(h.since) >= 1500 ? true : undefined), 10_000, 'the auth error to stand for 1.5 s');
    expect(server.logins.filter((l) => !l.ok)).toHaveLength(1);
  });

  it('after the endpoint drops the socket: reconnects, resynchronises and emits source.gap', async () => {
    const connections = () => new Set(raw.filter((r) => r.pbx_id === 'ast1').map((r) => r.connection)).size;
    const before = connections();
    server.drop();
    const gap = await eventually(() => ofType('source.gap')[0], 30_000, 'source.gap');
    const p = gap.payload as { from: string; to: string; reason: string };
    expect(Date.parse(p.from)).toBeLessThan(Date.parse(p.to));
    expect(p.reason).toMatch(/closed the connection/);
    await eventually(() => (connections() > before ? true : undefined), 10_000, 'a new connection in the raw stream');
    // The resync replies (members) went through raw and the translator; agents are not lost. The
    // raw topic is read by its own consumer and can trail the events: wait for it (a run under
    // stress-ng read it once too early).
    await eventually(
      () => (raw.some((r) => r.pbx_id === 'ast1' && r.body.includes('ActionID: callboard-resync-') && r.body.startsWith('Event: QueueMember\r\n')) ? true : undefined),
      20_000,
      'the resync replies in pbx.raw.v1',
    );
    expect(ofType('agent.queue_left')).toHaveLength(0);
    await eventually(() => (health.get('pbx:ast1')?.status === 'ok' ? true : undefined), 20_000, 'the link healthy again');
  });

  it('detects a half-open link (pings unanswered) and reconnects', async () => {
    const gaps = ofType('source.gap').length;
    server.mute(true);
    await eventually(() => (health.get('pbx:ast1')?.status === 'degraded' ? true : undefined), 20_000, 'degraded health');
    server.mute(false);
    const gap = await eventually(() => ofType('source.gap')[gaps], 30_000, 'second source.gap');
    expect((gap.payload as { reason: string }).reason).toMatch(/no reply to Ping/);
  });

  it('callboard retranslate re-emits the same events, with the same ids, from pbx.raw.v1', async () => {
    const { stdout, stderr } = await callboard(
      ['retranslate', '--from', testStart, '--to', new Date(Date.now() + 60_000).toISOString(), '--pbx', 'ast1', '--stdout'],
      {
        KAFKA_BROKERS: cfg.kafka.brokers.join(','),
        KAFKA_TOPIC_PREFIX: cfg.kafka.topicPrefix,
        LOG_LEVEL: 'warn',
      },
    );
    expect(stderr).toMatch(/retranslate: \d+ canonical events/);
    const again = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as CanonicalEvent);
    const live = events.filter((e) => e.pbx_id === 'ast1' && e.type !== 'source.gap');
    // Idempotent downstream: every live event comes back with the same id and content.
    const byId = new Map(again.map((e) => [e.event_id, e]));
    for (const e of live) expect(byId.get(e.event_id), `${e.type} ${e.event_id}`).toEqual(e);
    expect(again.filter((e) => e.type === 'call.abandoned')).toHaveLength(3);
  });

  it('after an ingest restart, the first connection reports the gap since the previous process', async () => {
    // The mark is written every 100 ms here (AMI_LAST_GOOD_EVERY_MS) while frames arrive.
    const markPath = join(cfg.dataDir, 'ingest', 'ami-ast1.last-good');
    await eventually(
      () => (existsSync(markPath) && Number(readFileSync(markPath, 'utf8')) > Date.now() - 2000 ? true : undefined),
      10_000,
      'a fresh last-connected mark',
    );
    const before = ofType('source.gap').length;
    await svc.stop();
    const stoppedAt = Date.now();
    svc = await startIngest(cfg, producer, createLogger('ami-int-2', 'warn'), health);
    const gap = await eventually(() => ofType('source.gap')[before], 30_000, 'source.gap after restart');
    const p = gap.payload as { from: string; to: string; reason: string };
    expect(p.reason).toBe('ingest was not running');
    expect(Date.parse(p.from)).toBeLessThanOrEqual(stoppedAt);
    expect(Date.parse(p.from)).toBeGreaterThan(stoppedAt - 20_000);
    expect(Date.parse(p.to)).toBeGreaterThanOrEqual(stoppedAt);
  });
});

describe.skipIf(!existsSync(CAPTURE))('callboard translate (needs ../shared/fixtures)', () => {
  it('prints the canonical events of a capture as NDJSON, problems and a summary on stderr', async () => {
    const { stdout, stderr } = await callboard(['translate', '--source', 'ami', '--tenant', 'acme', '--pbx', 'ast1', CAPTURE], { LOG_LEVEL: 'warn' });
    const out = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as CanonicalEvent);
    for (const e of out) expect(validateEvent(e).ok).toBe(true);
    expect(out.filter((e) => e.type === 'call.abandoned')).toHaveLength(3);
    expect(out.filter((e) => e.type === 'call.ended')).toHaveLength(5);
    expect(out.every((e) => e.tenant_id === 'acme' && e.pbx_id === 'ast1' && e.raw_ref?.topic === 'file')).toBe(true);
    expect(stderr).toMatch(/capture\.ami: \d+ canonical events, 0 untranslatable frames/);
  });

  it('without Timestamp headers it uses file order from --start and says so', async () => {
    const { stderr } = await callboard(
      ['translate', '--source', 'ami', '--start', '2014-08-27T00:00:00Z', join(repoRoot, '..', 'shared', 'fixtures', 'ami', 'panoramisk', 'queue_status.yaml')],
      { LOG_LEVEL: 'warn' },
    );
    expect(stderr).toMatch(/no Timestamp headers .* file order from 2014-08-27T00:00:00.000Z/);
  });

  it('refuses an unknown source with a clear message', async () => {
    await expect(callboard(['translate', '--source', 'nope', CAPTURE], {})).rejects.toMatchObject({
      stderr: expect.stringMatching(/--source nope: no translator/),
    });
  });
});

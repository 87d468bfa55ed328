// `callboard replay --source yeastar`: a P-Series capture (raw records and bare frames mixed, as
// the translate command reads them) played through the live Yeastar pipeline and the real
// broker gives exactly the canonical events the offline translation of the same capture gives —
// ids, times and payloads — paced (--speed 1000) or at --speed max.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, createLogger, ensureTopics, type CallboardConfig, type KafkaProducer } from '@callboard/platform';
import type { CanonicalEvent, DlqRecord, RawRecord } from '@callboard/schemas';
import { pAgentStatus, pCallStatus, pNewCdr, type PMember } from '@callboard/simulator/yeastar-p-server';
import { replayYeastar } from '../src/import/replay-yeastar.ts';
import { IngestSink } from '../src/sink.ts';
import { translateYeastarText } from '../src/yeastar/offline.ts';
import { eventually, readLog, testConfig, toolKafka, uniqueId } from '../../test/helpers.ts';

const log = createLogger('replay-yeastar-test', process.env.LOG_LEVEL ?? 'warn');
const ZONE = 'Africa/Nairobi';
const CALL = '1790300000.41';
const T0 = 1790300000_000 + 2_000;
const frame = (f: { type: number; msg: unknown }, asObject = false) =>
  JSON.stringify({ type: f.type, sn: '3651064E8358', msg: asObject ? f.msg : JSON.stringify(f.msg) });
const raw = (body: string, at: number) => JSON.stringify({ body, received_at: new Date(at).toISOString(), source: 'yeastar-p', format: 'json' });
const caller: PMember = { inbound: { from: '0711000001', to: '6400', trunk: 'Saf' }, channel: 'PJSIP/trunk-1', status: 'ANSWERED', call_path: '6400' };
const agent = (status: 'RING' | 'ANSWER' | 'BYE'): PMember => ({ extension: '1001', channel: 'PJSIP/1001-1', status, call_path: '6400' });

/** A queue call rung, answered and hung up, its CDR, an agent's pause, and a line that is not JSON. */
const CAPTURE = [
  raw(frame(pCallStatus(CALL, [caller, agent('RING')])), T0),
  raw(frame(pCallStatus(CALL, [caller, agent('ANSWER')])), T0 + 12_000),
  raw(frame(pCallStatus(CALL, [{ ...caller, status: 'BYE' }, agent('BYE')])), T0 + 100_000),
  // bare: one second after the line before
  frame(
    pNewCdr({
      call_id: CALL,
      start: new Date(T0),
      timezone: ZONE,
      call_from: '0711000001',
      call_to: '6400',
      call_duration_s: 100,
      talk_duration_s: 88,
      status: 'ANSWERED',
      type: 'Inbound',
      src_trunk: 'Saf',
    }),
  ),
  frame(pAgentStatus('6400', '1001', 'Paused', 'Lunch'), true),
  'not json at all',
].join('\n');

describe('replay --source yeastar through the real broker', () => {
  let cfg: CallboardConfig;
  let producer: KafkaProducer;
  let stopConsumer: (() => Promise<void>) | undefined;
  const events: CanonicalEvent[] = [];
  const raws: RawRecord[] = [];
  const dead: DlqRecord[] = [];
  const capture = join(mkdtempSync(join(tmpdir(), 'replay-yeastar-')), 'capture.jsonl');

  beforeAll(async () => {
    writeFileSync(capture, CAPTURE + '\n');
    cfg = testConfig();
    const kafka = createKafka(cfg, log);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, cfg);
    await admin.disconnect();
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    stopConsumer = await readLog(toolKafka(cfg), cfg, 'replay-yeastar', { raw: raws, events, dead });
  });
  afterAll(async () => {
    await stopConsumer?.();
    await producer?.disconnect();
  });

  const comparable = (e: CanonicalEvent) => ({ ...e, raw_ref: null });
  const byId = (a: { event_id: string }, b: { event_id: string }) => a.event_id.localeCompare(b.event_id);

  it.each([
    ['paced', 1000],
    ['max', Infinity],
  ])('%s: the same canonical events as the offline translation of the capture', async (_name, speed) => {
    const pbx = uniqueId('yrp');
    const tenant = 'acme';
    const expected = translateYeastarText(CAPTURE, { source: 'yeastar-p', tenant_id: tenant, pbx_id: pbx, timezone: ZONE, queues: ['6400'] });
    expect(expected.events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['call.started', 'call.queued', 'call.answered', 'call.ended', 'agent.state_changed']),
    );
    expect(expected.dlq).toHaveLength(1);

    const r = await replayYeastar({
      capture,
      source: 'yeastar-p',
      timezone: ZONE,
      queues: ['6400'],
      speed,
      tenant_id: tenant,
      pbx_id: pbx,
      sink: new IngestSink(producer, cfg),
      log,
    });
    expect(r.messages).toBe(6);
    const got = await eventually(
      () => {
        const mine = events.filter((e) => e.pbx_id === pbx);
        return mine.length >= expected.events.length ? mine : undefined;
      },
      60_000,
      'the replayed events on cc.events.v1',
    );
    expect(got.map(comparable).sort(byId)).toEqual(expected.events.map(comparable).sort(byId));
    // every event points at its raw record, each message that is JSON has one, in capture order
    const mineRaw = await eventually(
      () => {
        const x = raws.filter((e) => e.pbx_id === pbx);
        return x.length >= 5 ? x : undefined;
      },
      60_000,
      'the raw records',
    );
    expect(mineRaw.map((x) => x.received_at)).toEqual([0, 12_000, 100_000, 101_000, 102_000].map((d) => new Date(T0 + d).toISOString()));
    expect(got.every((e) => e.raw_ref && mineRaw.some((x) => x.connection === (e.raw_ref as { connection: string }).connection))).toBe(true);
    await eventually(
      () => (dead.some((d) => d.pbx_id === pbx && d.reason_code === 'UNPARSEABLE_JSON') ? true : undefined),
      60_000,
      'the line that is not JSON in the DLQ',
    );
  });
});

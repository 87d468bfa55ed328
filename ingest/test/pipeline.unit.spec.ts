// The ingest shell without Kafka: what outcomes become (events, dead letters with one set of
// reason codes), the retry policy, and re-translation of raw records through the same shell.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '@callboard/platform';
import { DLQ_REASONS, makeEvent, type CanonicalEvent, type DlqRecord, type RawRecord, type RawRef } from '@callboard/schemas';
import { ProtocolError, ResponseError, MultipleErrors, NetworkError } from '@platformatic/kafka';
import { dlq, drop, IngestPipeline, isTooLarge, nothingSettled, ok, produce, retryDelayMs, settle } from '../src/pipeline.ts';
import { Retranslation } from '../src/retranslate.ts';

const who = { source: 'ami', tenant_id: 'acme', pbx_id: 'pbx1' };
const ref: RawRef = { topic: 'pbx.raw.v1', partition: 2, offset: '41' };
const at = new Date('2026-01-01T00:00:05.000Z');

const started = (call_id: string): CanonicalEvent =>
  makeEvent(
    'call.started',
    {
      tenant_id: 'acme',
      pbx_id: 'pbx1',
      source: 'ami',
      occurred_at: '2026-01-01T00:00:00.000Z',
      received_at: '2026-01-01T00:00:00.000Z',
      raw_ref: ref,
      vendor_key: call_id,
    },
    { call_id },
    { direction: 'inbound', caller_number: '0712', called_number: '100' },
  );

/** Records what would be produced, topic by topic, in call order. */
function fakeSink(failRaw = 0) {
  const sent: string[] = [];
  const produced: CanonicalEvent[] = [];
  const dead: DlqRecord[] = [];
  let failures = failRaw;
  return {
    sent,
    produced,
    dead,
    raw: async (rs: RawRecord[]): Promise<RawRef[]> => {
      if (failures-- > 0) throw new Error('broker not available');
      sent.push(`raw:${rs.length}`);
      return rs.map((r, i) => ({ topic: 'pbx.raw.v1', partition: 0, offset: String(i), connection: r.connection, seq: r.seq }));
    },
    canonical: async (es: CanonicalEvent[]) => {
      sent.push(`events:${es.length}`);
      produced.push(...es);
    },
    dlq: async (ds: DlqRecord[]) => {
      sent.push(`dlq:${ds.length}`);
      dead.push(...ds);
    },
  };
}

describe('settle', () => {
  it('passes valid events and dead-letters one that breaks the contract, keeping the event and its raw origin', () => {
    const bad = started('x'.repeat(300));
    const s = settle(nothingSettled(), ok([started('1.1'), bad]), who, { original: 'Event: Newchannel', ref, label: 'Newchannel' }, at);
    expect(s.events.map((e) => ('call_id' in e ? e.call_id : null))).toEqual(['1.1']);
    expect(s.dlq).toEqual([
      {
        stage: 'validate',
        source: 'ami',
        tenant_id: 'acme',
        pbx_id: 'pbx1',
        reason_code: 'SCHEMA_INVALID',
        reason: expect.stringMatching(/^call\.started from Newchannel: \/call_id .*256/),
        path: '/call_id',
        at: '2026-01-01T00:00:05.000Z',
        original: JSON.stringify(bad),
        origin: { topic: 'pbx.raw.v1', partition: 2, offset: '41' },
      },
    ]);
  });

  it('turns a translator dead letter into a translate-stage record of the vendor input', () => {
    const s = settle(
      nothingSettled(),
      dlq('MISSING_FIELD', 'QueueCallerJoin without Uniqueid', 'Uniqueid'),
      who,
      { original: 'Event: QueueCallerJoin', ref },
      at,
    );
    expect(s.events).toEqual([]);
    expect(s.dlq).toMatchObject([
      { stage: 'translate', reason_code: 'MISSING_FIELD', path: 'Uniqueid', original: 'Event: QueueCallerJoin', origin: { offset: '41' } },
    ]);
  });

  it('drops nothing into either list for a drop, and gives no origin without a Kafka offset', () => {
    expect(settle(nothingSettled(), drop('heartbeat'), who, { original: 'x', ref }, at)).toEqual({ events: [], dlq: [] });
    const s = settle(nothingSettled(), dlq('UNMATCHED', 'no call'), who, { original: 'x', ref: { topic: 'file', line: 3 } }, at);
    expect(s.dlq[0]).not.toHaveProperty('origin');
  });
});

describe('produce', () => {
  it('sends events and dead letters to their topics and skips empty sends', async () => {
    const sink = fakeSink();
    await produce(sink, settle(nothingSettled(), ok([started('1.1'), started('y'.repeat(300))]), who, { original: '', ref: null }));
    await produce(sink, nothingSettled());
    expect(sink.sent).toEqual(['events:1', 'dlq:1']);
  });

  it('splits a send the broker refuses as too large, as the client reports it, and retries nothing else that way', async () => {
    // @platformatic/kafka: an aggregate per send, a response error per Produce request, the broker's code inside.
    const refused = (code: number) => new MultipleErrors('Producing messages failed.', [new ResponseError(0, 11, { '/responses/0/partitions/0': [code, null] }, {})]);
    expect(isTooLarge(refused(10))).toBe(true); // MESSAGE_TOO_LARGE
    expect(isTooLarge(refused(18))).toBe(true); // RECORD_LIST_TOO_LARGE
    expect(isTooLarge(refused(6))).toBe(false); // NOT_LEADER_OR_FOLLOWER: retried, not split
    expect(isTooLarge(new MultipleErrors('metadata failed', [new NetworkError('ECONNREFUSED')]))).toBe(false);
    expect(isTooLarge(new ProtocolError('MESSAGE_TOO_LARGE'))).toBe(true);
    // kafkajs (the tests' client) names it `type`, behind a cause.
    expect(isTooLarge(new Error('gave up', { cause: Object.assign(new Error('too large'), { type: 'MESSAGE_TOO_LARGE' }) }))).toBe(true);

    const sink = fakeSink();
    const sizes: number[] = [];
    sink.dlq = async (records) => {
      sizes.push(records.length);
      if (records.length > 1) throw refused(10);
    };
    const bad = settle(nothingSettled(), dlq('UNPARSEABLE_FRAME', 'x'), who, { original: 'x', ref: null });
    const flood = { ...bad, dlq: [...bad.dlq, ...bad.dlq, ...bad.dlq] };
    await produce(sink, flood);
    // Halved until each part is taken: 3 → 1 + 2 → 1 + 1.
    expect(sizes.filter((n) => n === 1)).toHaveLength(3);
  });
});

describe('IngestPipeline', () => {
  const log = createLogger('t', 'silent');

  it('retries a refused raw write with backoff until Kafka takes it, and says so', async () => {
    const sink = fakeSink(1);
    const heard: string[] = [];
    const p = new IngestPipeline({
      ...who,
      source: 'ami',
      sink,
      log,
      onRetry: (what, e, n) => heard.push(`retry ${what} ${n}: ${e.message}`),
      onRecovered: (what, n) => heard.push(`recovered ${what} after ${n}`),
    });
    const refs = await p.retrying('pbx.raw.v1', () => p.writeRaw([p.rawRecord('Event: Ping', 'ami', 'c1', 0, at)]));
    expect(refs).toHaveLength(1);
    expect(heard).toEqual(['retry pbx.raw.v1 1: broker not available', 'recovered pbx.raw.v1 after 1']);
    expect(sink.sent).toEqual(['raw:1']);
  });

  it('logs a write that keeps failing once, with what the Kafka error says, then its recovery', async () => {
    const lines: Record<string, unknown>[] = [];
    const heard = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
    const refused = new NetworkError('Connection to 127.0.0.1:9092 failed.', {
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9092'), { code: 'ECONNREFUSED', address: '127.0.0.1', port: 9092 }),
    });
    const sink = fakeSink();
    let failures = 2;
    const p = new IngestPipeline({
      ...who,
      source: 'ami',
      log: heard,
      sink: {
        ...sink,
        raw: (rs) => (failures-- > 0 ? Promise.reject(new MultipleErrors('produce failed 9 times.', [new MultipleErrors('Cannot connect to any broker.', [refused])])) : sink.raw(rs)),
      },
    });
    // The retry delays (0.5 s, then 1 s) run on fake timers, run out instead of slept.
    vi.useFakeTimers();
    const written = p.retrying('pbx.raw.v1', () => p.writeRaw([p.rawRecord('Event: Ping', 'ami', 'c1', 0, at)]));
    await vi.runAllTimersAsync();
    vi.useRealTimers();
    await written;
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [50, 'Kafka write to pbx.raw.v1 failed; retrying: ECONNREFUSED 127.0.0.1:9092'],
      [30, expect.stringMatching(/^Kafka write to pbx\.raw\.v1 recovered after 2 failures in [\d.]+ s$/)],
    ]);
    expect(lines[0]).toMatchObject({ pbx: who.pbx_id, error: 'ECONNREFUSED 127.0.0.1:9092', failures: 1 });
    expect(lines[0]!.err).toBeUndefined();
  });

  it('gives up retrying once closed', async () => {
    const p = new IngestPipeline({ ...who, source: 'ami', sink: fakeSink(Infinity), log });
    const write = p.retrying('pbx.raw.v1', () => p.writeRaw([p.rawRecord('x', 'ami', 'c1', 0, at)]));
    p.close();
    await expect(write).rejects.toThrow('broker not available');
  });

  it('refuses a message before raw at the ingest stage', () => {
    const p = new IngestPipeline({ ...who, source: 'yeastar-s', sink: fakeSink(), log });
    expect(p.refuse('UNPARSEABLE_JSON', 'not JSON', '{').dlq).toMatchObject([
      { stage: 'ingest', source: 'yeastar-s', reason_code: 'UNPARSEABLE_JSON', original: '{' },
    ]);
  });

  it('backs off from 0.5 s, doubling, to at most 30 s', () => {
    expect([1, 2, 3, 7, 8, 50].map(retryDelayMs)).toEqual([500, 1000, 2000, 30_000, 30_000, 30_000]);
  });
});

describe('retranslate', () => {
  const frame = (fields: Record<string, string>) =>
    `${Object.entries(fields)
      .map(([k, v]) => `${k}: ${v}`)
      .join('\r\n')}\r\n\r\n`;
  const raw = (body: string, seq: number): string =>
    JSON.stringify({
      tenant_id: 'acme',
      pbx_id: 'pbx1',
      source: 'ami',
      connection: 'c1',
      seq,
      received_at: '2026-01-01T00:00:00.000Z',
      format: 'ami',
      body,
    } satisfies RawRecord);
  const origin = (offset: number) => ({ topic: 'pbx.raw.v1', partition: 0, offset: String(offset) });
  const newchannel = (linkedid: string, ts: string) =>
    frame({
      Event: 'Newchannel',
      Timestamp: ts,
      Channel: 'PJSIP/trunk-1',
      Uniqueid: linkedid.slice(0, 20),
      Linkedid: linkedid,
      CallerIDNum: '0712',
      Exten: '100',
      Context: 'from-trunk',
    });

  it('validates what it translates again: an invalid event goes to the DLQ, not to cc.events.v1', async () => {
    const r = new Retranslation({ cfg: { queues: [] }, warn: () => {} });
    const s = nothingSettled();
    await r.add(s, raw(newchannel('1767225600.1', '1767225600.000000'), 0), origin(0));
    // A Linkedid longer than the contract allows for a call id: the translator passes it on.
    await r.add(s, raw(newchannel('9'.repeat(300), '1767225601.000000'), 1), origin(1));
    const sink = fakeSink();
    await produce(sink, r.flush(s));
    expect(sink.produced.map((e) => [e.type, 'call_id' in e ? e.call_id : null])).toEqual([['call.started', '1767225600.1']]);
    expect(sink.dead).toMatchObject([
      { stage: 'validate', source: 'ami', tenant_id: 'acme', pbx_id: 'pbx1', reason_code: 'SCHEMA_INVALID', path: '/call_id', origin: origin(1) },
    ]);
  });

  it('dead-letters what is not a RawRecord, and keeps to the tenant asked for', async () => {
    const r = new Retranslation({ cfg: { queues: [] }, warn: () => {}, tenant: 'other' });
    const s = nothingSettled();
    await r.add(s, '{"body":1}', origin(7));
    await r.add(s, raw(newchannel('1767225600.1', '1767225600.000000'), 0), origin(8));
    expect(s.events).toEqual([]);
    expect(s.dlq).toMatchObject([{ stage: 'translate', source: 'unknown', reason_code: 'RAW_RECORD_INVALID', original: '{"body":1}', origin: origin(7) }]);
    expect(r.invalid).toBe(1);
  });
});

describe('reason codes', () => {
  it('are one set, with no vendor prefix (source says the vendor)', () => {
    expect(new Set(DLQ_REASONS).size).toBe(DLQ_REASONS.length);
    for (const r of DLQ_REASONS) expect(r).toMatch(/^[A-Z]+(_[A-Z]+)*$/);
    expect(DLQ_REASONS.filter((r) => /^(AMI|YEASTAR)_/.test(r))).toEqual([]);
  });

  it('are each explained in the README table, and the table has no others', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Dead letters'), readme.indexOf('\n## ', readme.indexOf('## Dead letters') + 1));
    const rows = [...section.matchAll(/^\| `([A-Z_]+)` /gm)].map((m) => m[1]);
    expect(rows).toEqual([...DLQ_REASONS]);
  });
});

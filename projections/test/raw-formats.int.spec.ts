// The projections' raw consumer reads both record formats of pbx.raw.v1 (@callboard/schemas
// raw-codec.ts) on the real broker: the same frames written as the JSON envelope of older logs
// and as frame + raw.v2 header give the same raw_events rows; a format-2 message whose header is
// not a raw record is dead-lettered with stage "project", as a bad envelope always was.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Health, createClickHouse, createKafka, createLogger, topicName, type ClickHouse } from '@callboard/platform';
import { encodeRaw, encodeRawJson, RAW_HEADER, type DlqRecord, type RawRecord } from '@callboard/schemas';
import { startProjections, type Projections } from '../src/main.ts';
import { eventually, testConfig, toolKafka, uniqueId } from '../../test/helpers.ts';

const cfg = testConfig();
let ch: ClickHouse;
let p: Projections | undefined;

beforeAll(async () => {
  ch = await createClickHouse(cfg);
  p = await startProjections({ cfg, log: createLogger('test', 'fatal'), health: new Health(), ch, groupId: `${cfg.kafka.topicPrefix}proj` });
});
afterAll(async () => {
  await p?.stop();
  await ch?.close();
});

const A22 = join(import.meta.dirname, '..', '..', '..', 'shared', 'fixtures', 'ami', 'asterisk22');

/** The first capture's frames, and bodies that need escaping in JSON, as one PBX's records. */
function records(tenant_id: string): RawRecord[] {
  const dir = readdirSync(A22).find((d) => existsSync(join(A22, d, 'capture.ami')))!;
  const text = readFileSync(join(A22, dir, 'capture.ami'), 'utf8');
  const frames = text
    .split('\r\n\r\n')
    .slice(0, 300)
    .map((f) => `${f}\r\n\r\n`);
  const bodies = [...frames, '', 'Event: X\r\nName: "Zoë \\ Ω 🎧"\r\n\r\n', '{"type":"cdr","note":"tab\\there"}', 'Event: Y\r\nName: \ud800\r\n\r\n'];
  return bodies.map((body, seq) => ({
    tenant_id,
    pbx_id: 'pbx-1',
    source: 'ami',
    connection: 'pbx-1#7',
    seq,
    received_at: new Date(Date.UTC(2026, 4, 1, 8, 0, 0, seq)).toISOString(),
    format: body.startsWith('{') ? 'json' : 'ami',
    body,
  }));
}

async function rows(tenant: string, n: number): Promise<Record<string, unknown>[]> {
  return eventually(
    async () => {
      const rs = await ch.client.query({
        query: `SELECT pbx_id, source, connection, seq, received_at, format, body FROM ${ch.db}.raw_events WHERE tenant_id = {t:String} ORDER BY seq`,
        query_params: { t: tenant },
        format: 'JSONEachRow',
      });
      const got = (await rs.json()) as Record<string, unknown>[];
      return got.length >= n ? got : undefined;
    },
    120_000,
    `${n} raw_events rows of ${tenant}`,
  );
}

describe('raw record formats in projections', () => {
  it('give the same raw_events rows; a bad raw.v2 header goes to the DLQ', async () => {
    const [old, now] = [uniqueId('rawfmt1'), uniqueId('rawfmt2')];
    const oldRecords = records(old);
    const newRecords = records(now);
    const kafka = createKafka(cfg);
    const producer = kafka.producer();
    await producer.connect();
    const topic = topicName(cfg, 'raw');
    await producer.send({ topic, messages: oldRecords.map(encodeRawJson) });
    const bad = {
      key: 'x',
      value: 'Event: Ping\r\n\r\n',
      headers: {
        [RAW_HEADER]: JSON.stringify({
          tenant_id: now,
          pbx_id: 'pbx-1',
          source: 'ami',
          connection: 'c',
          seq: -1,
          received_at: '2026-05-01T08:00:00.000Z',
          format: 'ami',
        }),
      },
    };
    await producer.send({ topic, messages: [...newRecords.map(encodeRaw), bad] });
    await producer.disconnect();
    // The lone surrogate's record is written as format 1 by the codec; every other one as format 2.
    expect(newRecords.map(encodeRaw).filter((m) => !m.headers)).toHaveLength(1);

    const before = await rows(old, oldRecords.length);
    const after = await rows(now, newRecords.length);
    expect(after).toHaveLength(newRecords.length);
    expect(after).toEqual(before);
    // The frames byte for byte; the lone surrogate (last) is stored as U+FFFD by the engine in either format.
    expect(after.slice(0, -1).map((r) => r.body)).toEqual(newRecords.slice(0, -1).map((r) => r.body));

    // The DLQ read by the tests' own client, an independent witness of what the service wrote.
    const dlq: DlqRecord[] = [];
    const consumer = toolKafka(cfg).consumer({ groupId: uniqueId('dlq-reader') });
    await consumer.connect();
    await consumer.subscribe({ topic: topicName(cfg, 'dlq'), fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void dlq.push(JSON.parse(message.value!.toString()) as DlqRecord) });
    const dead = await eventually(() => dlq.find((d) => d.original.includes(now)), 60_000, 'the bad raw.v2 record dead-lettered');
    await consumer.disconnect();
    expect(dead).toMatchObject({ stage: 'project', reason_code: 'SCHEMA_INVALID', path: '/seq', origin: { topic } });
    expect(JSON.parse(dead.original)).toMatchObject({ tenant_id: now, seq: -1, body: 'Event: Ping\r\n\r\n' });
  });
});

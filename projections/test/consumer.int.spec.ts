// The service on the real broker, in-process: raw records land in raw_events, canonical events
// are folded, invalid records of either topic go to the DLQ with stage "project", a batch
// re-delivered after a lost commit adds nothing, and stop() drains.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_QUEUE_SETTINGS, Health, createClickHouse, createKafka, createLogger, topicName, type ClickHouse } from '@callboard/platform';
import { partitionKey, rawKey, type DlqRecord, type RawRecord } from '@callboard/schemas';
import { startProjections, type Projections } from '../src/main.ts';
import { queueMetrics } from '../src/queries.ts';
import { eventually, testConfig, toolKafka, uniqueId } from '../../test/helpers.ts';
import { queuedCall, utc } from './given.ts';

const cfg = testConfig();
let ch: ClickHouse;
let p: Projections | undefined;
const health = new Health();
let failOnce = true;

beforeAll(async () => {
  ch = await createClickHouse(cfg);
  p = await startProjections({
    cfg,
    log: createLogger('test', 'fatal'),
    health,
    ch,
    groupId: `${cfg.kafka.topicPrefix}proj`,
    // The first batch's commit is "lost" after its inserts: it is delivered again.
    beforeCommit: ({ topic }) => {
      if (failOnce && topic.endsWith('cc.events.v1')) {
        failOnce = false;
        throw new Error('simulated crash between insert and commit');
      }
    },
  });
});
afterAll(async () => {
  await p?.stop();
  await ch?.close();
});

describe('projections service', () => {
  it('writes raw records and folds events; invalid ones go to the DLQ; a redelivered batch adds nothing', async () => {
    const tenant = uniqueId('svc');
    const kafka = createKafka(cfg);
    const producer = kafka.producer();
    await producer.connect();
    const raw: RawRecord = { tenant_id: tenant, pbx_id: 'pbx-1', source: 'ami', connection: 'c1', seq: 1, received_at: '2026-05-01T08:00:00.000Z', format: 'ami', body: 'Event: FullyBooted\r\n' };
    await producer.send({ topic: topicName(cfg, 'raw'), messages: [{ key: rawKey(raw), value: JSON.stringify(raw) }, { key: 'x', value: JSON.stringify({ ...raw, seq: -1 }) }] });
    const evs = [
      ...queuedCall({ tenant, call_id: 's1', at: utc('2026-05-01T08:00:00Z'), outcome: 'answered', wait_s: 5 }),
      ...queuedCall({ tenant, call_id: 's2', at: utc('2026-05-01T08:05:00Z'), outcome: 'abandoned', wait_s: 50 }),
    ];
    await producer.send({ topic: topicName(cfg, 'events'), messages: [...evs.map((e) => ({ key: partitionKey(e), value: JSON.stringify(e) })), { key: 'bad', value: '{"type":"call.started"}' }] });
    await producer.disconnect();

    const q = () => queueMetrics(ch, { tenant_id: tenant, timezone: 'UTC', week_start: 'monday', period: { kind: 'DAY', date: '2026-05-01' }, group_by: 'none', settings: () => DEFAULT_QUEUE_SETTINGS });
    const row = await eventually(async () => {
      const [r] = await q();
      return r && r.offered === 2 && r.answered === 1 ? r : undefined;
    }, 60_000, 'both legs folded');
    expect(row).toMatchObject({ offered: 2, answered: 1, abandoned: 1 });
    // The legs are visible once inserted, which can be just before the commit the hook fails: wait for it.
    await eventually(() => (failOnce ? undefined : true), 60_000, 'the injected failure before the first commit');
    const rawRows = await eventually(async () => {
      const rs = await ch.client.query({ query: `SELECT count() AS n FROM ${ch.db}.raw_events WHERE tenant_id = '${tenant}'`, format: 'JSONEachRow' });
      const n = Number(((await rs.json()) as { n: number }[])[0]!.n);
      return n === 1 ? n : undefined;
    }, 60_000, 'raw record written');
    expect(rawRows).toBe(1);

    // The DLQ read by the tests' own client, an independent witness of what the service wrote.
    const dlq: DlqRecord[] = [];
    const consumer = toolKafka(cfg).consumer({ groupId: uniqueId('dlq-reader') });
    await consumer.connect();
    await consumer.subscribe({ topic: topicName(cfg, 'dlq'), fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void dlq.push(JSON.parse(message.value!.toString()) as DlqRecord) });
    await eventually(() => (dlq.length >= 2 ? true : undefined), 60_000, 'two dead letters');
    await consumer.disconnect();
    expect(dlq.every((d) => d.stage === 'project' && d.reason_code === 'SCHEMA_INVALID' && d.origin)).toBe(true);
    expect(new Set(dlq.map((d) => d.origin!.topic))).toEqual(new Set([topicName(cfg, 'raw'), topicName(cfg, 'events')]));
    // Still exactly two legs after the redelivery.
    const [again] = await q();
    expect(again!.offered).toBe(2);
    // The injected failure made the consumer degraded; it recovers once the batch, retried as it
    // was, commits (the retry waits out a backoff first, so wait for it).
    await eventually(() => (health.get('projections-events')?.status === 'ok' ? true : undefined), 60_000, 'projections-events healthy again');
  });
});

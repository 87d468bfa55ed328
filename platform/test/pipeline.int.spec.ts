import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse, createKafka, ensureTopics, runBatches, topicName, type ClickHouse } from '../src/index.ts';
import { eventually, testConfig, toolKafka } from '../../test/helpers.ts';

describe('foundation: Kafka → ClickHouse round trip', () => {
  const cfg = testConfig();
  let ch: ClickHouse;

  beforeAll(async () => {
    ch = await createClickHouse(cfg);
  });
  afterAll(async () => {
    await ch?.close();
  });

  it('produces to the real broker, consumes, inserts into ClickHouse and reads back in the tenant zone', async () => {
    const kafka = createKafka(cfg);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, cfg);
    await ensureTopics(admin, cfg); // idempotent
    const topics = await admin.listTopics();
    expect(topics).toEqual(expect.arrayContaining([topicName(cfg, 'raw'), topicName(cfg, 'events'), topicName(cfg, 'dlq')]));
    await admin.disconnect();
    // The partition count as the broker reports it, read by a client of its own.
    const witness = toolKafka(cfg).admin();
    await witness.connect();
    try {
      const meta = await witness.fetchTopicMetadata({ topics: [topicName(cfg, 'events')] });
      expect(meta.topics[0]!.partitions).toHaveLength(3);
    } finally {
      await witness.disconnect();
    }

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const sent = [
      { id: 'e1', at: '2025-10-01T22:30:00.000Z' },
      { id: 'e2', at: '2025-10-01T20:59:59.999Z' },
    ];
    await producer.send({
      topic: topicName(cfg, 'events'),
      messages: sent.map((e) => ({ key: `tenant-a:${e.id}`, value: JSON.stringify(e) })),
    });
    await producer.disconnect();

    await ch.client.command({
      query: `CREATE TABLE IF NOT EXISTS ${ch.db}.roundtrip (id String, at DateTime64(3, 'UTC'), partition UInt32, offset UInt64) ENGINE = MergeTree ORDER BY id`,
    });
    // Read back with the platform's consumer (a group of its own, from the earliest offset).
    const got: { id: string; at: string; partition: number; offset: string }[] = [];
    const consumer = await runBatches(kafka.connection, {
      groupId: `${cfg.kafka.topicPrefix}g`,
      topic: topicName(cfg, 'events'),
      start: 'committed',
      eachBatch: async ({ partition, messages }) => {
        for (const message of messages) {
          const e = JSON.parse(message.value!.toString()) as { id: string; at: string };
          got.push({ id: e.id, at: e.at.replace('T', ' ').replace('Z', ''), partition, offset: message.offset });
        }
      },
    });
    try {
      await eventually(() => (got.length >= sent.length ? true : undefined), 60_000, `the ${sent.length} events read back`);
    } finally {
      await consumer.stop();
    }
    await ch.client.insert({ table: `${ch.db}.roundtrip`, values: got, format: 'JSONEachRow' });

    const rs = await ch.client.query({
      query: `SELECT id, toString(toDate(at, 'Africa/Nairobi')) AS local_day, toString(toDate(at)) AS utc_day FROM ${ch.db}.roundtrip ORDER BY id`,
      format: 'JSONEachRow',
    });
    expect(await rs.json()).toEqual([
      // 22:30 UTC on the 1st is 01:30 on the 2nd in Nairobi (UTC+3): the local day is the 2nd.
      { id: 'e1', local_day: '2025-10-02', utc_day: '2025-10-01' },
      { id: 'e2', local_day: '2025-10-01', utc_day: '2025-10-01' },
    ]);
  });
});

// runBatches on the real broker: a group goes on from what it committed, and from the earliest
// offset kept when retention (here: kafkajs deleting records, as retention does) took the
// committed one away; a partition taken away and given back is read from what the group
// committed, not from a fetch sent before. kafkajs writes and deletes; the code under test only reads.
import { describe, expect, it } from 'vitest';
import { createKafka, ensureTopics, runBatches, topicName, type BatchConsumer } from '../src/index.ts';
import { eventually, testConfig, toolKafka, uniqueId } from '../../test/helpers.ts';

describe('runBatches on the real broker', () => {
  it('goes on from the committed offset, and from the earliest kept when the committed one was deleted', async () => {
    const cfg = testConfig({}, { KAFKA_PARTITIONS: '1' });
    const tool = toolKafka(cfg);
    const admin = tool.admin();
    await admin.connect();
    const producer = tool.producer();
    await producer.connect();
    const topic = topicName(cfg, 'events');
    const groupId = uniqueId('g');
    let consumer: BatchConsumer | null = null;
    try {
      await ensureTopics(admin, cfg, ['events']);
      await producer.send({ topic, messages: Array.from({ length: 100 }, (_, i) => ({ key: 'k', value: String(i) })) });
      const read = async (until: (values: string[]) => boolean): Promise<string[]> => {
        const values: string[] = [];
        consumer = await runBatches(createKafka(cfg).connection, {
          groupId,
          topic,
          start: 'committed',
          eachBatch: async (b) => {
            for (const m of b.messages) values.push(String(m.value));
          },
        });
        await eventually(() => (until(values) ? true : undefined), 30_000, 'the messages read');
        await consumer.stop();
        consumer = null;
        return values;
      };
      expect(await read((v) => v.length >= 100)).toEqual(Array.from({ length: 100 }, (_, i) => String(i)));
      await producer.send({ topic, messages: Array.from({ length: 50 }, (_, i) => ({ key: 'k', value: String(100 + i) })) });
      // Retention takes everything before offset 130: the group's committed 100 is gone.
      await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '130' }] });
      const after = await read((v) => v.includes('149'));
      expect(after).toEqual(Array.from({ length: 20 }, (_, i) => String(130 + i)));
    } finally {
      await (consumer as BatchConsumer | null)?.stop();
      await producer.disconnect();
      await admin.disconnect();
    }
  });

  it('a partition taken away and given back is read from its committed offset, not from a fetch sent before the rebalance', { timeout: 120_000 }, async () => {
    const cfg = testConfig({}, { KAFKA_PARTITIONS: '2' });
    const tool = toolKafka(cfg);
    const admin = tool.admin();
    await admin.connect();
    const producer = tool.producer();
    await producer.connect();
    const topic = topicName(cfg, 'events');
    const groupId = uniqueId('g');
    const send = (partition: number, from: number, n: number) =>
      producer.send({ topic, messages: Array.from({ length: n }, (_, i) => ({ partition, key: 'k', value: String(from + i) })) });
    // A's fetch after its first records waits up to 30 s for more: it is in flight through both rebalances.
    const group = { groupId, topic, start: 'committed' as const, concurrency: 2, maxWaitMs: 30_000, sessionTimeout: 6_000, heartbeatInterval: 500 };
    let a: BatchConsumer | null = null;
    let b: BatchConsumer | null = null;
    try {
      await ensureTopics(admin, cfg, ['events']);
      await send(0, 0, 100);
      await send(1, 0, 100);
      let aFails = true;
      const aJoins: number[][] = [];
      const aFailed = new Set<number>();
      const aRead = new Map<number, string[]>([[0, []], [1, []]]);
      a = await runBatches(createKafka(cfg).connection, {
        ...group,
        on: { joined: (p) => aJoins.push([...p].sort()), failed: (_e, _what, p) => p !== undefined && aFailed.add(p) },
        eachBatch: async (batch) => {
          // Nothing of A's is committed until B has come and gone.
          if (aFails) throw new Error('A is not taking batches yet');
          aRead.get(batch.partition)!.push(...batch.messages.map((m) => String(m.value)));
        },
      });
      await eventually(() => (aFailed.size === 2 ? true : undefined), 30_000, "A's first batch of both partitions");
      const bJoins: number[][] = [];
      // B takes a partition from A and commits nothing of it.
      b = await runBatches(createKafka(cfg).connection, {
        ...group,
        on: { joined: (p) => bJoins.push(p) },
        eachBatch: async () => {
          throw new Error('B commits nothing');
        },
      });
      await eventually(() => (aJoins.at(-1)?.length === 1 && bJoins.at(-1)?.length === 1 ? true : undefined), 60_000, 'A and B holding one partition each');
      const given = aJoins.at(-1)![0] === 0 ? 1 : 0;
      await b.stop();
      b = null;
      await eventually(() => (aJoins.at(-1)?.length === 2 ? true : undefined), 60_000, 'A holding both partitions again');
      const joins = aJoins.length;
      aFails = false;
      // New records answer A's fetch sent before the rebalances, from offset 100 of the partition given back.
      await send(given, 100, 50);
      await eventually(() => (aRead.get(given)!.includes('149') && aRead.get(1 - given)!.includes('99') ? true : undefined), 60_000, 'A reading both partitions');
      const distinct = (v: string[]) => [...new Set(v)].map(Number).sort((x, y) => x - y);
      expect(distinct(aRead.get(given)!)).toEqual(Array.from({ length: 150 }, (_, i) => i));
      expect(distinct(aRead.get(1 - given)!)).toEqual(Array.from({ length: 100 }, (_, i) => i));
      // Reading again was a new stream, not a new join: a leader's join rebalances the whole group.
      expect(aJoins.length).toBe(joins);
    } finally {
      await (b as BatchConsumer | null)?.stop();
      await (a as BatchConsumer | null)?.stop();
      await producer.disconnect();
      await admin.disconnect();
    }
  });

  it('goes on from the earliest offset when the committed one lies past the end of the log (the topic made again)', { timeout: 60_000 }, async () => {
    const cfg = testConfig({}, { KAFKA_PARTITIONS: '1' });
    const tool = toolKafka(cfg);
    const admin = tool.admin();
    await admin.connect();
    const producer = tool.producer();
    await producer.connect();
    const topic = topicName(cfg, 'events');
    const groupId = uniqueId('g');
    let consumer: BatchConsumer | null = null;
    try {
      await ensureTopics(admin, cfg, ['events']);
      await producer.send({ topic, messages: Array.from({ length: 20 }, (_, i) => ({ key: 'k', value: String(i) })) });
      // What a group holds after its topic was deleted and made again: an offset of the old log.
      await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '5000' }] });
      const values: string[] = [];
      const failures: string[] = [];
      consumer = await runBatches(createKafka(cfg).connection, {
        groupId,
        topic,
        start: 'committed',
        on: { failed: (e) => failures.push(e.message) },
        eachBatch: async (b) => {
          for (const m of b.messages) values.push(String(m.value));
        },
      });
      await eventually(() => (values.includes('19') ? true : undefined), 30_000, 'the records of the new log');
      expect(values).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
      expect(failures.length).toBeGreaterThan(0);
    } finally {
      await (consumer as BatchConsumer | null)?.stop();
      await producer.disconnect();
      await admin.disconnect();
    }
  });
});

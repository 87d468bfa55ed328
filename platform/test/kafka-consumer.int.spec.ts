// runBatches on the real broker: a group goes on from what it committed, and from the earliest
// offset kept when retention (here: kafkajs deleting records, as retention does) took the
// committed one away. kafkajs writes and deletes; the code under test only reads.
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
});

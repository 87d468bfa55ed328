// Topic set-up on the real broker: services start at the same moment and race to create the same
// topics; each must come back only once the topics serve every partition, because the next thing
// a service does is produce or read offsets.
import type { Admin } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { createKafka, ensureTopics, topicName } from '../src/kafka.ts';
import { testConfig } from '../../test/helpers.ts';

describe('ensureTopics on the real broker', () => {
  const admins: Admin[] = [];
  afterAll(async () => {
    for (const a of admins) await a.disconnect();
  });

  async function admin(cfg: ReturnType<typeof testConfig>): Promise<Admin> {
    const a = createKafka(cfg).admin();
    await a.connect();
    admins.push(a);
    return a;
  }

  it('three services creating the same new topics at once all succeed, and the topics serve at once', async () => {
    for (let round = 0; round < 3; round++) {
      const cfg = testConfig();
      const racing = await Promise.all([admin(cfg), admin(cfg), admin(cfg)]);
      await Promise.all(racing.map((a) => ensureTopics(a, cfg)));
      for (const t of ['raw', 'events', 'dlq'] as const) {
        const offsets = await racing[0]!.fetchTopicOffsets(topicName(cfg, t));
        expect(offsets.map((o) => o.partition).sort()).toEqual([0, 1, 2]);
      }
      const producer = createKafka(cfg).producer();
      await producer.connect();
      try {
        const [meta] = await producer.send({ topic: topicName(cfg, 'events'), acks: -1, messages: [{ key: 'k', value: 'v' }] });
        expect(meta?.errorCode).toBe(0);
      } finally {
        await producer.disconnect();
      }
    }
  });

  it('a topic the broker refuses fails start-up at once, naming the topic', async () => {
    const cfg = testConfig({}, { KAFKA_REPLICATION_FACTOR: '3' });
    const a = await admin(cfg);
    // Counted, not timed: a replication factor above the broker count never heals, so one
    // creation attempt and no retry (a retried failure reads "still failing after N attempts").
    let creations = 0;
    const createTopics = a.createTopics.bind(a);
    a.createTopics = (...args) => (creations++, createTopics(...args));
    await expect(ensureTopics(a, cfg, ['dlq'])).rejects.toThrow(
      `creating Kafka topic ${topicName(cfg, 'dlq')}: Topic creation errors: Replication-factor is invalid`,
    );
    expect(creations).toBe(1);
  });
});

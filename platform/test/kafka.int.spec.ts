// Topic set-up on the real broker: services start at the same moment and race to create the same
// topics; each must come back only once the topics serve every partition, because the next thing
// a service does is produce or read offsets.
import { afterAll, describe, expect, it } from 'vitest';
import { createKafka, ensureTopics, topicName, type KafkaAdmin } from '../src/kafka.ts';
import { testConfig } from '../../test/helpers.ts';

describe('ensureTopics on the real broker', () => {
  const admins: KafkaAdmin[] = [];
  afterAll(async () => {
    for (const a of admins) await a.disconnect();
  });

  async function admin(cfg: ReturnType<typeof testConfig>): Promise<KafkaAdmin> {
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
        // Acknowledged at once (the client throws on a partition error): the first message of its partition.
        const sent = await producer.send({ topic: topicName(cfg, 'events'), acks: -1, messages: [{ key: 'k', value: 'v' }] });
        expect(sent).toEqual([{ topicName: topicName(cfg, 'events'), partition: expect.any(Number), baseOffset: '0' }]);
        expect([0, 1, 2]).toContain(sent[0]!.partition);
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
    // The client's summary, then the broker's own reason (the API version is negotiated).
    const topic = topicName(cfg, 'dlq').replaceAll('.', '\\.');
    await expect(ensureTopics(a, cfg, ['dlq'])).rejects.toThrow(
      new RegExp(
        `^creating Kafka topic ${topic}: Received response with error while executing API CreateTopics\\(v\\d+\\): ` +
          'Replication factor is below 1 or larger than the number of available brokers\\.$',
      ),
    );
    expect(creations).toBe(1);
  });

  it('a producer refuses sends once disconnected, compressed or not, and works again after connect()', async () => {
    const cfg = testConfig();
    await ensureTopics(await admin(cfg), cfg, ['raw']);
    const topic = topicName(cfg, 'raw');
    const producer = createKafka(cfg).producer({ idempotent: true });
    await producer.connect();
    await producer.disconnect();
    // GZIP sends have a producer of their own, made on first use: it must not come to life now.
    await expect(producer.send({ topic, compression: 'gzip', messages: [{ key: 'k', value: 'v' }] })).rejects.toThrow(/disconnected/);
    await expect(producer.send({ topic, messages: [{ key: 'k', value: 'v' }] })).rejects.toThrow(/disconnected/);
    const offsets = await (await admin(cfg)).fetchTopicOffsets(topic);
    expect(offsets.every((o) => o.high === '0')).toBe(true);
    await producer.connect();
    try {
      const sent = await producer.send({ topic, compression: 'gzip', messages: [{ key: 'k', value: 'v' }, { key: 'k', value: 'w' }] });
      expect(sent).toEqual([{ topicName: topic, partition: expect.any(Number), baseOffset: '0' }]);
    } finally {
      await producer.disconnect();
    }
  });

  it('sends at once on one producer are all written, each at its own offset (the sequence numbers of an idempotent producer)', async () => {
    const cfg = testConfig();
    await ensureTopics(await admin(cfg), cfg, ['raw', 'events']);
    const producer = createKafka(cfg).producer({ idempotent: true });
    await producer.connect();
    try {
      // One key, so one partition; sizes differ so a reused sequence number would show either way.
      for (const [topic, compression] of [[topicName(cfg, 'events'), undefined], [topicName(cfg, 'raw'), 'gzip' as const]] as const) {
        const sent = await Promise.all(
          Array.from({ length: 40 }, (_, i) => producer.send({ topic, ...(compression ? { compression } : {}), messages: Array.from({ length: 1 + (i % 3) }, (_, j) => ({ key: 'acme:pbx:pbx1', value: `${i}.${j}` })) })),
        );
        const bases = sent.map((m) => m[0]!.baseOffset);
        expect(new Set(bases).size).toBe(40);
        const written = (await (await admin(cfg)).fetchTopicOffsets(topic)).reduce((n, o) => n + Number(o.high), 0);
        expect(written).toBe(Array.from({ length: 40 }, (_, i) => 1 + (i % 3)).reduce((a, b) => a + b, 0));
      }
    } finally {
      await producer.disconnect();
    }
  });
});

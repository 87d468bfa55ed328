// runBatches on the real broker: a group goes on from what it committed, and from the earliest
// offset kept when retention (here: kafkajs deleting records, as retention does) took the
// committed one away or the committed one lies past the log's end; a partition taken away and
// given back is read from what the group committed, not from a fetch sent before, and without a
// new group join. kafkajs writes and deletes; the code under test only reads.
import { describe, expect, it } from 'vitest';
import type { Admin, Producer } from 'kafkajs';
import { createKafka, ensureTopics, runBatches, topicName, type BatchConsumer, type BatchConsumerOptions, type CallboardConfig } from '../src/index.ts';
import { eventually, testConfig, toolKafka, uniqueId } from '../../test/helpers.ts';

interface Topic {
  cfg: CallboardConfig;
  admin: Admin;
  topic: string;
  groupId: string;
  /** `n` records with values from..from+n-1, to `partition` (0 with one partition). */
  send(from: number, n: number, partition?: number): Promise<unknown>;
  /** A runBatches member of the group, stopped at the end of the test. */
  member(o: Pick<BatchConsumerOptions, 'eachBatch'> & Partial<BatchConsumerOptions>): Promise<BatchConsumer>;
}

/** A fresh events topic of `partitions` and a group name; everything opened is closed after `body`. */
async function withTopic(partitions: number, body: (t: Topic) => Promise<void>): Promise<void> {
  const cfg = testConfig({}, { KAFKA_PARTITIONS: String(partitions) });
  const tool = toolKafka(cfg);
  const admin = tool.admin();
  await admin.connect();
  const producer: Producer = tool.producer();
  await producer.connect();
  const topic = topicName(cfg, 'events');
  const members: BatchConsumer[] = [];
  try {
    await ensureTopics(admin, cfg, ['events']);
    const t: Topic = {
      cfg,
      admin,
      topic,
      groupId: uniqueId('g'),
      send: (from, n, partition) =>
        producer.send({ topic, messages: Array.from({ length: n }, (_, i) => ({ key: 'k', value: String(from + i), ...(partition !== undefined ? { partition } : {}) })) }),
      member: async (o) => {
        const m = await runBatches(createKafka(cfg).connection, { groupId: t.groupId, topic, start: 'committed', ...o });
        members.push(m);
        return m;
      },
    };
    await body(t);
  } finally {
    for (const m of members) await m.stop();
    await producer.disconnect();
    await admin.disconnect();
  }
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

describe('runBatches on the real broker', () => {
  it('goes on from the committed offset, and from the earliest kept when the committed one was deleted', async () => {
    await withTopic(1, async (t) => {
      await t.send(0, 100);
      const read = async (until: (values: string[]) => boolean): Promise<string[]> => {
        const values: string[] = [];
        const consumer = await t.member({ eachBatch: async (b) => void values.push(...b.messages.map((m) => String(m.value))) });
        await eventually(() => (until(values) ? true : undefined), 30_000, 'the messages read');
        await consumer.stop();
        return values;
      };
      expect(await read((v) => v.length >= 100)).toEqual(range(0, 100).map(String));
      await t.send(100, 50);
      // Retention takes everything before offset 130: the group's committed 100 is gone.
      await t.admin.deleteTopicRecords({ topic: t.topic, partitions: [{ partition: 0, offset: '130' }] });
      expect(await read((v) => v.includes('149'))).toEqual(range(130, 20).map(String));
    });
  });

  it('goes on from the earliest offset when the committed one lies past the end of the log (the topic made again)', { timeout: 60_000 }, async () => {
    await withTopic(1, async (t) => {
      await t.send(0, 20);
      // What a group holds after its topic was deleted and made again: an offset of the old log.
      await t.admin.setOffsets({ groupId: t.groupId, topic: t.topic, partitions: [{ partition: 0, offset: '5000' }] });
      const values: string[] = [];
      const failures: string[] = [];
      await t.member({
        on: { failed: (e) => failures.push(e.message) },
        eachBatch: async (b) => void values.push(...b.messages.map((m) => String(m.value))),
      });
      await eventually(() => (values.includes('19') ? true : undefined), 30_000, 'the records of the new log');
      expect(values).toEqual(range(0, 20).map(String));
      expect(failures.length).toBeGreaterThan(0);
    });
  });

  it('a partition taken away and given back is read from its committed offset, not from a fetch sent before the rebalance', { timeout: 120_000 }, async () => {
    await withTopic(2, async (t) => {
      // A's fetch after its first records waits up to 30 s for more: it is in flight through both rebalances.
      const group = { concurrency: 2, maxWaitMs: 30_000, sessionTimeout: 6_000, heartbeatInterval: 500 };
      await t.send(0, 100, 0);
      await t.send(0, 100, 1);
      let aFails = true;
      const aJoins: number[][] = [];
      const aFailed = new Set<number>();
      const aRead = new Map<number, string[]>([
        [0, []],
        [1, []],
      ]);
      await t.member({
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
      const b = await t.member({
        ...group,
        on: { joined: (p) => bJoins.push(p) },
        eachBatch: async () => {
          throw new Error('B commits nothing');
        },
      });
      await eventually(() => (aJoins.at(-1)?.length === 1 && bJoins.at(-1)?.length === 1 ? true : undefined), 60_000, 'A and B holding one partition each');
      const given = aJoins.at(-1)![0] === 0 ? 1 : 0;
      await b.stop();
      await eventually(() => (aJoins.at(-1)?.length === 2 ? true : undefined), 60_000, 'A holding both partitions again');
      const joins = aJoins.length;
      aFails = false;
      // New records answer A's fetch sent before the rebalances, from offset 100 of the partition given back.
      await t.send(100, 50, given);
      await eventually(() => (aRead.get(given)!.includes('149') && aRead.get(1 - given)!.includes('99') ? true : undefined), 60_000, 'A reading both partitions');
      const distinct = (v: string[]) => [...new Set(v)].map(Number).sort((x, y) => x - y);
      expect(distinct(aRead.get(given)!)).toEqual(range(0, 150));
      expect(distinct(aRead.get(1 - given)!)).toEqual(range(0, 100));
      // Reading again was a new stream, not a new join: a leader's join rebalances the whole group.
      expect(aJoins.length).toBe(joins);
    });
  });

  it('a batch still running when its partition went away and came back does not commit: the group is not moved back', { timeout: 120_000 }, async () => {
    await withTopic(2, async (t) => {
      const group = { concurrency: 2, sessionTimeout: 6_000, heartbeatInterval: 500 };
      await t.send(0, 100, 0);
      await t.send(0, 100, 1);
      // A's first batch of each partition waits for the test to let it go.
      const gates = new Map<number, () => void>();
      const finished = new Set<number>();
      const aJoins: number[][] = [];
      await t.member({
        ...group,
        on: { joined: (p) => aJoins.push([...p].sort()) },
        eachBatch: async (batch) => {
          if (!finished.has(batch.partition)) await new Promise<void>((r) => gates.set(batch.partition, r));
          finished.add(batch.partition);
        },
      });
      await eventually(() => (gates.size === 2 ? true : undefined), 30_000, "A's first batch of both partitions running");
      const bJoins: number[][] = [];
      const bRead: string[] = [];
      // B takes a partition from A, reads it and commits further than A's running batch would.
      const b = await t.member({ ...group, on: { joined: (p) => bJoins.push(p) }, eachBatch: async (batch) => void bRead.push(...batch.messages.map((m) => String(m.value))) });
      await eventually(() => (aJoins.at(-1)?.length === 1 && bJoins.at(-1)?.length === 1 ? true : undefined), 60_000, 'A and B holding one partition each');
      const moved = bJoins.at(-1)![0]!;
      await t.send(100, 50, moved);
      const committed = async (partition: number) => {
        const [o] = await t.admin.fetchOffsets({ groupId: t.groupId, topics: [t.topic] });
        return Number(o?.partitions.find((x) => x.partition === partition)?.offset ?? -1);
      };
      await eventually(async () => ((await committed(moved)) === 150 ? true : undefined), 60_000, "B's commit of the partition it took");
      await b.stop();
      await eventually(() => (aJoins.at(-1)?.length === 2 ? true : undefined), 60_000, 'A holding both partitions again');
      // A's batch of the partition that went and came back ends first; its commit, if it made
      // one, goes to the coordinator before the one of the partition A kept all along.
      gates.get(moved)!();
      await eventually(() => (finished.has(moved) ? true : undefined), 10_000, "A's old batch done");
      gates.get(1 - moved)!();
      await eventually(async () => ((await committed(1 - moved)) === 100 ? true : undefined), 30_000, "A's commit of the partition it kept");
      expect(await committed(moved)).toBe(150);
    });
  });
});

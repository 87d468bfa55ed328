// How a stream of single messages from all partitions becomes per-partition batches: one batch
// per partition at a time, in offset order, a refetch after a rebalance or restart taken once,
// a lost partition forgotten. (A failed batch is retried by runBatches as it was, its partition
// kept busy meanwhile.)
import { describe, expect, it } from 'vitest';
import { BatchQueues, type QueuedMessage } from '../src/kafka-consumer.ts';

const msg = (partition: number, offset: number, bytes = 10): QueuedMessage<string> => ({ partition, offset: BigInt(offset), bytes, message: `${partition}@${offset}` });
const offsets = (b: { messages: QueuedMessage<string>[] } | null) => b?.messages.map((m) => Number(m.offset));

describe('BatchQueues', () => {
  it("gives each partition's waiting messages as one batch, one batch per partition at a time", () => {
    const q = new BatchQueues<string>(1000);
    for (const o of [0, 1, 2]) q.add(msg(0, o));
    for (const o of [5, 6]) q.add(msg(1, o));
    const a = q.take();
    const b = q.take();
    expect([a?.partition, offsets(a)]).toEqual([0, [0, 1, 2]]);
    expect([b?.partition, offsets(b)]).toEqual([1, [5, 6]]);
    q.add(msg(0, 3));
    // Partition 0 is busy until its batch is done: its next message waits.
    expect(q.take()).toBeNull();
    q.done(0);
    expect(offsets(q.take())).toEqual([3]);
    expect(q.running).toBe(2);
  });

  it('cuts a batch at the byte limit, but never below one message', () => {
    const q = new BatchQueues<string>(25);
    for (const o of [0, 1, 2]) q.add(msg(0, o, 10));
    q.add(msg(1, 0, 100));
    const first = q.take();
    expect(offsets(first)).toEqual([0, 1]);
    expect(offsets(q.take())).toEqual([0]);
    q.done(0);
    expect(offsets(q.take())).toEqual([2]);
    expect(q.bytes).toBe(0);
  });

  it('takes a message once: a refetch from the committed offset is dropped, later offsets are kept', () => {
    const q = new BatchQueues<string>(1000);
    for (const o of [10, 11, 12]) expect(q.add(msg(0, o))).toBe(true);
    const batch = q.take();
    // The client reads again from offset 10 (rebalance, restart) while 10..12 are being handled.
    for (const o of [10, 11, 12]) expect(q.add(msg(0, o))).toBe(false);
    expect(q.add(msg(0, 13))).toBe(true);
    q.done(0);
    expect(offsets(batch)).toEqual([10, 11, 12]);
    expect(offsets(q.take())).toEqual([13]);
    expect(q.positions()).toEqual(new Map([[0, 14n]]));
  });

  it('forgets a partition the group took away, and starts it afresh if it comes back', () => {
    const q = new BatchQueues<string>(1000);
    q.add(msg(0, 0));
    q.add(msg(1, 0));
    q.add(msg(1, 1));
    q.assign([0]);
    expect(q.owns(1)).toBe(false);
    expect(q.add(msg(1, 2))).toBe(false);
    expect(offsets(q.take())).toEqual([0]);
    expect(q.take()).toBeNull();
    expect(q.bytes).toBe(0);
    // Back again: read from what the group committed, which may be below what was held before.
    q.assign([0, 1]);
    expect(q.add(msg(1, 0))).toBe(true);
    expect(offsets(q.take())).toEqual([0]);
  });

  it('takes partitions in turn, so a busy one does not starve the others', () => {
    const q = new BatchQueues<string>(10);
    for (const o of [0, 1, 2]) q.add(msg(0, o));
    for (const o of [0, 1, 2]) q.add(msg(1, o));
    const order: number[] = [];
    for (let i = 0; i < 6; i++) {
      const b = q.take()!;
      order.push(b.partition);
      q.done(b.partition);
    }
    expect(order).toEqual([0, 1, 0, 1, 0, 1]);
  });

  it('a batch taken before its partition went away and came back is no longer held, so it does not commit', () => {
    const q = new BatchQueues<string>(1000);
    q.assign([0, 1]);
    q.add(msg(0, 5));
    q.add(msg(1, 7));
    const stale = q.take()!;
    const kept = q.take()!;
    expect([stale.partition, kept.partition]).toEqual([0, 1]);
    expect(q.holds(0, stale.epoch)).toBe(true);
    // Partition 0 goes to another member and comes back while its batch still runs.
    q.assign([1]);
    q.assign([0, 1]);
    expect(q.owns(0)).toBe(true);
    expect(q.holds(0, stale.epoch)).toBe(false);
    // Partition 1 stayed through both rebalances: its batch still commits.
    expect(q.holds(1, kept.epoch)).toBe(true);
    // A batch taken after the partition came back is held again.
    q.done(0);
    q.add(msg(0, 3));
    const fresh = q.take()!;
    expect(fresh.partition).toBe(0);
    expect(q.holds(0, fresh.epoch)).toBe(true);
  });

  it('says which partitions the last assignment gave, none before the first', () => {
    const q = new BatchQueues<string>(1000);
    expect(q.assigned(0)).toBe(false);
    q.assign([0, 2]);
    expect([0, 1, 2].map((p) => q.assigned(p))).toEqual([true, false, true]);
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { bounded, coalesced, MemoryPubSub, SubscriberTooSlow } from '../src/pubsub.ts';

interface T {
  live: { n: number };
}

describe('MemoryPubSub', () => {
  it('delivers per tenant only and unsubscribes', () => {
    const ps = new MemoryPubSub<T>();
    const a: number[] = [];
    const off = ps.subscribe('live', 'acme', (m) => a.push(m.n));
    ps.publish('live', 'beta', { n: 1 });
    ps.publish('live', 'acme', { n: 2 });
    off();
    ps.publish('live', 'acme', { n: 3 });
    expect(a).toEqual([2]);
    expect(ps.listeners()).toBe(0);
  });
});

describe('bounded', () => {
  it('delivers in order, and ends a subscriber that falls too far behind instead of buffering', async () => {
    const ps = new MemoryPubSub<T>();
    let dropped = 0;
    const it = bounded<number>((push) => ps.subscribe('live', 'acme', (m) => push(m.n)), 3, () => dropped++);
    ps.publish('live', 'acme', { n: 1 });
    expect(await it.next()).toEqual({ value: 1, done: false });
    for (let i = 2; i <= 6; i++) ps.publish('live', 'acme', { n: i });
    expect(dropped).toBe(1);
    await expect(it.next()).rejects.toBeInstanceOf(SubscriberTooSlow);
    expect(ps.listeners()).toBe(0);
  });

  it('return() ends a subscriber that is waiting for a value and detaches it', async () => {
    const ps = new MemoryPubSub<T>();
    const it = bounded<number>((push) => ps.subscribe('live', 'acme', (m) => push(m.n)), 10);
    const pending = it.next();
    await it.return(undefined);
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(ps.listeners()).toBe(0);
  });
});

describe('coalesced', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends the first snapshot at once, then at most one per gap, always the latest state', async () => {
    const ps = new MemoryPubSub<T>();
    let state = 0;
    const it = coalesced((dirty) => ps.subscribe('live', 'acme', () => dirty()), () => state, 250);
    expect((await it.next()).value).toBe(0);
    // a burst of changes right after: nothing before the gap has passed, then only the latest
    const got: number[] = [];
    const next = it.next().then((r) => got.push(r.value as number));
    for (let i = 1; i <= 50; i++) {
      state = i;
      ps.publish('live', 'acme', { n: i });
    }
    await vi.advanceTimersByTimeAsync(249);
    expect(got).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await next;
    expect(got).toEqual([50]);
    // nothing changed: the next value waits for a change, however long
    const after = it.next().then((r) => got.push(r.value as number));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(got).toEqual([50]);
    state = 51;
    ps.publish('live', 'acme', { n: 51 });
    await vi.advanceTimersByTimeAsync(0);
    await after;
    expect(got).toEqual([50, 51]);
    await it.return(undefined);
    expect(ps.listeners()).toBe(0);
  });
});

// Typed pub/sub behind the subscriptions. Channels are per tenant by construction: a subscriber
// names its tenant (from its token) and can never receive another tenant's messages. In-memory
// for one process; another implementation (Redis, Kafka) can stand behind the same interface.
import type { CanonicalEvent } from '@callboard/schemas';
import type { AgentOut } from './live.ts';

export interface Topics {
  /** live state of the tenant changed (queues touched; empty = anything) */
  live: { queues: string[] };
  callEvent: CanonicalEvent;
  agentState: AgentOut;
  /** a board was edited or deleted */
  board: { board_id: string };
}

export interface PubSub<T> {
  publish<K extends keyof T>(topic: K, tenant: string, payload: T[K]): void;
  /** returns the unsubscribe */
  subscribe<K extends keyof T>(topic: K, tenant: string, listener: (payload: T[K]) => void): () => void;
}

export class MemoryPubSub<T> implements PubSub<T> {
  private readonly channels = new Map<string, Set<(p: never) => void>>();

  publish<K extends keyof T>(topic: K, tenant: string, payload: T[K]): void {
    const set = this.channels.get(`${String(topic)}\u0000${tenant}`);
    if (!set) return;
    for (const l of [...set]) (l as (p: T[K]) => void)(payload);
  }

  subscribe<K extends keyof T>(topic: K, tenant: string, listener: (payload: T[K]) => void): () => void {
    const key = `${String(topic)}\u0000${tenant}`;
    let set = this.channels.get(key);
    if (!set) this.channels.set(key, (set = new Set()));
    set.add(listener as (p: never) => void);
    return () => {
      set.delete(listener as (p: never) => void);
      if (set.size === 0) this.channels.delete(key);
    };
  }

  listeners(): number {
    let n = 0;
    for (const s of this.channels.values()) n += s.size;
    return n;
  }
}

export class SubscriberTooSlow extends Error {
  readonly code = 'SUBSCRIBER_TOO_SLOW';
}

/**
 * An async generator whose return() takes effect at once even while it waits for a value: an
 * async generator suspended on an await would otherwise only see return() after its next value,
 * and a quiet channel would keep a disconnected subscriber alive forever.
 */
function closable<T>(body: (signal: { closed: boolean; wait: (ms?: number) => Promise<void> }) => AsyncGenerator<T>, detach: () => void, register: (wake: () => void) => void): AsyncGenerator<T> {
  let wake: (() => void) | null = null;
  const signal = {
    closed: false,
    wait: (ms?: number) =>
      new Promise<void>((r) => {
        const t = ms !== undefined ? setTimeout(() => done(), ms) : null;
        const done = () => {
          if (t) clearTimeout(t);
          wake = null;
          r();
        };
        wake = done;
      }),
  };
  register(() => wake?.());
  const gen = body(signal);
  const close = () => {
    if (signal.closed) return;
    signal.closed = true;
    detach();
    wake?.();
  };
  const it: AsyncGenerator<T> = {
    next: () => gen.next(),
    return: async (v) => {
      close();
      return gen.return(v as never);
    },
    throw: async (e) => {
      close();
      return gen.throw(e);
    },
    [Symbol.asyncIterator]() {
      return it;
    },
    [Symbol.asyncDispose]: async () => {
      close();
    },
  } as AsyncGenerator<T>;
  return it;
}

/**
 * An async iterator over pushed values with a bounded buffer: a subscriber that falls more than
 * `max` values behind is ended with SubscriberTooSlow instead of growing memory without bound.
 */
export function bounded<T>(attach: (push: (v: T) => void) => () => void, max: number, onDrop?: () => void): AsyncGenerator<T> {
  const buf: T[] = [];
  let failed: Error | null = null;
  let notify: () => void = () => {};
  const detach = attach((v) => {
    if (failed) return;
    if (buf.length >= max) {
      failed = new SubscriberTooSlow(`the subscriber fell more than ${max} events behind and was dropped; resubscribe`);
      buf.length = 0;
      onDrop?.();
      queueMicrotask(() => detach());
    } else buf.push(v);
    notify();
  });
  return closable(
    async function* (signal) {
      while (!signal.closed) {
        if (failed) throw failed;
        if (buf.length) yield buf.shift()!;
        else await signal.wait();
      }
    },
    detach,
    (w) => (notify = w),
  );
}

/**
 * Latest-wins updates, at most one per `minGapMs`: a change only marks the subscriber dirty; the
 * snapshot is computed when the subscriber is ready for the next value, so a slow client skips
 * ahead to the newest state and nothing queues up. The first value is sent at once.
 */
export function coalesced<T>(attach: (dirty: () => void) => () => void, snapshot: () => Promise<T> | T, minGapMs: number): AsyncGenerator<T> {
  let dirty = true;
  let notify: () => void = () => {};
  const detach = attach(() => {
    dirty = true;
    notify();
  });
  return closable(
    async function* (signal) {
      let last = 0;
      while (!signal.closed) {
        if (!dirty) {
          await signal.wait();
          continue;
        }
        const gap = last + minGapMs - Date.now();
        if (gap > 0) {
          await signal.wait(gap);
          continue;
        }
        dirty = false;
        last = Date.now();
        yield await snapshot();
      }
    },
    detach,
    (w) => (notify = w),
  );
}

// Everything the API asks of the engine passes this gate: identical reads in flight at once are
// one engine read, metrics over closed periods are reused, and the engine's few slots are given
// round-robin over the tenants' queues, so one tenant's flood waits behind itself, not others.
// The embedded engine runs bound-parameter queries one at a time (chdb serialises them), so
// without the gate a tenant's 1,000 queued queries are ahead of every other tenant's one.
import { counter, gauge } from '@callboard/platform';
import { withReadLimits } from '@callboard/projections/read';
import { ApiError } from './errors.ts';

// No tenant label: /metrics may be scraped by people who must not learn the tenants' names.
const reads = counter('callboard_api_reads_total', 'Reads of the projections asked by GraphQL, by how they were answered', ['answer']);
const cancelled = counter('callboard_api_reads_cancelled_total', 'Reads given up at the request deadline (queued ones dropped, running ones stopped by the engine)');
const queued = gauge('callboard_api_engine_queued', 'Engine reads waiting for a slot, all tenants');
const running = gauge('callboard_api_engine_running', 'Engine reads running');

/** A request's deadline: its signal aborts at `at` (epoch ms). */
export interface Deadline {
  signal: AbortSignal;
  at: number;
}

export function deadlineIn(ms: number, now = Date.now()): Deadline & { clear(): void } {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), ms);
  timer.unref?.();
  return { signal: ac.signal, at: now + ms, clear: () => clearTimeout(timer) };
}

export const timedOut = (deadlineMs: number) =>
  new ApiError('TIMEOUT', `the request ran past its deadline of ${deadlineMs} ms and its engine queries were cancelled: ask for a shorter period, fewer groups, or fewer fields at once`);

interface Waiting {
  signal: AbortSignal;
  start: () => void;
  drop: () => void;
}

/**
 * Round-robin over tenants' FIFO queues, at most `concurrency` tasks running: the next slot goes
 * to the waiting tenant served least recently, so a tenant that arrives behind another's flood
 * runs next, not after it.
 */
export class FairScheduler {
  private readonly queues = new Map<string, Waiting[]>();
  private readonly lastServed = new Map<string, number>();
  private served = 0;
  private active = 0;

  constructor(private readonly concurrency: number) {}

  run<T>(tenant: string, signal: AbortSignal, task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const w: Waiting = {
        signal,
        start: () => {
          this.active++;
          running.inc();
          task()
            .then(resolve, reject)
            .finally(() => {
              this.active--;
              running.dec();
              this.next();
            });
        },
        drop: () => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted before it ran')),
      };
      let q = this.queues.get(tenant);
      if (!q) this.queues.set(tenant, (q = []));
      q.push(w);
      queued.inc();
      this.next();
    });
  }

  /** Reads waiting, per tenant (for tests and the benchmark; never exported as a labelled metric). */
  waiting(tenant: string): number {
    return this.queues.get(tenant)?.length ?? 0;
  }

  private next(): void {
    while (this.active < this.concurrency && this.queues.size) {
      let tenant = '';
      let oldest = Infinity;
      for (const t of this.queues.keys()) {
        const at = this.lastServed.get(t) ?? -1;
        if (at < oldest) [tenant, oldest] = [t, at];
      }
      const q = this.queues.get(tenant)!;
      const w = q.shift()!;
      queued.dec();
      if (!q.length) this.queues.delete(tenant);
      if (w.signal.aborted) {
        w.drop();
        continue;
      }
      if (this.lastServed.size > 10_000) for (const t of this.lastServed.keys()) if (!this.queues.has(t)) this.lastServed.delete(t);
      this.lastServed.set(tenant, ++this.served);
      w.start();
    }
  }
}

export interface GateRead {
  tenant: string;
  /** Same key, same answer: reads with equal keys in flight at once share one engine read. */
  key: string;
  /** A closed period's answer does not change (until late data arrives): reuse it for a while. */
  cacheable: boolean;
  deadline: Deadline;
}

interface InFlight {
  value: Promise<unknown>;
  waiters: number;
  abort: AbortController;
}

export class EngineGate {
  private readonly scheduler: FairScheduler;
  private readonly inFlight = new Map<string, InFlight>();
  private readonly cache = new Map<string, { until: number; value: unknown }>();

  constructor(
    private readonly o: { concurrency: number; cacheS: number; deadlineMs: number; maxCached?: number; now?: () => number },
  ) {
    this.scheduler = new FairScheduler(o.concurrency);
  }

  waiting(tenant: string): number {
    return this.scheduler.waiting(tenant);
  }

  /** A deadline for work no request started (subscriptions' periodic reads). */
  defaultDeadline(): Deadline {
    return deadlineIn(this.o.deadlineMs, this.now());
  }

  async read<T>(r: GateRead, task: () => Promise<T>): Promise<T> {
    if (r.deadline.signal.aborted) throw this.cancel();
    const key = `${r.tenant}\u0000${r.key}`;
    const hit = this.cache.get(key);
    if (hit && hit.until > this.now()) {
      reads.inc({ answer: 'cached' });
      return hit.value as T;
    }
    let f = this.inFlight.get(key);
    if (f) reads.inc({ answer: 'coalesced' });
    else {
      reads.inc({ answer: 'engine' });
      f = this.start(key, r, task);
    }
    f.waiters++;
    const shared = f;
    // A waiter that gives up leaves the read to the others; the last one to leave cancels it.
    return new Promise<T>((resolve, reject) => {
      const leave = () => {
        r.deadline.signal.removeEventListener('abort', onAbort);
        if (--shared.waiters === 0 && this.inFlight.get(key) === shared) shared.abort.abort();
      };
      const onAbort = () => {
        leave();
        reject(this.cancel());
      };
      r.deadline.signal.addEventListener('abort', onAbort, { once: true });
      shared.value.then(
        (v) => {
          if (r.deadline.signal.aborted) return;
          leave();
          resolve(v as T);
        },
        (e: unknown) => {
          if (r.deadline.signal.aborted) return;
          leave();
          reject(isEngineTimeout(e) ? this.cancel() : e);
        },
      );
    });
  }

  private start(key: string, r: GateRead, task: () => Promise<unknown>): InFlight {
    const abort = new AbortController();
    const maxExecutionS = () => Math.max(0.001, (r.deadline.at - this.now()) / 1000);
    const value = this.scheduler.run(r.tenant, abort.signal, () => withReadLimits({ signal: abort.signal, maxExecutionS: maxExecutionS() }, task));
    const f: InFlight = { value, waiters: 0, abort };
    this.inFlight.set(key, f);
    value.then(
      (v) => {
        if (this.inFlight.get(key) === f) this.inFlight.delete(key);
        if (r.cacheable && this.o.cacheS > 0) {
          if (this.cache.size >= (this.o.maxCached ?? 2000)) this.cache.delete(this.cache.keys().next().value!);
          this.cache.set(key, { until: this.now() + this.o.cacheS * 1000, value: v });
        }
      },
      () => {
        if (this.inFlight.get(key) === f) this.inFlight.delete(key);
      },
    );
    return f;
  }

  private cancel(): ApiError {
    cancelled.inc();
    return timedOut(this.o.deadlineMs);
  }

  private now(): number {
    return (this.o.now ?? Date.now)();
  }
}

/** The engine's own `max_execution_time` stop (ClickHouse TIMEOUT_EXCEEDED, code 159). */
function isEngineTimeout(e: unknown): boolean {
  const x = e as { code?: unknown; type?: unknown; message?: unknown };
  return x?.code === '159' || x?.type === 'TIMEOUT_EXCEEDED' || (typeof x?.message === 'string' && /Timeout exceeded: elapsed/.test(x.message));
}

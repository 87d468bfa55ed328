// How `callboard retranslate` writes what it translated again: a transient Kafka error is
// retried, an error no retry can change and a write failing past the bound end the command with
// exit 69 and a message naming the write and the cause. The command around it, on a real
// broker: retranslate.int.spec.ts.
import { describe, expect, it, vi } from 'vitest';
import { classify, EXIT } from '@callboard/platform';
import { ReadGiveUp, writeOrGiveUp } from '../src/retranslate.ts';

// Shaped as @platformatic/kafka reports a broker's answer: `canRetry` says whether it is transient.
const brokerError = (apiId: string, canRetry: boolean) => Object.assign(new Error(`the broker says ${apiId.toLowerCase()}.`), { apiId, canRetry });
const what = 'writing 3 events and 0 dead letters translated from pbx.raw.v1[2] offsets 10..12 to cc.events.v1';

/** A write that fails with `errors` in turn, then succeeds; counts its attempts. */
function failing(...errors: Error[]) {
  const w = {
    attempts: 0,
    write: async () => {
      const e = errors[w.attempts++];
      if (e) throw e;
    },
  };
  return w;
}

describe('writeOrGiveUp', () => {
  it('retries a transient error until the write is taken, and says so', async () => {
    const w = failing(brokerError('NOT_LEADER_OR_FOLLOWER', true));
    const warnings: string[] = [];
    await writeOrGiveUp(what, w.write, { warn: (m) => warnings.push(m) });
    expect(w.attempts).toBe(2);
    expect(warnings).toEqual([expect.stringContaining(`${what} failed`)]);
  });

  it('gives up at once on an error no retry can change, naming the write and the cause (exit 77: not authorized)', async () => {
    const w = failing(...Array.from({ length: 50 }, () => brokerError('TOPIC_AUTHORIZATION_FAILED', false)));
    const err = (await writeOrGiveUp(what, w.write, { warn: () => {} }).catch((e: unknown) => e)) as Error;
    expect(w.attempts).toBe(1);
    expect(err.message).toBe(`${what}: TOPIC_AUTHORIZATION_FAILED`);
    expect(classify(err)).toMatchObject({ exit: EXIT.noPermission, message: err.message, internal: false });
  });

  it('gives up on a transient error that outlasts the bound', async () => {
    const w = failing(...Array.from({ length: 50 }, () => brokerError('NOT_LEADER_OR_FOLLOWER', true)));
    // The backoff waits run on fake timers, run out instead of slept.
    vi.useFakeTimers();
    const failed = writeOrGiveUp(what, w.write, { warn: () => {}, giveUpAfterMs: 1_200 }).catch((e: unknown) => e);
    await vi.runAllTimersAsync();
    vi.useRealTimers();
    const err = (await failed) as Error;
    // Retried until the bound, not given up on before it: with the backoff from 0.5 s, attempts
    // at 0, 0.5 and 1.2 s (the last wait cut to the bound).
    expect(w.attempts).toBeGreaterThanOrEqual(3);
    expect(err.message).toBe(`${what}: still failing after ${w.attempts} attempts in 1.2 s: NOT_LEADER_OR_FOLLOWER`);
    expect(classify(err).exit).toBe(EXIT.unavailable);
  });
});

describe('ReadGiveUp', () => {
  it('gives up once reading has failed for the bound with nothing read, and a read starts the count again', () => {
    let t = 0;
    const r = new ReadGiveUp(60_000, () => t);
    expect(r.failed()).toBe(false);
    t = 59_999;
    expect(r.failed()).toBe(false);
    // A fetch in between: the failures before it do not count.
    r.read();
    t = 70_000;
    expect(r.failed()).toBe(false);
    t = 129_999;
    expect(r.failed()).toBe(false);
    t = 130_000;
    expect(r.failed()).toBe(true);
  });
});

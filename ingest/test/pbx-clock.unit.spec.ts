// The PBX clock offset (ingest/src/pbx-clock.ts): the least delay wins, a replay is not a clock
// error, a stepped clock settles on its new offset.
import { describe, expect, it } from 'vitest';
import { CLOCK_BUCKET_MS, PbxClockOffset, serverTime } from '../src/pbx-clock.ts';

const T0 = Date.parse('2026-12-05T10:00:00.000Z');

/** Events every `everyMs` of receive time for `forMs`, each delayed by `delay(i)` after the PBX stamped it. */
function feed(c: PbxClockOffset, o: { from: number; forMs: number; everyMs: number; offsetMs: number; delay: (i: number) => number }): number {
  let i = 0;
  for (let r = o.from; r < o.from + o.forMs; r += o.everyMs, i++) c.add(r, r - o.delay(i) + o.offsetMs);
  return o.from + o.forMs;
}

describe('PbxClockOffset', () => {
  it('measures a PBX clock 90 s behind from the least delayed events, whatever the jitter', () => {
    const c = new PbxClockOffset();
    expect(c.offsetMs).toBeNull();
    // Delays of 20–1,220 ms; the least delay in each bucket is 20 ms.
    feed(c, { from: T0, forMs: 30_000, everyMs: 250, offsetMs: -90_000, delay: (i) => 20 + (i % 7) * 200 });
    expect(c.offsetMs).toBe(-90_020);
    expect(serverTime(T0 - 90_000, c.offsetMs)).toBe(T0 + 20);
  });

  it('is unknown while history replays (PBX time running far faster than real time), then settles once live', () => {
    const c = new PbxClockOffset();
    // A day's history replayed in 20 s: each receive second carries ~72 minutes of PBX time.
    const day = 86_400_000;
    let r = T0;
    for (let i = 0; i < 400; i++, r += 50) c.add(r, T0 - day + (i * day) / 400);
    expect(c.offsetMs).toBeNull();
    // Live from here on, the PBX clock 90 s behind.
    feed(c, { from: r, forMs: 3 * CLOCK_BUCKET_MS, everyMs: 500, offsetMs: -90_000, delay: () => 5 });
    expect(c.offsetMs).toBe(-90_005);
  });

  it('keeps the last settled offset through a replay, and follows a stepped clock once it is steady again', () => {
    const c = new PbxClockOffset();
    const r = feed(c, { from: T0, forMs: 20_000, everyMs: 500, offsetMs: -90_000, delay: () => 0 });
    expect(c.offsetMs).toBe(-90_000);
    // NTP steps the PBX clock right: for a bucket or two the buckets disagree, the old offset stays.
    c.add(r, r);
    expect(c.offsetMs).toBe(-90_000);
    feed(c, { from: r, forMs: 20_000, everyMs: 500, offsetMs: 0, delay: () => 0 });
    expect(c.offsetMs).toBe(0);
  });

  it('ignores events of buckets older than the ones it keeps (another partition, folded late)', () => {
    const c = new PbxClockOffset();
    feed(c, { from: T0, forMs: 20_000, everyMs: 500, offsetMs: 1_500, delay: () => 0 });
    c.add(T0 - 60_000, T0 - 60_000 + 50_000);
    expect(c.offsetMs).toBe(1_500);
  });
});

// The gap of the feed on the PBX clock (METRICS.md "Gaps of the feed", "Time and precision"):
// the AMI client measures a gap on the receive clock; the adapter places it on the PBX clock from
// what the translator learnt of that clock (adapter.ts `pbxGap`). Built from j_restart's real
// frames and receive times: `core restart now` (the Shutdown frame), the link cut before it (a
// crash), and the same recording received by a machine whose clock is not the PBX's.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PendingGaps, pbxGap, type ReceivedGap } from '../src/ami/adapter.ts';
import { framesWithTimes, newTranslator } from '../src/ami/offline.ts';
import type { AmiFrame } from '../src/ami/parser.ts';
import { parseAmiTimestamp, type AmiTranslator, type FrameMeta } from '../src/ami/translator.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DIR = join(repoRoot, '..', 'shared', 'fixtures', 'ami', 'asterisk22', 'j_restart');

type Item = { frame: AmiFrame; meta: FrameMeta };

/** A capture's frames on one connection, the receive clock moved by `skewMs`. */
function read(file: string, connection: string, skewMs: number): Item[] {
  return framesWithTimes(join(DIR, file), { warn: () => {} })
    .filter((x) => x.frame.kind !== 'action')
    .map(({ frame, meta }) => ({ frame, meta: { ...meta, connection, received_at: meta.received_at + skewMs } }));
}

function feed(t: AmiTranslator, items: Item[]): void {
  for (const { frame, meta } of items) t.translate(frame, meta);
}

const ts = (x: Item) => parseAmiTimestamp(x.frame.headers.Timestamp!);
const HOUR = 3_600_000;

/**
 * The recording as the live adapter sees it: the first connection (up to `cut` frames), the
 * reconnect's frames up to its login reply, and the gap the client measured on the receive
 * clock: from the last bytes received to the login (the resync follows at once).
 */
function restart(skewMs: number, cut?: (items: Item[]) => number) {
  const before = read('capture.ami', 'c1', skewMs);
  const first = cut ? before.slice(0, cut(before)) : before;
  const after = read('capture.after.ami', 'c2', skewMs);
  const login = after.findIndex((x) => x.frame.kind === 'response');
  const t = newTranslator({ cfg: { queues: [] }, tenant_id: 't1', pbx_id: 'pbx1' });
  feed(t, first);
  feed(t, after.slice(0, login + 1));
  const gap: ReceivedGap = { from: first[first.length - 1]!.meta.received_at, to: after[login]!.meta.received_at, reason: 'closed the connection', conn: 'c2' };
  return { t, gap, first, rest: after.slice(login + 1) };
}

/** Feeds the reconnect's frames until one carries a Timestamp; returns it. */
function untilTimestamp(t: AmiTranslator, rest: Item[]): Item {
  const i = rest.findIndex((x) => x.frame.headers.Timestamp !== undefined);
  feed(t, rest.slice(0, i + 1));
  return rest[i]!;
}

describe.skipIf(!existsSync(DIR))('the gap of the feed on the PBX clock (j_restart, needs ../shared/fixtures)', () => {
  it('core restart now: from the Shutdown Timestamp to the resync, once the new connection shows the PBX clock', () => {
    const { t, gap, first, rest } = restart(0);
    const shutdown = first.find((x) => x.frame.name === 'Shutdown')!;
    // FullyBooted and the login reply carry no Timestamp: the new connection's offset is unknown.
    expect(pbxGap(gap, t.feedClock(), false)).toBeNull();
    const stamped = untilTimestamp(t, rest);
    const span = pbxGap(gap, t.feedClock(), false)!;
    expect(span.from).toBe(ts(shutdown));
    expect(span.to).toBe(gap.to + (ts(stamped) - stamped.meta.received_at));
    // This recording's receive clock is the PBX's (same machine): the resync is right after the
    // login, and the gap is the ~0.66 s Asterisk took to come back.
    expect(span.to - span.from).toBeGreaterThan(500);
    expect(span.to - span.from).toBeLessThan(1000);
  });

  it('a link cut (crash) before the restart: from the last frame received, on the PBX clock', () => {
    const cut = (items: Item[]) => items.findIndex((x) => x.frame.name === 'SoftHangupRequest' && ts(x) >= 1796414482000);
    const { t, gap, first, rest } = restart(0, cut);
    const last = first[first.length - 1]!;
    expect(last.frame.headers.Timestamp).toBeDefined();
    untilTimestamp(t, rest);
    const span = pbxGap(gap, t.feedClock(), false)!;
    expect(span.from).toBe(ts(last));
    expect(span.to).toBeGreaterThan(span.from);
  });

  it('a receive clock 7 hours off the PBX clock: the same gap as a receiver in step with the PBX', () => {
    const inStep = restart(0);
    untilTimestamp(inStep.t, inStep.rest);
    const want = pbxGap(inStep.gap, inStep.t.feedClock(), false)!;
    for (const skew of [7 * HOUR + 123, -7 * HOUR]) {
      const { t, gap, rest } = restart(skew);
      untilTimestamp(t, rest);
      expect(pbxGap(gap, t.feedClock(), false), `skew ${skew} ms`).toEqual(want);
      // What the client measured is the receive clock's: listed as is, it would be `skew` off.
      expect(gap.from - want.from).toBeGreaterThan(skew - 2000);
    }
  });

  it('a PBX clock that did not go on in step across the restart: the end comes from the new connection, not the old offset', () => {
    // As a sped-up simulated day: the PBX clock ran 5 minutes further than the receiver's while down.
    const { t, gap, rest } = restart(0);
    const ahead = rest.map(({ frame, meta }) => {
      const v = frame.headers.Timestamp;
      return {
        meta,
        frame: v === undefined ? frame : { ...frame, headers: { ...frame.headers, Timestamp: ((parseAmiTimestamp(v) + 300_000) / 1000).toFixed(6) } },
      };
    });
    const stamped = untilTimestamp(t, ahead);
    const span = pbxGap(gap, t.feedClock(), false)!;
    expect(span.to).toBe(gap.to + ts(stamped) - stamped.meta.received_at);
    expect(span.to - span.from).toBeGreaterThan(300_000);
  });

  it('a connection that never shows a Timestamp: placed with the last offset when nothing more will come', () => {
    const skew = -2 * HOUR;
    const { t, gap, first } = restart(skew);
    const shutdown = first.find((x) => x.frame.name === 'Shutdown')!;
    expect(pbxGap(gap, t.feedClock(), false)).toBeNull();
    const span = pbxGap(gap, t.feedClock(), true)!;
    expect(span.from).toBe(ts(shutdown));
    // The old connection's offset undoes the skew.
    expect(Math.abs(span.to - (gap.to - skew))).toBeLessThan(50);
  });

  it('the first connection after an ingest restart: the persisted receive-time mark is moved by the offset too', () => {
    const skew = 7 * HOUR;
    const after = read('capture.after.ami', 'c1', skew);
    const t = newTranslator({ cfg: { queues: [] }, tenant_id: 't1', pbx_id: 'pbx1' });
    const stamped = untilTimestamp(t, after);
    const gap: ReceivedGap = { from: stamped.meta.received_at - 60_000, to: stamped.meta.received_at, reason: 'ingest was not running', conn: 'c1' };
    expect(pbxGap(gap, t.feedClock(), false)).toEqual({ from: ts(stamped) - 60_000, to: ts(stamped) });
  });

  it('the adapter places a gap only once the old connection\'s backlog is translated, then at the new connection\'s first Timestamp', () => {
    // Frames wait for Kafka before they are translated: when the resync completes, the
    // translator may still be far behind in the old connection's frames.
    const { t, gap, first, rest } = restart(0);
    // Frames received when the resync completed: the first connection's, then the new one's to its login.
    const login = first.length + read('capture.after.ami', 'c2', 0).length - rest.length;
    const pending = new PendingGaps();
    pending.add(gap, login);
    const backlog = newTranslator({ cfg: { queues: [] }, tenant_id: 't1', pbx_id: 'pbx1' });
    const half = Math.floor(first.length / 2);
    feed(backlog, first.slice(0, half));
    // The next frame is the old connection's: not a newer one, so the gap waits.
    expect(pending.take(backlog.feedClock(), half, 'c1', false)).toEqual([]);
    expect(pending.due(backlog.feedClock(), half)).toBe(false);
    // Caught up to the resync, but no Timestamp on the new connection yet.
    expect(pending.take(t.feedClock(), login, 'c2', false)).toEqual([]);
    const stamped = untilTimestamp(t, rest);
    const translated = login + rest.indexOf(stamped) + 1;
    expect(pending.due(t.feedClock(), translated)).toBe(true);
    const [placed] = pending.take(t.feedClock(), translated, 'c2', false);
    expect(placed).toEqual({ gap, from: ts(first.find((x) => x.frame.name === 'Shutdown')!), to: gap.to + ts(stamped) - stamped.meta.received_at });
    expect(pending.size).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import type { SimAction } from '../src/model.ts';
import { SimPlayer } from '../src/player.ts';

// A wall clock that a slow replay can push forward at once: real time plus whatever the test adds,
// so the live part still runs on real timers.
function skewedClock(): { now: () => number; advance: (ms: number) => void } {
  let skew = 0;
  return { now: () => Date.now() + skew, advance: (ms) => (skew += ms) };
}

// The PBX clock equals the wall clock: read between two wall readings, so no bound on how long
// the machine took between them (a loaded host once put 5 ms there and failed a `< 5` bound).
function expectReadsWallClock(player: SimPlayer, wall: () => number): void {
  const before = wall();
  const pbx = player.now();
  const after = wall();
  expect(pbx).toBeGreaterThanOrEqual(before);
  expect(pbx).toBeLessThanOrEqual(after);
}

const pause = (t: number, agent: string): SimAction => ({ t, kind: 'pause', agent, paused: true, reason: 'x' });

describe('SimPlayer clock after the history replay (#16)', () => {
  it('plays live frames at the real current time even when the replay took 93 s', async () => {
    const clock = skewedClock();
    const start = clock.now();
    // History from an hour ago up to start, then live actions 30 ms … 93.2 s after start: the
    // ones the replay's 93 s overtook belong to history, the rest must come out on time.
    const history = Array.from({ length: 50 }, (_, i) => pause(start - 3600_000 + i * 1000, `h${i}`));
    const live = [30, 93_000, 93_150, 93_300].map((d, i) => pause(start + d, `l${i}`));
    const played: { a: SimAction; wall: number; virtual: number }[] = [];
    let drains = 0;
    const player: SimPlayer = new SimPlayer({
      actions: [...history, ...live],
      startAt: start - 3600_000,
      catchUpTo: start,
      // The wall instant `start` was read at: the PBX clock then reads the wall clock exactly, and
      // the check below can bracket it instead of bounding the time it took to build the actions.
      catchUpAtWall: start,
      speed: 1,
      batch: 10,
      wallClock: clock.now,
      sink: (a) => played.push({ a, wall: clock.now(), virtual: player.now() }),
      // The replay is slow: five batches take 93 s of wall time between them.
      drain: async () => {
        if (++drains <= 5) clock.advance(93_000 / 5);
      },
    });
    await player.run();
    expect(played.map((p) => p.a)).toEqual([...history, ...live]);
    // Overtaken by the replay: played at once, in order, as history.
    expect(played.slice(50, 52).every((p) => p.wall >= p.a.t)).toBe(true);
    // Live: each frame is played when the real clock reaches its time, never before, and the
    // PBX clock reads the real clock. The timer lag after that is the machine's (a loaded host
    // gave 64 ms once): printed, not bounded; the replay-overtaken frames above are the check
    // that the 93 s were not added to the live ones.
    const lags = played.slice(52).map((p) => p.wall - p.a.t);
    for (const lag of lags) expect(lag).toBeGreaterThanOrEqual(0);
    expect(Math.max(...lags)).toBeLessThan(93_000);
    console.log(`simulator-player: live frames' timer lag ${lags.join(', ')} ms`);
    expectReadsWallClock(player, clock.now);
  });

  it('runs its live clock from the wall instant catchUpTo stands for, not from when the player was made', async () => {
    const clock = skewedClock();
    const readAt = clock.now();
    // The caller read the clock, then spent 4 s building the day before making the player.
    clock.advance(4_000);
    const played: { a: SimAction; wall: number }[] = [];
    const live = pause(readAt + 4_100, 'l');
    const player: SimPlayer = new SimPlayer({ actions: [live], startAt: readAt - 60_000, catchUpTo: readAt, catchUpAtWall: readAt, speed: 1, wallClock: clock.now, sink: (a) => played.push({ a, wall: clock.now() }) });
    await player.run();
    expect(played).toHaveLength(1);
    // Played when the real clock reached its time (not 4 s late), with the PBX clock on the real one.
    expect(played[0]!.wall - live.t).toBeGreaterThanOrEqual(0);
    expect(played[0]!.wall - live.t).toBeLessThan(4_000);
    expectReadsWallClock(player, clock.now);
  });

  it('without catchUpTo starts its live clock at startAt when run begins', async () => {
    const clock = skewedClock();
    const t0 = 1_000_000;
    const played: number[] = [];
    const player = new SimPlayer({ actions: [pause(t0 + 20, 'a')], startAt: t0, speed: 1, wallClock: clock.now, sink: () => played.push(clock.now()) });
    clock.advance(50_000); // time before run() (waiting for a client) is not history
    const began = clock.now();
    await player.run();
    expect(played).toHaveLength(1);
    expect(played[0]! - began).toBeGreaterThanOrEqual(20);
  });
});

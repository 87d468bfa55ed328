import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from '../src/lib/backoff.ts';
import { elapsedMs, formatDuration, serverNowMs, serverOffsetMs, timeInState } from '../src/lib/clock.ts';
import { staleSeconds, watchdog } from '../src/lib/liveness.ts';
import { boardIndexAt, tokenForBoard } from '../src/lib/rotation.ts';

describe('server clock offset', () => {
  it('is server_time minus the client clock when the snapshot arrived', () => {
    const client = Date.parse('2026-03-29T07:15:00.000Z');
    expect(serverOffsetMs('2026-03-29T07:15:02.500Z', client)).toBe(2500);
    expect(serverOffsetMs('2026-03-29T07:14:00.000Z', client)).toBe(-60_000);
  });

  it('names the bad value when server_time is not a timestamp', () => {
    expect(() => serverOffsetMs('yesterday', 0)).toThrow(/server_time.*"yesterday"/);
  });

  it('ticks locally: a TV clock 90 s fast still shows the right time in state', () => {
    const serverTime = '2026-03-29T07:15:00.000Z';
    const clientAtSnapshot = Date.parse(serverTime) + 90_000; // TV runs 90 s ahead
    const offset = serverOffsetMs(serverTime, clientAtSnapshot);
    const stateStart = '2026-03-29T07:14:30.000Z'; // 30 s before the snapshot
    expect(timeInState(stateStart, offset, clientAtSnapshot)).toBe('0:30');
    expect(timeInState(stateStart, offset, clientAtSnapshot + 45_000)).toBe('1:15');
    expect(serverNowMs(offset, clientAtSnapshot)).toBe(Date.parse(serverTime));
  });

  it('never shows negative time for a state that began just after server_time', () => {
    expect(elapsedMs('2026-03-29T07:15:00.200Z', 0, Date.parse('2026-03-29T07:15:00.000Z'))).toBe(0);
    expect(timeInState('2026-03-29T07:15:00.200Z', 0, Date.parse('2026-03-29T07:15:00.000Z'))).toBe('0:00');
  });

  it('shows "—" when there is no start time', () => {
    expect(timeInState(null, 0, 0)).toBe('—');
    expect(timeInState('not a date', 0, 0)).toBe('—');
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0:00'],
    [999, '0:00'],
    [7_000, '0:07'],
    [59_999, '0:59'],
    [60_000, '1:00'],
    [754_000, '12:34'],
    [3_599_000, '59:59'],
    [3_600_000, '1:00:00'],
    [3_723_000, '1:02:03'],
    [26 * 3_600_000, '26:00:00'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('shows "—" for null, undefined and non-finite values', () => {
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(undefined)).toBe('—');
    expect(formatDuration(Number.NaN)).toBe('—');
  });
});

describe('reconnect backoff', () => {
  it('grows exponentially up to the cap, with jitter in the upper half', () => {
    expect(backoffDelayMs(0, 0)).toBe(250);
    expect(backoffDelayMs(0, 0.999)).toBeLessThanOrEqual(500);
    expect(backoffDelayMs(3, 0)).toBe(2000);
    expect(backoffDelayMs(3, 0.5)).toBe(3000);
    expect(backoffDelayMs(50, 0.999)).toBeLessThanOrEqual(30_000);
    expect(backoffDelayMs(50, 0)).toBe(15_000);
  });

  it('spreads a room full of TVs: different random draws give different delays', () => {
    const delays = new Set([0.1, 0.3, 0.5, 0.7, 0.9].map((r) => backoffDelayMs(4, r)));
    expect(delays.size).toBe(5);
  });
});

describe('liveness', () => {
  it('is stale only after the stale window, in whole seconds since the last contact', () => {
    expect(staleSeconds(10_000, 14_000)).toBeNull();
    expect(staleSeconds(10_000, 15_000)).toBeNull();
    expect(staleSeconds(10_000, 15_001)).toBe(5);
    expect(staleSeconds(10_000, 72_500)).toBe(62);
  });

  it('probes a quiet stream, then gives up on one silent for too long', () => {
    const base = { open: true, lastStreamAt: 0, lastProbeAt: 0, probing: false };
    expect(watchdog(base, 2_000)).toBe('none');
    expect(watchdog(base, 3_500)).toBe('probe');
    expect(watchdog({ ...base, probing: true }, 3_500)).toBe('none');
    expect(watchdog({ ...base, lastProbeAt: 3_000 }, 4_000)).toBe('none');
    expect(watchdog(base, 46_000)).toBe('reconnect');
    expect(watchdog({ ...base, open: false }, 46_000)).toBe('none');
  });
});

describe('rotation', () => {
  it('moves one board per interval and wraps', () => {
    expect(boardIndexAt(0, 29_999, 30, 3)).toBe(0);
    expect(boardIndexAt(0, 30_000, 30, 3)).toBe(1);
    expect(boardIndexAt(0, 60_000, 30, 3)).toBe(2);
    expect(boardIndexAt(0, 90_000, 30, 3)).toBe(0);
    // A TV that slept 10 minutes lands where the schedule says, not one step further.
    expect(boardIndexAt(0, 22 * 30_000 + 1_000, 30, 3)).toBe(22 % 3);
  });

  it('stays on the first board without rotation or with one board', () => {
    expect(boardIndexAt(0, 1e9, 0, 3)).toBe(0);
    expect(boardIndexAt(0, 1e9, 30, 1)).toBe(0);
  });

  it('pairs tokens with boards, or uses one token for all', () => {
    expect(tokenForBoard(['a'], 2)).toBe('a');
    expect(tokenForBoard(['a', 'b'], 1)).toBe('b');
    expect(tokenForBoard([], 0)).toBeNull();
  });
});

// The AMI client's pure parts: the reconnect backoff and the action encoding.
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '@callboard/platform';
import { encodeAction } from '../src/ami/client.ts';
import { parseAll } from '../src/ami/parser.ts';

describe('AMI client backoff', () => {
  it('doubles per attempt, with jitter in [d/2, d], capped at the maximum', () => {
    expect(backoffDelay(0, 500, 30_000, () => 0)).toBe(250);
    expect(backoffDelay(0, 500, 30_000, () => 1)).toBe(500);
    expect(backoffDelay(3, 500, 30_000, () => 1)).toBe(4000);
    expect(backoffDelay(3, 500, 30_000, () => 0)).toBe(2000);
    expect(backoffDelay(20, 500, 30_000, () => 1)).toBe(30_000);
    expect(backoffDelay(1000, 500, 30_000, () => 0.5)).toBe(22_500);
  });

  it('spreads reconnects of many clients (jitter is not constant)', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(4, 500, 30_000, rnd)));
    expect(delays.size).toBeGreaterThan(40);
    for (const d of delays) expect(d).toBeGreaterThanOrEqual(4000);
  });
});

describe('AMI action encoding', () => {
  it('writes one frame that the parser reads back; line breaks in values cannot inject headers', () => {
    const text = encodeAction({ Action: 'Login', ActionID: 'a1', Username: 'cb', Secret: 'x\r\nAction: Originate', Events: 'on' });
    const frames = parseAll(text);
    expect(frames).toHaveLength(1);
    expect(frames[0]).toMatchObject({ kind: 'action', headers: { Action: 'Login', Username: 'cb', Secret: 'x Action: Originate', Events: 'on' } });
  });
});

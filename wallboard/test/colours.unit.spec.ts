import { describe, expect, it } from 'vitest';
import { LEVEL_COLOURS, QUEUE_PALETTE, queueColours, rgbOf } from '../src/lib/colours.ts';

/** "Redmean" colour distance: cheap, close enough to perceived difference to catch a look-alike. */
function distance(a: string, b: string): number {
  const [r1, g1, b1] = rgbOf(a);
  const [r2, g2, b2] = rgbOf(b);
  const rm = (r1 + r2) / 2;
  return Math.sqrt((2 + rm / 256) * (r1 - r2) ** 2 + 4 * (g1 - g2) ** 2 + (2 + (255 - rm) / 256) * (b1 - b2) ** 2);
}

describe('queue colours', () => {
  it('gives a configured colour to its queue and the palette to the others, in order', () => {
    const c = queueColours([{ queue: 'a' }, { queue: 'b', colour: '#123456' }, { queue: 'c', colour: null }]);
    expect([...c.entries()]).toEqual([
      ['a', QUEUE_PALETTE[0]],
      ['b', '#123456'],
      ['c', QUEUE_PALETTE[1]],
    ]);
  });

  it('cycles the palette past its end', () => {
    const many = queueColours(Array.from({ length: QUEUE_PALETTE.length + 1 }, (_, i) => ({ queue: `q${i}` })));
    expect(many.get(`q${QUEUE_PALETTE.length}`)).toBe(QUEUE_PALETTE[0]);
  });

  it('keeps the default palette apart from the threshold colours and from itself', () => {
    for (const p of QUEUE_PALETTE) {
      for (const l of LEVEL_COLOURS) expect(distance(p, l), `${p} vs level ${l}`).toBeGreaterThan(140);
      for (const q of QUEUE_PALETTE) if (q !== p) expect(distance(p, q), `${p} vs ${q}`).toBeGreaterThan(130);
    }
  });

  it('reads short and long hex', () => {
    expect(rgbOf('#c7a')).toEqual([0xcc, 0x77, 0xaa]);
    expect(rgbOf('#56b4e9')).toEqual([0x56, 0xb4, 0xe9]);
  });
});

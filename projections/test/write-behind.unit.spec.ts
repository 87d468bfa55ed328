// The rebuild writes a page while it folds the next (WriteBehind): at most one write may be in
// flight (memory holds two pages at most), every write must have finished when it drains (the
// rollups read what was written), and a failed write must stop the rebuild, not vanish as an
// unhandled rejection while the next page is folded.
import { describe, expect, it } from 'vitest';
import { eventually } from '../../test/helpers.ts';
import { WriteBehind } from '../src/rebuild.ts';

function gate() {
  let open!: () => void;
  let fail!: (e: Error) => void;
  const p = new Promise<void>((res, rej) => ((open = res), (fail = rej)));
  return { p, open, fail };
}

describe('WriteBehind', () => {
  it('starts a write only when the one before it has finished, and drains the last', async () => {
    const w = new WriteBehind();
    const g1 = gate();
    const g2 = gate();
    const log: string[] = [];
    await w.add(async () => {
      log.push('1 start');
      await g1.p;
      log.push('1 end');
    });
    // The fold of the next page runs here, with write 1 in flight.
    let second = false;
    const adding = w
      .add(async () => {
        log.push('2 start');
        await g2.p;
        log.push('2 end');
      })
      .then(() => (second = true));
    await Promise.resolve();
    expect(second).toBe(false);
    expect(log).toEqual(['1 start']);
    g1.open();
    await adding;
    expect(log).toEqual(['1 start', '1 end', '2 start']);
    let drained = false;
    const draining = w.drain().then(() => (drained = true));
    await Promise.resolve();
    expect(drained).toBe(false);
    g2.open();
    await draining;
    expect(log).toEqual(['1 start', '1 end', '2 start', '2 end']);
  });

  it('reports a failed write at the next add or at the drain, never as an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const w = new WriteBehind();
      const g = gate();
      await w.add(() => g.p);
      g.fail(new Error('insert into queue_legs_rebuild failed'));
      // The next page is "folded" while the failed write is known and not yet reported.
      await eventually(() => w.failure, 5_000, 'the write to fail');
      await expect(w.add(async () => {})).rejects.toThrow('insert into queue_legs_rebuild failed');

      const w2 = new WriteBehind();
      await w2.add(() => Promise.reject(new Error('disk full')));
      await eventually(() => w2.failure, 5_000, 'the write to fail');
      await expect(w2.drain()).rejects.toThrow('disk full');
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

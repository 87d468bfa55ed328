// `callboard bench` lists what bench/ can run: every script whose header names its own command,
// not the helpers; the ones that need a broker are marked.
import { describe, expect, it } from 'vitest';
import { listBenches } from '../bench.ts';

describe('callboard bench', () => {
  const all = listBenches();
  const names = all.map((b) => b.name);

  it('lists the benchmark scripts and leaves out their helpers', () => {
    expect(names).toEqual(expect.arrayContaining(['projections-consume', 'projections-queries', 'projections-rebuild', 'validate']));
    for (const helper of ['peers', 'api-harness', 'api-common', 'ami-corpus', 'synthetic-legs']) expect(names).not.toContain(helper);
  });

  it('marks the benchmarks that need a broker, and gives each a one-line summary', () => {
    expect(all.find((b) => b.name === 'projections-consume')?.needsBroker).toBe(true);
    expect(all.find((b) => b.name === 'projections-queries')?.needsBroker).toBe(false);
    for (const b of all) {
      expect(b.summary.length, b.name).toBeGreaterThan(10);
      expect(b.summary.length, b.name).toBeLessThanOrEqual(102);
      expect(b.usage, b.name).toContain(`bench/${b.name}.ts`);
    }
  });
});

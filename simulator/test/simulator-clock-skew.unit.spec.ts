// A simulated PBX whose clock is off (AmiRenderOptions.clockSkewMs): every time it renders is
// shifted by the skew, nothing else changes, and the ledger keeps the truth (docs/pbx-clock.md).
import { expect, it } from 'vitest';
import { renderAmi } from '../src/ami-render.ts';
import { simulate } from '../src/model.ts';
import { callCentreScenario, dayWindow } from '../src/scenarios.ts';

const TIMES = new Set(['Timestamp', 'StartTime', 'AnswerTime', 'EndTime', 'LastCall', 'LastPause', 'LoginTime']);
const asMs = (key: string, v: string) => (key === 'Timestamp' ? Number(v) * 1000 : /^\d+$/.test(v) ? Number(v) * 1000 : Date.parse(`${v.replace(' ', 'T')}Z`));

it('shifts every rendered time by the skew, and nothing else', () => {
  const day = dayWindow('2026-11-20', 'Africa/Nairobi');
  const { ledger, actions } = simulate(callCentreScenario({ tenant: 'acme', pbx: 'pbx1', timezone: 'Africa/Nairobi', seed: 5, volume: 0.3, from_ms: day.from_ms + 9 * 3600_000, to_ms: day.from_ms + 10 * 3600_000 }));
  const truth = renderAmi(ledger, actions);
  const skewed = renderAmi(ledger, actions, { clockSkewMs: -90_000 });
  expect(skewed.length).toBe(truth.length);
  const shifted = new Set<string>();
  truth.forEach((f, i) => {
    const g = skewed[i]!;
    expect(g.headers.map(([k]) => k)).toEqual(f.headers.map(([k]) => k));
    f.headers.forEach(([k, v], j) => {
      const w = g.headers[j]![1];
      if (!TIMES.has(k) || v === '' || v === '0') return expect(w).toBe(v);
      // Timestamps keep microseconds; the others are whole seconds.
      expect(Math.round(asMs(k, w) - asMs(k, v))).toBe(-90_000);
      shifted.add(k);
    });
  });
  expect([...shifted].sort()).toEqual(expect.arrayContaining(['AnswerTime', 'EndTime', 'LastCall', 'LoginTime', 'StartTime', 'Timestamp']));
});

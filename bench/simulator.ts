// Simulator throughput: how long the pure model takes for a simulated day, and how fast the AMI
// renderer turns it into frames. `npx tsx bench/simulator.ts [volume]` prints one JSON line per run.
import { renderAmi, frameToWire } from '@callboard/simulator/ami-render';
import { simulate } from '@callboard/simulator/model';
import { callCentreScenario, dayWindow } from '@callboard/simulator/scenarios';

const volume = Number(process.argv[2] ?? '1');
for (let round = 0; round < 3; round++) {
  const sc = callCentreScenario({ tenant: 'acme', pbx: 'bench', timezone: 'Africa/Nairobi', seed: 100 + round, volume, ...dayWindow('2026-11-20', 'Africa/Nairobi', 0, 0) });
  const t0 = performance.now();
  const { ledger, actions } = simulate(sc);
  const t1 = performance.now();
  const frames = renderAmi(ledger, actions);
  const t2 = performance.now();
  const bytes = frames.reduce((s, f) => s + frameToWire(f.headers).length, 0);
  console.log(
    JSON.stringify({
      round,
      volume,
      calls: ledger.calls.length,
      legs: ledger.legs.length,
      actions: actions.length,
      model_ms: Math.round(t1 - t0),
      frames: frames.length,
      render_ms: Math.round(t2 - t1),
      frames_per_s: Math.round(frames.length / ((t2 - t1) / 1000)),
      wire_mb: +(bytes / 1e6).toFixed(1),
    }),
  );
}

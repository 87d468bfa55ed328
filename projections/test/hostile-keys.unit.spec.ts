// Pause reasons come from the PBX's queue_log: one named like an Object.prototype member must be
// a reason of its own in the reconcile figures, not lost or merged into the prototype.
import { describe, expect, it } from 'vitest';
import { agentFigures, type PbxRecords } from '../src/reconcile/figures.ts';

const T0 = Date.parse('2026-04-27T09:00:00.000Z');

describe('reconcile figures: a pause reason named like an Object.prototype member', () => {
  it.each(['__proto__', 'constructor', 'toString'])('%s is counted as a reason', (reason) => {
    const r: PbxRecords = {
      legs: [],
      transfers: [],
      missed: [],
      calls: [],
      pauses: [{ agent_id: '1001', reason, from: T0, to: T0 + 60_000 }],
      data_until: T0 + 3_600_000,
    };
    const f = agentFigures(r, '1001', T0, T0 + 3_600_000);
    expect(Object.keys(f.pause_time_by_reason)).toEqual([reason]);
    expect(f.pause_time_by_reason[reason]).toBe(60);
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });
});

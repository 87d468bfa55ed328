// The simulated Yeastar P-Series pushes, parsed and translated by the real Yeastar code with the
// model's times as receive times (what the adapter would stamp when played in real time): no
// DLQ, and the queue outcomes, missed rings, transfers and calls of the ledger.
import { describe, expect, it } from 'vitest';
import { translateYeastarText } from '@callboard/ingest/yeastar/offline';
import { simulate } from '../src/model.ts';
import { callCentreScenario, dayWindow } from '../src/scenarios.ts';
import { renderYeastarP } from '../src/yeastar-p-render.ts';

describe('simulated Yeastar P-Series through the real Yeastar translator', () => {
  const { ledger, actions } = simulate(callCentreScenario({ tenant: 'globex', pbx: 'yp', timezone: 'Europe/London', seed: 4, ...dayWindow('2026-03-29', 'Europe/London') }));
  const pushes = renderYeastarP(ledger, actions, { queueNumbers: { sales: '6400', support: '6401' } });
  const text = pushes
    .map((p) => JSON.stringify({ body: JSON.stringify({ type: p.type, sn: 'SIM', msg: JSON.stringify(p.msg) }), received_at: new Date(p.t).toISOString() }))
    .join('\n');
  const r = translateYeastarText(text, { source: 'yeastar-p', tenant_id: 'globex', pbx_id: 'yp', timezone: 'Europe/London', queues: ['6400', '6401'] });
  const count = (type: string) => r.events.filter((e) => e.type === type).length;
  const legs = (k: string) => ledger.legs.filter((l) => l.outcome === k).length;

  it('parses and translates every message', () => {
    expect(r.dlq).toEqual([]);
    expect(r.dropped).toEqual([]);
  });

  it('yields the ledger queue outcomes, missed rings, transfers and calls', () => {
    expect(count('call.queued')).toBe(ledger.legs.length);
    expect(count('call.abandoned')).toBe(legs('abandoned'));
    expect(count('call.left_queue')).toBe(legs('exited'));
    expect(count('call.ring_no_answer')).toBe(ledger.legs.reduce((s, l) => s + l.rings.filter((x) => x.outcome === 'no_answer').length, 0));
    expect(count('call.transferred')).toBe(ledger.legs.filter((l) => l.transfer).length);
    expect(count('call.started')).toBe(ledger.calls.length);
    expect(count('call.ended')).toBe(ledger.calls.length);
    // Answers: every answered leg, plus the attended-transfer targets' direct answers.
    expect(count('call.answered')).toBe(legs('answered') + ledger.direct.length);
  });

  it('keeps the waits of answered legs (model time as receive time)', () => {
    const waits = r.events.filter((e) => e.type === 'call.answered' && 'leg_id' in e.payload && e.payload.leg_id).map((e) => (e.payload as { wait_ms?: number }).wait_ms);
    const want = ledger.legs.filter((l) => l.outcome === 'answered').map((l) => l.wait_ms);
    expect(waits.sort((a, b) => a! - b!)).toEqual(want.sort((a, b) => a - b));
  });
});

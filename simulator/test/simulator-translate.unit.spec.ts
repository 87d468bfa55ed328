// The simulated AMI stream, parsed and translated by the real AMI adapter code, without I/O:
// nothing lands in the DLQ and the queue outcomes are the ledger's. (The full comparison of
// every metric through Kafka and ClickHouse is test/e2e/truth.e2e.spec.ts.)
import { describe, expect, it } from 'vitest';
import { parseAll } from '@callboard/ingest/ami/parser';
import { AmiTranslator } from '@callboard/ingest/ami/translator';
import { frameToWire, renderAmi } from '../src/ami-render.ts';
import { simulate } from '../src/model.ts';
import { callCentreScenario, dayWindow } from '../src/scenarios.ts';

describe('simulated AMI through the real AMI translator', () => {
  const sc = callCentreScenario({ tenant: 'acme', pbx: 'sim', timezone: 'Europe/London', seed: 3, ...dayWindow('2026-03-29', 'Europe/London') });
  const { ledger, actions } = simulate(sc);
  const wire = 'Asterisk Call Manager/11.0.0\r\n' + renderAmi(ledger, actions).map((f) => frameToWire(f.headers)).join('');
  const tr = new AmiTranslator({ tenant_id: 'acme', pbx_id: 'sim', wrapUpMs: (q) => (q === 'sales' ? 10_000 : 0) });
  const counts = new Map<string, number>();
  const dlq: string[] = [];
  let seq = 0;
  for (const f of parseAll(wire)) {
    const o = tr.translate(f, { received_at: 0, raw_ref: null, connection: 'c1', seq: seq++ });
    if (o.kind === 'ok') for (const e of o.events) counts.set(e.type, (counts.get(e.type) ?? 0) + 1);
    else if (o.kind === 'dlq') dlq.push(`${o.reason_code}: ${o.reason}`);
  }
  const legs = (k: string) => ledger.legs.filter((l) => l.outcome === k).length;

  it('sends nothing to the DLQ', () => {
    expect(dlq).toEqual([]);
  });

  it('yields the ledger queue outcomes, rings and transfers', () => {
    expect(counts.get('call.queued')).toBe(ledger.legs.length);
    // Queue legs answered, plus the direct calls agents answered (attended-transfer targets).
    expect(counts.get('call.answered')).toBe(legs('answered') + ledger.direct.length);
    expect(counts.get('call.abandoned')).toBe(legs('abandoned'));
    expect(counts.get('call.left_queue')).toBe(legs('exited'));
    expect(counts.get('call.ring_no_answer')).toBe(ledger.legs.reduce((s, l) => s + l.rings.filter((r) => r.outcome === 'no_answer').length, 0));
    expect(counts.get('call.transferred')).toBe(ledger.legs.filter((l) => l.transfer).length);
    expect(counts.get('call.started')).toBe(ledger.calls.length);
    expect(counts.get('call.ended')).toBe(ledger.calls.length);
  });
});

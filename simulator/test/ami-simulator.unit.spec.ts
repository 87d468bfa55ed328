// Cross-check with the simulator: a simulated call-centre day (ground truth in its ledger) is
// rendered as Asterisk 22 AMI, sent through the parser and translator, and the canonical
// events must tell the ledger's story leg by leg: answered with the agent and wait, abandoned,
// timed out, rings missed, holds and transfers.
import { describe, expect, it } from 'vitest';
import { validateEvent, type CanonicalEvent, type EventOf } from '@callboard/schemas';
import { AmiParser } from '@callboard/ingest/ami/parser';
import { AmiTranslator } from '@callboard/ingest/ami/translator';
import { frameToWire, renderAmi } from '../src/ami-render.ts';
import { simulate } from '../src/model.ts';
import { callCentreScenario, dayWindow, DEFAULT_BEHAVIOUR } from '../src/scenarios.ts';
import { comparedStates, eventStateTime, ledgerStateTime } from './state-time.ts';

function of<T extends CanonicalEvent['type']>(events: CanonicalEvent[], type: T): EventOf<T>[] {
  return events.filter((e) => e.type === type) as unknown as EventOf<T>[];
}

describe('AMI translator on a simulated call-centre day', () => {
  // More attended transfers than the default mix, a third of them cancelled (target never answers).
  const sc = {
    ...callCentreScenario({ tenant: 'acme', pbx: 'pbx1', timezone: 'Africa/Nairobi', seed: 5, volume: 0.5, ...dayWindow('2026-11-20', 'Africa/Nairobi') }),
    behaviour: { ...DEFAULT_BEHAVIOUR, attended_transfer_p: 0.06, consult_cancel_p: 0.33 },
  };
  const { ledger, actions } = simulate(sc);
  const frames = renderAmi(ledger, actions);
  const wrap = new Map(ledger.queues.map((q) => [q.queue, q.wrap_up_s * 1000]));
  const t = new AmiTranslator({ tenant_id: 'acme', pbx_id: 'pbx1', wrapUpMs: (q) => wrap.get(q) ?? 0 });
  const parser = new AmiParser();
  const events: CanonicalEvent[] = [];
  const dlq: string[] = [];
  let seq = 0;
  // Frames arrive glued together in odd chunks, as on a socket.
  const wire = frames.map((f) => frameToWire(f.headers)).join('');
  for (let i = 0; i < wire.length; i += 7919) {
    for (const f of parser.push(wire.slice(i, i + 7919))) {
      const o = t.translate(f, { received_at: 0, raw_ref: null, connection: 'sim', seq: seq++ });
      if (o.kind === 'ok') events.push(...o.events);
      else if (o.kind === 'dlq') dlq.push(`${o.reason_code}: ${o.reason}`);
    }
  }
  events.push(...t.flush({ received_at: 0, raw_ref: null, connection: 'sim', seq }));

  it('translates every frame, and every event validates', () => {
    expect(ledger.legs.length).toBeGreaterThan(100);
    expect(actions.filter((a) => a.kind === 'consult_cancel').length).toBeGreaterThan(0);
    expect(dlq).toEqual([]);
    for (const e of events) expect(validateEvent(JSON.parse(JSON.stringify(e))).ok, JSON.stringify(e)).toBe(true);
  });

  it('one call.started and one call.ended per ledger call', () => {
    expect(of(events, 'call.started')).toHaveLength(ledger.calls.length);
    expect(of(events, 'call.ended')).toHaveLength(ledger.calls.length);
  });

  it('leg outcomes match the ledger: answered (agent, wait ±1 s), abandoned, timed out', () => {
    const byOutcome = (o: string) => ledger.legs.filter((l) => l.outcome === o);
    expect(of(events, 'call.queued')).toHaveLength(ledger.legs.length);
    const answered = of(events, 'call.answered').filter((e) => e.payload.queue !== undefined);
    expect(answered).toHaveLength(byOutcome('answered').length);
    // Direct (non-queue) answers: the targets of attended transfers, each by its agent.
    const direct = of(events, 'call.answered').filter((e) => e.payload.queue === undefined);
    expect(direct.map((e) => `${e.payload.agent_id}|${Date.parse(e.occurred_at)}`).sort()).toEqual(ledger.direct.map((d) => `${d.agent}|${d.answered_at_ms}`).sort());
    expect(of(events, 'call.abandoned')).toHaveLength(byOutcome('abandoned').length);
    expect(of(events, 'call.left_queue').map((e) => e.payload.reason)).toEqual(byOutcome('exited').map(() => 'timeout'));
    // Per agent: the number answered and the total wait of their answered legs.
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    for (const agent of new Set(byOutcome('answered').map((l) => l.agent!))) {
      const mine = answered.filter((e) => e.payload.agent_id === agent);
      const truth = byOutcome('answered').filter((l) => l.agent === agent);
      expect(mine.length, agent).toBe(truth.length);
      expect(Math.abs(sum(mine.map((e) => e.payload.wait_ms)) - sum(truth.map((l) => l.wait_ms))), agent).toBeLessThanOrEqual(1000 * truth.length);
    }
    const abandonWait = sum(of(events, 'call.abandoned').map((e) => e.payload.wait_ms));
    expect(Math.abs(abandonWait - sum(byOutcome('abandoned').map((l) => l.wait_ms)))).toBeLessThanOrEqual(1000 * byOutcome('abandoned').length);
  });

  it('missed rings per agent, holds and transfers match the ledger', () => {
    for (const a of ledger.agents) {
      expect(of(events, 'call.ring_no_answer').filter((e) => e.payload.agent_id === a.agent).length, a.agent).toBe(a.missed);
    }
    const transfers = ledger.calls.flatMap((c) => c.transfers);
    const got = of(events, 'call.transferred');
    expect(got.filter((e) => e.payload.kind === 'blind')).toHaveLength(transfers.filter((x) => x.kind === 'blind').length);
    expect(got.filter((e) => e.payload.kind === 'attended')).toHaveLength(transfers.filter((x) => x.kind === 'attended').length);
    const completed = of(events, 'call.agent_completed').filter((e) => e.payload.queue !== undefined);
    expect(completed).toHaveLength(ledger.legs.filter((l) => l.completed_at_ms !== null).length);
    const directDone = of(events, 'call.agent_completed').filter((e) => e.payload.queue === undefined);
    expect(directDone.map((e) => `${e.payload.agent_id}|${e.payload.talk_ms}`).sort()).toEqual(ledger.direct.map((d) => `${d.agent}|${d.talk_ms}`).sort());
    const holdTruth = ledger.legs.reduce((s, l) => s + l.hold_ms, 0);
    const holdGot = completed.reduce((s, e) => s + (e.payload.hold_ms ?? 0), 0);
    expect(Math.abs(holdGot - holdTruth)).toBeLessThanOrEqual(1000 + holdTruth * 0.01);
  });
});

describe('AMI translator agent states on a simulated day', () => {
  it('time per agent per state (available, ringing, on_call, on_hold, wrap_up, paused) matches the ledger within 2 s', () => {
    // With supervisors removing and re-adding members, and pausing them, in the middle of calls.
    const behaviour = { ...DEFAULT_BEHAVIOUR, midcall_membership_p: 0.05, midcall_pause_p: 0.05, attended_transfer_p: 0.06, consult_cancel_p: 0.33 };
    const sc = { ...callCentreScenario({ tenant: 'acme', pbx: 'pbx1', timezone: 'Africa/Nairobi', seed: 9, volume: 0.5, logout_at_end: true, ...dayWindow('2026-11-21', 'Africa/Nairobi') }), behaviour };
    const { ledger, actions } = simulate(sc);
    const onCall = (agent: string, t: number) => ledger.agent_intervals.some((i) => i.agent === agent && i.state === 'on_call' && i.from_ms < t && t < i.to_ms);
    expect(actions.filter((a) => a.kind === 'member_removed' && onCall(a.agent, a.t)).length).toBeGreaterThan(0);
    expect(actions.filter((a) => a.kind === 'pause' && a.paused && onCall(a.agent, a.t)).length).toBeGreaterThan(0);
    const wrap = new Map(ledger.queues.map((q) => [q.queue, q.wrap_up_s * 1000]));
    const t = new AmiTranslator({ tenant_id: 'acme', pbx_id: 'pbx1', wrapUpMs: (q) => wrap.get(q) ?? 0 });
    const meta = { received_at: 0, raw_ref: null, connection: 'sim', seq: 0 };
    const out: CanonicalEvent[] = [];
    for (const f of new AmiParser().push(renderAmi(ledger, actions).map((f) => frameToWire(f.headers)).join(''))) {
      const o = t.translate(f, meta);
      if (o.kind === 'ok') out.push(...o.events);
    }
    out.push(...t.flush(meta));
    const truth = ledgerStateTime(ledger);
    const got = eventStateTime(out);
    const keys = comparedStates(truth, got);
    expect(keys.filter((k) => k.endsWith('|on_call')).length).toBeGreaterThan(5);
    expect(keys.some((k) => k.endsWith('|paused'))).toBe(true);
    for (const k of keys) expect(Math.abs((got.get(k) ?? 0) - (truth.get(k) ?? 0)), k).toBeLessThanOrEqual(2000);
  });
});

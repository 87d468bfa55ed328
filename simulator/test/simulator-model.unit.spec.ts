import { describe, expect, it } from 'vitest';
import { simulate, type Scenario } from '../src/model.ts';
import { Rng } from '../src/prng.ts';
import { callCentreScenario, dayWindow, DEFAULT_BEHAVIOUR } from '../src/scenarios.ts';

const nairobi = (seed = 3): Scenario => callCentreScenario({ tenant: 'acme', pbx: 'pbx1', timezone: 'Africa/Nairobi', seed, ...dayWindow('2026-11-20', 'Africa/Nairobi') });

describe('Rng', () => {
  it('is deterministic per seed and forks independent streams', () => {
    const a = new Rng(9);
    const b = new Rng(9);
    expect(Array.from({ length: 5 }, () => a.next())).toEqual(Array.from({ length: 5 }, () => b.next()));
    expect(new Rng(1).next()).not.toBe(new Rng(2).next());
    const f1 = new Rng(9).fork('x');
    const root = new Rng(9);
    root.next();
    expect(root.fork('x').next()).not.toBe(f1.next()); // forks depend on the parent's position, not only the label
  });

  it('draws exponential gaps with the requested mean', () => {
    const r = new Rng(5);
    const n = 20000;
    let s = 0;
    for (let i = 0; i < n; i++) s += r.exp(30);
    expect(s / n).toBeGreaterThan(28.5);
    expect(s / n).toBeLessThan(31.5);
  });
});

describe('simulate', () => {
  const { ledger, actions } = simulate(nairobi());

  it('gives the same day for the same seed and a different day for another', () => {
    expect(JSON.stringify(simulate(nairobi()))).toBe(JSON.stringify({ ledger, actions }));
    expect(simulate(nairobi(4)).ledger.calls.length).not.toBe(ledger.calls.length);
  });

  it('keeps actions in time order', () => {
    for (let i = 1; i < actions.length; i++) expect(actions[i]!.t).toBeGreaterThanOrEqual(actions[i - 1]!.t);
  });

  it('has every kind of event the issue asks for', () => {
    const kinds = new Set(actions.map((a) => a.kind));
    for (const k of ['member_added', 'member_removed', 'pause', 'ring', 'connect', 'abandon', 'queue_timeout', 'hold', 'blind_transfer', 'attended_transfer', 'outbound_start']) {
      expect(kinds, k).toContain(k);
    }
    expect(ledger.legs.some((l) => l.rings.some((r) => r.outcome === 'no_answer'))).toBe(true);
    expect(ledger.legs.some((l) => l.overflow_to === 'support')).toBe(true);
    expect(new Set(ledger.agent_intervals.filter((i) => i.state === 'paused').map((i) => i.reason))).toContain('Lunch');
  });

  it('accounts each leg consistently (wait, talk, hold, wrap)', () => {
    for (const l of ledger.legs) {
      expect(l.wait_ms).toBe(l.left_at_ms - l.offered_at_ms);
      if (l.outcome === 'answered') {
        expect(l.answered_at_ms).toBe(l.left_at_ms);
        expect(l.talk_ms + l.hold_ms).toBe(l.completed_at_ms! - l.answered_at_ms!);
        expect(l.wrap_ms).toBe(ledger.queues.find((q) => q.queue === l.queue)!.wrap_up_s * 1000);
        expect(l.agent).not.toBeNull();
      } else {
        expect(l.agent).toBeNull();
        expect(l.talk_ms + l.hold_ms + l.wrap_ms).toBe(0);
      }
      if (l.outcome === 'exited') expect(l.exit_reason).toBe('timeout');
    }
    const handled = new Map<string, number>();
    for (const l of ledger.legs) if (l.agent) handled.set(l.agent, (handled.get(l.agent) ?? 0) + 1);
    for (const d of ledger.direct) handled.set(d.agent, (handled.get(d.agent) ?? 0) + 1);
    for (const a of ledger.agents) expect(a.handled).toBe(handled.get(a.agent) ?? 0);
  });

  it('gives every agent one gap-free timeline from the window start to the end', () => {
    for (const a of ledger.agents) {
      const xs = ledger.agent_intervals.filter((i) => i.agent === a.agent);
      expect(xs[0]!.from_ms).toBe(ledger.from_ms);
      expect(xs[xs.length - 1]!.to_ms).toBe(ledger.end_ms);
      for (let i = 1; i < xs.length; i++) expect(xs[i]!.from_ms).toBe(xs[i - 1]!.to_ms);
      for (const x of xs) expect(x.to_ms).toBeGreaterThan(x.from_ms);
      for (const x of xs) expect(x.state === 'paused').toBe(x.reason !== null);
    }
  });

  it('spends wrap-up after answered legs exactly as the queue setting says', () => {
    const sales = ledger.legs.filter((l) => l.queue === 'sales' && l.outcome === 'answered');
    for (const l of sales) {
      const wrap = ledger.agent_intervals.find((i) => i.agent === l.agent && i.state === 'wrap_up' && i.from_ms === l.completed_at_ms);
      expect(wrap, l.leg_id).toBeDefined();
      expect(wrap!.to_ms - wrap!.from_ms).toBe(10_000);
    }
  });

  it('follows the hour profile: more calls at 10:00 than at 03:00 local', () => {
    const hour = (ms: number) => new Date(ms + 3 * 3600_000).getUTCHours(); // Nairobi is UTC+3, no DST
    const inbound = ledger.calls.filter((c) => c.direction === 'inbound');
    expect(inbound.filter((c) => hour(c.started_at_ms) === 10).length).toBeGreaterThan(3 * inbound.filter((c) => hour(c.started_at_ms) === 3).length);
  });

  it('crosses local midnight with calls and logged-in agents', () => {
    const midnight = dayWindow('2026-11-20', 'Africa/Nairobi', 0, 0).to_ms;
    expect(ledger.calls.some((c) => c.started_at_ms < midnight && c.ended_at_ms > midnight) || ledger.calls.some((c) => Math.abs(c.started_at_ms - midnight) < 3600_000)).toBe(true);
    expect(ledger.agent_intervals.some((i) => i.state !== 'offline' && i.from_ms < midnight && i.to_ms > midnight)).toBe(true);
  });

  it('runs a DST day in New York (23 local hours) without losing time', () => {
    const w = dayWindow('2026-03-08', 'America/New_York', 0, 0);
    expect(w.to_ms - w.from_ms).toBe(23 * 3600_000);
    const r = simulate(callCentreScenario({ tenant: 't', pbx: 'p', timezone: 'America/New_York', seed: 1, ...w }));
    expect(r.ledger.legs.length).toBeGreaterThan(100);
  });

  it('rejects a scenario that names an unknown queue, with context', () => {
    const bad = { ...nairobi(), behaviour: DEFAULT_BEHAVIOUR, transfer_queue: 'nope' };
    expect(() => simulate(bad)).toThrow(/tenant acme, PBX pbx1: transfer_queue nope/);
  });
});

describe('simulate: membership and pauses changed mid-call (i_membership_midcall)', () => {
  const base = nairobi(4);
  const mid = simulate({ ...base, behaviour: { ...base.behaviour, midcall_membership_p: 0.2, midcall_pause_p: 0.2 } });
  const plain = simulate(base);
  const onCall = (agent: string, t: number) => mid.ledger.agent_intervals.some((i) => i.agent === agent && i.state === 'on_call' && i.from_ms < t && t < i.to_ms);

  it('leaves every call and agent state as it was: the agent stays on_call', () => {
    expect(mid.ledger.legs).toEqual(plain.ledger.legs);
    expect(mid.ledger.agent_intervals).toEqual(plain.ledger.agent_intervals);
  });

  it('removes and re-adds members while they talk, splitting their membership', () => {
    const removed = mid.actions.filter((a) => a.kind === 'member_removed' && onCall(a.agent, a.t));
    expect(removed.length).toBeGreaterThan(3);
    for (const r of removed) {
      if (r.kind !== 'member_removed') continue;
      expect(mid.ledger.memberships.some((m) => m.agent === r.agent && m.queue === r.queue && m.to_ms === r.t)).toBe(true);
      const back = mid.ledger.memberships.find((m) => m.agent === r.agent && m.queue === r.queue && m.from_ms > r.t);
      expect(back && onCall(r.agent, back.from_ms)).toBe(true);
    }
  });

  it('records every pause from start to unpause, those on a call without a paused interval', () => {
    const paused = mid.ledger.agent_intervals.filter((i) => i.state === 'paused');
    const onCallPauses = mid.ledger.pauses.filter((p) => onCall(p.agent, p.from_ms));
    expect(onCallPauses.length).toBeGreaterThan(3);
    for (const p of onCallPauses) {
      expect(p.reason).toBe('Coaching');
      expect(onCall(p.agent, p.to_ms)).toBe(true);
    }
    // Off a call, a pause is exactly its paused interval.
    const rest = mid.ledger.pauses.filter((p) => !onCall(p.agent, p.from_ms)).map((p) => `${p.agent}|${p.reason}|${p.from_ms}|${p.to_ms}`);
    expect(rest.sort()).toEqual(paused.map((i) => `${i.agent}|${i.reason}|${i.from_ms}|${i.to_ms}`).sort());
  });
});

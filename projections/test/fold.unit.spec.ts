// Given these events, when folded, then these rows (STYLE 4).
import { describe, expect, it } from 'vitest';
import type { CallEvent, CanonicalEvent } from '@callboard/schemas';
import { canonicalDisposition, foldAgentIntervals, foldCall } from '../src/fold.ts';
import { waitCeilKey, waitFloorKey } from '../src/metrics/index.ts';
import { agentState, ev, queuedCall, utc } from './given.ts';

const given = (...evs: CanonicalEvent[][]) => evs.flat() as CallEvent[];
const T = utc('2026-03-10T08:00:00Z');

describe('foldCall', () => {
  it('an answered leg: wait, talk minus hold, wrap from the payload, agent segment', () => {
    const f = foldCall(given(queuedCall({ call_id: 'c1', at: T, outcome: 'answered', wait_s: 12.5, talk_s: 100, hold_s: 20, wrap_s: 7, agent: '1002' })));
    expect(f.legs).toHaveLength(1);
    expect(f.legs[0]).toMatchObject({ outcome: 'answered', wait_ms: 12_500, talk_ms: 80_000, hold_ms: 20_000, wrap_ms: 7000, agent_id: '1002', bucket: T, offered_at: T });
    expect(f.agentCalls).toEqual([expect.objectContaining({ kind: 'handled', agent_id: '1002', talk_ms: 80_000, hold_ms: 20_000, completed: 1 })]);
    expect(f.call).toMatchObject({ disposition: 'ANSWERED', legs: 1, queues: ['sales'], agent_id: '1002' });
  });

  it('a call the resync found ended in a gap is flagged; its leg\'s exit, delivered after the end at the same instant, still counts', () => {
    const c = { call_id: 'g1' };
    const f = foldCall(
      given([
        ev('call.queued', 'acme', T, c, { queue: 'sales', leg_id: 'g1:sales:1', position: 1 }),
        ev('call.ended', 'acme', T + 20_000, c, { disposition: 'NO ANSWER', raw_disposition: 'NO ANSWER', duration_ms: 20_000, billsec_ms: 0, ended_in: 'gap' }),
        ev('call.left_queue', 'acme', T + 20_000, c, { queue: 'sales', leg_id: 'g1:sales:1', reason: 'other', wait_ms: 20_000 }),
      ]),
    );
    expect(f.call).toMatchObject({ ended_in: 'gap', ended_at: T + 20_000 });
    expect(f.legs[0]).toMatchObject({ outcome: 'exited', wait_ms: 20_000 });
    expect(foldCall(given(queuedCall({ call_id: 'n1', at: T, outcome: 'abandoned', wait_s: 3 }))).call!.ended_in).toBe('');
  });

  it("the caller's number from call.caller_identified when the dialplan set it after call.started (the last one wins)", () => {
    const c = { call_id: 'n1' };
    const started = ev('call.started', 'acme', T, c, { direction: 'inbound', caller_number: '', called_number: '5551001' }, 'n1|started');
    const id1 = ev('call.caller_identified', 'acme', T + 1, c, { caller_number: '5551001', caller_name: 'Customer 5551001' }, 'n1|cid|1');
    const id2 = ev('call.caller_identified', 'acme', T + 500, c, { caller_number: '+2547005551001' }, 'n1|cid|2');
    expect(foldCall(given([id2, started, id1])).call).toMatchObject({ caller_number: '+2547005551001', caller_name: '' });
    expect(foldCall(given([started, id1])).call).toMatchObject({ caller_number: '5551001', caller_name: 'Customer 5551001' });
    expect(foldCall(given([started])).call).toMatchObject({ caller_number: '' });
  });

  it('hold from call.held / call.resumed pairs when the PBX does not report hold_ms', () => {
    const f = foldCall(given(queuedCall({ call_id: 'c2', at: T, outcome: 'answered', wait_s: 3, talk_s: 50, hold_s: 10, hold_events: true })));
    expect(f.legs[0]).toMatchObject({ hold_ms: 10_000, talk_ms: 40_000, wrap_ms: null });
  });

  it('an answer in the same millisecond as the queue entry answers the leg (causal order on ties)', () => {
    const f = foldCall(given(queuedCall({ call_id: 'z', at: T, outcome: 'answered', wait_s: 0 })));
    expect(f.legs[0]).toMatchObject({ outcome: 'answered', wait_ms: 0 });
  });

  it('abandoned and exited legs', () => {
    expect(foldCall(given(queuedCall({ call_id: 'a', at: T, outcome: 'abandoned', wait_s: 4 }))).legs[0]).toMatchObject({ outcome: 'abandoned', wait_ms: 4000 });
    expect(foldCall(given(queuedCall({ call_id: 'x', at: T, outcome: 'exited', wait_s: 300 }))).legs[0]).toMatchObject({ outcome: 'exited', exit_reason: 'timeout', wait_ms: 300_000 });
    expect(foldCall(given(queuedCall({ call_id: 'w', at: T, outcome: 'waiting', wait_s: 0 }))).legs[0]).toMatchObject({ outcome: 'waiting' });
  });

  it('the same events in any order, duplicated, give the same rows (Local-channel duplicates count once)', () => {
    const evs = given(queuedCall({ call_id: 'c3', at: T, outcome: 'answered', wait_s: 9, talk_s: 30, transfer: true }));
    const once = foldCall(evs);
    const shuffled = foldCall([...evs].reverse().concat(evs));
    expect(shuffled.legs).toEqual(once.legs);
    expect(shuffled.call).toEqual({ ...once.call, version: once.call!.version });
    expect(once.legs[0]!.transferred).toBe(1);
  });

  it('a second call.queued for the queue the call already waits in is the same leg (Local channel)', () => {
    const evs = given(queuedCall({ call_id: 'c4', at: T, outcome: 'abandoned', wait_s: 30 }));
    const dup = ev('call.queued', 'acme', T + 40, { call_id: 'c4' }, { queue: 'sales', leg_id: 'c4;2:sales:1', position: 1 });
    const dupAbandon = ev('call.abandoned', 'acme', T + 30_000, { call_id: 'c4' }, { queue: 'sales', leg_id: 'c4;2:sales:1', wait_ms: 29_960, position: 1 });
    const f = foldCall([...evs, dup as CallEvent, dupAbandon as CallEvent]);
    expect(f.legs).toHaveLength(1);
    expect(f.legs[0]).toMatchObject({ outcome: 'abandoned', wait_ms: 30_000 });
  });

  it('an overflow to a second queue is a second leg', () => {
    const c = { call_id: 'c5' };
    const f = foldCall([
      ev('call.queued', 'acme', T, c, { queue: 'sales', leg_id: 'c5:sales:1', position: 1 }),
      ev('call.left_queue', 'acme', T + 60_000, c, { queue: 'sales', leg_id: 'c5:sales:1', reason: 'timeout', wait_ms: 60_000 }),
      ev('call.queued', 'acme', T + 60_001, c, { queue: 'support', leg_id: 'c5:support:1', position: 1 }),
      ev('call.answered', 'acme', T + 70_001, c, { agent_id: '7', queue: 'support', leg_id: 'c5:support:1', wait_ms: 10_000 }),
    ] as CallEvent[]);
    expect(f.legs.map((l) => [l.queue, l.outcome])).toEqual([
      ['sales', 'exited'],
      ['support', 'answered'],
    ]);
    expect(f.call).toBeNull(); // neither started nor ended seen yet
  });

  it('ring-no-answer counts as missed for the agent rung', () => {
    const c = { call_id: 'c6' };
    const f = foldCall([
      ev('call.queued', 'acme', T, c, { queue: 'sales', leg_id: 'c6:sales:1', position: 1 }),
      ev('call.ring_no_answer', 'acme', T + 15_000, c, { agent_id: '1001', queue: 'sales', leg_id: 'c6:sales:1', ring_ms: 15_000 }),
    ] as CallEvent[]);
    expect(f.agentCalls).toEqual([expect.objectContaining({ kind: 'missed', agent_id: '1001', queue: 'sales' })]);
    expect(f.legs[0]!.missed).toBe(1);
  });

  it('old disposition names map to the canonical ones, the raw value is kept', () => {
    expect(canonicalDisposition('NORMAL', 'FAILED')).toBe('ANSWERED');
    expect(canonicalDisposition('NO_ANSWER', 'FAILED')).toBe('NO ANSWER');
    expect(canonicalDisposition('something-new', 'BUSY')).toBe('BUSY');
    const f = foldCall(given(queuedCall({ call_id: 'c7', at: T, outcome: 'answered', wait_s: 1, raw_disposition: 'NORMAL' })));
    expect(f.call).toMatchObject({ disposition: 'ANSWERED', raw_disposition: 'NORMAL' });
  });
});

describe('foldAgentIntervals', () => {
  it('each state lasts until the next change; the latest stays open', () => {
    const rows = foldAgentIntervals([
      agentState('acme', '1001', T + 3_600_000, 'paused', 'Lunch'),
      agentState('acme', '1001', T, 'available'),
      agentState('acme', '1001', T, 'available'),
    ] as never);
    expect(rows.map((r) => [r.state, r.reason, r.ended_at && r.ended_at - r.started_at])).toEqual([
      ['available', '', 3_600_000],
      ['paused', 'Lunch', null],
    ]);
  });

  it('a pause taken on a call flags the on_call interval with its reason; old events flag the paused state only', () => {
    const a = { agent_id: '1002' };
    const rows = foldAgentIntervals([
      ev('agent.state_changed', 'acme', T, a, { state: 'on_call', call_id: 'i2' }, 's1'),
      ev('agent.state_changed', 'acme', T + 8_000, a, { state: 'on_call', call_id: 'i2', pause_reason: 'Coaching' }, 's2'),
      ev('agent.state_changed', 'acme', T + 20_000, a, { state: 'paused', reason: 'Coaching', pause_reason: 'Coaching' }, 's3'),
      ev('agent.state_changed', 'acme', T + 23_000, a, { state: 'available' }, 's4'),
      agentState('acme', '1002', T + 30_000, 'paused', 'Lunch'),
    ] as never);
    expect(rows.map((r) => [r.state, r.paused, r.reason])).toEqual([
      ['on_call', 0, ''],
      ['on_call', 1, 'Coaching'],
      ['paused', 1, 'Coaching'],
      ['available', 0, ''],
      ['paused', 1, 'Lunch'],
    ]);
  });
});

describe('wait histogram keys', () => {
  it('ceil keys make wait ≤ T exact, floor keys make wait < S exact', () => {
    expect([waitCeilKey(20_000), waitCeilKey(20_001), waitCeilKey(0)]).toEqual([20, 21, 0]);
    expect([waitFloorKey(4_999), waitFloorKey(5_000)]).toEqual([4, 5]);
    expect(waitCeilKey(3_600_001)).toBe(3660);
  });
});

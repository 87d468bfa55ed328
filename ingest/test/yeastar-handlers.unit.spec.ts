// The Yeastar translator's handlers one at a time (handlers/*.ts): given a state and a message,
// these events. The states are what the earlier reports of a P-Series queue call leave behind
// (30011 call status snapshots: trunk leg in queue 6400, agents 1001 and 1002 rung).
import { describe, expect, it } from 'vitest';
import type { CanonicalEvent } from '@callboard/schemas';
import type { TranslateOutcome } from '../src/pipeline.ts';
import type { Member } from '../src/yeastar/messages.ts';
import { emptyState, type CallState, type Cx, type MemberState, type TranslatorState } from '../src/yeastar/state.ts';
import { extensionStatus } from '../src/yeastar/handlers/agents.ts';
import { callStatus } from '../src/yeastar/handlers/calls.ts';
import { cdr } from '../src/yeastar/handlers/cdr.ts';
import { transfer } from '../src/yeastar/handlers/transfer.ts';

const CALL = '1790000000.42';
const T0 = Date.parse('2026-04-27T09:00:00.000Z');
const opts = { tenant_id: 't1', pbx_id: 'p1', source: 'yeastar-p' as const, timezone: 'Africa/Nairobi', queues: ['6400'] };
const cx = (atMs: number): Cx => ({ opts, meta: { received_at: new Date(atMs).toISOString(), raw_ref: null }, t: atMs, out: [] });

const trunk = (status: string): Member => ({
  role: 'inbound',
  number: '',
  from: '0722000111',
  to: '6400',
  trunk: 'Saf',
  channel_id: 'PJSIP/trunk-01',
  status,
  call_path: '6400',
});
const ext = (n: string, status: string): Member => ({
  role: 'extension',
  number: n,
  from: '',
  to: '',
  trunk: '',
  channel_id: `PJSIP/${n}-01`,
  status,
  call_path: '6400',
});
const member = (over: Partial<MemberState>): MemberState => ({
  role: 'extension',
  number: '',
  status: '',
  call_path: '6400',
  caller_side: false,
  hold_ms: 0,
  holds: 0,
  done: false,
  ...over,
});

/** A queue call 8 s in queue 6400, both agents rung 3 s ago. */
function ringing(): TranslatorState {
  const st = emptyState();
  const c: CallState = {
    call_id: CALL,
    started: true,
    started_at: T0,
    direction: 'inbound',
    members: {
      'PJSIP/trunk-01': member({ role: 'inbound', status: 'ANSWERED', caller_side: true }),
      'PJSIP/1001-01': member({ number: '1001', status: 'RING', ring_at: T0 + 5000, queue: '6400', leg_id: `${CALL}:6400:1` }),
      'PJSIP/1002-01': member({ number: '1002', status: 'RING', ring_at: T0 + 5000, queue: '6400', leg_id: `${CALL}:6400:1` }),
    },
    legs: [{ queue: '6400', leg_id: `${CALL}:6400:1`, queued_at: T0, position: 1, status: 'waiting' }],
    caller_gone: false,
    answered: false,
    cdr_seen: false,
    last_seen: T0 + 5000,
  };
  st.calls[CALL] = c;
  for (const a of ['1001', '1002']) {
    st.agents[a] = {
      ext: 'ringing',
      registered: true,
      paused: false,
      wrap_up: false,
      active: { [`${CALL}|PJSIP/${a}-01`]: 'ringing' },
      queues: ['6400'],
      membership_known: true,
      state: 'ringing',
      call_id: CALL,
    };
  }
  return st;
}

const events = (o: TranslateOutcome): CanonicalEvent[] => (o.kind === 'ok' ? o.events : []);
const brief = (o: TranslateOutcome) => events(o).map((e) => [e.type, 'agent_id' in e ? e.agent_id : undefined, e.payload]);

describe('Yeastar handlers: given a state and a message, these events', () => {
  it('call status: 1001 answers the ring-all — answered with the queue wait, 1002 loses without a ring-no-answer', () => {
    const st = ringing();
    const at = T0 + 8000;
    const o = callStatus(st, { kind: 'call_status', sn: 'SN', call_id: CALL, members: [trunk('ANSWERED'), ext('1001', 'ANSWER'), ext('1002', 'BYE')] }, cx(at));
    expect(brief(o)).toEqual([
      ['call.answered', undefined, { agent_id: '1001', queue: '6400', leg_id: `${CALL}:6400:1`, wait_ms: 8000, ring_ms: 3000 }],
      ['agent.state_changed', '1001', { state: 'on_call', call_id: CALL }],
      ['agent.state_changed', '1002', { state: 'available' }],
    ]);
    expect(st.calls[CALL]!.legs[0]!.status).toBe('answered');
  });

  it('transfer: 1001 hands the call to 1002 who answered a consultation — attended, 1001 completes, 1002 credited from now', () => {
    const st = ringing();
    const c = st.calls[CALL]!;
    c.answered = true;
    c.legs[0]!.status = 'answered';
    Object.assign(c.members['PJSIP/1001-01']!, { status: 'HOLD', answer_at: T0 + 8000, hold_at: T0 + 20_000, holds: 1 });
    Object.assign(c.members['PJSIP/1002-01']!, {
      status: 'ANSWER',
      queue: undefined,
      leg_id: undefined,
      ring_at: T0 + 20_000,
      consult: true,
      consult_ring_ms: 4000,
    });
    st.agents['1001']!.active = { [`${CALL}|PJSIP/1001-01`]: 'held' };
    st.agents['1002']!.active = { [`${CALL}|PJSIP/1002-01`]: 'connected' };
    const at = T0 + 30_000;
    const o = transfer(st, { kind: 'transfer', sn: 'SN', call_id: CALL, members: [trunk('ANSWERED'), ext('1002', 'ANSWER')] }, cx(at));
    const got = brief(o);
    expect(got.slice(0, 3)).toEqual([
      ['call.transferred', undefined, { kind: 'attended', from_agent_id: '1001', to: '1002', queue: '6400', leg_id: `${CALL}:6400:1` }],
      ['call.agent_completed', undefined, { agent_id: '1001', queue: '6400', leg_id: `${CALL}:6400:1`, reason: 'transfer', talk_ms: 22_000, hold_ms: 10_000 }],
      ['agent.state_changed', '1001', { state: 'available' }],
    ]);
    expect(got[3]).toEqual(['call.answered', undefined, { agent_id: '1002', wait_ms: 4000, ring_ms: 4000 }]);
    expect(events(o).every((e) => e.occurred_at === new Date(at).toISOString())).toBe(true);
  });

  it('CDR for a call never seen: started at its PBX-local start, ended after its duration; an absurd duration is a dead letter and nothing else', () => {
    const msg = {
      kind: 'cdr' as const,
      sn: 'SN',
      call_id: CALL,
      uid: 'u1',
      time_start: '2026-04-27 12:00:00',
      call_from: '0722000111',
      call_to: '6400',
      duration_s: 65,
      talk_s: 50,
      src_trunk: 'Saf',
      dst_trunk: '',
      status: 'ANSWERED',
      type: 'Inbound',
    };
    const st = emptyState();
    const o = cdr(st, msg, cx(T0 + 70_000));
    expect(events(o).map((e) => [e.type, e.occurred_at])).toEqual([
      ['call.started', '2026-04-27T09:00:00.000Z'],
      ['call.ended', '2026-04-27T09:01:05.000Z'],
    ]);
    expect(events(o)[1]!.payload).toMatchObject({ disposition: 'ANSWERED', duration_ms: 65_000, billsec_ms: 50_000, direction: 'inbound', extension: '6400' });
    const bad = cdr(emptyState(), { ...msg, duration_s: 30 * 86_400 }, cx(T0));
    expect(bad).toMatchObject({ kind: 'dlq', reason_code: 'INVALID_FIELD', path: '/call_duration' });
  });

  it('extension status: Busy puts an available agent on a call; an unknown status is a dead letter and changes nothing', () => {
    const st = emptyState();
    expect(brief(extensionStatus(st, { kind: 'extension_status', sn: 'SN', extension: '1003', status: 'Busy' }, cx(T0)))).toEqual([
      ['agent.state_changed', '1003', { state: 'on_call' }],
    ]);
    const before = structuredClone(st);
    expect(extensionStatus(st, { kind: 'extension_status', sn: 'SN', extension: '1003', status: 'Dancing' }, cx(T0 + 1))).toMatchObject({
      kind: 'dlq',
      reason_code: 'UNKNOWN_STATUS',
    });
    expect(st).toEqual(before);
  });
});

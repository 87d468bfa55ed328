// Focused AMI frame sequences for the gaps the end-to-end truth test found: call direction of
// calls placed from an agent's phone, direct (non-queue) calls answered by an agent (the target
// of an attended transfer among them), and agent state changes that share a millisecond.
import { describe, expect, it } from 'vitest';
import type { CanonicalEvent, EventOf } from '@callboard/schemas';
import { parseAll } from '../src/ami/parser.ts';
import { AmiTranslator } from '../src/ami/translator.ts';

const T0 = 1_795_305_000_000;

/** A tiny AMI stream: each frame gets a Timestamp `at` ms after T0 (microseconds keep order). */
class Stream {
  private wire = '';
  private us = 0;
  ev(atMs: number, name: string, fields: Record<string, string>): this {
    const us = Math.max((T0 + atMs) * 1000, this.us + 1);
    this.us = us;
    const ts = `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}`;
    this.wire += `Event: ${name}\r\nTimestamp: ${ts}\r\n` + Object.entries(fields).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n';
    return this;
  }
  translate(wrapUpMs = 0): CanonicalEvent[] {
    const t = new AmiTranslator({ tenant_id: 't1', pbx_id: 'pbx1', wrapUpMs: () => wrapUpMs });
    const out: CanonicalEvent[] = [];
    let seq = 0;
    for (const f of parseAll(this.wire)) {
      const o = t.translate(f, { received_at: T0, raw_ref: null, connection: 'c1', seq: seq++ });
      if (o.kind !== 'ok') throw new Error(`not translated: ${JSON.stringify(o)}`);
      out.push(...o.events);
    }
    out.push(...t.flush({ received_at: T0, raw_ref: null, connection: 'c1', seq }));
    return out;
  }
}

function of<T extends CanonicalEvent['type']>(events: CanonicalEvent[], type: T): EventOf<T>[] {
  return events.filter((e) => e.type === type) as unknown as EventOf<T>[];
}

const chan = (name: string, uid: string, linked: string, state: number, exten: string, context = 'from-internal') => ({
  Channel: name,
  ChannelState: String(state),
  CallerIDNum: '<unknown>',
  Context: context,
  Exten: exten,
  Uniqueid: uid,
  Linkedid: linked,
});
const dest = (name: string, uid: string, linked: string, state: number) => ({ DestChannel: name, DestChannelState: String(state), DestUniqueid: uid, DestLinkedid: linked });

/** Agents 1001 and 1002 log into queue sales through Local channels, watched on their phones. */
function withAgents(s: Stream): Stream {
  for (const a of ['1001', '1002']) {
    s.ev(0, 'QueueMemberAdded', { Queue: 'sales', MemberName: `Agent ${a}`, Interface: `Local/${a}@agents`, StateInterface: `PJSIP/${a}`, Status: '1', Paused: '0', InCall: '0' });
  }
  return s;
}

/** What a consumer that orders one agent's changes by (time, event id) ends with at `atMs`. */
function stateAt(events: CanonicalEvent[], agent: string, atMs: number): string | undefined {
  const mine = of(events, 'agent.state_changed')
    .filter((e) => e.agent_id === agent && Date.parse(e.occurred_at) <= T0 + atMs)
    .sort((a, b) => Date.parse(a.occurred_at) - Date.parse(b.occurred_at) || (a.event_id < b.event_id ? -1 : 1));
  return mine[mine.length - 1]?.payload.state;
}

describe('AMI call direction', () => {
  it("a call placed from a known agent's phone is outbound (its first channel rings in like a trunk call)", () => {
    const s = withAgents(new Stream())
      .ev(1000, 'Newchannel', chan('PJSIP/1001-00000001', 'u1', 'u1', 4, '0712345678'))
      .ev(1000, 'Newchannel', chan('PJSIP/trunk-00000002', 'u2', 'u1', 0, '0712345678', 'from-trunk'))
      .ev(1000, 'DialBegin', { ...chan('PJSIP/1001-00000001', 'u1', 'u1', 4, '0712345678'), ...dest('PJSIP/trunk-00000002', 'u2', 'u1', 0) })
      .ev(5000, 'Newstate', chan('PJSIP/trunk-00000002', 'u2', 'u1', 6, '0712345678', 'from-trunk'))
      .ev(9000, 'Hangup', { ...chan('PJSIP/trunk-00000002', 'u2', 'u1', 6, '0712345678', 'from-trunk'), Cause: '16' })
      .ev(9000, 'Hangup', { ...chan('PJSIP/1001-00000001', 'u1', 'u1', 6, '0712345678'), Cause: '16' });
    const ev = s.translate();
    const [started] = of(ev, 'call.started');
    expect(started?.payload).toMatchObject({ direction: 'outbound', extension: '1001', called_number: '0712345678' });
    expect(of(ev, 'call.ended')[0]?.payload).toMatchObject({ direction: 'outbound', extension: '1001', billsec_ms: 4000 });
    // The far end answering an outbound call is not an agent answering.
    expect(of(ev, 'call.answered')).toEqual([]);
  });

  it('a call from a trunk is inbound; one agent dialling another is internal', () => {
    const ev = withAgents(new Stream())
      .ev(1000, 'Newchannel', chan('PJSIP/trunk-00000003', 'u3', 'u3', 4, '5000', 'from-trunk'))
      .ev(2000, 'Newchannel', chan('PJSIP/1001-00000004', 'u4', 'u4', 4, '1002'))
      .translate();
    expect(of(ev, 'call.started').map((e) => [e.call_id, e.payload.direction, e.payload.extension])).toEqual([
      ['u3', 'inbound', undefined],
      ['u4', 'internal', '1001'],
    ]);
  });
});

describe('AMI direct (non-queue) calls answered by an agent', () => {
  it("a trunk call dialled to an agent's phone: call.answered (wait from call start, ring) and call.agent_completed", () => {
    const ev = withAgents(new Stream())
      .ev(1000, 'Newchannel', chan('PJSIP/trunk-00000005', 'u5', 'u5', 4, '5001', 'from-trunk'))
      .ev(2000, 'Newchannel', chan('PJSIP/1002-00000006', 'u6', 'u5', 0, '1002'))
      .ev(2000, 'DialBegin', { ...chan('PJSIP/trunk-00000005', 'u5', 'u5', 4, '5001', 'from-trunk'), ...dest('PJSIP/1002-00000006', 'u6', 'u5', 0) })
      .ev(6000, 'Newstate', chan('PJSIP/1002-00000006', 'u6', 'u5', 6, '1002'))
      .ev(6000, 'Newstate', chan('PJSIP/trunk-00000005', 'u5', 'u5', 6, '5001', 'from-trunk'))
      .ev(6000, 'DialEnd', { ...chan('PJSIP/trunk-00000005', 'u5', 'u5', 6, '5001', 'from-trunk'), ...dest('PJSIP/1002-00000006', 'u6', 'u5', 6), DialStatus: 'ANSWER' })
      .ev(46000, 'HangupRequest', chan('PJSIP/1002-00000006', 'u6', 'u5', 6, '1002'))
      .ev(46000, 'Hangup', { ...chan('PJSIP/1002-00000006', 'u6', 'u5', 6, '1002'), Cause: '16' })
      .ev(46000, 'Hangup', { ...chan('PJSIP/trunk-00000005', 'u5', 'u5', 6, '5001', 'from-trunk'), Cause: '16' })
      .translate();
    expect(of(ev, 'call.answered').map((e) => [e.call_id, e.occurred_at, e.payload])).toEqual([
      ['u5', new Date(T0 + 6000).toISOString(), { agent_id: '1002', agent_name: 'Agent 1002', wait_ms: 5000, ring_ms: 4000 }],
    ]);
    expect(of(ev, 'call.agent_completed').map((e) => [e.call_id, e.payload])).toEqual([['u5', { agent_id: '1002', agent_name: 'Agent 1002', reason: 'agent', talk_ms: 40000, hold_ms: 0 }]]);
    expect(of(ev, 'call.ended')[0]?.payload).toMatchObject({ direction: 'inbound', extension: '1002' });
  });

  // The real shape of an AMI Atxfer to a queue member (fixtures/ami/asterisk22/h_attended_transfer,
  // call h1): the consultation gets no DialBegin, only a DialState RINGING and a DialEnd ANSWER
  // carrying nothing but Dest* fields; the target gets no AgentCalled/AgentConnect/AgentComplete.
  const atxfer = (cancel: boolean) => {
    const caller = chan('Local/555@callers-00000001;2', 'c1', 'c0', 6, '555', 'callers');
    const agent1 = chan('Local/1001@agents-00000002;1', 'a1', 'c0', 6, '555', 'agents');
    const consult1 = chan('Local/1002@agents-00000003;1', 'k1', 'c0', 0, '1002', 'agents');
    const consult2 = chan('Local/1002@agents-00000003;2', 'k2', 'c0', 4, '1002', 'agents');
    const member1001 = { Queue: 'sales', Interface: 'Local/1001@agents', MemberName: 'Agent 1001' };
    const s = new Stream()
      .ev(0, 'QueueMemberAdded', { ...member1001, StateInterface: 'Local/1001@agents', Status: '1', Paused: '0', InCall: '0' })
      .ev(0, 'QueueMemberAdded', { Queue: 'sales', MemberName: 'Agent 1002', Interface: 'Local/1002@agents', StateInterface: 'Local/1002@agents', Status: '1', Paused: '0', InCall: '0' })
      .ev(0, 'Newchannel', chan('Local/555@callers-00000001;1', 'c0', 'c0', 0, '555', 'callers'))
      .ev(0, 'Newchannel', caller)
      .ev(1000, 'QueueCallerJoin', { ...caller, Queue: 'sales', Position: '1' })
      .ev(1000, 'AgentCalled', { ...caller, ...dest('Local/1001@agents-00000002;1', 'a1', 'c0', 0), ...member1001 })
      .ev(3000, 'QueueCallerLeave', { ...caller, Queue: 'sales', Position: '1' })
      .ev(3000, 'AgentConnect', { ...caller, ...dest('Local/1001@agents-00000002;1', 'a1', 'c0', 6), ...member1001, HoldTime: '2', RingTime: '2' })
      .ev(8000, 'DTMFEnd', { ...agent1, Digit: '*', Direction: 'Received' })
      .ev(8000, 'Hold', agent1)
      .ev(9000, 'Newchannel', consult1)
      .ev(9000, 'Newchannel', consult2)
      .ev(9000, 'Newstate', { ...consult1, ChannelState: '5' })
      .ev(9000, 'DialState', { ...dest('Local/1002@agents-00000003;1', 'k1', 'c0', 5), DestExten: '1002', DialStatus: 'RINGING' })
      // Asterisk reports the rung member in use (Status 2) although nobody answered yet.
      .ev(9000, 'QueueMemberStatus', { Queue: 'sales', MemberName: 'Agent 1002', Interface: 'Local/1002@agents', Status: '2', Paused: '0', InCall: '0' });
    if (cancel) {
      return s
        .ev(17000, 'HangupRequest', { ...consult2, Cause: '16' })
        .ev(17000, 'Hangup', { ...consult2, Cause: '16' })
        .ev(17000, 'Unhold', agent1)
        .ev(17000, 'Hangup', { ...consult1, Cause: '16' })
        .ev(17000, 'QueueMemberStatus', { Queue: 'sales', MemberName: 'Agent 1002', Interface: 'Local/1002@agents', Status: '1', Paused: '0', InCall: '0' })
        .ev(22000, 'SoftHangupRequest', { ...chan('Local/1001@agents-00000002;2', 'a2', 'c0', 6, '1001', 'agents'), Cause: '16' })
        .ev(22000, 'AgentComplete', { ...caller, ...dest('Local/1001@agents-00000002;1', 'a1', 'c0', 6), ...member1001, HoldTime: '2', TalkTime: '19', Reason: 'agent' })
        .ev(22000, 'Hangup', { ...agent1, Cause: '16' })
        .ev(22000, 'Hangup', { ...caller, Cause: '16' })
        .ev(22000, 'Hangup', { ...chan('Local/555@callers-00000001;1', 'c0', 'c0', 6, '555', 'callers'), Cause: '16' })
        .translate();
    }
    return s
      .ev(12000, 'Newstate', { ...consult2, ChannelState: '6' })
      .ev(12000, 'Newstate', { ...consult1, ChannelState: '6' })
      .ev(12000, 'DialEnd', { ...dest('Local/1002@agents-00000003;1', 'k1', 'c0', 6), DestExten: '1002', DialStatus: 'ANSWER' })
      .ev(16000, 'SoftHangupRequest', { ...chan('Local/1001@agents-00000002;2', 'a2', 'c0', 6, '1001', 'agents'), Cause: '16' })
      .ev(16000, 'HangupRequest', { ...agent1, Cause: '0' })
      .ev(16000, 'AttendedTransfer', {
        Result: 'Success',
        OrigTransfererChannel: 'Local/1001@agents-00000002;1',
        OrigTransfererUniqueid: 'a1',
        SecondTransfererChannel: 'Local/1001@agents-00000002;1',
        SecondTransfererUniqueid: 'a1',
        TransfereeChannel: 'Local/555@callers-00000001;2',
        TransfereeUniqueid: 'c1',
        TransferTargetChannel: 'Local/1002@agents-00000003;1',
        TransferTargetUniqueid: 'k1',
        TransferTargetCallerIDNum: '<unknown>',
        DestType: 'Bridge',
      })
      .ev(16000, 'AgentComplete', { ...caller, ...dest('Local/1001@agents-00000002;1', 'a1', 'c0', 6), ...member1001, HoldTime: '2', TalkTime: '13', Reason: 'transfer' })
      .ev(16000, 'Hangup', { ...agent1, Cause: '16' })
      .ev(25000, 'HangupRequest', { ...caller, Cause: '0' })
      .ev(25000, 'Hangup', { ...chan('Local/555@callers-00000001;1', 'c0', 'c0', 6, '555', 'callers'), Cause: '0' })
      .ev(25000, 'Hangup', { ...caller, Cause: '16' })
      .ev(25000, 'HangupRequest', { ...consult2, Cause: '16' })
      .ev(25000, 'Hangup', { ...consult1, Cause: '16' })
      .ev(25000, 'Hangup', { ...consult2, Cause: '16' })
      .translate();
  };

  it('the target of an AMI Atxfer: credited with the call at the transfer, and with its talk from then on', () => {
    const ev = atxfer(false);
    const answered = of(ev, 'call.answered');
    expect(answered.map((e) => [e.payload.agent_id, e.payload.queue ?? null, Date.parse(e.occurred_at) - T0, e.payload.ring_ms])).toEqual([
      ['1001', 'sales', 3000, 2000],
      ['1002', null, 16000, 3000],
    ]);
    // METRICS.md: `transferred.to` names the agent (the target's caller id is <unknown>).
    expect(of(ev, 'call.transferred').map((e) => [e.payload.kind, e.payload.from_agent_id, e.payload.to])).toEqual([['attended', '1001', '1002']]);
    expect(of(ev, 'call.agent_completed').map((e) => [e.payload.agent_id, e.payload.reason, e.payload.talk_ms])).toEqual([
      ['1001', 'transfer', 13000],
      ['1002', 'caller', 9000],
    ]);
    // The target rings while the consultation rings (not on_call from the member's Status 2),
    // talks from the answer, and is free once the caller is gone.
    expect(stateAt(ev, '1002', 9000)).toBe('ringing');
    expect(stateAt(ev, '1002', 12000)).toBe('on_call');
    expect(stateAt(ev, '1002', 25000)).toBe('available');
    expect(stateAt(ev, '1001', 8000)).toBe('on_hold');
    // One call: every event carries the caller's Linkedid.
    expect(new Set(ev.filter((e) => 'call_id' in e).map((e) => (e as { call_id: string }).call_id))).toEqual(new Set(['c0']));
  });

  it('a cancelled Atxfer (the consultation rang out, no AttendedTransfer): no transfer, no credit, no missed call', () => {
    const ev = atxfer(true);
    expect(of(ev, 'call.transferred')).toEqual([]);
    expect(of(ev, 'call.answered').map((e) => e.payload.agent_id)).toEqual(['1001']);
    expect(of(ev, 'call.agent_completed').map((e) => [e.payload.agent_id, e.payload.reason, e.payload.hold_ms])).toEqual([['1001', 'agent', 9000]]);
    expect(of(ev, 'call.ring_no_answer')).toEqual([]);
    expect(stateAt(ev, '1002', 9000)).toBe('ringing');
    expect(stateAt(ev, '1002', 17000)).toBe('available');
    expect(stateAt(ev, '1001', 17000)).toBe('on_call');
  });

  it('a queue that rings a member phone directly (Interface PJSIP/1003) answers once, through AgentConnect', () => {
    const caller = chan('PJSIP/trunk-00000020', 'q1', 'q1', 6, '5000', 'from-trunk');
    const ev = new Stream()
      .ev(0, 'QueueMemberAdded', { Queue: 'support', MemberName: 'Agent 1003', Interface: 'PJSIP/1003', StateInterface: 'PJSIP/1003', Status: '1', Paused: '0' })
      .ev(1000, 'Newchannel', { ...caller, ChannelState: '4' })
      .ev(1000, 'QueueCallerJoin', { ...caller, Queue: 'support', Position: '1' })
      .ev(1000, 'Newchannel', chan('PJSIP/1003-00000021', 'q2', 'q1', 0, '1003'))
      .ev(1000, 'AgentCalled', { ...caller, ...dest('PJSIP/1003-00000021', 'q2', 'q1', 0), Queue: 'support', Interface: 'PJSIP/1003', MemberName: 'Agent 1003' })
      .ev(1000, 'DialBegin', { ...caller, ...dest('PJSIP/1003-00000021', 'q2', 'q1', 0) })
      .ev(4000, 'Newstate', chan('PJSIP/1003-00000021', 'q2', 'q1', 6, '1003'))
      .ev(4000, 'QueueCallerLeave', { ...caller, Queue: 'support', Position: '1' })
      .ev(4000, 'AgentConnect', { ...caller, ...dest('PJSIP/1003-00000021', 'q2', 'q1', 6), Queue: 'support', Interface: 'PJSIP/1003', MemberName: 'Agent 1003', HoldTime: '3', RingTime: '3' })
      .ev(9000, 'Hangup', { ...chan('PJSIP/1003-00000021', 'q2', 'q1', 6, '1003'), Cause: '16' })
      .translate();
    expect(of(ev, 'call.answered').map((e) => [e.payload.agent_id, e.payload.queue])).toEqual([['1003', 'support']]);
    expect(of(ev, 'call.started')[0]?.payload.direction).toBe('inbound');
  });
});

describe('AMI agent state changes that share a millisecond', () => {
  // Downstream, one agent's changes of one millisecond are ordered by event id: each case runs
  // for eight agents (eight different ids), so an order that holds only by chance fails.
  const AGENTS = ['2001', '2002', '2003', '2004', '2005', '2006', '2007', '2008'];
  const member = (a: string, extra: Record<string, string> = {}) => ({ Queue: 'sales', MemberName: `Agent ${a}`, Interface: `Local/${a}@agents`, StateInterface: `PJSIP/${a}`, ...extra });
  /** The agent completes a queue call at 10 s; the queue's wrap-up (5 s) ends at exactly 15 s. */
  function afterCall(a: string): Stream {
    const caller = chan('Local/555@callers-00000001;2', 'c1', 'c0', 6, '555', 'callers');
    const agentLeg = (state: number) => dest(`Local/${a}@agents-00000002;1`, 'a1', 'c0', state);
    return new Stream()
      .ev(0, 'QueueMemberAdded', member(a, { Status: '1', Paused: '0', InCall: '0' }))
      .ev(0, 'Newchannel', caller)
      .ev(1000, 'QueueCallerJoin', { ...caller, Queue: 'sales', Position: '1' })
      .ev(1000, 'AgentCalled', { ...caller, ...agentLeg(0), ...member(a) })
      .ev(2000, 'QueueCallerLeave', { ...caller, Queue: 'sales', Position: '1' })
      .ev(2000, 'AgentConnect', { ...caller, ...agentLeg(6), ...member(a, { HoldTime: '1', RingTime: '1' }) })
      .ev(10000, 'AgentComplete', { ...caller, ...agentLeg(6), ...member(a, { HoldTime: '1', TalkTime: '8', Reason: 'agent' }) });
  }

  it.each(AGENTS)('a pause at the very millisecond the wrap-up ends leaves the agent paused (agent %s)', (a) => {
    const ev = afterCall(a)
      .ev(15000, 'QueueMemberPause', member(a, { Paused: '1', PausedReason: 'Lunch' }))
      .ev(20000, 'QueueMemberStatus', member(a, { Status: '1', InCall: '0', Paused: '1', PausedReason: 'Lunch' }))
      .translate(5000);
    expect(stateAt(ev, a, 14999)).toBe('wrap_up');
    expect(stateAt(ev, a, 15000)).toBe('paused');
    expect(stateAt(ev, a, 30000)).toBe('paused');
  });

  it.each(AGENTS)('a logout at the very millisecond the wrap-up ends leaves the agent offline (agent %s)', (a) => {
    const ev = afterCall(a)
      .ev(15000, 'QueueMemberRemoved', member(a))
      .ev(16000, 'QueueMemberAdded', { ...member('9999'), Queue: 'support', Status: '1', Paused: '0' })
      .translate(5000);
    expect(stateAt(ev, a, 15000)).toBe('offline');
    expect(stateAt(ev, a, 60000)).toBe('offline');
  });

  it.each(AGENTS)('a ring that ends as the next one starts (same millisecond): the later change, ringing, wins (agent %s)', (a) => {
    const c = (n: number) => chan(`Local/55${n}@callers-0000000${n};2`, `c${n}`, `c${n}`, 6, `55${n}`, 'callers');
    const ev = new Stream()
      .ev(0, 'QueueMemberAdded', member(a, { Status: '1', Paused: '0', InCall: '0' }))
      .ev(0, 'Newchannel', c(1))
      .ev(0, 'Newchannel', c(2))
      .ev(1000, 'QueueCallerJoin', { ...c(1), Queue: 'sales', Position: '1' })
      .ev(1000, 'QueueCallerJoin', { ...c(2), Queue: 'sales', Position: '2' })
      .ev(1000, 'AgentCalled', { ...c(1), ...dest(`Local/${a}@agents-00000011;1`, 'r1', 'c1', 0), ...member(a) })
      .ev(16000, 'AgentRingNoAnswer', { ...c(1), ...dest(`Local/${a}@agents-00000011;1`, 'r1', 'c1', 5), ...member(a, { RingTime: '15000' }) })
      .ev(16000, 'Hangup', { ...chan(`Local/${a}@agents-00000011;1`, 'r1', 'c1', 5, a, 'agents'), Cause: '0' })
      .ev(16000, 'AgentCalled', { ...c(2), ...dest(`Local/${a}@agents-00000012;1`, 'r2', 'c2', 0), ...member(a) })
      .ev(20000, 'QueueMemberStatus', member(a, { Status: '6', InCall: '0', Paused: '0' }))
      .translate();
    const at16 = of(ev, 'agent.state_changed').filter((e) => e.agent_id === a && Date.parse(e.occurred_at) === T0 + 16000);
    expect(at16.map((e) => e.payload.state)).toEqual(['available', 'ringing']);
    expect(stateAt(ev, a, 16000)).toBe('ringing');
  });
});

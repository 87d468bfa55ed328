// Yeastar translation scenarios (queues, transfers, DST, reconnect), given → when → then, plus
// the small pure helpers of the adapters (backoff, allow-list, push token, offline clock).
import { describe, expect, it } from 'vitest';
import { validateEvent, type CanonicalEvent } from '@callboard/schemas';
import type { AgentSnapshot, Member, YeastarMessage } from '../src/yeastar/messages.ts';
import { translateYeastarLines, translateYeastarText, yeastarRawTranslator } from '../src/yeastar/offline.ts';
import { backoffDelay } from '@callboard/platform';
import { addressAllowed, pushToken, reportPath } from '../src/yeastar/s-receiver.ts';
import { callIdEpochMs, yeastarLocalToUtc } from '../src/yeastar/time.ts';
import { failedDisposition, mapDisposition, YeastarTranslator } from '../src/yeastar/translate.ts';
import { YeastarPipeline } from '../src/yeastar/pipeline.ts';
import type { IngestSink } from '../src/sink.ts';
import { createLogger } from '@callboard/platform';
import type { RawRecord } from '@callboard/schemas';

const CALL = '1777304494.97';
const inbound = (status: string, call_path = '6400'): Member => ({
  role: 'inbound',
  number: '',
  from: '0745150974',
  to: '6400',
  trunk: 'Saf',
  channel_id: 'PJSIP/trunk-Saf-endpoint-00000b01',
  status,
  call_path,
});
const ext = (n: string, status: string, call_path = '6400'): Member => ({
  role: 'extension',
  number: n,
  from: '',
  to: '',
  trunk: '',
  channel_id: `PJSIP/${n}-00000b0${n.slice(-1)}`,
  status,
  call_path,
});
const snap = (...members: Member[]): YeastarMessage => ({ kind: 'call_status', sn: 'x', call_id: CALL, members });

/** Given a translator, when these messages arrive one second apart, then these events. */
function run(
  msgs: YeastarMessage[],
  queues?: string[],
  t = new YeastarTranslator({ tenant_id: 'acme', pbx_id: 'pbx1', source: 'yeastar-p', timezone: 'Africa/Nairobi', ...(queues ? { queues } : {}) }),
) {
  const out: CanonicalEvent[] = [];
  msgs.forEach((m, i) => {
    const o = t.translate(m, { received_at: new Date(Date.UTC(2026, 3, 27, 15, 41, 34 + i)).toISOString(), raw_ref: null });
    if (o.kind === 'dlq') throw new Error(o.reason);
    if (o.kind === 'ok') out.push(...o.events);
  });
  for (const e of out) expect(validateEvent(e).ok, e.type).toBe(true);
  return { out, t, calls: out.filter((e) => e.type.startsWith('call.')), of: (type: string) => out.filter((e) => e.type === type).map((e) => e.payload) };
}

describe('queue calls', () => {
  const leg = `${CALL}:6400:1`;

  it('answered by one of two ringing agents: the other is a ring-all loser, not a missed call', () => {
    const r = run([
      snap(inbound('ANSWERED'), ext('1001', 'RING'), ext('1002', 'RING')),
      snap(inbound('ANSWERED'), ext('1002', 'ANSWER')),
      snap(inbound('BYE'), ext('1002', 'BYE')),
    ]);
    expect(r.calls.map((e) => e.type)).toEqual(['call.started', 'call.queued', 'call.ringing', 'call.ringing', 'call.answered', 'call.agent_completed']);
    expect(r.of('call.answered')).toEqual([{ agent_id: '1002', queue: '6400', leg_id: leg, wait_ms: 1000, ring_ms: 1000 }]);
    expect(r.of('call.agent_completed')).toEqual([{ agent_id: '1002', queue: '6400', leg_id: leg, reason: 'caller', talk_ms: 1000, hold_ms: 0 }]);
    expect(r.of('call.ring_no_answer')).toEqual([]);
  });

  it('the agent hangs up first: completed by the agent', () => {
    const r = run([
      snap(inbound('ANSWERED'), ext('1002', 'RING')),
      snap(inbound('ANSWERED'), ext('1002', 'ANSWER')),
      snap(inbound('ANSWERED'), ext('1002', 'BYE')),
    ]);
    expect(r.of('call.agent_completed')).toMatchObject([{ agent_id: '1002', reason: 'agent' }]);
  });

  it('the caller hangs up while waiting: abandoned, and the rings it cancels are not missed calls', () => {
    const r = run([snap(inbound('ANSWERED'), ext('1001', 'RING')), snap(inbound('ANSWERED'), ext('1001', 'RING')), snap(inbound('BYE'), ext('1001', 'BYE'))]);
    expect(r.of('call.abandoned')).toEqual([{ queue: '6400', leg_id: leg, wait_ms: 2000, position: 1, original_position: 1 }]);
    expect(r.of('call.ring_no_answer')).toEqual([]);
  });

  it('an agent stops ringing while the caller still waits: ring-no-answer with the ring time', () => {
    const r = run([snap(inbound('ANSWERED'), ext('1001', 'RING')), snap(inbound('ANSWERED')), snap(inbound('ANSWERED'), ext('1002', 'RING'))]);
    expect(r.of('call.ring_no_answer')).toEqual([{ agent_id: '1001', queue: '6400', leg_id: leg, ring_ms: 1000 }]);
    expect(r.of('call.ringing').map((p) => (p as { agent_id: string }).agent_id)).toEqual(['1001', '1002']);
  });

  it('the caller leaves the queue for somewhere else (failover): left_queue, then no abandon', () => {
    const r = run([snap(inbound('ANSWERED')), snap(inbound('ANSWERED', '6200')), snap(inbound('BYE', '6200'))], ['6400']);
    expect(r.of('call.left_queue')).toEqual([{ queue: '6400', leg_id: leg, reason: 'other', wait_ms: 1000, position: 1 }]);
    expect(r.of('call.abandoned')).toEqual([]);
  });

  it('overflow to a second queue opens a second leg', () => {
    const r = run([snap(inbound('ANSWERED')), snap(inbound('ANSWERED', '6401')), snap(inbound('ANSWERED', '6401'), ext('1003', 'ANSWER', '6401'))]);
    expect(r.of('call.queued').map((p) => (p as { leg_id: string }).leg_id)).toEqual([leg, `${CALL}:6401:1`]);
    expect(r.of('call.answered')).toMatchObject([{ agent_id: '1003', queue: '6401', leg_id: `${CALL}:6401:1`, wait_ms: 1000 }]);
  });

  it('positions count the legs already waiting in the queue', () => {
    const t = new YeastarTranslator({ tenant_id: 'acme', pbx_id: 'pbx1', source: 'yeastar-p', timezone: 'UTC' });
    run([snap(inbound('ANSWERED'))], undefined, t);
    const r = run([{ kind: 'call_status', sn: 'x', call_id: '1777304500.98', members: [{ ...inbound('ANSWERED'), channel_id: 'other' }] }], undefined, t);
    expect(r.of('call.queued')).toMatchObject([{ position: 2 }]);
  });

  it('only configured queue numbers open legs when queues are configured (an IVR is not a queue)', () => {
    const r = run([snap(inbound('ANSWERED', '6200')), snap(inbound('ANSWERED', '6400'))], ['6400']);
    expect(r.of('call.queued').map((p) => (p as { queue: string }).queue)).toEqual(['6400']);
  });
});

describe('internal calls', () => {
  it('the caller is the extension showing ALERT, wherever it sits in the member list', () => {
    const callee = { ...ext('1020', 'RING', ''), channel_id: 'PJSIP/1020-26' };
    const caller = { ...ext('2000', 'ALERT', ''), channel_id: 'PJSIP/2000-25' };
    const r = run([
      { kind: 'call_status', sn: 'x', call_id: CALL, members: [callee, caller] },
      {
        kind: 'call_status',
        sn: 'x',
        call_id: CALL,
        members: [
          { ...callee, status: 'ANSWER' },
          { ...caller, status: 'ANSWERED' },
        ],
      },
      {
        kind: 'call_status',
        sn: 'x',
        call_id: CALL,
        members: [
          { ...callee, status: 'BYE' },
          { ...caller, status: 'ANSWERED' },
        ],
      },
    ]);
    expect(r.of('call.started')).toEqual([{ direction: 'internal', caller_number: '2000', called_number: '1020', extension: '2000' }]);
    expect(r.of('call.ringing')).toEqual([{ agent_id: '1020' }]);
    expect(r.of('call.answered')).toEqual([{ agent_id: '1020', wait_ms: 1000, ring_ms: 1000 }]);
    expect(r.of('call.agent_completed')).toEqual([{ agent_id: '1020', reason: 'agent', talk_ms: 1000, hold_ms: 0 }]);
  });
});

describe('transfers', () => {
  it('the connected agent transfers to another extension: transferred, completed (transfer), then the target answers', () => {
    const r = run([
      snap(inbound('ANSWERED', ''), ext('1002', 'ANSWER', '')),
      { kind: 'transfer', sn: 'x', call_id: CALL, members: [inbound('ANSWERED', ''), ext('2003', 'ANSWER', '')] },
      snap(inbound('BYE', ''), ext('2003', 'BYE', '')),
    ]);
    expect(r.calls.map((e) => e.type)).toEqual([
      'call.started',
      'call.answered',
      'call.transferred',
      'call.agent_completed',
      'call.answered',
      'call.agent_completed',
    ]);
    expect(r.of('call.transferred')).toEqual([{ kind: 'blind', from_agent_id: '1002', to: '2003' }]);
    expect(r.of('call.agent_completed')).toMatchObject([
      { agent_id: '1002', reason: 'transfer', talk_ms: 1000 },
      { agent_id: '2003', reason: 'caller', talk_ms: 1000 },
    ]);
  });

  it('a transferred queue leg keeps its queue on the transfer', () => {
    const r = run([
      snap(inbound('ANSWERED'), ext('1002', 'ANSWER')),
      { kind: 'transfer', sn: 'x', call_id: CALL, members: [inbound('ANSWERED'), ext('2003', 'ANSWER')] },
    ]);
    expect(r.of('call.transferred')).toEqual([{ kind: 'blind', from_agent_id: '1002', to: '2003', queue: '6400', leg_id: `${CALL}:6400:1` }]);
  });

  // P-Series frames as the PBX sends them: the 30011 shapes of the captured answered/hold/ringing
  // reports and the captured 30013 transfer report verbatim (fixtures/yeastar/p-series-30013-call-transfer.json).
  // 2001 answers, holds the caller and consults 2002, who answers; 2001 transfers; the caller hangs up.
  it('attended: the target is credited with the call and its talk from the 30013 transfer, not from the consultation answer', () => {
    const trunk = { from: '5503303', to: '2002', trunk_name: 'sip-trunk', channel_id: 'PJSIP/trunk-sip-trunk-endpoint-00000031', call_path: '' };
    const agent = (status: string) => ({ extension: { number: '2001', channel_id: 'PJSIP/2001-00000030', member_status: status, call_path: '' } });
    const target = (status: string) => ({ extension: { number: '2002', channel_id: 'PJSIP/2002-00000032', member_status: status, call_path: '' } });
    const p = (type: number, ...members: object[]) => JSON.stringify({ type, sn: '3631A2124XXX', msg: JSON.stringify({ call_id: '1651113112.405', members }) });
    const caller = (status: string) => ({ inbound: { ...trunk, member_status: status } });
    const transfer = String.raw`{"type":30013,"sn":"3631A2124XXX","msg":"{\"call_id\":\"1651113112.405\",\"members\":[{\"inbound\":{\"from\":\"5503303\",\"to\":\"2002\",\"trunk_name\":\"sip-trunk\",\"channel_id\":\"PJSIP/trunk-sip-trunk-endpoint-00000031\",\"member_status\":\"ANSWERED\",\"call_path\":\"\"}},{\"extension\":{\"number\":\"2002\",\"channel_id\":\"PJSIP/2002-00000032\",\"member_status\":\"ANSWER\",\"call_path\":\"\"}}]}"}`;
    const lines = [
      p(30011, caller('ANSWERED'), agent('ANSWER')), // t0: 2001 answers
      p(30011, caller('ANSWERED'), agent('HOLD'), target('RING')), // t1: consultation rings 2002
      p(30011, caller('ANSWERED'), agent('HOLD'), target('ANSWER')), // t2: 2002 answers the consultation
      p(30011, caller('ANSWERED'), agent('HOLD'), target('ANSWER')), // t3: consulting (a repeated report)
      transfer, // t4: 2001 transfers the caller to 2002
      p(30011, caller('BYE'), target('BYE')), // t5: the caller hangs up
    ].join('\n');
    const r = translateYeastarText(lines, { source: 'yeastar-p', tenant_id: 'acme', pbx_id: 'pbx1', timezone: 'UTC', start: new Date('2026-04-27T15:00:00Z') });
    expect(r.dlq).toEqual([]);
    const calls = r.events.filter((e) => e.type.startsWith('call.') && e.type !== 'call.started');
    const at = (sec: number) => new Date(Date.UTC(2026, 3, 27, 15, 0, sec)).toISOString();
    expect(calls.map((e) => [e.type, e.occurred_at, e.payload])).toEqual([
      ['call.answered', at(0), { agent_id: '2001', wait_ms: 0 }],
      ['call.held', at(1), { agent_id: '2001' }],
      ['call.ringing', at(1), { agent_id: '2002' }],
      ['call.transferred', at(4), { kind: 'attended', from_agent_id: '2001', to: '2002' }],
      ['call.agent_completed', at(4), { agent_id: '2001', reason: 'transfer', talk_ms: 4000, hold_ms: 3000 }],
      // The consultation's ring (t1 → t2) is the answer's ring and wait, as on the AMI path.
      ['call.answered', at(4), { agent_id: '2002', wait_ms: 1000, ring_ms: 1000 }],
      ['call.agent_completed', at(5), { agent_id: '2002', reason: 'caller', talk_ms: 1000, hold_ms: 0 }],
    ]);
    // 2002 is on the call during the consultation, credited or not.
    expect(
      r.events.filter((e) => e.type === 'agent.state_changed' && e.agent_id === '2002').map((e) => [e.occurred_at, (e.payload as { state: string }).state]),
    ).toContainEqual([at(2), 'on_call']);
  });

  it('attended, cancelled after the target answered: the consultation is no handled call', () => {
    const r = run([
      snap(inbound('ANSWERED'), ext('1002', 'ANSWER')),
      snap(inbound('ANSWERED'), ext('1002', 'HOLD'), ext('2003', 'RING', '')),
      snap(inbound('ANSWERED'), ext('1002', 'HOLD'), ext('2003', 'ANSWER', '')),
      snap(inbound('ANSWERED'), ext('1002', 'ANSWER'), ext('2003', 'BYE', '')),
      snap(inbound('BYE'), ext('1002', 'BYE')),
    ]);
    expect(r.of('call.answered').map((p) => (p as { agent_id: string }).agent_id)).toEqual(['1002']);
    expect(r.of('call.agent_completed')).toEqual([
      { agent_id: '1002', queue: '6400', leg_id: `${CALL}:6400:1`, reason: 'caller', talk_ms: 4000, hold_ms: 2000 },
    ]);
    expect(r.of('call.transferred')).toEqual([]);
  });
});

describe('agent state', () => {
  const st = (extension: string, status: string): YeastarMessage => ({ kind: 'extension_status', sn: 'x', extension, status });
  const ag = (status: string, reason = ''): YeastarMessage => ({ kind: 'agent_status', sn: 'x', queue: '6402', agent: '1002', status, reason });

  it('a paused agent stays paused when the extension goes idle; unpause makes it available', () => {
    const r = run([ag('Paused', 'Lunch'), st('1002', 'Ringing'), st('1002', 'Busy'), st('1002', 'Idle'), ag('Unpaused')]);
    // The pause runs on under the call (METRICS.md pause_time_by_reason): every change says so.
    expect(r.of('agent.state_changed')).toEqual([
      { state: 'paused', reason: 'Lunch', pause_reason: 'Lunch' },
      { state: 'ringing', pause_reason: 'Lunch' },
      { state: 'on_call', pause_reason: 'Lunch' },
      { state: 'paused', reason: 'Lunch', pause_reason: 'Lunch' },
      { state: 'available' },
    ]);
  });

  it('back on the call after a hold: each state change is its own event (ids are unique per change)', () => {
    // Two changes sharing an event_id are one event downstream: the projections keep either copy,
    // so the agent's intervals (and logged-in time) came out differently from run to run.
    const r = run([
      snap(inbound('ANSWERED'), ext('1002', 'RING')),
      snap(inbound('ANSWERED'), ext('1002', 'ANSWERED')),
      snap(inbound('ANSWERED'), ext('1002', 'HOLD')),
      snap(inbound('ANSWERED'), ext('1002', 'ANSWERED')),
      snap(inbound('BYE'), ext('1002', 'BYE')),
    ]);
    const changes = r.out.filter((e) => e.type === 'agent.state_changed');
    expect(changes.map((e) => e.payload)).toEqual([
      { state: 'ringing', call_id: CALL },
      { state: 'on_call', call_id: CALL },
      { state: 'on_hold', call_id: CALL },
      { state: 'on_call', call_id: CALL },
      // Free again: the ended call is not the cause of being available (the AMI path agrees).
      { state: 'available' },
    ]);
    expect(new Set(changes.map((e) => e.event_id)).size).toBe(changes.length);
  });

  it('login and logout are queue membership; logged out of every queue or unregistered is offline', () => {
    const r = run([ag('Logged In'), ag('Logged In'), ag('Logged Out'), ag('Logged In'), st('1002', 'Unregistered'), st('1002', 'Registered')]);
    expect(r.out.map((e) => (e.type === 'agent.state_changed' ? (e.payload as { state: string }).state : e.type))).toEqual([
      'agent.queue_joined',
      'available',
      'agent.queue_left',
      'offline',
      'agent.queue_joined',
      'available',
      'offline',
      'available',
    ]);
  });

  it('queue/agent_status rows per queue: membership from is_login, state merged over the queues', () => {
    const t = new YeastarTranslator({ tenant_id: 'acme', pbx_id: 'pbx1', source: 'yeastar-p', timezone: 'UTC' });
    const row = (queue: string, o: Partial<AgentSnapshot>): AgentSnapshot => ({
      agent: '1001',
      queue,
      name: 'A',
      logged_in: true,
      paused: false,
      pause_reason: '',
      call: 'idle',
      ...o,
    });
    const meta = { received_at: '2026-04-27T15:00:00.000Z', raw_ref: null };
    const first = t.reconcile({ agents: [row('6400', {}), row('6401', { paused: true, pause_reason: 'Lunch' }), row('6402', { logged_in: false })] }, meta);
    expect(first.map((e) => [e.type, e.payload])).toEqual([
      ['agent.queue_joined', { queue: '6400' }],
      ['agent.queue_joined', { queue: '6401' }],
      ['agent.state_changed', { state: 'paused', reason: 'Lunch', pause_reason: 'Lunch' }],
    ]);
    const later = t.reconcile(
      {
        agents: [row('6400', { logged_in: false }), row('6401', { logged_in: false })],
        gap: { from: meta.received_at, to: '2026-04-27T15:01:00.000Z', reason: 'x' },
      },
      { ...meta, received_at: '2026-04-27T15:01:00.000Z' },
    );
    expect(later.map((e) => [e.type, e.payload])).toEqual([
      ['agent.queue_left', { queue: '6400' }],
      ['agent.queue_left', { queue: '6401' }],
      ['agent.state_changed', { state: 'offline' }],
      ['source.gap', { from: meta.received_at, to: '2026-04-27T15:01:00.000Z', reason: 'x' }],
    ]);
  });

  it('the same state reported twice is one state change', () => {
    expect(run([st('1002', 'Busy'), st('1002', 'Busy')]).out).toHaveLength(1);
  });
});

describe('reconnect', () => {
  it('resync applies the live calls, closes calls the PBX no longer has, frees their agents, emits one gap', () => {
    const t = new YeastarTranslator({ tenant_id: 'acme', pbx_id: 'pbx1', source: 'yeastar-p', timezone: 'UTC' });
    run(
      [
        snap(inbound('ANSWERED'), ext('1001', 'ANSWER')),
        {
          kind: 'call_status',
          sn: 'x',
          call_id: 'gone.1',
          members: [
            { ...ext('1003', 'ANSWER', ''), channel_id: 'c3' },
            { ...inbound('ANSWERED', ''), channel_id: 'c4' },
          ],
        },
      ],
      undefined,
      t,
    );
    const out = t.reconcile(
      {
        calls: [{ call_id: CALL, members: [inbound('ANSWERED'), ext('1001', 'HOLD')] }],
        gap: { from: '2026-04-27T15:41:40.000Z', to: '2026-04-27T15:42:00.000Z', reason: 'socket closed (1006)' },
      },
      { received_at: '2026-04-27T15:42:00.000Z', raw_ref: null },
    );
    expect(out.map((e) => [e.type, 'agent_id' in e ? e.agent_id : (e.payload as { agent_id?: string }).agent_id])).toEqual([
      ['call.held', '1001'],
      ['agent.state_changed', '1001'],
      ['agent.state_changed', '1003'],
      ['source.gap', undefined],
    ]);
    expect(out.at(-1)!.payload).toEqual({ from: '2026-04-27T15:41:40.000Z', to: '2026-04-27T15:42:00.000Z', reason: 'socket closed (1006)' });
    expect(Object.keys(t.state.calls)).toEqual([CALL]);
  });
});

describe('time: PBX-local to UTC with the PBX zone', () => {
  it('an ordinary local time', () => {
    expect(yeastarLocalToUtc('2026-09-24 00:04:18', 'Africa/Nairobi')).toEqual({ ms: Date.parse('2026-09-23T21:04:18Z'), rule: 'exact' });
    expect(yeastarLocalToUtc('2026/01/16 15:00:49', 'Asia/Shanghai')?.ms).toBe(Date.parse('2026-01-16T07:00:49Z'));
    expect(yeastarLocalToUtc('04/27/2026 18:41:34', 'Africa/Nairobi')?.ms).toBe(Date.parse('2026-04-27T15:41:34Z'));
    expect(yeastarLocalToUtc('2026-02-31 10:00:00', 'UTC')).toBeNull();
    expect(yeastarLocalToUtc('yesterday', 'UTC')).toBeNull();
  });

  it('ambiguous (fall back): the earlier instant, first occurrence on summer time', () => {
    // Europe/London 2026-10-25: 01:30 happens at 00:30Z (BST) and at 01:30Z (GMT).
    expect(yeastarLocalToUtc('2026-10-25 01:30:00', 'Europe/London')).toEqual({ ms: Date.parse('2026-10-25T00:30:00Z'), rule: 'ambiguous-earlier' });
    // America/New_York 2026-11-01: 01:30 at 05:30Z (EDT) and 06:30Z (EST).
    expect(yeastarLocalToUtc('2026-11-01 01:30:00', 'America/New_York')).toEqual({ ms: Date.parse('2026-11-01T05:30:00Z'), rule: 'ambiguous-earlier' });
  });

  it('ambiguous with the call id epoch as a hint: the candidate closest to it', () => {
    const hint = Date.parse('2026-10-25T01:30:00Z');
    expect(yeastarLocalToUtc('2026-10-25 01:30:00', 'Europe/London', hint)).toEqual({ ms: hint, rule: 'ambiguous-hint' });
  });

  it('skipped (spring forward): shifted forward by the gap', () => {
    // Europe/London 2026-03-29: 01:00–02:00 local does not exist; 01:30 is read as 02:30 BST = 01:30Z.
    expect(yeastarLocalToUtc('2026-03-29 01:30:00', 'Europe/London')).toEqual({ ms: Date.parse('2026-03-29T01:30:00Z'), rule: 'skipped-forward' });
    // America/New_York 2026-03-08: 02:30 → 03:30 EDT = 07:30Z.
    expect(yeastarLocalToUtc('2026-03-08 02:30:00', 'America/New_York')).toEqual({ ms: Date.parse('2026-03-08T07:30:00Z'), rule: 'skipped-forward' });
  });

  it('a CDR in the repeated hour takes the offset its call id says', () => {
    const frame = (callId: string) =>
      JSON.stringify({
        type: 30012,
        sn: 'x',
        msg: {
          call_id: callId,
          time_start: '2026-10-25 01:30:00',
          call_from: '1001',
          call_to: '1002',
          call_duration: 10,
          talk_duration: 5,
          status: 'ANSWERED',
          type: 'Internal',
        },
      });
    const opts = { source: 'yeastar-p' as const, tenant_id: 'acme', pbx_id: 'pbx1', timezone: 'Europe/London' };
    const first = translateYeastarText(frame(String(Date.parse('2026-10-25T00:30:00Z') / 1000) + '.1'), opts).events[0]!;
    const second = translateYeastarText(frame(String(Date.parse('2026-10-25T01:30:00Z') / 1000) + '.2'), opts).events[0]!;
    expect([first.occurred_at, second.occurred_at]).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00.000Z']);
  });

  it('the call id epoch', () => {
    expect(callIdEpochMs('1790197458.5215')).toBe(1790197458000);
    expect(callIdEpochMs('abc')).toBeUndefined();
  });
});

describe('dispositions', () => {
  it('maps every documented Yeastar value, typos included', () => {
    expect(['ANSWERED', 'ANSWERD', 'NO ANSWER', 'NO ANSWERED', 'no answer', 'BUSY', 'FAILED', 'VOICEMAIL', 'CONGESTION'].map(mapDisposition)).toEqual([
      'ANSWERED',
      'ANSWERED',
      'NO ANSWER',
      'NO ANSWER',
      'NO ANSWER',
      'BUSY',
      'FAILED',
      'NO ANSWER',
      'CONGESTION',
    ]);
    expect(mapDisposition('SOMETHING')).toBeUndefined();
    expect(['486 Busy here', '503 Service Unavailable', '480 Temporarily Unavailable', 'NO Outbound Restriction'].map(failedDisposition)).toEqual([
      'BUSY',
      'CONGESTION',
      'NO ANSWER',
      'FAILED',
    ]);
  });
});

describe('offline translation', () => {
  const opts = { source: 'yeastar-s' as const, tenant_id: 'acme', pbx_id: 'pbx1', timezone: 'UTC' };
  const ring = JSON.stringify({
    event: 'CallStatus',
    callid: '1571981311.105',
    members: [{ ext: { number: '2000', channelid: 'a', memberstatus: 'ALERT' } }, { ext: { number: '1020', channelid: 'b', memberstatus: 'RING' } }],
  });
  const answer = JSON.stringify({
    event: 'CallStatus',
    callid: '1571981311.105',
    members: [{ ext: { number: '2000', channelid: 'a', memberstatus: 'ANSWERED' } }, { ext: { number: '1020', channelid: 'b', memberstatus: 'ANSWER' } }],
  });

  it('bare lines get a deterministic clock: the call id epoch, then one second per line', () => {
    const a = translateYeastarText(`${ring}\n\n${answer}\n`, opts);
    expect(a.events.map((e) => e.occurred_at)).toEqual([
      '2019-10-25T05:28:31.000Z',
      '2019-10-25T05:28:31.000Z',
      '2019-10-25T05:28:31.000Z',
      '2019-10-25T05:28:31.000Z',
      '2019-10-25T05:28:32.000Z',
      '2019-10-25T05:28:32.000Z',
    ]);
    // Same messages, same ids (the raw_ref line differs, the facts do not).
    expect(translateYeastarText(`${ring}\n${answer}`, opts).events.map((e) => e.event_id)).toEqual(a.events.map((e) => e.event_id));
  });

  it('raw records carry their own receive time; bad lines are reported with their line number', () => {
    const rec = JSON.stringify({ body: ring, received_at: '2026-01-01T10:00:00.000Z' });
    const outs = [...translateYeastarLines(`${rec}\nnot json\n`, opts)];
    expect(outs[0]!.kind === 'ok' && outs[0]!.events[0]!.occurred_at).toBe('2026-01-01T10:00:00.000Z');
    expect(outs[1]).toMatchObject({ kind: 'dlq', reason_code: 'UNPARSEABLE_JSON', line: 2 });
  });
});

describe('retranslation of raw records', () => {
  it("uses each record's receive time and the configured PBX zone; bad bodies come back as DLQ outcomes", () => {
    const cfg = { queues: [], pbxes: [{ id: 'pbx1', timezone: 'Pacific/Pitcairn' }] } as unknown as { queues: [] };
    const t = yeastarRawTranslator('yeastar-s')({ cfg, tenant_id: 'acme', pbx_id: 'pbx1', warn: () => {} });
    const rec = (body: string, received_at: string) => ({
      tenant_id: 'acme',
      pbx_id: 'pbx1',
      source: 'yeastar-s' as const,
      connection: 'c',
      seq: 0,
      received_at,
      format: 'json' as const,
      body,
    });
    const cdr = JSON.stringify({
      event: 'NewCdr',
      callid: '1571897930.5',
      timestart: '2019-10-23 22:18:50',
      callfrom: '1023',
      callto: '2023',
      callduraction: '19',
      talkduraction: '14',
      status: 'ANSWERED',
      type: 'Internal',
    });
    const [o] = t.translate(rec(cdr, '2019-10-24T06:19:10.000Z'), { topic: 'pbx.raw.v1', partition: 0, offset: '7' });
    if (o?.kind !== 'ok') throw new Error(JSON.stringify(o));
    expect(o.events.map((e) => [e.type, e.occurred_at, e.received_at])).toEqual([
      ['call.started', '2019-10-24T06:18:50.000Z', '2019-10-24T06:19:10.000Z'],
      ['call.ended', '2019-10-24T06:19:09.000Z', '2019-10-24T06:19:10.000Z'],
    ]);
    expect(o.events[0]!.raw_ref).toEqual({ topic: 'pbx.raw.v1', partition: 0, offset: '7' });
    expect(t.translate(rec('{', '2019-10-24T06:19:10.000Z'), null)).toMatchObject([{ kind: 'dlq', reason_code: 'UNPARSEABLE_JSON' }]);
    expect(t.flush()).toEqual([]);
  });
});

describe('pipeline', () => {
  it('raw first; a raw write Kafka refuses is retried until taken, and nothing after it overtakes it', async () => {
    const calls: string[] = [];
    let failures = 2;
    const sink = {
      raw: async (rs: RawRecord[]) => {
        if (failures-- > 0) throw new Error('broker not available');
        calls.push(`raw:${rs[0]!.seq}`);
        return rs.map((r) => ({ topic: 'pbx.raw.v1', partition: 0, offset: String(r.seq), connection: r.connection, seq: r.seq }));
      },
      canonical: async (es: CanonicalEvent[]) => void calls.push(`events:${es.map((e) => e.type).join(',')}`),
      dlq: async () => void calls.push('dlq'),
    } as unknown as IngestSink;
    const p = new YeastarPipeline(
      sink,
      new YeastarTranslator({ tenant_id: 'acme', pbx_id: 'pbx1', source: 'yeastar-p', timezone: 'UTC' }),
      createLogger('t', 'silent'),
    );
    const retries: number[] = [];
    const frame = (status: string) => JSON.stringify({ type: 30008, sn: 'x', msg: JSON.stringify({ extension: '1001', status }) });
    const a = p.handle(frame('Ringing'), new Date('2026-01-01T00:00:00Z'), 'c1', (_e, n) => retries.push(n));
    const b = p.handle(frame('Busy'), new Date('2026-01-01T00:00:01Z'), 'c1');
    expect((await a).map((e) => e.payload)).toEqual([{ state: 'ringing' }]);
    expect((await b).map((e) => e.payload)).toEqual([{ state: 'on_call' }]);
    expect(retries).toEqual([1, 2]);
    expect(calls).toEqual(['raw:0', 'events:agent.state_changed', 'raw:1', 'events:agent.state_changed']);
  });
});

describe('adapter helpers', () => {
  it('backoff grows exponentially to the cap, with jitter in its upper half', () => {
    expect([0, 1, 2, 3, 10].map((n) => backoffDelay(n, 500, 30_000, () => 1))).toEqual([500, 1000, 2000, 4000, 30_000]);
    expect([0, 1, 10].map((n) => backoffDelay(n, 500, 30_000, () => 0))).toEqual([250, 500, 15_000]);
  });

  it('allow-list: exact addresses, IPv4-mapped IPv6, CIDR blocks', () => {
    expect(addressAllowed('::ffff:127.0.0.1', ['127.0.0.1'])).toBe(true);
    expect(addressAllowed('127.0.0.2', ['127.0.0.1'])).toBe(false);
    expect(addressAllowed('192.168.6.24', ['192.168.6.0/24'])).toBe(true);
    expect(addressAllowed('192.168.7.1', ['192.168.6.0/24'])).toBe(false);
    expect(addressAllowed('10.0.0.1', ['0.0.0.0/0'])).toBe(true);
    expect(addressAllowed('10.0.0.1', [])).toBe(false);
  });

  it('push token: derived from the secret, different per PBX and per secret, never the secret itself', () => {
    expect(pushToken('pbx1', 's3cret')).toMatch(/^[0-9a-f]{32}$/);
    expect(pushToken('pbx1', 's3cret')).toBe(pushToken('pbx1', 's3cret'));
    expect(pushToken('pbx2', 's3cret')).not.toBe(pushToken('pbx1', 's3cret'));
    expect(pushToken('pbx1', 'other')).not.toBe(pushToken('pbx1', 's3cret'));
    expect(reportPath('pbx1', 's3cret')).toBe(`/yeastar-s/pbx1/${pushToken('pbx1', 's3cret')}`);
    expect(reportPath('pbx1', 's3cret')).not.toContain('s3cret');
  });
});

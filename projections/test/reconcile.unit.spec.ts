import { describe, expect, it } from 'vitest';
import { parseQueueLogLine, type QueueLogLine } from '@callboard/ingest/import/queue-log';
import { reconcile, type CallboardAnswer, type CallboardLeg, type CallboardSide, type Day } from '../src/reconcile/compare.ts';
import { agentFigures, pbxRecords, queueFigures, type AgentFigures } from '../src/reconcile/figures.ts';

const lines = (text: string[]): QueueLogLine[] =>
  text.map((t, i) => {
    const r = parseQueueLogLine(Buffer.from(t), i + 1);
    if (r.kind !== 'line') throw new Error(r.reason);
    return r.line;
  });

// 2026-11-21, UTC. c1 answered after 20 s (within T = 20 as queue_log logs it), c2 abandoned,
// c3 exits on timeout, c4 still waiting when the log ends; agent 1002 paused 100 s, 30 of them
// on a call.
const LOG = [
  '1795305000|MANAGER|sales|Local/1001@agents|ADDMEMBER|',
  '1795305000|MANAGER|sales|Local/1002@agents|ADDMEMBER|',
  '1795305010|c1|sales|NONE|ENTERQUEUE||5551|1',
  '1795305015|c1|sales|Agent 1002|RINGNOANSWER|5000',
  '1795305030|c1|sales|Agent 1001|CONNECT|20|c1.2|4',
  '1795305090|c1|sales|Agent 1001|COMPLETECALLER|20|60|1',
  '1795305100|c2|sales|NONE|ENTERQUEUE||5552|1',
  '1795305104|c2|sales|NONE|ABANDON|1|1|4',
  '1795305110|c3|sales|NONE|ENTERQUEUE||5553|1',
  '1795305170|c3|sales|NONE|EXITWITHTIMEOUT|1|1|60',
  '1795305200|NONE|sales|Agent 1002|PAUSE|Lunch',
  '1795305210|c5|sales|NONE|ENTERQUEUE||5555|1',
  '1795305210|c5|sales|Agent 1002|CONNECT|0|c5.2|0',
  '1795305240|c5|sales|Agent 1002|COMPLETEAGENT|0|30|1',
  '1795305300|NONE|sales|Agent 1002|UNPAUSE|',
  '1795305400|c4|sales|NONE|ENTERQUEUE||5554|1',
];
const DAY: Day = { date: '2026-11-21', start: Date.parse('2026-11-21T00:00:00Z'), end: Date.parse('2026-11-22T00:00:00Z') };
const at = (s: number) => s * 1000;

describe('queue_log figures', () => {
  const r = pbxRecords(lines(LOG));

  it('counts legs by their outcome line, waits and talk as logged', () => {
    expect(queueFigures(r.legs, 20)).toEqual({ offered: 5, answered: 2, abandoned: 1, exited: 1, answered_within_sl: 2, asa: 10, talk: 90 });
    expect(queueFigures(r.legs, 19).answered_within_sl).toBe(1);
    expect(r.data_until).toBe(at(1795305400));
  });

  it('counts handled, ring-no-answer and pause wall time per agent', () => {
    expect(agentFigures(r, '1001', DAY.start, DAY.end)).toEqual({ handled: 1, missed: 0, pause_time_by_reason: {} });
    expect(agentFigures(r, '1002', DAY.start, DAY.end)).toEqual({ handled: 1, missed: 1, pause_time_by_reason: { Lunch: 100 } });
    // Clipped to the span.
    expect(agentFigures(r, '1002', at(1795305250), DAY.end).pause_time_by_reason).toEqual({ Lunch: 50 });
  });

  it('maps call ids (the CDR Linkedid) and knows whether a call went on after its leg', () => {
    const m = pbxRecords(lines(LOG), (c) => `L-${c}`);
    expect(m.legs.map((l) => l.call_id)).toEqual(['L-c1', 'L-c2', 'L-c3', 'L-c5', 'L-c4']);
    expect(m.legs.find((l) => l.callid === 'c4')).toMatchObject({ outcome: null, call_continues: false });
  });
});

/** Callboard's side as if it had folded the same log with millisecond times. */
function callboardOf(overrides: Partial<Record<string, Partial<CallboardLeg> | null>> = {}, pauseLunch = 70): CallboardSide {
  const base: Record<string, CallboardLeg> = {
    c1: {
      call_id: 'c1',
      leg_id: 'c1:sales',
      queue: 'sales',
      offered_at: at(1795305010) + 400,
      outcome: 'answered',
      wait_ms: 20_300,
      agent_id: '1001',
      answered_at: at(1795305030) + 700,
      connected_ms: 60_200,
    },
    c2: {
      call_id: 'c2',
      leg_id: 'c2:sales',
      queue: 'sales',
      offered_at: at(1795305100) + 10,
      outcome: 'abandoned',
      wait_ms: 4100,
      agent_id: '',
      answered_at: null,
      connected_ms: 0,
    },
    c3: {
      call_id: 'c3',
      leg_id: 'c3:sales',
      queue: 'sales',
      offered_at: at(1795305110) + 10,
      outcome: 'exited',
      wait_ms: 60_000,
      agent_id: '',
      answered_at: null,
      connected_ms: 0,
    },
    c5: {
      call_id: 'c5',
      leg_id: 'c5:sales',
      queue: 'sales',
      offered_at: at(1795305210) + 10,
      outcome: 'answered',
      wait_ms: 200,
      agent_id: '1002',
      answered_at: at(1795305210) + 210,
      connected_ms: 30_000,
    },
    c4: {
      call_id: 'c4',
      leg_id: 'c4:sales',
      queue: 'sales',
      offered_at: at(1795305400) + 10,
      outcome: 'waiting',
      wait_ms: 0,
      agent_id: '',
      answered_at: null,
      connected_ms: 0,
    },
  };
  const legs = Object.entries(base)
    .map(([k, l]) => (overrides[k] === null ? null : { ...l, ...overrides[k] }))
    .filter((l): l is CallboardLeg => l !== null);
  const answered = legs.filter((l) => l.outcome === 'answered');
  const within = answered.filter((l) => l.wait_ms <= 20_000).length;
  return {
    legs,
    answers: [],
    queues: new Map([
      [
        DAY.date,
        new Map([
          [
            'sales',
            {
              offered: legs.length,
              answered: answered.length,
              abandoned: legs.filter((l) => l.outcome === 'abandoned').length,
              exited: legs.filter((l) => l.outcome === 'exited').length,
              answered_within_sl: within,
              asa: answered.length ? answered.reduce((s, l) => s + l.wait_ms, 0) / 1000 / answered.length : null,
              talk: answered.reduce((s, l) => s + l.connected_ms, 0) / 1000,
            },
          ],
        ]),
      ],
    ]),
    agents: new Map([
      [
        DAY.date,
        new Map<string, AgentFigures>([
          ['1001', { handled: answered.filter((l) => l.agent_id === '1001').length, missed: 0, pause_time_by_reason: {} }],
          ['1002', { handled: answered.filter((l) => l.agent_id === '1002').length, missed: 1, pause_time_by_reason: { Lunch: pauseLunch } }],
        ]),
      ],
    ]),
  };
}

const run = (cb: CallboardSide) => reconcile({ days: [DAY], pbx: pbxRecords(lines(LOG)), cb, slThresholdS: () => 20 });
const classesOf = (r: ReturnType<typeof run>, metric: string) =>
  r.rows.find((x) => x.metric === metric)!.explanations.map((e) => [e.class, e.amount, e.id ?? '']);

describe('reconciliation', () => {
  it('classes a wait between T and T + 1 s as truncation, sub-second durations too, and a pause during a call', () => {
    const r = run(callboardOf());
    expect(r.unknown).toBe(0);
    expect(classesOf(r, 'answered_within_sl')).toEqual([['truncation', -1, 'call c1 in sales (queue_log line 3)']]);
    expect(classesOf(r, 'asa').map((e) => e[0])).toEqual(['truncation', 'truncation']);
    expect(classesOf(r, 'pause_time[Lunch]')).toEqual([['pause_during_call', -30, 'agent 1002 paused 2026-11-21T23:53:20.000Z']]);
    // c4 is waiting on both sides: offered agrees, nothing to explain.
    expect(classesOf(r, 'offered')).toEqual([]);
  });

  it('a pause on a call counted as wall time matches; the call overlap explains only a shortfall of exactly its size', () => {
    // Events with pause_reason count 1002's Lunch from PAUSE to UNPAUSE, 100 s, as queue_log.
    expect(classesOf(run(callboardOf({}, 100)), 'pause_time[Lunch]')).toEqual([]);
    expect(classesOf(run(callboardOf({}, 99.6)), 'pause_time[Lunch]').map((e) => e[0])).toEqual(['truncation']);
    // 50 s short is not the 30 s overlap: no old-history excuse, an error.
    expect(classesOf(run(callboardOf({}, 50)), 'pause_time[Lunch]')).toEqual([['unknown', -50, 'agent 1002']]);
  });

  it('names a leg missing from either side', () => {
    const r = run(callboardOf({ c2: null }));
    expect(classesOf(r, 'abandoned')).toEqual([['missing', -1, 'call c2 in sales (queue_log line 7)']]);
    const extra = callboardOf();
    extra.legs.push({
      call_id: 'c9',
      leg_id: 'c9:sales',
      queue: 'sales',
      offered_at: at(1795305500),
      outcome: 'abandoned',
      wait_ms: 1000,
      agent_id: '',
      answered_at: null,
      connected_ms: 0,
    });
    extra.queues.get(DAY.date)!.get('sales')!.abandoned += 1;
    expect(classesOf(run(extra), 'abandoned')).toEqual([['missing', 1, 'call c9 leg c9:sales']]);
  });

  it('classes a leg that has not finished where one side ends as in progress', () => {
    const r = run(callboardOf({ c3: { outcome: 'waiting', wait_ms: 0 } }));
    expect(classesOf(r, 'exited')).toEqual([['in_progress', -1, 'call c3 in sales (queue_log line 9)']]);
    expect(r.unknown).toBe(0);
  });

  it('makes an outcome that differs for no known reason an unknown difference naming the call', () => {
    const r = run(callboardOf({ c2: { outcome: 'answered', agent_id: '1001', answered_at: at(1795305104), wait_ms: 4000, connected_ms: 1000 } }));
    expect(r.unknown).toBeGreaterThan(0);
    expect(classesOf(r, 'abandoned')).toEqual([['unknown', -1, 'call c2 in sales (queue_log line 7)']]);
    expect(r.rows.find((x) => x.metric === 'abandoned')!.explanations[0]!.why).toBe('Callboard: answered by 1001; queue_log: abandoned');
  });

  it('reports a figure that no leg explains as unknown', () => {
    const cb = callboardOf();
    cb.queues.get(DAY.date)!.get('sales')!.exited = 3;
    expect(classesOf(run(cb), 'exited')).toEqual([['unknown', 2, '']]);
  });
});

// t1 is transferred attended by 1001 (queue_log does not name the target), t2 blind by 1001 to
// extension 1003, t3 completed by 1002 without a transfer. Asterisk logs no line for a target.
const TRANSFERS = [
  '1795305000|MANAGER|sales|Local/1001@agents|ADDMEMBER|',
  '1795305000|MANAGER|sales|Local/1002@agents|ADDMEMBER|',
  '1795305000|MANAGER|sales|Local/1003@agents|ADDMEMBER|',
  '1795305010|t1|sales|NONE|ENTERQUEUE||5551|1',
  '1795305012|t1|sales|Agent 1001|CONNECT|2|t1.2|2',
  '1795305030|t1|sales|Agent 1001|ATTENDEDTRANSFER|BRIDGE|b-1|2|18|1',
  '1795305100|t2|sales|NONE|ENTERQUEUE||5552|1',
  '1795305102|t2|sales|Agent 1001|CONNECT|2|t2.2|2',
  '1795305110|t2|sales|Agent 1001|BLINDTRANSFER|1003|agents|2|8|1',
  '1795305200|t3|sales|NONE|ENTERQUEUE||5553|1',
  '1795305202|t3|sales|Agent 1002|CONNECT|2|t3.2|2',
  '1795305230|t3|sales|Agent 1002|COMPLETEAGENT|2|28|1',
];

describe('reconciliation of transfer targets', () => {
  const pbx = pbxRecords(lines(TRANSFERS));
  const leg = (call: string, s: number, agent: string, talk: number): CallboardLeg => ({
    call_id: call,
    leg_id: `${call}:sales`,
    queue: 'sales',
    offered_at: at(s),
    outcome: 'answered',
    wait_ms: 2000,
    agent_id: agent,
    answered_at: at(s + 2),
    connected_ms: talk * 1000,
  });
  const legs = [leg('t1', 1795305010, '1001', 18), leg('t2', 1795305100, '1001', 8), leg('t3', 1795305200, '1002', 28)];
  /** Callboard's side with these answers outside a queue leg, each credited to `handled` (METRICS.md). */
  const side = (answers: CallboardAnswer[]): CallboardSide => {
    const handled = (agent: string) => legs.filter((l) => l.agent_id === agent).length + answers.filter((a) => a.agent_id === agent).length;
    return {
      legs,
      answers,
      queues: new Map([[DAY.date, new Map([['sales', queueFigures(pbx.legs, 20)]])]]),
      agents: new Map([
        [DAY.date, new Map<string, AgentFigures>(['1001', '1002', '1003'].map((a) => [a, { handled: handled(a), missed: 0, pause_time_by_reason: {} }]))],
      ]),
    };
  };
  const handledOf = (cb: CallboardSide, agent: string) =>
    reconcile({ days: [DAY], pbx, cb, slThresholdS: () => 20 })
      .rows.find((x) => x.scope === 'agent' && x.key === agent && x.metric === 'handled')!
      .explanations.map((e) => [e.class, e.amount, e.id ?? '']);

  it('reads the transfer lines with the transferring agent and, for a blind transfer, the extension', () => {
    expect(pbx.transfers).toEqual([
      { call_id: 't1', queue: 'sales', agent_id: '1001', kind: 'attended', target: null, at: at(1795305030), line: 6 },
      { call_id: 't2', queue: 'sales', agent_id: '1001', kind: 'blind', target: '1003', at: at(1795305110), line: 9 },
    ]);
  });

  it("classes the target's handled call as transfer_target, naming the call and the transfer line", () => {
    const cb = side([
      { call_id: 't1', agent_id: '1002', at: at(1795305025) },
      { call_id: 't2', agent_id: '1003', at: at(1795305111) },
    ]);
    const r = reconcile({ days: [DAY], pbx, cb, slThresholdS: () => 20 });
    expect(r.unknown).toBe(0);
    expect(r.byClass.transfer_target).toBe(2);
    expect(handledOf(cb, '1002')).toEqual([['transfer_target', 1, 'call t1 (queue_log line 6 ATTENDEDTRANSFER by 1001 in sales)']]);
    expect(handledOf(cb, '1003')).toEqual([['transfer_target', 1, 'call t2 (queue_log line 9 BLINDTRANSFER by 1001 in sales)']]);
  });

  it('keeps an answer outside a queue unknown without a transfer line for it: another call, another blind target, a second target', () => {
    const cb = side([
      { call_id: 't1', agent_id: '1002', at: at(1795305025) },
      // One attended transfer line, two targets: only the first is explained.
      { call_id: 't1', agent_id: '1003', at: at(1795305040) },
      // Blind to 1003, not to 1002.
      { call_id: 't2', agent_id: '1002', at: at(1795305111) },
      // t3 was never transferred.
      { call_id: 't3', agent_id: '1003', at: at(1795305231) },
    ]);
    expect(handledOf(cb, '1002')).toEqual([
      ['transfer_target', 1, 'call t1 (queue_log line 6 ATTENDEDTRANSFER by 1001 in sales)'],
      ['unknown', 1, 'call t2'],
    ]);
    expect(handledOf(cb, '1003')).toEqual([
      ['unknown', 1, 'call t1'],
      ['unknown', 1, 'call t3'],
    ]);
  });
});

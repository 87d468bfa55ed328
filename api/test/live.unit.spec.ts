// Given/when/then specs of the live-state fold (api/src/live.ts).
import { describe, expect, it } from 'vitest';
import { DEFAULT_QUEUE_SETTINGS, type QueueSettings, type ScheduleConfig } from '@callboard/platform';
import type { CanonicalEvent } from '@callboard/schemas';
import { openAtFrom } from '../src/boards.ts';
import { LiveStore, type LiveSnapshot } from '../src/live.ts';
import { ev, queueCall } from './events.ts';

const zones: Record<string, string> = { acme: 'Africa/Nairobi', beta: 'America/New_York' };
function store(settings: Partial<QueueSettings> = {}) {
  return new LiveStore({
    zoneOf: (t) => zones[t] ?? 'UTC',
    settingsOf: () => ({ ...DEFAULT_QUEUE_SETTINGS, ...settings }),
    formulaOf: () => DEFAULT_QUEUE_SETTINGS.sl_formula,
  });
}

/** given these events (folded at their own time) … when `now` … then the snapshot */
function given(events: CanonicalEvent[], settings?: Partial<QueueSettings>) {
  const s = store(settings);
  for (const e of events) s.apply(e, Date.parse(e.occurred_at));
  return {
    store: s,
    when: (...more: CanonicalEvent[]) => {
      for (const e of more) s.apply(e, Date.parse(e.occurred_at));
      return { then: (tenant: string, nowIso: string, queues?: string[]): LiveSnapshot => s.snapshot(tenant, Date.parse(nowIso), queues) };
    },
  };
}

// 09:00 Nairobi = 06:00Z
const AT = '2026-03-10T06:00:00.000Z';

describe('live fold: waiting calls', () => {
  it('a queued call is waiting with its wait start; max_wait is the longest current wait', () => {
    const snap = given([]).when(...queueCall({ call: 'c1', queue: 'sales', at: AT, waitS: 0, outcome: 'waiting' }), ...queueCall({ call: 'c2', queue: 'sales', at: '2026-03-10T06:00:30.000Z', waitS: 0, outcome: 'waiting' })).then('acme', '2026-03-10T06:01:00.000Z');
    expect(snap.waiting_calls.map((w) => [w.call_id, w.wait_start])).toEqual([
      ['c1', AT],
      ['c2', '2026-03-10T06:00:30.000Z'],
    ]);
    expect(snap.queues[0]).toMatchObject({ queue: 'sales', waiting: 2, max_wait: 60 });
    expect(snap.today).toMatchObject({ offered: 2, waiting: 2, max_wait: 60, service_level: null, abandon_rate: null });
  });

  it('answering, abandoning or leaving takes the call out of waiting', () => {
    const snap = given([])
      .when(
        ...queueCall({ call: 'a', queue: 'sales', at: AT, waitS: 10, outcome: 'answered' }),
        ...queueCall({ call: 'b', queue: 'sales', at: AT, waitS: 30, outcome: 'abandoned' }),
        ...queueCall({ call: 'c', queue: 'sales', at: AT, waitS: 300, outcome: 'exited' }),
      )
      .then('acme', '2026-03-10T07:00:00.000Z');
    expect(snap.waiting_calls).toEqual([]);
    expect(snap.today).toMatchObject({ offered: 3, answered: 1, abandoned: 1, exited: 1, waiting: 0 });
  });
});

describe('live fold: today KPIs (METRICS.md)', () => {
  const day = [
    ...queueCall({ call: 'a1', queue: 'sales', at: AT, waitS: 10, outcome: 'answered', talkS: 100, holdS: 20 }),
    ...queueCall({ call: 'a2', queue: 'sales', at: AT, waitS: 30, outcome: 'answered', talkS: 200 }),
    ...queueCall({ call: 'b1', queue: 'sales', at: AT, waitS: 3, outcome: 'abandoned' }), // short abandon
    ...queueCall({ call: 'b2', queue: 'sales', at: AT, waitS: 40, outcome: 'abandoned' }),
    ...queueCall({ call: 'x1', queue: 'sales', at: AT, waitS: 300, outcome: 'exited' }),
  ];

  it('counts, service level, abandon rate, asa, aht and the invariant', () => {
    const q = given(day).when().then('acme', '2026-03-10T08:00:00.000Z').today;
    expect(q).toMatchObject({ offered: 5, answered: 2, abandoned: 2, short_abandoned: 1, exited: 1, waiting: 0, answered_within_sl: 1, abandoned_within_sl: 1 });
    expect(q.offered).toBe(q.answered + q.abandoned + q.exited + q.waiting);
    // answered_within_sl / (offered − short_abandoned − waiting) = 1 / 4
    expect(q.service_level).toBe(0.25);
    // (abandoned − short_abandoned) / (offered − short_abandoned − waiting) = 1 / 4
    expect(q.abandon_rate).toBe(0.25);
    expect(q.asa).toBe(20);
    expect(q.avg_abandon_wait).toBe(21.5);
    // live max_wait is the longest CURRENT wait: nobody waits now
    expect(q.max_wait).toBeNull();
    // talk = connected − hold
    expect(q.talk_time).toBe(280);
    expect(q.hold_time).toBe(20);
    expect(q.aht).toBe(150);
    expect(q.wait_p50).toBe(10);
    expect(q.wait_p99).toBe(30);
  });

  it('counts hold reported as call.held / call.resumed, as the projections do (METRICS.md hold_time; it used to be talk)', () => {
    const c = { call_id: 'h1' };
    const leg = 'h1:sales:1';
    const at = (s: number) => new Date(Date.parse(AT) + s * 1000).toISOString();
    const q = given([
      ev('call.queued', AT, c, { queue: 'sales', leg_id: leg, position: 1 }),
      ev('call.answered', at(5), c, { agent_id: '1001', queue: 'sales', leg_id: leg, wait_ms: 5000 }),
      ev('call.held', at(10), c, { agent_id: '1001', leg_id: leg }),
      ev('call.resumed', at(25), c, { agent_id: '1001', leg_id: leg }),
      ev('call.held', at(40), c, { agent_id: '1001', leg_id: leg }),
      // completed while still on hold: the open hold runs to the completion
      ev('call.agent_completed', at(45), c, { agent_id: '1001', queue: 'sales', leg_id: leg, reason: 'caller', talk_ms: 40_000, wrap_ms: 0 }),
    ])
      .when()
      .then('acme', '2026-03-10T08:00:00.000Z').today;
    expect(q).toMatchObject({ talk_time: 20, hold_time: 20 });
  });

  it('an agent completing by transfer makes the leg transferred once, with or without call.transferred (as the projections count it)', () => {
    const c = { call_id: 't1' };
    const leg = 't1:sales:1';
    const q = given([
      ev('call.queued', AT, c, { queue: 'sales', leg_id: leg, position: 1 }),
      ev('call.answered', AT, c, { agent_id: '1001', queue: 'sales', leg_id: leg, wait_ms: 0 }),
      ev('call.agent_completed', AT, c, { agent_id: '1001', queue: 'sales', leg_id: leg, reason: 'transfer', talk_ms: 1000 }),
    ])
      .when()
      .then('acme', '2026-03-10T08:00:00.000Z').today;
    expect(q.transferred).toBe(1);
  });

  it('a call ended by the resync after a gap still counts the exit and the completion that come after its end, as the projections do (issue #13: offered 18, outcomes 17)', () => {
    const w = { call_id: 'g1' };
    const a = { call_id: 'g2' };
    const gapStart = '2026-03-10T06:00:20.000Z';
    const ended = (c: { call_id: string }) => ev('call.ended', gapStart, c, { disposition: 'ANSWERED', raw_disposition: 'ANSWERED', duration_ms: 20_000, billsec_ms: 10_000, ended_in: 'gap' });
    const snap = given([
      ev('call.queued', AT, w, { queue: 'sales', leg_id: 'g1:sales:1', position: 1 }),
      ev('call.queued', AT, a, { queue: 'sales', leg_id: 'g2:sales:1', position: 2 }),
      ev('call.answered', '2026-03-10T06:00:10.000Z', a, { agent_id: '1001', queue: 'sales', leg_id: 'g2:sales:1', wait_ms: 10_000 }),
    ])
      .when(
        ended(w),
        ended(a),
        // delivered after the call.ended, timed at the start of the gap
        ev('call.left_queue', gapStart, w, { queue: 'sales', leg_id: 'g1:sales:1', reason: 'other', wait_ms: 20_000 }),
        ev('call.agent_completed', gapStart, a, { agent_id: '1001', queue: 'sales', leg_id: 'g2:sales:1', reason: 'caller', talk_ms: 10_000 }),
        // redelivered: counted once
        ev('call.left_queue', gapStart, w, { queue: 'sales', leg_id: 'g1:sales:1', reason: 'other', wait_ms: 20_000 }),
      )
      .then('acme', '2026-03-10T06:05:00.000Z');
    expect(snap.waiting_calls).toEqual([]);
    expect(snap.today).toMatchObject({ offered: 2, answered: 1, exited: 1, waiting: 0, talk_time: 10 });
  });

  it('wait percentiles at 0.1 s from the same sketch as the projections: a single 2.004 s wait is p50 2.004 s, not 3 s', () => {
    const snap = given(queueCall({ call: 'p1', queue: 'sales', at: AT, waitS: 2.004, outcome: 'answered' })).when().then('acme', '2026-03-10T07:00:00.000Z');
    expect(snap.today.wait_p50).toBeCloseTo(2.004, 3);
    expect(snap.today.wait_p99).toBeLessThanOrEqual(2.004);
  });

  it('a Local-channel duplicate of a queue entry is one leg, whichever leg id later events use (METRICS.md; it used to count twice and wait forever)', () => {
    const c = { call_id: 'l1' };
    const q = given([
      ev('call.queued', AT, c, { queue: 'sales', leg_id: 'l1:sales:1', position: 1 }),
      ev('call.queued', '2026-03-10T06:00:00.005Z', c, { queue: 'sales', leg_id: 'l1;2:sales:1', position: 1 }),
      ev('call.abandoned', '2026-03-10T06:00:30.000Z', c, { queue: 'sales', leg_id: 'l1;2:sales:1', wait_ms: 30_000, position: 1 }),
    ])
      .when()
      .then('acme', '2026-03-10T08:00:00.000Z');
    expect(q.today).toMatchObject({ offered: 1, abandoned: 1, waiting: 0 });
    expect(q.waiting_calls).toEqual([]);
  });

  it('uses the queue sl_formula variant', () => {
    const q = given(day, { sl_formula: 'within_T_over_answered_and_abandoned' }).when().then('acme', '2026-03-10T08:00:00.000Z').queues[0]!.today;
    // (answered_within_sl + abandoned_within_sl) / (answered + abandoned) = 2 / 4
    expect(q.service_level).toBe(0.5);
  });

  it('a total over queues of one sl_formula uses it, as the history\'s rows do; queues that mix fall back to the tenant\'s', () => {
    // Every queue on the variant: the tenant row (and a tile over them) is that queue's figure.
    const one = given(day, { sl_formula: 'within_T_over_answered_and_abandoned' }).when().then('acme', '2026-03-10T08:00:00.000Z');
    expect(one.today.service_level).toBe(one.queues[0]!.today.service_level);
    expect(one.today.service_level).toBe(0.5);
    // sales on the variant, support on the default: the total is the METRICS.md default.
    const mixed = new LiveStore({ zoneOf: () => 'Africa/Nairobi', settingsOf: (_t, q) => ({ ...DEFAULT_QUEUE_SETTINGS, ...(q === 'sales' ? { sl_formula: 'within_T_over_answered_and_abandoned' as const } : {}) }), formulaOf: () => DEFAULT_QUEUE_SETTINGS.sl_formula });
    for (const e of [...day, ...queueCall({ call: 'p1', queue: 'support', at: AT, waitS: 5, outcome: 'answered' })]) mixed.apply(e, Date.parse(e.occurred_at));
    const snap = mixed.snapshot('acme', Date.parse('2026-03-10T08:00:00.000Z'));
    const c = snap.today;
    expect(c.service_level).toBe(c.answered_within_sl / (c.offered - c.short_abandoned - c.waiting));
  });

  it('redelivered events do not count twice', () => {
    const g = given(day);
    const snap = g.when(...day).then('acme', '2026-03-10T08:00:00.000Z');
    expect(snap.today).toMatchObject({ offered: 5, answered: 2, abandoned: 2, exited: 1 });
    expect(snap.today.talk_time).toBe(280);
  });

  it('today is the local day of the tenant: counters restart at local midnight, a leg offered yesterday is not counted today', () => {
    // 23:59 Nairobi on the 10th = 20:59Z; answered at 00:01 local on the 11th
    const g = given(queueCall({ call: 'late', queue: 'sales', at: '2026-03-10T20:59:00.000Z', waitS: 120, outcome: 'answered' }).slice(0, 2));
    const before = g.when().then('acme', '2026-03-10T20:59:30.000Z');
    expect(before.today_date).toBe('2026-03-10');
    expect(before.today.offered).toBe(1);
    const after = g.when(...queueCall({ call: 'late', queue: 'sales', at: '2026-03-10T20:59:00.000Z', waitS: 120, outcome: 'answered' }).slice(2)).then('acme', '2026-03-10T21:05:00.000Z');
    expect(after.today_date).toBe('2026-03-11');
    expect(after.today).toMatchObject({ offered: 0, answered: 0 });
  });

  it('a leg still waiting across midnight stays in waiting but not in today\'s offered', () => {
    const g = given(queueCall({ call: 'w', queue: 'sales', at: '2026-03-10T20:59:00.000Z', waitS: 0, outcome: 'waiting' }));
    const snap = g.when().then('acme', '2026-03-10T21:01:00.000Z');
    expect(snap.queues[0]).toMatchObject({ waiting: 1, max_wait: 120 });
    expect(snap.today).toMatchObject({ offered: 0, waiting: 0 });
  });
});

describe('live fold: business hours (METRICS.md: ratios count in-hours legs, `closed` the rest)', () => {
  // acme (Nairobi) opens its queues 09:00–17:00 every day; `support` keeps every leg in its
  // ratios (ratio_hours: all). The schedule is read by the API's own openAtFrom, as in main.ts.
  const nineToFive = [{ from: 9 * 60, to: 17 * 60 }];
  const office: ScheduleConfig = { tenant: 'acme', name: 'office', weekly: Array.from({ length: 7 }, () => nineToFive), holidays: [], exceptions: [] };
  const cfg = { tenants: [{ id: 'acme', timezone: 'Africa/Nairobi', schedule: 'office' }], schedules: [office], queues: [] } as unknown as Parameters<typeof openAtFrom>[0];
  const ratioHours = (q: string): QueueSettings => ({ ...DEFAULT_QUEUE_SETTINGS, ratio_hours: q === 'support' ? 'all' : 'open' });
  const withHours = () => new LiveStore({ zoneOf: (t) => zones[t] ?? 'UTC', settingsOf: (_t, q) => ratioHours(q), formulaOf: () => DEFAULT_QUEUE_SETTINGS.sl_formula, openAt: openAtFrom(cfg) });
  // 08:50 local (closed): an abandon after 40 s and a call answered after 50 s, both outside the
  // SL threshold. 09:00 local (open): one answered in 5 s. 09:30: one still waiting.
  const before = '2026-03-10T05:50:00.000Z';
  const day = (queue: string) => [
    ...queueCall({ call: `${queue}-early-ab`, queue, at: before, waitS: 40, outcome: 'abandoned' }),
    ...queueCall({ call: `${queue}-early-an`, queue, at: before, waitS: 50, outcome: 'answered' }),
    ...queueCall({ call: `${queue}-open-an`, queue, at: AT, waitS: 5, outcome: 'answered' }),
    ...queueCall({ call: `${queue}-open-wait`, queue, at: '2026-03-10T06:30:00.000Z', waitS: 0, outcome: 'waiting' }),
  ];
  const snapOf = (events: CanonicalEvent[]) => {
    const s = withHours();
    for (const e of events) s.apply(e, Date.parse(e.occurred_at));
    return s.snapshot('acme', Date.parse('2026-03-10T06:31:00.000Z'));
  };

  it('counts every leg, and takes service_level, abandon_rate and asa over the legs offered in hours', () => {
    const snap = snapOf(day('sales'));
    // Counts over all four legs; 2 offered while closed.
    expect(snap.today).toMatchObject({ offered: 4, answered: 2, abandoned: 1, waiting: 1, closed: 2 });
    // In hours: one answered in 5 s and one waiting: SL 1 / (2 − 0 − 1), no abandon, asa 5 s.
    expect(snap.today).toMatchObject({ service_level: 1, abandon_rate: 0, asa: 5 });
    expect(snap.queues[0]!.today).toMatchObject({ offered: 4, closed: 2, service_level: 1, abandon_rate: 0, asa: 5 });
  });

  it('keeps every leg in the ratios of a queue whose ratio_hours is `all`, and sums queues as the history does', () => {
    const snap = snapOf([...day('sales'), ...day('support')]);
    const support = snap.queues.find((q) => q.queue === 'support')!;
    // All four legs: 1 of 3 decided legs within SL, 1 abandon of 3, asa (50 + 5) / 2.
    expect(support.today).toMatchObject({ offered: 4, closed: 2, service_level: 1 / 3, abandon_rate: 1 / 3, asa: 27.5 });
    // Tenant row: sales' in-hours legs plus all of support's.
    expect(snap.today).toMatchObject({ offered: 8, closed: 4, service_level: 2 / 4, abandon_rate: 1 / 4, asa: 60 / 3 });
  });

  it('a day with every leg out of hours has counts and no ratios (null, never 0), as the history says for it', () => {
    const snap = snapOf(queueCall({ call: 'night', queue: 'sales', at: '2026-03-09T21:00:00.000Z', waitS: 30, outcome: 'abandoned' }));
    expect(snap.today).toMatchObject({ offered: 1, abandoned: 1, closed: 1, service_level: null, abandon_rate: null, asa: null });
  });

  it('without a schedule every leg is in hours: closed 0 and the ratios over all legs', () => {
    const snap = given(day('sales')).when().then('acme', '2026-03-10T06:31:00.000Z');
    expect(snap.today).toMatchObject({ offered: 4, closed: 0, service_level: 1 / 3, abandon_rate: 1 / 3, asa: 27.5 });
  });
});

describe('live fold: agents', () => {
  it('tracks state, reason, state start and queue membership; older state changes are ignored', () => {
    const a = { agent_id: '1001' };
    const snap = given([
      ev('agent.queue_joined', '2026-03-10T05:00:00.000Z', a, { queue: 'sales', agent_name: 'Amina' }),
      ev('agent.state_changed', '2026-03-10T05:00:00.000Z', a, { state: 'available' }),
      ev('agent.state_changed', '2026-03-10T06:00:00.000Z', a, { state: 'paused', reason: 'Lunch' }),
    ])
      .when(ev('agent.state_changed', '2026-03-10T05:30:00.000Z', a, { state: 'on_call' }))
      .then('acme', '2026-03-10T06:05:00.000Z');
    expect(snap.agents).toEqual([{ agent_id: '1001', agent_name: 'Amina', state: 'paused', reason: 'Lunch', state_start: '2026-03-10T06:00:00.000Z', queues: ['sales'], call_id: null, pause_reason: 'Lunch', pause_start: '2026-03-10T06:00:00.000Z', pbx_id: 'acme-pbx', handled_today: 0 }]);
  });

  // i_membership_midcall (real Asterisk 22): 1002 is paused ("Coaching") 8 s into a call, the call
  // ends 12.5 s later and the pause runs 2.5 s more.
  it('a pause taken on a call: still on_call with its state clock running, the pause shown from its start to the unpause', () => {
    const a = { agent_id: '1002' };
    const g = given([
      ev('agent.state_changed', '2026-12-04T19:59:06.103Z', a, { state: 'on_call', call_id: 'i2' }),
      ev('agent.state_changed', '2026-12-04T19:59:14.105Z', a, { state: 'on_call', call_id: 'i2', pause_reason: 'Coaching' }),
    ]);
    const onCall = g.when().then('acme', '2026-12-04T19:59:20.000Z').agents[0];
    expect(onCall).toMatchObject({ state: 'on_call', state_start: '2026-12-04T19:59:06.103Z', call_id: 'i2', reason: null, pause_reason: 'Coaching', pause_start: '2026-12-04T19:59:14.105Z' });
    const paused = g.when(ev('agent.state_changed', '2026-12-04T19:59:26.620Z', a, { state: 'paused', reason: 'Coaching', pause_reason: 'Coaching' })).then('acme', '2026-12-04T19:59:27.000Z').agents[0];
    expect(paused).toMatchObject({ state: 'paused', state_start: '2026-12-04T19:59:26.620Z', pause_reason: 'Coaching', pause_start: '2026-12-04T19:59:14.105Z' });
    const free = g.when(ev('agent.state_changed', '2026-12-04T19:59:29.105Z', a, { state: 'available' })).then('acme', '2026-12-04T19:59:30.000Z').agents[0];
    expect(free).toMatchObject({ state: 'available', pause_reason: null, pause_start: null, call_id: null });
  });

  it('a state change reports the agent for the agentStates subscription', () => {
    const s = store();
    const c = s.apply(ev('agent.state_changed', AT, { agent_id: '7' }, { state: 'on_call', call_id: 'c9' }), Date.parse(AT));
    expect(c).toMatchObject({ kind: 'agent', tenant_id: 'acme', agent: { agent_id: '7', state: 'on_call', call_id: 'c9' } });
  });
});

describe('live fold: tenants and queue filters', () => {
  it('keeps tenants apart and limits a snapshot to the asked queues', () => {
    const g = given([
      ...queueCall({ call: 'a', queue: 'sales', at: AT, waitS: 0, outcome: 'waiting' }),
      ...queueCall({ call: 'b', queue: 'support', at: AT, waitS: 0, outcome: 'waiting' }),
      ...queueCall({ tenant: 'beta', call: 'z', queue: 'sales', at: AT, waitS: 0, outcome: 'waiting' }),
    ]);
    const acme = g.when().then('acme', '2026-03-10T06:00:10.000Z', ['sales']);
    expect(acme.waiting_calls.map((w) => w.call_id)).toEqual(['a']);
    expect(acme.today.offered).toBe(1);
    const beta = g.when().then('beta', '2026-03-10T06:00:10.000Z');
    expect(beta.waiting_calls.map((w) => w.call_id)).toEqual(['z']);
  });
});

describe('live fold: properties', () => {
  it('offered = answered + abandoned + exited + waiting, whatever the calls and however often events are redelivered', async () => {
    const fc = await import('fast-check');
    const outcome = fc.constantFrom('answered', 'abandoned', 'exited', 'waiting') as import('fast-check').Arbitrary<'answered' | 'abandoned' | 'exited' | 'waiting'>;
    const call = fc.record({ queue: fc.constantFrom('sales', 'support'), offsetS: fc.integer({ min: 0, max: 3600 }), waitS: fc.integer({ min: 0, max: 600 }), outcome, dup: fc.boolean() });
    fc.assert(
      fc.property(fc.array(call, { maxLength: 40 }), (calls) => {
        const s = store();
        const base = Date.parse(AT);
        const events = calls.flatMap((c, i) => {
          const evs = queueCall({ call: `p${i}`, queue: c.queue, at: new Date(base + c.offsetS * 1000).toISOString(), waitS: c.waitS, outcome: c.outcome });
          return c.dup ? [...evs, ...evs] : evs;
        });
        for (const e of events) s.apply(e, base + 7200_000);
        const snap = s.snapshot('acme', base + 7200_000);
        const q = snap.today;
        expect(q.offered).toBe(calls.length);
        expect(q.offered).toBe(q.answered + q.abandoned + q.exited + q.waiting);
        expect(q.waiting).toBe(calls.filter((c) => c.outcome === 'waiting').length);
        expect(snap.waiting_calls).toHaveLength(q.waiting);
      }),
      { numRuns: 200 },
    );
  });
});

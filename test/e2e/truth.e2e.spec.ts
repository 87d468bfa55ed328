// The end-to-end truth test: seeded simulated days (crossing local midnight; Africa/Nairobi and
// America/New_York on its spring-forward day) go through the real pipeline — simulator → AMI
// over TCP → ingest adapter → Kafka → projections → ClickHouse — and every METRICS.md figure
// for day, week and month, per queue, per agent and for the tenant's calls, must equal the figure
// computed independently from the simulator's ledger (ledger-metrics.ts). Counts exactly;
// sums, means and ratios to 1e-6 (the same millisecond data summed in another order); wait
// percentiles within the projections' documented bound (at most 1 s above nearest-rank).
// sales rings all its members at once (ring-all races, losers' Cdr after their Hangup) and the
// PBX does a `core restart now` mid-morning with calls talking and waiting: the adapter
// reconnects and resyncs, and the figures must still equal the ledger across the restart.
// Later the PBX crashes (`kill -9`: no event, the connection drops) with calls talking and
// waiting; the resync finds them gone, and Callboard must end them where the ledger does, at the
// gap's start with their wait and talk up to it, flagged `ended_in: 'gap'` (METRICS.md "Gaps of
// the feed").
// Read through the projections' query functions: the API path is covered by its own tests.
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, queueSettings, tenantHours, type CallboardConfig, type ClickHouse } from '@callboard/platform';
import { startAmiSimulator, type RunningSimulator } from '@callboard/simulator/run';
import { callCentreScenario, dayWindow, DEFAULT_BEHAVIOUR } from '@callboard/simulator/scenarios';
import { RESTART_DOWN_MS } from '@callboard/simulator/model';
import { agentMetrics, callLegs, callMetrics, callTimeline, feedGaps, getCall, queueMetrics } from '@callboard/projections/read';
import { startStack, type Stack } from '../../cli/stack.ts';
import { eventually, testConfig } from '../helpers.ts';
import { logFolded } from './log-folded.ts';
import {
  agentMetricsFromLedger,
  callMetricsFromLedger,
  inHoursOf,
  openFractionFromSchedule,
  queueHoursFromLedger,
  queueMetricsFromLedger,
  type ScheduleFile,
  type Span,
} from './ledger-metrics.ts';

const DATE = '2026-03-08';
const TENANTS = [
  { id: 'acme', timezone: 'Africa/Nairobi', pbx: 'acme-ami', seed: 21 },
  // 2026-03-08 is the day New York springs forward: a 23-hour local day.
  { id: 'nyc', timezone: 'America/New_York', pbx: 'nyc-ami', seed: 22 },
];
const PERIODS = ['DAY', 'WEEK', 'MONTH'] as const;

/**
 * Business hours (METRICS.md "Business hours") as the config file writes them. The simulated
 * window is Saturday 22:00 to Monday 02:00 local around Sunday 2026-03-08. acme's edges all fall
 * on quarter hours (queries read the rollup); nyc's Monday exception opens at 00:10 (queries read
 * the legs), its Sunday opens 01:30-02:30 across the spring-forward (30 minutes on the clock), and
 * its `sales` has a schedule of its own.
 */
const SCHEDULES: Record<string, Record<string, ScheduleFile>> = {
  acme: {
    office: {
      // A lunch break on the day; Monday would be open from midnight but is a holiday.
      weekly: { sat: ['22:00-23:00'], sun: ['08:00-12:30', '13:30-17:00'], mon: ['00:00-12:00', '13:00-24:00'] },
      holidays: [{ date: '2026-03-09', name: 'Truth holiday' }],
      exceptions: [{ date: '2026-03-07', hours: ['22:30-23:45'] }],
    },
  },
  nyc: {
    'front-desk': {
      weekly: { sat: ['20:00-24:00'], sun: ['01:30-02:30', '08:00-12:30', '13:30-17:00'] },
      holidays: [{ date: '2026-03-07', name: 'Truth holiday' }],
      exceptions: [{ date: '2026-03-09', hours: ['00:10-01:05'] }],
    },
    'sales-late': { weekly: { sun: ['10:00-20:00'] } },
  },
};
/** Each tenant's default schedule, and the queues that name their own. */
const DEFAULT_SCHEDULE: Record<string, string> = { acme: 'office', nyc: 'front-desk' };
const QUEUE_SCHEDULE: Record<string, string> = { 'nyc/sales': 'sales-late' };
/** acme's support keeps all its legs in service_level, abandon_rate and asa (ratio_hours: all). */
const RATIO_HOURS_ALL = new Set(['acme/support']);
const scheduleOf = (tenant: string, queue: string) => SCHEDULES[tenant]![QUEUE_SCHEDULE[`${tenant}/${queue}`] ?? DEFAULT_SCHEDULE[tenant]!]!;

/** Local time of the day's `core restart now` (busy: calls talking and waiting). */
const RESTART_LOCAL = '10:30';
/**
 * Local time of the crash: in both days 3 or more calls talking and callers waiting, nobody
 * ringing and nobody in wrap-up then (see simulator/test/simulator-crash-known-gaps.unit.spec.ts
 * for what the translator still gets wrong at such moments).
 */
const CRASH_LOCAL = '11:15';

function span(kind: (typeof PERIODS)[number], date: string, tz: string): Span {
  const d = DateTime.fromISO(date, { zone: tz });
  const unit = kind === 'DAY' ? 'day' : kind === 'WEEK' ? 'week' : 'month'; // luxon weeks start on Monday
  return { start: d.startOf(unit).toMillis(), end: d.startOf(unit).plus({ [`${unit}s`]: 1 }).toMillis() };
}

const log = createLogger('truth', process.env.LOG_LEVEL ?? 'warn');
let cfg: CallboardConfig;
let ch: ClickHouse;
let stack: Stack;
const sims = new Map<string, RunningSimulator>();

beforeAll(async () => {
  cfg = testConfig({
    tenants: TENANTS.map((t) => ({ id: t.id, timezone: t.timezone, week_start: 'monday', schedule: DEFAULT_SCHEDULE[t.id] })),
    queues: TENANTS.flatMap((t) =>
      [
        { tenant: t.id, queue: 'sales', wrap_up_s: 10 },
        { tenant: t.id, queue: 'support', wrap_up_s: 0 },
      ].map((q) => ({
        ...q,
        ...(QUEUE_SCHEDULE[`${t.id}/${q.queue}`] ? { schedule: QUEUE_SCHEDULE[`${t.id}/${q.queue}`] } : {}),
        ...(RATIO_HOURS_ALL.has(`${t.id}/${q.queue}`) ? { ratio_hours: 'all' } : {}),
      })),
    ),
    schedules: Object.entries(SCHEDULES).flatMap(([tenant, named]) => Object.entries(named).map(([name, sc]) => ({ tenant, name, ...sc }))),
    pbxes: TENANTS.map((t) => ({ id: t.pbx, tenant: t.id, kind: 'ami', username: 'truth', secret_env: `TRUTH_${t.id.toUpperCase()}_SECRET` })),
  });
  const simulators = async () => {
    const running = [];
    for (const t of TENANTS) {
      const secret = `truth-${t.id}-${process.pid}`;
      process.env[`TRUTH_${t.id.toUpperCase()}_SECRET`] = secret;
      const base = callCentreScenario({ tenant: t.id, pbx: t.pbx, timezone: t.timezone, seed: t.seed, logout_at_end: true, ...dayWindow(DATE, t.timezone, 2, 2) });
      const scenario = {
        ...base,
        // The sequences real Asterisk 22 showed (../shared/fixtures/ami/asterisk22 a, h, i, j):
        // ring-all races in sales, members removed and re-added mid-call, pauses taken on a call,
        // Atxfer transfers (default mix), a third of them cancelled because the target never
        // answers, and a `core restart now`.
        queues: base.queues.map((q) => (q.queue === 'sales' ? { ...q, strategy: 'ringall' as const } : q)),
        restarts: [{ at_ms: DateTime.fromISO(`${DATE}T${RESTART_LOCAL}`, { zone: t.timezone }).toMillis() }],
        crashes: [{ at_ms: DateTime.fromISO(`${DATE}T${CRASH_LOCAL}`, { zone: t.timezone }).toMillis(), down_ms: RESTART_DOWN_MS }],
        behaviour: { ...DEFAULT_BEHAVIOUR, midcall_membership_p: 0.05, midcall_pause_p: 0.05, consult_cancel_p: 0.33 },
      };
      // Sped up: the whole day as fast as the adapter takes it, paced so no burst overwhelms it.
      const sim = await startAmiSimulator({ scenario, speed: Infinity, catchUpRate: 300, port: 0, username: 'truth', secret, log });
      sims.set(t.id, sim);
      running.push({ pbx: t.pbx, at: { host: '127.0.0.1', port: sim.port }, stop: () => sim.stop() });
    }
    return running;
  };
  stack = await startStack(cfg, { simulators, kafkaTopics: true, clickhouse: true, projections: true, ingest: true }, { log });
  ch = stack.ch!;
  await Promise.all([...sims.values()].map((s) => s.done));

  // Caught up when every leg and call of the ledger is projected with an outcome, the
  // projections have folded the whole log, and the agents' state time has stopped moving.
  for (const t of TENANTS) {
    const l = sims.get(t.id)!.ledger;
    const month = { tenant_id: t.id, timezone: t.timezone, week_start: 'monday' as const, period: { kind: 'MONTH' as const, date: DATE }, settings: (q: string) => queueSettings(cfg, t.id, q) };
    let lastAgents = '';
    const folded = logFolded(cfg);
    await eventually(
      async () => {
        const [q] = await queueMetrics(ch, { ...month, group_by: 'none' });
        const [c] = await callMetrics(ch, { ...month, group_by: 'none' });
        if (!q || q.offered !== l.legs.length || q.waiting !== 0 || !c || c.calls !== l.calls.length) return undefined;
        const a = JSON.stringify(await agentMetrics(ch, { ...month, group_by: 'agent' }));
        if (!(await folded()) || a !== lastAgents) {
          lastAgents = a;
          return undefined;
        }
        return true;
      },
      240_000,
      `projections of tenant ${t.id} to catch up with ${l.legs.length} legs and ${l.calls.length} calls`,
    );
  }
}, 420_000);

afterAll(async () => {
  await stack?.stop();
});

type Diff = string[];
function cmp(diffs: Diff, where: string, field: string, got: unknown, want: unknown, kind: 'count' | 'real' | 'percentile'): void {
  if (want === null || got === null || got === undefined) {
    if (!(want === null && (got === null || got === undefined))) diffs.push(`${where} ${field}: got ${String(got)}, want ${String(want)}`);
    return;
  }
  const g = Number(got);
  const w = Number(want);
  const ok = kind === 'count' ? g === w : kind === 'real' ? Math.abs(g - w) <= 1e-6 * Math.max(1, Math.abs(w)) : g - w >= -1e-9 && g - w <= 1 + 1e-9;
  if (!ok) diffs.push(`${where} ${field}: got ${g}, want ${w}${kind === 'percentile' ? ' (allowed: up to 1 s above)' : ''}`);
}

const QUEUE_COUNTS = ['offered', 'answered', 'abandoned', 'short_abandoned', 'exited', 'waiting', 'answered_within_sl', 'abandoned_within_sl', 'transferred'] as const;
const QUEUE_REALS = ['service_level', 'abandon_rate', 'asa', 'avg_abandon_wait', 'max_wait', 'talk_time', 'hold_time', 'wrap_time', 'aht'] as const;
const QUEUE_PCT = ['wait_p50', 'wait_p90', 'wait_p99'] as const;
const AGENT_REALS = ['logged_in_time', 'occupancy', 'utilization', 'talk_time', 'hold_time', 'wrap_time', 'avg_talk', 'avg_hold', 'aht'] as const;
const CALL_COUNTS = ['calls', 'inbound', 'outbound', 'internal', 'answered', 'no_answer', 'busy', 'failed', 'congestion'] as const;

describe.each(TENANTS)('truth for $id ($timezone), $pbx', (t) => {
  const base = () => ({ tenant_id: t.id, timezone: t.timezone, week_start: 'monday' as const, settings: (q: string) => queueSettings(cfg, t.id, q) });

  it('the simulated window crosses local midnight with calls on both sides', () => {
    const l = sims.get(t.id)!.ledger;
    const day = span('DAY', DATE, t.timezone);
    expect(l.calls.some((c) => c.started_at_ms < day.start)).toBe(true);
    expect(l.calls.some((c) => c.started_at_ms >= day.end)).toBe(true);
    if (t.timezone === 'America/New_York') expect(day.end - day.start).toBe(23 * 3600_000);
  });

  it('the day holds the real-capture sequences: Atxfer transfers, members removed and paused on a call', () => {
    const sim = sims.get(t.id)!;
    const onCall = (agent: string, at: number) => sim.ledger.agent_intervals.some((i) => i.agent === agent && i.state === 'on_call' && i.from_ms < at && at < i.to_ms);
    expect(sim.ledger.direct.length, 'attended transfers').toBeGreaterThan(0);
    expect(sim.actions.filter((a) => a.kind === 'consult_cancel').length, 'cancelled attended transfers').toBeGreaterThan(0);
    expect(sim.actions.filter((a) => a.kind === 'member_removed' && onCall(a.agent, a.t)).length, 'removed on a call').toBeGreaterThan(0);
    expect(sim.actions.filter((a) => a.kind === 'pause' && a.paused && onCall(a.agent, a.t)).length, 'paused on a call').toBeGreaterThan(0);
  });

  it('the day holds ring-all races and a restart that cut calls talking and waiting, then a reconnect', () => {
    const sim = sims.get(t.id)!;
    const l = sim.ledger;
    expect(sim.actions.filter((a) => a.kind === 'connect' && (a.losers?.length ?? 0) > 0).length, 'ring-all races').toBeGreaterThan(10);
    expect(l.restarts, 'restarts').toHaveLength(1);
    const r = l.restarts[0]!;
    const cut = l.legs.filter((x) => r.calls_cut.includes(x.call_id));
    expect(cut.some((x) => x.outcome === 'abandoned' && x.left_at_ms === r.at_ms), 'a caller waiting at the restart').toBe(true);
    expect(cut.some((x) => x.completed_at_ms === r.at_ms), 'a call talking at the restart').toBe(true);
    // The members were added back after the reconnect: the day went on through the new connection.
    expect(l.memberships.some((m) => m.from_ms > r.up_ms && m.from_ms < r.up_ms + 60_000)).toBe(true);
  });

  // METRICS.md "Gaps of the feed": a result over the day lists the restart's gap and the crash's
  // on the PBX clock, from the last moment the feed knew the PBX (the Shutdown; the last frame
  // before the crash) to the resync, although this sped-up day in March is received in real time
  // (ingest/src/ami/adapter.ts `pbxGap`).
  it("DAY: lists the restart's and the crash's gaps of the feed, from their last frame to the resync (PBX clock)", async () => {
    const l = sims.get(t.id)!.ledger;
    const day = span('DAY', DATE, t.timezone);
    const gaps = await feedGaps(ch, { tenant_id: t.id, from: new Date(day.start).toISOString(), to: new Date(day.end).toISOString() });
    expect(gaps.map((g) => g.pbx_id)).toEqual([t.pbx, t.pbx]);
    for (const [i, r] of [l.restarts[0]!, l.crashes[0]!].entries()) {
      expect(Math.abs(Date.parse(gaps[i]!.from) - r.gap_from_ms)).toBeLessThanOrEqual(2000);
      expect(Date.parse(gaps[i]!.to)).toBeGreaterThanOrEqual(r.up_ms - 2000);
      expect(Date.parse(gaps[i]!.to)).toBeLessThanOrEqual(r.up_ms + 60_000);
    }
  });

  it('the day holds a crash that cut calls talking and waiting, with nothing sent, then a reconnect', () => {
    const sim = sims.get(t.id)!;
    const l = sim.ledger;
    expect(l.crashes, 'crashes').toHaveLength(1);
    const c = l.crashes[0]!;
    expect(c.at_ms).toBe(DateTime.fromISO(`${DATE}T${CRASH_LOCAL}`, { zone: t.timezone }).toMillis());
    const cut = l.legs.filter((x) => c.calls_cut.includes(x.call_id));
    expect(cut.filter((x) => x.completed_at_ms === c.gap_from_ms).length, 'calls talking at the crash').toBeGreaterThanOrEqual(3);
    expect(cut.filter((x) => x.exit_reason === 'gap').length, 'callers waiting at the crash').toBeGreaterThanOrEqual(1);
    // The model's last action before the crash is the gap's start; none follows until the PBX is up.
    expect(sim.actions.filter((a) => a.t > c.gap_from_ms && a.t < c.up_ms).map((a) => a.kind)).toEqual(['pbx_crash']);
    expect(l.memberships.some((m) => m.from_ms > c.up_ms && m.from_ms < c.up_ms + 60_000)).toBe(true);
  });

  // Through the read path: bi_calls (the BI view) for the flag, getCall, callLegs and callTimeline
  // for the rest; neither `getCall` nor GraphQL `call` carries `ended_in` yet.
  it("the crash's calls end at the gap's start, flagged ended_in gap, with wait and talk up to then", async () => {
    const l = sims.get(t.id)!.ledger;
    const c = l.crashes[0]!;
    const rs = await ch.client.query({
      query: `SELECT call_id, toUnixTimestamp64Milli(started_at) AS started_ms FROM ${ch.db}.bi_calls WHERE tenant_id = {t:String} AND ended_in = 'gap' ORDER BY call_id`,
      query_params: { t: t.id },
      format: 'JSONEachRow',
    });
    // Matched by start: the caller's number is empty in the calls (NewCallerid comes after
    // call.started, issue #13 "also seen").
    const flagged = (await rs.json<{ call_id: string; started_ms: string | number }>()).map((f) => ({ call_id: f.call_id, started: Number(f.started_ms) }));
    const cut = c.calls_cut.map((id) => l.calls.find((x) => x.call_id === id)!);
    expect(flagged.map((f) => f.started).sort()).toEqual(cut.map((x) => x.started_at_ms).sort());
    const diffs: string[] = [];
    for (const f of flagged) {
      const want = cut.find((x) => x.started_at_ms === f.started)!;
      const got = await getCall(ch, t.id, f.call_id);
      if (Date.parse(got?.ended_at ?? '') !== c.gap_from_ms) diffs.push(`${want.call_id} ended_at: got ${got?.ended_at}, want ${new Date(c.gap_from_ms).toISOString()}`);
      cmp(diffs, want.call_id, 'duration', got?.duration, (want.ended_at_ms - want.started_at_ms) / 1000, 'real');
      const ended = (await callTimeline(ch, t.id, f.call_id)).filter((e) => e.type === 'call.ended');
      if (ended.length !== 1 || (ended[0]!.payload as { ended_in?: string }).ended_in !== 'gap') diffs.push(`${want.call_id}: call.ended ${JSON.stringify(ended.map((e) => e.payload))}, want one with ended_in gap`);
      const legs = await callLegs(ch, t.id, f.call_id);
      const wantLegs = l.legs.filter((x) => x.call_id === want.call_id);
      for (const [i, w] of wantLegs.entries()) {
        const g = legs[i];
        if (g?.outcome !== w.outcome) diffs.push(`${w.leg_id} outcome: got ${g?.outcome}, want ${w.outcome}`);
        cmp(diffs, w.leg_id, 'wait', g?.wait, w.wait_ms / 1000, 'real');
      }
    }
    expect(diffs).toEqual([]);
  });

  it.each(PERIODS)('%s: every queue metric of every queue equals the ledger', async (kind) => {
    const l = sims.get(t.id)!.ledger;
    const s = span(kind, DATE, t.timezone);
    const rows = await queueMetrics(ch, { ...base(), period: { kind, date: DATE }, group_by: 'queue' });
    const diffs: Diff = [];
    for (const q of ['sales', 'support']) {
      const want = queueMetricsFromLedger(l.legs.filter((x) => x.queue === q), s, queueSettings(cfg, t.id, q));
      const got = rows.find((r) => r.queue === q);
      expect(got, `${kind} ${q}`).toBeDefined();
      expect([Date.parse(got!.start), Date.parse(got!.end)], `${kind} span`).toEqual([s.start, s.end]);
      for (const f of QUEUE_COUNTS) cmp(diffs, `${kind} queue ${q}`, f, got![f], want[f], 'count');
      for (const f of QUEUE_REALS) cmp(diffs, `${kind} queue ${q}`, f, got![f], want[f], 'real');
      for (const f of QUEUE_PCT) cmp(diffs, `${kind} queue ${q}`, f, got![f], want[f], 'percentile');
    }
    expect(diffs).toEqual([]);
  });

  it.each(PERIODS)('%s: every agent metric of every agent equals the ledger', async (kind) => {
    const l = sims.get(t.id)!.ledger;
    const s = span(kind, DATE, t.timezone);
    const rows = await agentMetrics(ch, { ...base(), period: { kind, date: DATE }, group_by: 'agent' });
    const diffs: Diff = [];
    for (const a of l.agents) {
      const want = agentMetricsFromLedger(l, a.agent, s);
      const got = rows.find((r) => r.agent_id === a.agent);
      if (!got) {
        diffs.push(`${kind} agent ${a.agent}: no row`);
        continue;
      }
      const where = `${kind} agent ${a.agent}`;
      cmp(diffs, where, 'handled', got.handled, want.handled, 'count');
      cmp(diffs, where, 'missed', got.missed, want.missed, 'count');
      for (const f of AGENT_REALS) cmp(diffs, where, f, got[f], want[f], 'real');
      for (const st of ['available', 'ringing', 'on_call', 'on_hold', 'wrap_up', 'paused'] as const) cmp(diffs, where, `state_time.${st}`, got.state_time[st], want.state_time[st], 'real');
      // METRICS.md pause_time_by_reason: wall time from pause to unpause, pauses taken on a call too.
      const reasons = new Set([...Object.keys(want.pause_time_by_reason), ...Object.keys(got.pause_time_by_reason)]);
      for (const r of reasons) cmp(diffs, where, `pause_time_by_reason.${r}`, got.pause_time_by_reason[r] ?? 0, want.pause_time_by_reason[r] ?? 0, 'real');
    }
    expect(diffs).toEqual([]);
  });

  // METRICS.md pause_time_by_reason is wall time from pause to unpause whatever the agent did
  // meanwhile: a pause taken on a call (on_call outranks paused in the state) counts from the pause.
  it('MONTH: pause_time_by_reason counts pauses taken on a call (METRICS.md)', async () => {
    const l = sims.get(t.id)!.ledger;
    const s = span('MONTH', DATE, t.timezone);
    const rows = await agentMetrics(ch, { ...base(), period: { kind: 'MONTH', date: DATE }, group_by: 'agent' });
    const diffs: Diff = [];
    for (const a of l.agents) {
      const want = agentMetricsFromLedger(l, a.agent, s);
      const got = rows.find((r) => r.agent_id === a.agent)?.pause_time_by_reason ?? {};
      for (const r of new Set([...Object.keys(want.pause_time_by_reason), ...Object.keys(got)])) cmp(diffs, `agent ${a.agent}`, `pause_time_by_reason.${r}`, got[r] ?? 0, want.pause_time_by_reason[r] ?? 0, 'real');
    }
    expect(diffs).toEqual([]);
  });

  it.each(PERIODS)('%s: the CDR call metrics equal the ledger', async (kind) => {
    const l = sims.get(t.id)!.ledger;
    const s = span(kind, DATE, t.timezone);
    const [got] = await callMetrics(ch, { ...base(), period: { kind, date: DATE }, group_by: 'none' });
    const want = callMetricsFromLedger(l, s);
    const diffs: Diff = [];
    for (const f of CALL_COUNTS) cmp(diffs, `${kind} calls`, f, got?.[f], want[f], 'count');
    cmp(diffs, `${kind} calls`, 'duration', got?.duration, want.duration, 'real');
    cmp(diffs, `${kind} calls`, 'billsec', got?.billsec, want.billsec, 'real');
    expect(diffs).toEqual([]);
  });
  // Business hours (METRICS.md "Business hours"): the ledger classes each leg by the wall clock of
  // its offered time against the schedule as the config file writes it (ledger-metrics.ts, luxon,
  // nothing from projections/); OPEN, CLOSED and ALL must each equal the ledger over those legs.
  it('the schedule splits the day: legs in hours, in the lunch break, before opening, on the exception and holiday dates', () => {
    const l = sims.get(t.id)!.ledger;
    const local = (ms: number) => DateTime.fromMillis(ms, { zone: t.timezone });
    for (const q of ['sales', 'support']) {
      const isOpen = inHoursOf(scheduleOf(t.id, q), t.timezone);
      const legs = l.legs.filter((x) => x.queue === q);
      expect(legs.filter((x) => isOpen(x.offered_at_ms)).length, `${q} in hours`).toBeGreaterThan(10);
      expect(legs.filter((x) => !isOpen(x.offered_at_ms)).length, `${q} out of hours`).toBeGreaterThan(10);
    }
    const sales = l.legs.filter((x) => x.queue === 'sales');
    if (t.id === 'acme') {
      const lunch = sales.filter(
        (x) => local(x.offered_at_ms).toFormat('yyyy-MM-dd HH:mm') >= `${DATE} 12:30` && local(x.offered_at_ms).toFormat('yyyy-MM-dd HH:mm') < `${DATE} 13:30`,
      );
      expect(lunch.length, 'legs in the lunch break').toBeGreaterThan(0);
      expect(
        lunch.some((x) => inHoursOf(scheduleOf(t.id, 'sales'), t.timezone)(x.offered_at_ms)),
        'a lunch-break leg in hours',
      ).toBe(false);
    }
    // The window's first and last two hours fall on the exception and the holiday (or the other way round).
    expect(l.legs.some((x) => local(x.offered_at_ms).toFormat('yyyy-MM-dd') === '2026-03-07')).toBe(true);
    expect(l.legs.some((x) => local(x.offered_at_ms).toFormat('yyyy-MM-dd') === '2026-03-09')).toBe(true);
  });

  it.each(PERIODS)('%s: queue metrics with hours OPEN, CLOSED, ALL and by default equal the ledger in and out of hours', async (kind) => {
    const l = sims.get(t.id)!.ledger;
    const s = span(kind, DATE, t.timezone);
    const sources = new Set<string>();
    const ask = (hours?: 'open' | 'closed' | 'all') =>
      queueMetrics(
        ch,
        { ...base(), period: { kind, date: DATE }, group_by: 'queue', business_hours: tenantHours(cfg, t.id), ...(hours ? { hours } : {}) },
        { onSource: (src) => sources.add(src) },
      );
    const asked = { open: await ask('open'), closed: await ask('closed'), all: await ask('all'), default: await ask() };
    // Both ways of classing legs are exercised: nyc's 00:10 exception (in March only) is off the
    // quarter hours, so that month is read leg by leg; every other query reads the rollup.
    expect([...sources]).toEqual([t.id === 'nyc' && kind === 'MONTH' ? 'legs' : 'rollup']);
    const diffs: Diff = [];
    for (const q of ['sales', 'support']) {
      const isOpen = inHoursOf(scheduleOf(t.id, q), t.timezone);
      const want = queueHoursFromLedger(
        l.legs.filter((x) => x.queue === q),
        s,
        queueSettings(cfg, t.id, q),
        isOpen,
      );
      const fraction = openFractionFromSchedule(isOpen, s);
      for (const h of ['open', 'closed', 'all', 'default'] as const) {
        const got = asked[h].find((r) => r.queue === q);
        const where = `${kind} hours ${h.toUpperCase()} queue ${q}`;
        if (!got) {
          diffs.push(`${where}: no row`);
          continue;
        }
        for (const f of QUEUE_COUNTS) cmp(diffs, where, f, got[f], want[h][f], 'count');
        cmp(diffs, where, 'closed', got.closed, want[h].closed, 'count');
        for (const f of QUEUE_REALS) cmp(diffs, where, f, got[f], want[h][f], 'real');
        for (const f of QUEUE_PCT) cmp(diffs, where, f, got[f], want[h][f], 'percentile');
        cmp(diffs, where, 'open_fraction', got.open_fraction, fraction, 'real');
      }
    }
    expect(diffs).toEqual([]);
  });
});

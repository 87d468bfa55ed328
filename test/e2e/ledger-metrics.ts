// METRICS.md computed straight from the simulator's ground-truth ledger, written independently
// of the projections (no import from projections/): this is the other side of the truth test.
// Durations in seconds, ratios 0..1, null for a zero denominator, like the projections' rows.
import { DateTime } from 'luxon';
import type { QueueSettings } from '@callboard/platform';
import type { AgentMetricsRow, GroupKey, QueueMetricsRow } from '@callboard/projections/read';
import type { Ledger, LedgerLeg } from '@callboard/simulator/ledger';

export interface Span {
  start: number;
  end: number;
}

const inSpan = (t: number, s: Span): boolean => t >= s.start && t < s.end;
const ratio = (n: number, d: number): number | null => (d === 0 ? null : n / d);
const mean = (xs: number[]): number | null => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

/** Nearest-rank percentile (the definition the projections approximate from above). */
export function nearestRank(xs: number[], p: number): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)]!;
}

/** The queue figures of METRICS.md, computed here from the ledger on their own (a second witness, not the projections' code). */
export type ExpectedQueue = Omit<QueueMetricsRow, keyof GroupKey | 'closed' | 'open_fraction'>;

export function queueMetricsFromLedger(legs: LedgerLeg[], span: Span, settings: QueueSettings): ExpectedQueue {
  const ls = legs.filter((l) => inSpan(l.offered_at_ms, span));
  const T = settings.sl_threshold_s * 1000;
  const answered = ls.filter((l) => l.outcome === 'answered');
  const abandoned = ls.filter((l) => l.outcome === 'abandoned');
  const short = abandoned.filter((l) => l.wait_ms < settings.short_abandon_s * 1000);
  const exited = ls.filter((l) => l.outcome === 'exited');
  const offered = ls.length;
  const waiting = 0;
  const aWithin = answered.filter((l) => l.wait_ms <= T).length;
  const abWithin = abandoned.filter((l) => l.wait_ms <= T).length;
  const talk = answered.reduce((s, l) => s + l.talk_ms, 0) / 1000;
  const hold = answered.reduce((s, l) => s + l.hold_ms, 0) / 1000;
  const wrap = answered.reduce((s, l) => s + l.wrap_ms, 0) / 1000;
  const waits = answered.map((l) => l.wait_ms / 1000);
  let sl: number | null;
  switch (settings.sl_formula) {
    case 'answered_within_T_over_answered':
      sl = ratio(aWithin, answered.length);
      break;
    case 'answered_within_T_over_answered_and_abandoned':
      sl = ratio(aWithin, answered.length + abandoned.length);
      break;
    case 'within_T_over_answered_and_abandoned':
      sl = ratio(aWithin + abWithin, answered.length + abandoned.length);
      break;
    default:
      sl = ratio(aWithin, offered - short.length - waiting);
  }
  return {
    offered,
    answered: answered.length,
    abandoned: abandoned.length,
    short_abandoned: short.length,
    exited: exited.length,
    waiting,
    answered_within_sl: aWithin,
    abandoned_within_sl: abWithin,
    service_level: sl,
    abandon_rate: ratio(abandoned.length - short.length, offered - short.length - waiting),
    asa: mean(waits),
    avg_abandon_wait: mean(abandoned.map((l) => l.wait_ms / 1000)),
    wait_p50: nearestRank(waits, 50),
    wait_p90: nearestRank(waits, 90),
    wait_p99: nearestRank(waits, 99),
    max_wait: ls.length ? Math.max(...ls.map((l) => l.wait_ms / 1000)) : null,
    talk_time: talk,
    hold_time: hold,
    wrap_time: wrap,
    aht: ratio(talk + hold + wrap, answered.length),
    transferred: answered.filter((l) => l.transfer !== null).length,
  };
}

/** Agent figures from the ledger (state times keyed by whatever states the ledger saw). */
export type ExpectedAgent = Omit<AgentMetricsRow, keyof GroupKey | 'state_time'> & {
  state_time: Record<string, number>;
  /** `paused` state time per reason: equals pause_time_by_reason when no pause was taken on a call. */
  paused_state_by_reason: Record<string, number>;
};

/** Agent metrics: state intervals clipped to the span; handled and missed by when they happened. */
export function agentMetricsFromLedger(l: Ledger, agent: string, span: Span): ExpectedAgent {
  const st: Record<string, number> = { available: 0, ringing: 0, on_call: 0, on_hold: 0, wrap_up: 0, paused: 0, offline: 0 };
  const pause: Record<string, number> = {};
  const pausedState: Record<string, number> = {};
  for (const i of l.agent_intervals) {
    if (i.agent !== agent) continue;
    const ms = Math.min(i.to_ms, span.end) - Math.max(i.from_ms, span.start);
    if (ms <= 0) continue;
    st[i.state] = st[i.state]! + ms;
    if (i.state === 'paused') pausedState[i.reason ?? ''] = (pausedState[i.reason ?? ''] ?? 0) + ms / 1000;
  }
  // From pause to unpause whatever the agent did meanwhile (a pause on a call has no paused state).
  for (const p of l.pauses) {
    if (p.agent !== agent) continue;
    const ms = Math.min(p.to_ms, span.end) - Math.max(p.from_ms, span.start);
    if (ms > 0) pause[p.reason] = (pause[p.reason] ?? 0) + ms / 1000;
  }
  for (const k of Object.keys(st)) st[k] = st[k]! / 1000;
  const legs = l.legs.filter((x) => x.agent === agent && inSpan(x.answered_at_ms!, span));
  const direct = l.direct.filter((d) => d.agent === agent && inSpan(d.answered_at_ms, span));
  const handled = legs.length + direct.length;
  const missed = l.legs.reduce((s, x) => s + x.rings.filter((r) => r.agent === agent && r.outcome === 'no_answer' && inSpan(r.ended_ms, span)).length, 0);
  const talk = (legs.reduce((s, x) => s + x.talk_ms, 0) + direct.reduce((s, d) => s + d.talk_ms, 0)) / 1000;
  const hold = (legs.reduce((s, x) => s + x.hold_ms, 0) + direct.reduce((s, d) => s + d.hold_ms, 0)) / 1000;
  const wrap = legs.reduce((s, x) => s + x.wrap_ms, 0) / 1000;
  const loggedIn = Object.entries(st).reduce((s, [k, v]) => (k === 'offline' ? s : s + v), 0);
  const busy = st.on_call! + st.on_hold! + st.wrap_up!;
  return {
    state_time: st,
    logged_in_time: loggedIn,
    handled,
    missed,
    occupancy: ratio(busy, loggedIn - st.paused!),
    utilization: ratio(busy, loggedIn),
    talk_time: talk,
    hold_time: hold,
    wrap_time: wrap,
    avg_talk: ratio(talk, handled),
    avg_hold: ratio(hold, handled),
    aht: ratio(talk + hold + wrap, handled),
    pause_time_by_reason: pause,
    paused_state_by_reason: pausedState,
  };
}

export interface ExpectedCalls {
  calls: number;
  inbound: number;
  outbound: number;
  internal: number;
  answered: number;
  no_answer: number;
  busy: number;
  failed: number;
  congestion: number;
  duration: number;
  billsec: number;
}

/** CDR view over calls whose start falls in the span. */
export function callMetricsFromLedger(l: Ledger, span: Span): ExpectedCalls {
  const cs = l.calls.filter((c) => inSpan(c.started_at_ms, span));
  const disp = (d: string) => cs.filter((c) => c.disposition === d).length;
  return {
    calls: cs.length,
    inbound: cs.filter((c) => c.direction === 'inbound').length,
    outbound: cs.filter((c) => c.direction === 'outbound').length,
    internal: cs.filter((c) => c.direction === 'internal').length,
    answered: disp('ANSWERED'),
    no_answer: disp('NO ANSWER'),
    busy: disp('BUSY'),
    failed: disp('FAILED'),
    congestion: disp('CONGESTION'),
    duration: cs.reduce((s, c) => s + (c.ended_at_ms - c.started_at_ms), 0) / 1000,
    billsec: cs.reduce((s, c) => s + (c.pbx_answered_at_ms === null ? 0 : c.ended_at_ms - c.pbx_answered_at_ms), 0) / 1000,
  };
}

// ---- business hours (METRICS.md "Business hours"), read from the schedule as the config file writes it

/** A schedule as the `CALLBOARD_CONFIG` file writes it: `HH:mm-HH:mm` local wall-clock ranges. */
export interface ScheduleFile {
  weekly: Partial<Record<'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun', string[]>>;
  holidays?: { date: string; name: string }[];
  exceptions?: { date: string; hours: string[] }[];
}

const WEEKDAY_KEYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/** `HH:mm-HH:mm` as [from, to) in ms after local midnight's wall clock. */
function wallRange(r: string): [number, number] {
  const m = /^(\d\d):(\d\d)-(\d\d):(\d\d)$/.exec(r);
  if (!m) throw new Error(`ledger: ${r} is not HH:mm-HH:mm`);
  const at = (h: string, min: string) => (Number(h) * 60 + Number(min)) * 60_000;
  return [at(m[1]!, m[2]!), at(m[3]!, m[4]!)];
}

/**
 * Whether an instant is in hours: its wall clock in the zone lies in an open range of its local
 * date (a holiday has none, an exception its own, else its weekday's). Read instant by instant on
 * the clock, so a range a DST change skips or repeats is shorter or longer by itself.
 */
export function inHoursOf(schedule: ScheduleFile, zone: string): (ms: number) => boolean {
  return (ms) => {
    const t = DateTime.fromMillis(ms, { zone });
    const date = t.toFormat('yyyy-MM-dd');
    const exception = schedule.exceptions?.find((e) => e.date === date);
    const ranges = schedule.holidays?.some((h) => h.date === date) ? [] : exception ? exception.hours : (schedule.weekly[WEEKDAY_KEYS[t.weekday - 1]!] ?? []);
    const wall = ((t.hour * 60 + t.minute) * 60 + t.second) * 1000 + t.millisecond;
    return ranges.some((r) => {
      const [from, to] = wallRange(r);
      return wall >= from && wall < to;
    });
  };
}

/**
 * Share of the span during which the schedule is open, read minute by minute on the UTC clock:
 * exact while the ranges start and end on whole local minutes (every real offset is whole minutes).
 */
export function openFractionFromSchedule(isOpen: (ms: number) => boolean, span: Span): number {
  let open = 0;
  for (let t = span.start; t < span.end; t += 60_000) if (isOpen(t)) open += Math.min(60_000, span.end - t);
  return open / (span.end - span.start);
}

/** The queue figures over the legs in, out of and regardless of hours, and the default (no `hours` asked). */
export interface ExpectedHours {
  open: ExpectedQueue & { closed: number };
  closed: ExpectedQueue & { closed: number };
  all: ExpectedQueue & { closed: number };
  /** No `hours` asked: all legs, but service_level, abandon_rate and asa over in-hours legs unless ratio_hours is `all`. */
  default: ExpectedQueue & { closed: number };
}

export function queueHoursFromLedger(legs: LedgerLeg[], span: Span, settings: QueueSettings, isOpen: (ms: number) => boolean): ExpectedHours {
  const ls = legs.filter((l) => inSpan(l.offered_at_ms, span));
  const inH = ls.filter((l) => isOpen(l.offered_at_ms));
  const outH = ls.filter((l) => !isOpen(l.offered_at_ms));
  const open = queueMetricsFromLedger(inH, span, settings);
  const all = queueMetricsFromLedger(ls, span, settings);
  const ratios = settings.ratio_hours === 'all' ? all : open;
  return {
    open: { ...open, closed: 0 },
    closed: { ...queueMetricsFromLedger(outH, span, settings), closed: outH.length },
    all: { ...all, closed: outH.length },
    default: { ...all, closed: outH.length, service_level: ratios.service_level, abandon_rate: ratios.abandon_rate, asa: ratios.asa },
  };
}

// Live state: a pure fold of canonical events into per-tenant state — calls waiting with their
// wait start, agents with state, reason and state start, and today's running queue KPIs in the
// tenant's zone. No I/O: the consumer (live-consumer.ts) feeds it, resolvers read it.
//
// Queue metrics count legs whose offered_at falls on the tenant's current local day (METRICS.md),
// so a leg queued before midnight and answered after it is not counted today. The fold is
// idempotent under redelivery: every transition checks the leg's current state first.
import { DateTime } from 'luxon';
import { fromQueueLog, pauseOf, type AgentState, type CanonicalEvent } from '@callboard/schemas';
import type { QueueSettings, SlFormula } from '@callboard/platform';
import {
  addQueueCounters,
  addWait,
  emptyQueueCounters,
  emptyWaitSketch,
  groupFormula,
  isShortAbandon,
  mergeWaitSketch,
  queueFigures,
  talkAndHold,
  withInHoursRatios,
  withinSl,
  wrapMs,
  type QueueCounters,
  type WaitSketch,
} from '@callboard/projections/metrics';
import { PbxClockOffset, serverTime } from '@callboard/ingest/pbx-clock';
import type { PbxStatus } from '@callboard/ingest/pbx-status';
import { kpiRow, type QueueMetricsOut } from './kpi.ts';

export interface LiveEnv {
  zoneOf(tenant: string): string;
  settingsOf(tenant: string, queue: string): QueueSettings;
  /** tenant default formula for tenant-wide service level */
  formulaOf(tenant: string): SlFormula;
  /**
   * Whether the queue's business hours are open at `atMs` (METRICS.md "Business hours": a leg is
   * in hours when its offer falls in an open interval). Absent: always open, as a queue without
   * a schedule is.
   */
  openAt?(tenant: string, queue: string, atMs: number): boolean;
}

interface Leg {
  call_id: string;
  leg_id: string;
  queue: string;
  offered_ms: number;
  day: string;
  caller_number?: string;
  position?: number;
  /** offered while its queue's business hours were open */
  in_hours: boolean;
  status: 'waiting' | 'answered';
  /** the PBX the leg was seen on: during its link outage the board shows the leg as unknown */
  pbx_id?: string;
  agent_id?: string;
  transferred?: boolean;
  /** hold reported as call.held / call.resumed: closed hold time and the open hold's start */
  hold_ms: number;
  hold_start_ms?: number;
}

export interface AgentLive {
  agent_id: string;
  agent_name?: string;
  state: AgentState;
  reason?: string;
  state_start: string;
  state_start_ms: number;
  /** occurred_at of the last change applied, state or pause: an older change arriving late is dropped. */
  changed_ms: number;
  queues: string[];
  call_id?: string;
  /** The pause in force, whatever the state (METRICS.md pause_time_by_reason), and since when. */
  pause_reason?: string;
  pause_start?: string;
  /** the PBX that last reported the agent */
  pbx_id?: string;
}

/** What the board needs to know of one PBX's feed: how far its events reach, and its last gap. */
export interface FeedLive {
  pbx_id: string;
  /** newest PBX event time folded (data until, METRICS.md) */
  data_until_ms: number;
  /** newest receive time (ingest's clock), and how far the PBX time of that event lay behind it */
  received_at_ms: number;
  lag_ms: number;
  last_gap?: { from: string; to: string; reason: string };
  /**
   * The PBX clock's offset from ingest's (ingest/src/pbx-clock.ts), measured from the events
   * folded, so an API in another process than ingest knows it too. Live times are served on the
   * server clock with it.
   */
  clock: PbxClockOffset;
  /** The link as an ingest in another process last published it (api/src/pbx-status.ts). */
  link?: PbxStatus;
}

interface QueueDay {
  /** today's legs of the queue; `waiting` is counted at snapshot time from the open legs */
  counters: QueueCounters;
  /**
   * The same over the legs its service_level, abandon_rate and asa count: the in-hours ones, or
   * all of them when the queue's ratio_hours is `all` (METRICS.md; the history's `ratios`).
   */
  ratios: QueueCounters;
  /** today's legs offered while the queue was closed */
  closed: number;
  /** waits of answered legs today as the metrics module's wait sketch, for wait_p50/p90/p99:
   *  bounded by distinct tenths of a second, not by calls, and mergeable across queues */
  answeredWaits: WaitSketch;
}

export interface TenantLive {
  tenant_id: string;
  zone: string;
  /** local date the counters are for */
  today: string;
  queues: Map<string, QueueDay>;
  legs: Map<string, Leg>;
  /** call → its legs that were still open when call.ended came. A late exit, abandon or
   *  completion of such a leg still counts, as in the projections' fold, which orders a call's
   *  events by time whatever their arrival (a resync after a gap ends the call before it emits
   *  the leg's call.left_queue). Not on the board; dropped at rollover like open legs. */
  ended: Map<string, Leg[]>;
  /** legs already closed, with their offer time: a redelivered call.queued must not reopen them */
  closed: Map<string, number>;
  /** leg ids of Local-channel duplicates → the leg they are (METRICS.md: one queue entry, one leg) */
  aliases: Map<string, string>;
  /** call → its queue entries (legs, open or closed), to know another source's copy of one (`SAME_ENTRY_MS`) */
  entries: Map<string, Entry[]>;
  agents: Map<string, AgentLive>;
  /** agent → the calls (or legs) it answered today, for handled today on the board */
  handled: Map<string, Set<string>>;
  feeds: Map<string, FeedLive>;
  /** bumped on every change, so snapshots can be cached per version */
  version: number;
}

/** A queue entry of a call (a leg), by where it came from: the imported queue_log or the PBX's live feed. */
interface Entry {
  queue: string;
  key: string;
  offered_ms: number;
  imported: boolean;
  /** Already has its copy from the other source (each pairs with at most one). */
  paired: boolean;
}

export type LiveChange =
  | { kind: 'none' }
  | { kind: 'call'; tenant_id: string; queues: string[] }
  | { kind: 'agent'; tenant_id: string; agent: AgentLive }
  /** something only the board shows changed (a feed's reach, handled counts): no stream event */
  | { kind: 'board'; tenant_id: string };

const legKey = (call: string, leg: string) => `${call}\u0000${leg}`;
/**
 * How far apart two sources can place one queue entry: queue_log times are truncated to the
 * second, a resync leg's to its whole-second wait (the projections pair a ring-no-answer of both
 * sources within 2 s for the same reason).
 */
const SAME_ENTRY_MS = 2000;
const ms = (iso: string) => Date.parse(iso);

export function localDate(atMs: number, zone: string): string {
  return DateTime.fromMillis(atMs, { zone }).toISODate()!;
}

export class LiveStore {
  private readonly tenants = new Map<string, TenantLive>();
  constructor(private readonly env: LiveEnv) {}

  tenant(id: string, nowMs: number): TenantLive {
    let t = this.tenants.get(id);
    const zone = this.env.zoneOf(id);
    if (!t) {
      t = { tenant_id: id, zone, today: localDate(nowMs, zone), queues: new Map(), legs: new Map(), ended: new Map(), closed: new Map(), aliases: new Map(), entries: new Map(), agents: new Map(), handled: new Map(), feeds: new Map(), version: 0 };
      this.tenants.set(id, t);
    }
    this.rollover(t, nowMs);
    return t;
  }

  tenantIds(): string[] {
    return [...this.tenants.keys()];
  }

  /** Rolls every tenant whose local day has ended; returns the ones that rolled. */
  rolloverAll(nowMs: number): string[] {
    return [...this.tenants.values()].filter((t) => this.rollover(t, nowMs)).map((t) => t.tenant_id);
  }

  /** At local midnight today's counters start again; open legs and agents carry over. */
  rollover(t: TenantLive, nowMs: number): boolean {
    const day = localDate(nowMs, t.zone);
    if (day <= t.today) return false;
    t.today = day;
    t.queues.clear();
    t.handled.clear();
    // Legs that have been open for more than a day lost their ending event; keep the state bounded.
    for (const [k, leg] of t.legs) if (nowMs - leg.offered_ms > 86_400_000) t.legs.delete(k);
    for (const [c, legs] of t.ended) if (legs.every((leg) => nowMs - leg.offered_ms > 86_400_000)) t.ended.delete(c);
    for (const [k, at] of t.closed) if (nowMs - at > 2 * 86_400_000) t.closed.delete(k);
    for (const [k, leg] of t.aliases) if (!t.legs.has(leg) && !t.closed.has(leg)) t.aliases.delete(k);
    // Only a copy of today's entries can change today's figures.
    const midnight = DateTime.fromMillis(nowMs, { zone: t.zone }).startOf('day').toMillis() - SAME_ENTRY_MS;
    for (const [c, entries] of t.entries) if (entries.every((x) => x.offered_ms < midnight)) t.entries.delete(c);
    t.version++;
    return true;
  }

  private queueDay(t: TenantLive, queue: string): QueueDay {
    let q = t.queues.get(queue);
    if (!q) {
      q = { counters: emptyQueueCounters(), ratios: emptyQueueCounters(), closed: 0, answeredWaits: emptyWaitSketch() };
      t.queues.set(queue, q);
    }
    return q;
  }

  /** Folds one event; `nowMs` is the wall clock that decides which local day is "today". */
  apply(e: CanonicalEvent, nowMs: number): LiveChange {
    const t = this.tenant(e.tenant_id, nowMs);
    const change = this.fold(t, e);
    const feedChanged = noteFeed(t, e);
    const handledChanged = noteHandled(t, e);
    if (change.kind !== 'none' || feedChanged || handledChanged) t.version++;
    if (change.kind === 'none' && (feedChanged || handledChanged)) return { kind: 'board', tenant_id: t.tenant_id };
    return change;
  }

  private fold(t: TenantLive, e: CanonicalEvent): LiveChange {
    const call = (queues: string[]): LiveChange => ({ kind: 'call', tenant_id: t.tenant_id, queues });
    switch (e.type) {
      case 'call.queued': {
        const k = legKey(e.call_id, e.payload.leg_id);
        if (t.legs.has(k) || t.closed.has(k) || t.aliases.has(k)) return { kind: 'none' };
        const imported = fromQueueLog(e);
        const entries = t.entries.get(e.call_id);
        // A second entry of the call into a queue it is still waiting in is that leg seen
        // through another (Local) channel, as the projections' fold treats it.
        for (const open of t.legs.values()) {
          if (open.call_id === e.call_id && open.queue === e.payload.queue && open.status === 'waiting') {
            const to = legKey(open.call_id, open.leg_id);
            t.aliases.set(k, to);
            const x = entries?.find((y) => y.key === to);
            if (x && x.imported !== imported) x.paired = true;
            return { kind: 'none' };
          }
        }
        const at = ms(e.occurred_at);
        // The other source's copy of an entry this call already has, its leg closed by now: the
        // queue_log imported over a period the live adapter covered (whole seconds, truncated),
        // against the live feed's entry (or its resync leg, placed at a whole-second wait). The
        // nearest entry of the other origin within SAME_ENTRY_MS, not yet paired, is this one:
        // one entry, one leg, whichever source came first (its figures are the leg's). Two
        // entries of one origin are two, however close (a caller back in the queue at once).
        let copyOf: Entry | null = null;
        for (const x of entries ?? []) {
          const d = Math.abs(x.offered_ms - at);
          if (x.queue === e.payload.queue && x.imported !== imported && !x.paired && d <= SAME_ENTRY_MS && (!copyOf || d < Math.abs(copyOf.offered_ms - at))) copyOf = x;
        }
        if (copyOf) {
          copyOf.paired = true;
          t.aliases.set(k, copyOf.key);
          return { kind: 'none' };
        }
        const entry: Entry = { queue: e.payload.queue, key: k, offered_ms: at, imported, paired: false };
        if (entries) entries.push(entry);
        else t.entries.set(e.call_id, [entry]);
        const day = localDate(at, t.zone);
        // Only today's legs are counted, so only they are classed (the rebuild folds a day and more before today).
        const in_hours = day !== t.today || (this.env.openAt?.(t.tenant_id, e.payload.queue, at) ?? true);
        const leg: Leg = { call_id: e.call_id, leg_id: e.payload.leg_id, queue: e.payload.queue, offered_ms: at, day, position: e.payload.position, in_hours, status: 'waiting', hold_ms: 0, pbx_id: e.pbx_id };
        if (e.payload.caller_number !== undefined) leg.caller_number = e.payload.caller_number;
        t.legs.set(k, leg);
        if (leg.day === t.today) {
          this.count(t, leg, (c) => c.offered++);
          if (!in_hours) this.queueDay(t, leg.queue).closed++;
        }
        return call([leg.queue]);
      }
      case 'call.answered': {
        const leg = this.findLeg(t, e.call_id, e.payload.leg_id, e.payload.queue);
        if (!leg || leg.status !== 'waiting') return { kind: 'none' };
        leg.status = 'answered';
        leg.agent_id = e.payload.agent_id;
        if (leg.day === t.today) {
          const w = e.payload.wait_ms;
          const within = withinSl(w, this.env.settingsOf(t.tenant_id, leg.queue));
          this.count(t, leg, (c) => {
            c.answered++;
            c.answered_wait_ms += w;
            if (within) c.answered_within_sl++;
          });
          addWait(this.queueDay(t, leg.queue).answeredWaits, w);
        }
        return call([leg.queue]);
      }
      case 'call.abandoned':
      case 'call.left_queue': {
        const leg = this.legOf(t, e.call_id, e.payload.leg_id);
        if (!leg || leg.status !== 'waiting') return { kind: 'none' };
        this.close(t, leg);
        if (leg.day === t.today) {
          const st = this.env.settingsOf(t.tenant_id, leg.queue);
          const w = e.payload.wait_ms;
          if (e.type === 'call.abandoned') {
            const short = isShortAbandon(w, st);
            const within = withinSl(w, st);
            this.count(t, leg, (c) => {
              c.abandoned++;
              c.abandoned_wait_ms += w;
              if (short) c.short_abandoned++;
              if (within) c.abandoned_within_sl++;
            });
          } else {
            this.count(t, leg, (c) => c.exited++);
          }
        }
        return call([leg.queue]);
      }
      case 'call.transferred': {
        const leg = this.findAnsweredLeg(t, e.call_id, e.payload.leg_id, e.payload.from_agent_id);
        if (!leg || leg.transferred) return { kind: 'none' };
        leg.transferred = true;
        if (leg.day === t.today) this.count(t, leg, (c) => c.transferred++);
        return call([leg.queue]);
      }
      case 'call.held':
      case 'call.resumed': {
        // Hold the PBX reports as events rather than as hold_ms on completion (METRICS.md
        // hold_time); the projections' fold counts it the same way.
        const leg = this.findAnsweredLeg(t, e.call_id, e.payload.leg_id, e.payload.agent_id);
        if (!leg) return { kind: 'none' };
        const at = ms(e.occurred_at);
        if (e.type === 'call.held') leg.hold_start_ms ??= at;
        else if (leg.hold_start_ms !== undefined) {
          leg.hold_ms += Math.max(0, at - leg.hold_start_ms);
          delete leg.hold_start_ms;
        }
        return { kind: 'none' };
      }
      case 'call.agent_completed': {
        const leg = this.findAnsweredLeg(t, e.call_id, e.payload.leg_id, e.payload.agent_id);
        if (!leg) return { kind: 'none' };
        this.close(t, leg);
        // An agent leaving by transfer is a transferred leg even when no call.transferred came.
        const newlyTransferred = e.payload.reason === 'transfer' && !leg.transferred;
        if (newlyTransferred) leg.transferred = true;
        if (leg.day === t.today) {
          const openHold = leg.hold_start_ms === undefined ? 0 : Math.max(0, ms(e.occurred_at) - leg.hold_start_ms);
          const { talk_ms, hold_ms } = talkAndHold(e.payload.talk_ms, e.payload.hold_ms ?? leg.hold_ms + openHold);
          const wrap_ms = wrapMs(e.payload.wrap_ms, this.env.settingsOf(t.tenant_id, leg.queue));
          this.count(t, leg, (c) => {
            if (newlyTransferred) c.transferred++;
            c.talk_ms += talk_ms;
            c.hold_ms += hold_ms;
            c.wrap_ms += wrap_ms;
          });
        }
        return call([leg.queue]);
      }
      case 'call.ended': {
        // A call that ends takes whatever legs it left open off the board (a lost abandon event
        // must not leave a caller "waiting" forever); they are not counted as an outcome they did
        // not have, but keep it if their exit or completion comes after the end (`ended_in: gap`:
        // the resync ends the call first, at the start of the gap).
        const qs: string[] = [];
        const open: Leg[] = [];
        for (const leg of t.legs.values()) {
          if (leg.call_id === e.call_id) {
            open.push(leg);
            qs.push(leg.queue);
          }
        }
        for (const leg of open) this.close(t, leg);
        if (open.length) t.ended.set(e.call_id, [...(t.ended.get(e.call_id) ?? []), ...open]);
        return qs.length ? call(qs) : { kind: 'none' };
      }
      case 'agent.state_changed': {
        const a = this.agent(t, e.agent_id, e.payload.agent_name);
        a.pbx_id = e.pbx_id;
        const at = ms(e.occurred_at);
        if (at < a.changed_ms) return { kind: 'none' };
        a.changed_ms = at;
        // A pause taken or ended on a call leaves the state as it is, and its clock running.
        if (e.payload.state !== a.state || e.payload.reason !== a.reason) {
          a.state = e.payload.state;
          a.state_start = e.occurred_at;
          a.state_start_ms = at;
        }
        if (e.payload.reason !== undefined) a.reason = e.payload.reason;
        else delete a.reason;
        if (e.payload.call_id !== undefined) a.call_id = e.payload.call_id;
        else delete a.call_id;
        const pause = pauseOf(e.payload);
        if (pause === null) {
          delete a.pause_reason;
          delete a.pause_start;
        } else if (pause !== a.pause_reason || a.pause_start === undefined) {
          a.pause_reason = pause;
          a.pause_start = e.occurred_at;
        }
        return { kind: 'agent', tenant_id: t.tenant_id, agent: { ...a, queues: [...a.queues] } };
      }
      case 'agent.queue_joined':
      case 'agent.queue_left': {
        const a = this.agent(t, e.agent_id, e.payload.agent_name);
        a.pbx_id = e.pbx_id;
        const has = a.queues.includes(e.payload.queue);
        if (e.type === 'agent.queue_joined' && !has) a.queues = [...a.queues, e.payload.queue].sort();
        else if (e.type === 'agent.queue_left' && has) a.queues = a.queues.filter((q) => q !== e.payload.queue);
        else return { kind: 'none' };
        return { kind: 'agent', tenant_id: t.tenant_id, agent: { ...a, queues: [...a.queues] } };
      }
      default:
        return { kind: 'none' };
    }
  }

  /**
   * Counts `f` into today's figures of the leg's queue, and into the ratios' figures when the
   * ratios count the leg: in hours, or every leg with ratio_hours `all`.
   */
  private count(t: TenantLive, leg: Leg, f: (c: QueueCounters) => void): void {
    const q = this.queueDay(t, leg.queue);
    f(q.counters);
    if (this.inRatios(t, leg)) f(q.ratios);
  }

  private inRatios(t: TenantLive, leg: Pick<Leg, 'in_hours' | 'queue'>): boolean {
    return leg.in_hours || this.env.settingsOf(t.tenant_id, leg.queue).ratio_hours === 'all';
  }

  private close(t: TenantLive, leg: Leg): void {
    const k = legKey(leg.call_id, leg.leg_id);
    t.legs.delete(k);
    t.closed.set(k, leg.offered_ms);
    const ended = t.ended.get(leg.call_id);
    if (ended?.includes(leg)) {
      const rest = ended.filter((l) => l !== leg);
      if (rest.length) t.ended.set(leg.call_id, rest);
      else t.ended.delete(leg.call_id);
    }
  }

  private agent(t: TenantLive, id: string, name: string | undefined): AgentLive {
    let a = t.agents.get(id);
    if (!a) {
      // Unknown until the first state change tells us; offline since the epoch.
      a = { agent_id: id, state: 'offline', state_start: new Date(0).toISOString(), state_start_ms: 0, changed_ms: 0, queues: [] };
      t.agents.set(id, a);
    }
    if (name) a.agent_name = name;
    return a;
  }

  private legOf(t: TenantLive, callId: string, legId: string): Leg | undefined {
    const k = t.aliases.get(legKey(callId, legId)) ?? legKey(callId, legId);
    return t.legs.get(k) ?? t.ended.get(callId)?.find((l) => legKey(l.call_id, l.leg_id) === k);
  }

  /** Open legs of a call: on the board, or left open by its call.ended. */
  private *legsOfCall(t: TenantLive, callId: string): Iterable<Leg> {
    for (const leg of t.legs.values()) if (leg.call_id === callId) yield leg;
    yield* t.ended.get(callId) ?? [];
  }

  private findLeg(t: TenantLive, callId: string, legId: string | undefined, queue: string | undefined): Leg | undefined {
    if (legId) return this.legOf(t, callId, legId);
    for (const leg of this.legsOfCall(t, callId)) if (leg.status === 'waiting' && (!queue || leg.queue === queue)) return leg;
    return undefined;
  }

  private findAnsweredLeg(t: TenantLive, callId: string, legId: string | undefined, agentId: string | undefined): Leg | undefined {
    if (legId) {
      const leg = this.legOf(t, callId, legId);
      return leg?.status === 'answered' ? leg : undefined;
    }
    for (const leg of this.legsOfCall(t, callId)) if (leg.status === 'answered' && (!agentId || leg.agent_id === agentId)) return leg;
    return undefined;
  }

  /** The GraphQL LiveState of one tenant at `nowMs`, limited to `queues` when given. */
  snapshot(tenantId: string, nowMs: number, queues?: readonly string[]): LiveSnapshot {
    const t = this.tenant(tenantId, nowMs);
    const want = queues && queues.length ? new Set(queues) : null;
    const onServer = serverClock(t);
    const waitingCalls: WaitingCallOut[] = [];
    // n_ratios: today's waiting legs the ratios count (in the denominator of service_level).
    const waitingBy = new Map<string, { n: number; n_today: number; n_ratios: number; oldest: number }>();
    for (const leg of t.legs.values()) {
      if (leg.status !== 'waiting' || (want && !want.has(leg.queue))) continue;
      waitingCalls.push({
        call_id: leg.call_id,
        queue: leg.queue,
        leg_id: leg.leg_id,
        caller_number: leg.caller_number ?? null,
        position: leg.position ?? null,
        wait_start: new Date(onServer(leg.pbx_id, leg.offered_ms)).toISOString(),
        pbx_id: leg.pbx_id ?? null,
      });
      const w = waitingBy.get(leg.queue) ?? { n: 0, n_today: 0, n_ratios: 0, oldest: Infinity };
      w.n++;
      if (leg.day === t.today) {
        w.n_today++;
        if (this.inRatios(t, leg)) w.n_ratios++;
      }
      w.oldest = Math.min(w.oldest, onServer(leg.pbx_id, leg.offered_ms));
      waitingBy.set(leg.queue, w);
    }
    waitingCalls.sort((a, b) => (a.wait_start < b.wait_start ? -1 : a.wait_start > b.wait_start ? 1 : 0));
    const names = new Set([...t.queues.keys(), ...waitingBy.keys()].filter((q) => !want || want.has(q)));
    const total = emptyQueueCounters();
    const totalRatios = emptyQueueCounters();
    // As the history's rows over several queues: their one SL formula, the tenant's when they mix.
    const formulas = new Set<SlFormula>();
    let totalClosed = 0;
    let oldest = Infinity;
    const allWaits = emptyWaitSketch();
    const queueOut: LiveQueueOut[] = [...names].sort().map((name) => {
      const qd = t.queues.get(name) ?? { counters: emptyQueueCounters(), ratios: emptyQueueCounters(), closed: 0, answeredWaits: emptyWaitSketch() };
      const w = waitingBy.get(name);
      const maxWaitMs = w ? Math.max(0, nowMs - w.oldest) : null;
      // `waiting` counts today's open legs only: a leg offered yesterday is not one of today's offered.
      const counters = { ...qd.counters, waiting: w?.n_today ?? 0 };
      const ratios = { ...qd.ratios, waiting: w?.n_ratios ?? 0 };
      addQueueCounters(total, counters);
      addQueueCounters(totalRatios, ratios);
      totalClosed += qd.closed;
      if (w) oldest = Math.min(oldest, w.oldest);
      mergeWaitSketch(allWaits, qd.answeredWaits);
      const formula = this.env.settingsOf(tenantId, name).sl_formula;
      if (t.queues.has(name)) formulas.add(formula);
      return {
        queue: name,
        waiting: w?.n ?? 0,
        max_wait: maxWaitMs === null ? null : maxWaitMs / 1000,
        today: liveRow(counters, ratios, qd.closed, { formula, answeredWaits: qd.answeredWaits, maxWaitMs }),
      };
    });
    const agents = [...t.agents.values()]
      .filter((a) => !want || a.queues.length === 0 || a.queues.some((q) => want.has(q)))
      .sort((a, b) => (a.agent_id < b.agent_id ? -1 : 1))
      .map((a) => ({ ...agentOut(a, onServer), handled_today: t.handled.get(a.agent_id)?.size ?? 0 }));
    return {
      server_time: new Date(nowMs).toISOString(),
      today_date: t.today,
      today: liveRow(total, totalRatios, totalClosed, { formula: groupFormula(formulas, this.env.formulaOf(tenantId)), answeredWaits: allWaits, maxWaitMs: oldest === Infinity ? null : Math.max(0, nowMs - oldest) }),
      queues: queueOut,
      waiting_calls: waitingCalls,
      agents,
    };
  }

  agents(tenantId: string, nowMs: number): AgentOut[] {
    const t = this.tenant(tenantId, nowMs);
    const onServer = serverClock(t);
    return [...t.agents.values()].map((a) => agentOut(a, onServer));
  }

  version(tenantId: string): number {
    return this.tenants.get(tenantId)?.version ?? 0;
  }

  /** A PBX link's state as ingest published it; the latest heartbeat wins (records may be redelivered). */
  noteLinkStatus(s: PbxStatus): void {
    let t = this.tenants.get(s.tenant_id);
    if (!t) t = this.tenant(s.tenant_id, Date.parse(s.at));
    let f = t.feeds.get(s.pbx_id);
    if (!f) t.feeds.set(s.pbx_id, (f = newFeed(s.pbx_id)));
    if (!f.link || s.at >= f.link.at) f.link = s;
  }

  /** The tenant's PBX feeds as the live fold has seen them (none before its first event). */
  feeds(tenantId: string): FeedLive[] {
    return [...(this.tenants.get(tenantId)?.feeds.values() ?? [])].map((f) => ({ ...f })).sort((a, b) => (a.pbx_id < b.pbx_id ? -1 : 1));
  }
}

function newFeed(pbx_id: string): FeedLive {
  return { pbx_id, data_until_ms: 0, received_at_ms: 0, lag_ms: 0, clock: new PbxClockOffset() };
}

/** A PBX time → the server's time (ms) it was, by the offset measured for that PBX. */
type ServerClock = (pbxId: string | undefined, pbxMs: number) => number;

/**
 * Live waits and times in state are `now − start` with `now` the server's: a start on a PBX
 * clock 90 s slow would read 90 s too long. The fold keeps PBX times (they are the events');
 * what is served is moved onto the server clock.
 */
function serverClock(t: TenantLive): ServerClock {
  return (pbxId, pbxMs) => (pbxId === undefined ? pbxMs : serverTime(pbxMs, t.feeds.get(pbxId)?.clock.offsetMs));
}

/**
 * Keeps how far each PBX's events reach: a feed replaying history (a simulator's day, a PBX
 * catching up after a start) delivers events whose PBX time lies far behind the time ingest
 * received them, and the board must say so instead of showing replayed agents as if they were
 * now. Receive time, not the fold's wall clock: an API rebuilding its state from the log folds
 * old events too, but they were received in their time. Returns whether anything changed.
 */
function noteFeed(t: TenantLive, e: CanonicalEvent): boolean {
  let f = t.feeds.get(e.pbx_id);
  if (!f) {
    f = newFeed(e.pbx_id);
    t.feeds.set(e.pbx_id, f);
  }
  const at = ms(e.occurred_at);
  const received = ms(e.received_at);
  f.clock.add(received, at);
  const before = f.data_until_ms;
  if (at > f.data_until_ms) f.data_until_ms = at;
  if (received >= f.received_at_ms) {
    f.received_at_ms = received;
    f.lag_ms = Math.max(0, received - f.data_until_ms);
  }
  if (e.type === 'source.gap') {
    const g = e.payload;
    if (!f.last_gap || g.to >= f.last_gap.to) f.last_gap = { from: g.from, to: g.to, reason: g.reason };
    return true;
  }
  return f.data_until_ms !== before;
}

/** handled (METRICS.md), today: the calls each agent answered, a transfer target included (its own call.answered). */
function noteHandled(t: TenantLive, e: CanonicalEvent): boolean {
  if (e.type !== 'call.answered') return false;
  if (localDate(ms(e.occurred_at), t.zone) !== t.today) return false;
  // By leg, through its aliases: the answer of one leg seen by two sources (live and imported) is one.
  const key = e.payload.leg_id ? (t.aliases.get(legKey(e.call_id, e.payload.leg_id)) ?? legKey(e.call_id, e.payload.leg_id)) : `${e.call_id}\u0000${e.payload.queue ?? ''}`;
  let set = t.handled.get(e.payload.agent_id);
  if (!set) t.handled.set(e.payload.agent_id, (set = new Set()));
  if (set.has(key)) return false;
  set.add(key);
  return true;
}

/** A feed is catching up while its events arrive more than this behind their PBX time… */
export const CATCHING_UP_LAG_MS = 60_000;
/** …and only while they still arrive: a PBX quiet for this long is quiet, not behind. */
export const CATCHING_UP_QUIET_MS = 15_000;

/**
 * A live KPI row as the history's row for the same legs: counts and times over every leg, while
 * service_level, abandon_rate and asa count the legs in `ratios` (METRICS.md "Business hours";
 * projections/src/queries.ts reads the history the same way).
 */
function liveRow(counters: QueueCounters, ratios: QueueCounters, closed: number, o: Parameters<typeof queueFigures>[1]): LiveKpiOut {
  const all = queueFigures(counters, o);
  const inRatios = queueFigures(ratios, { formula: o.formula, answeredWaits: o.answeredWaits, maxWaitMs: null });
  return { ...kpiRow(withInHoursRatios(all, inRatios)), closed };
}

/** Behind by more than the PBX clock's own offset: a PBX clock 90 s slow is not history replaying. */
export function isCatchingUp(f: FeedLive, nowMs: number): boolean {
  return f.lag_ms + (f.clock.offsetMs ?? 0) > CATCHING_UP_LAG_MS && nowMs - f.received_at_ms < CATCHING_UP_QUIET_MS;
}

export function agentOut(a: AgentLive, onServer?: ServerClock): AgentOut {
  const moved = (iso: string) => {
    const at = ms(iso);
    // An agent never seen in a state has the epoch as its start ("unknown"), not a PBX time.
    if (!onServer || !(at > 0)) return iso;
    const to = onServer(a.pbx_id, at);
    return to === at ? iso : new Date(to).toISOString();
  };
  return {
    agent_id: a.agent_id,
    agent_name: a.agent_name ?? null,
    state: a.state,
    reason: a.reason ?? null,
    state_start: moved(a.state_start),
    queues: [...a.queues],
    call_id: a.call_id ?? null,
    pause_reason: a.pause_reason ?? null,
    pause_start: a.pause_start ? moved(a.pause_start) : null,
    pbx_id: a.pbx_id ?? null,
  };
}

export interface WaitingCallOut {
  call_id: string;
  queue: string;
  leg_id: string;
  caller_number: string | null;
  position: number | null;
  wait_start: string;
  pbx_id: string | null;
}
export interface AgentOut {
  agent_id: string;
  agent_name: string | null;
  state: AgentState;
  reason: string | null;
  state_start: string;
  queues: string[];
  call_id: string | null;
  /** Absent (null in GraphQL) where an AgentLive is published as is (the agentState subscription). */
  pause_reason?: string | null;
  pause_start?: string | null;
  /** optional: the agentStates stream passes the fold's agent as it is */
  pbx_id?: string | null;
  /** filled in snapshots; absent on the agentStates stream */
  handled_today?: number;
}
/** Today's live figures: the history's row for the same legs (`closed` filled; open_fraction not). */
export type LiveKpiOut = QueueMetricsOut & { closed: number };
export interface LiveQueueOut {
  queue: string;
  waiting: number;
  max_wait: number | null;
  today: LiveKpiOut;
}
export interface LiveSnapshot {
  server_time: string;
  today_date: string;
  today: LiveKpiOut;
  queues: LiveQueueOut[];
  waiting_calls: WaitingCallOut[];
  agents: AgentOut[];
}

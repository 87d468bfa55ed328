// The simulated call centre: a seeded discrete-event model, pure (no I/O, no wall clock, no
// Math.random). It turns a scenario into (1) the ground-truth ledger and (2) a time-ordered
// timeline of vendor-neutral actions that the protocol renderers (AMI, Yeastar) turn into the
// frames a real PBX would send. Everything the model decides is in the ledger, so the truth test
// can check the pipeline's numbers against it without trusting any PBX protocol.
import { DateTime, IANAZone } from 'luxon';
import type { AgentState, Disposition } from '@callboard/schemas';
import type { Ledger, LedgerAgentInterval, LedgerCall, LedgerCrash, LedgerDirectSegment, LedgerLeg, LedgerMembership, LedgerPause, LedgerRestart, LedgerRing, TransferKind } from './ledger.ts';
import { Rng } from './prng.ts';

export interface QueueSpec {
  queue: string;
  /** Asterisk `wrapuptime`: the member is not rung for this long after each answered leg. */
  wrap_up_s: number;
  /** Asterisk `timeout`: how long one member rings before ring-no-answer. */
  ring_timeout_s: number;
  /** Asterisk `retry`: pause before the next ring attempt after a ring-no-answer. */
  retry_s: number;
  /** Queue() timeout: the caller leaves unanswered (exited, reason timeout) after this wait. */
  max_wait_s: number | null;
  /** Where the dialplan sends a caller whose leg timed out (overflow); null: the call ends. */
  overflow_to: string | null;
  /** Expected first-leg arrivals per local day; spread over the day by the hour profile. */
  calls_per_day: number;
  /**
   * Asterisk `strategy`. `ringall` rings every available member at once: the first to answer
   * wins, the others lose the race (a cancelled ring, no missed call). Default: the longest-idle
   * member alone (`leastrecent`).
   */
  strategy?: 'ringall' | 'leastrecent';
}

export interface AgentSpec {
  agent: string;
  name: string;
  queues: string[];
  /** Local time the shift starts, "HH:MM"; shifts may cross midnight. */
  shift_start: string;
  shift_hours: number;
}

export interface Behaviour {
  patience_mean_s: number;
  talk_mean_s: number;
  talk_cv: number;
  ring_delay_min_s: number;
  ring_delay_max_s: number;
  /** Chance that a rung agent lets it ring out (ring-no-answer). */
  no_answer_p: number;
  hold_p: number;
  hold_mean_s: number;
  blind_transfer_p: number;
  attended_transfer_p: number;
  consult_mean_s: number;
  /** Chance the caller, not the agent, ends an answered call. */
  caller_hangs_up_p: number;
  outbound_per_agent_hour: number;
  outbound_answer_p: number;
  outbound_busy_p: number;
  /** Scheduled pauses, hours after login (deferred while the agent is busy). */
  breaks: { after_h: number; minutes: number; reason: string }[];
  /** Chance per shift of an extra unscheduled pause ("Training", "Coaching" …). */
  extra_pause_p: number;
  extra_pause_reasons: string[];
  /**
   * Chance per answered leg that a supervisor removes the agent from all its queues early in the
   * call and adds it back a few seconds later, still in the call (i_membership_midcall). Default 0.
   */
  midcall_membership_p?: number;
  /** Chance per answered leg of a pause ("Coaching") taken and ended early in the call. Default 0. */
  midcall_pause_p?: number;
  /** Chance that an attended transfer's target never answers and the agent cancels it. Default 0. */
  consult_cancel_p?: number;
}

export interface Scenario {
  tenant: string;
  pbx: string;
  timezone: string;
  seed: number;
  /** Arrivals, shifts and outbound calls happen in [from_ms, to_ms); calls begun before to_ms run to their end. */
  from_ms: number;
  to_ms: number;
  /** 24 relative weights for local hours 0–23. */
  hour_profile: number[];
  /** Blind transfers go to this queue (must exist). */
  transfer_queue: string | null;
  queues: QueueSpec[];
  agents: AgentSpec[];
  behaviour: Behaviour;
  /** Caller numbers are this prefix plus random digits. */
  number_prefix: string;
  /**
   * Log every agent out at to_ms (as soon as each is free), so the run ends with a closed
   * timeline: a bounded test day then has no agent state left open into later periods.
   */
  logout_at_end?: boolean;
  /**
   * `core restart now` at these times (j_restart): every call is hung up (waiting callers as
   * abandons, talking ones as the agent's hang-up), `Shutdown` follows, the PBX is down for a
   * few seconds and comes back with no channels and no members; the agents still on shift are
   * added back a few seconds later. Deferred while an attended transfer's consultation runs.
   */
  restarts?: { at_ms: number }[];
  /**
   * A crash (`kill -9` of Asterisk) at `at_ms`: no event at all, every AMI connection just drops;
   * the PBX is down for `down_ms` and comes back empty, like a restart; the calls it had are gone
   * (the callers' lines drop too). Deferred while a consultation runs and until the members of an
   * earlier restart or crash are back.
   */
  crashes?: { at_ms: number; down_ms: number }[];
}

/** `Shutdown` comes this long after the restart's hang-ups (j_restart: 1.1 s). */
export const RESTART_SHUTDOWN_MS = 1100;
/** How long the PBX is down after `Shutdown` before it accepts AMI connections again. */
export const RESTART_DOWN_MS = 5000;
/** After the PBX is back, the members are added back this much later (a supervisor's script). */
export const RESTART_READD_MS = 6000;

export type SimAction =
  | { t: number; kind: 'member_added' | 'member_removed'; agent: string; queue: string }
  | { t: number; kind: 'pause'; agent: string; paused: boolean; reason: string }
  | { t: number; kind: 'call_in'; call_id: string }
  | { t: number; kind: 'queue_join'; call_id: string; leg_id: string; queue: string }
  | { t: number; kind: 'ring'; call_id: string; leg_id: string; agent: string }
  | { t: number; kind: 'ring_end'; call_id: string; leg_id: string; agent: string; outcome: 'no_answer' | 'canceled'; ring_ms: number }
  /** `losers`: the other members rung with it in a ring-all race, cancelled by this answer. */
  | { t: number; kind: 'connect'; call_id: string; leg_id: string; agent: string; ring_ms: number; losers?: string[] }
  | { t: number; kind: 'abandon' | 'queue_timeout'; call_id: string; leg_id: string }
  /** `consult_to`: the hold that starts an attended transfer's consultation with that agent. */
  | { t: number; kind: 'hold' | 'unhold'; call_id: string; agent: string; consult_to?: string }
  | { t: number; kind: 'blind_transfer'; call_id: string; leg_id: string; agent: string; to_queue: string }
  | { t: number; kind: 'consult_ring' | 'consult_answer' | 'consult_cancel'; call_id: string; agent: string; target: string }
  | { t: number; kind: 'attended_transfer'; call_id: string; leg_id: string; agent: string; target: string }
  | { t: number; kind: 'agent_complete'; call_id: string; leg_id: string; agent: string; reason: 'agent' | 'caller' | 'transfer' }
  | { t: number; kind: 'call_end'; call_id: string; by: 'caller' | 'agent' | 'system'; agent: string | null }
  | { t: number; kind: 'outbound_start' | 'outbound_answer'; call_id: string; agent: string }
  | { t: number; kind: 'outbound_end'; call_id: string; agent: string; disposition: Disposition }
  /**
   * `core restart now`: the hang-ups that follow are the restart's; then Shutdown; then back up.
   * `pbx_crash`: the connections drop with nothing sent; the calls it cut have no action at all.
   */
  | { t: number; kind: 'pbx_restart' | 'pbx_shutdown' | 'pbx_crash' | 'pbx_up' };

export interface SimResult {
  ledger: Ledger;
  actions: SimAction[];
}

// ---- internal state -----------------------------------------------------------------------

interface Agent {
  spec: AgentSpec;
  state: AgentState;
  reason: string | null;
  since: number;
  lastFree: number;
  loggedIn: boolean;
  pendingPause: { minutes: number; reason: string } | null;
  pendingLogout: boolean;
  handled: number;
  missed: number;
  /** Bumped on every state change so stale timers are ignored. */
  ver: number;
  /** When the current shift's logout is due (a restart adds the agent back only before it). */
  shiftEnd: number;
}

/** The members rung at once for one leg (one for the default strategy, all for ring-all). */
interface Ringing {
  agents: Agent[];
  at: number;
}

interface Waiting {
  leg: LedgerLeg;
  call: LedgerCall;
  q: QueueSpec;
  ringing: Ringing | null;
  retryAt: number;
  tried: Set<string>;
  ver: number;
}

interface Ev {
  t: number;
  seq: number;
  run: () => void;
}

class Heap {
  private a: Ev[] = [];
  get size(): number {
    return this.a.length;
  }
  push(e: Ev): void {
    const a = this.a;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(a[p]!, a[i]!)) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }
  pop(): Ev {
    const a = this.a;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && less(a[l]!, a[m]!)) m = l;
        if (r < a.length && less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
}
function less(x: Ev, y: Ev): boolean {
  return x.t < y.t || (x.t === y.t && x.seq < y.seq);
}

const S = 1000;

/** Runs the scenario to completion. Same scenario, same result. */
export function simulate(sc: Scenario): SimResult {
  validateScenario(sc);
  const rng = new Rng(sc.seed);
  const rArr = rng.fork('arrivals');
  const rCall = rng.fork('calls');
  const rAgent = rng.fork('agents');
  const rOut = rng.fork('outbound');
  // Its own stream, so scenarios without mid-call changes keep every other draw as before.
  const rMid = rng.fork('midcall');
  const b = sc.behaviour;
  const queues = new Map(sc.queues.map((q) => [q.queue, q]));

  const heap = new Heap();
  let seq = 0;
  let now = sc.from_ms;
  /** While a crash books its cuts at the gap's start (in the past), timers still go forward from the crash. */
  let floor = sc.from_ms;
  const at = (t: number, run: () => void): void => heap.push({ t: Math.max(Math.round(t), now, floor), seq: seq++, run });

  const actions: SimAction[] = [];
  /** A crash's cuts send nothing: the PBX is gone. */
  let muted = false;
  const emit = (a: SimAction): void => void (muted || actions.push(a));
  const calls: LedgerCall[] = [];
  const legs: LedgerLeg[] = [];
  const direct: LedgerDirectSegment[] = [];
  const intervals: LedgerAgentInterval[] = [];
  const memberships: LedgerMembership[] = [];
  const pauseLog: LedgerPause[] = [];
  const openPause = new Map<string, LedgerPause>();
  const openMembership = new Map<string, LedgerMembership>();
  const waiting: Waiting[] = [];
  // What a restart must cut: answered legs still talking, outbound calls, transfer targets'
  // calls, and consultations (a restart waits for those to finish).
  const talking = new Map<string, { w: Waiting; a: Agent; holdFrom: number | null }>();
  const outActive = new Map<string, { call: LedgerCall; a: Agent; answered: boolean }>();
  const directActive = new Map<string, { call: LedgerCall; target: Agent; answeredAt: number }>();
  const consulting = new Set<string>();
  /** Calls a restart ended: their pending timers (hold, hang-up, transfer) must not run. */
  const cut = new Set<string>();
  const alive = (call: LedgerCall): boolean => !cut.has(call.call_id);
  const restarts: LedgerRestart[] = [];
  const crashes: LedgerCrash[] = [];
  /** From the restart until the PBX is back: no calls arrive, nobody starts anything. */
  let down = false;
  /** From a restart or crash until its members are added back: a crash waits for that. */
  let settling = false;
  let callSeq = 0;
  let legSeq = 0;

  const agents = new Map<string, Agent>();
  for (const spec of sc.agents) {
    agents.set(spec.agent, { spec, state: 'offline', reason: null, since: sc.from_ms, lastFree: sc.from_ms, loggedIn: false, pendingPause: null, pendingLogout: false, handled: 0, missed: 0, ver: 0, shiftEnd: Infinity });
  }

  const setState = (a: Agent, state: AgentState, reason: string | null = null): void => {
    if (a.state === state && a.reason === reason) return;
    if (now > a.since) intervals.push({ agent: a.spec.agent, state: a.state, reason: a.reason, from_ms: a.since, to_ms: now });
    a.state = state;
    a.reason = reason;
    a.since = now;
    a.ver++;
    if (state === 'available') a.lastFree = now;
  };

  // An agent who has just become free takes a deferred pause or logout a moment later, as a
  // person would (never in the same millisecond as the end of wrap-up); if a call rings first,
  // the deferral simply continues until the next time the agent is free.
  const becomeFree = (a: Agent): void => {
    setState(a, 'available');
    if (!a.pendingLogout && !a.pendingPause) return;
    const ver = a.ver;
    at(now + Math.round(rAgent.uniform(1, 6) * S), () => {
      if (a.ver !== ver || a.state !== 'available' || down) return;
      if (a.pendingLogout) {
        a.pendingLogout = false;
        logout(a);
      } else if (a.pendingPause) {
        const p = a.pendingPause;
        a.pendingPause = null;
        startPause(a, p.minutes, p.reason);
      }
    });
  };

  const startPause = (a: Agent, minutes: number, reason: string): void => {
    setState(a, 'paused', reason);
    emit({ t: now, kind: 'pause', agent: a.spec.agent, paused: true, reason });
    const p: LedgerPause = { agent: a.spec.agent, reason, from_ms: now, to_ms: now };
    pauseLog.push(p);
    openPause.set(a.spec.agent, p);
    const ver = a.ver;
    at(now + minutes * 60 * S, () => {
      if (a.ver !== ver || a.state !== 'paused') return;
      p.to_ms = now;
      openPause.delete(a.spec.agent);
      emit({ t: now, kind: 'pause', agent: a.spec.agent, paused: false, reason: '' });
      becomeFree(a);
    });
  };

  const login = (a: Agent): void => {
    if (a.loggedIn) return;
    a.loggedIn = true;
    for (const q of a.spec.queues) {
      emit({ t: now, kind: 'member_added', agent: a.spec.agent, queue: q });
      const m: LedgerMembership = { agent: a.spec.agent, queue: q, from_ms: now, to_ms: null };
      memberships.push(m);
      openMembership.set(`${a.spec.agent}\u0000${q}`, m);
    }
    setState(a, 'available');
  };

  const logout = (a: Agent): void => {
    a.loggedIn = false;
    a.pendingPause = null;
    if (a.state === 'paused') emit({ t: now, kind: 'pause', agent: a.spec.agent, paused: false, reason: '' });
    const p = openPause.get(a.spec.agent);
    if (p) p.to_ms = now;
    openPause.delete(a.spec.agent);
    for (const q of a.spec.queues) {
      emit({ t: now, kind: 'member_removed', agent: a.spec.agent, queue: q });
      const m = openMembership.get(`${a.spec.agent}\u0000${q}`);
      if (m) m.to_ms = now;
      openMembership.delete(`${a.spec.agent}\u0000${q}`);
    }
    setState(a, 'offline');
  };

  const callerNumber = (): string => sc.number_prefix + String(rCall.int(0, 99_999_999)).padStart(8, '0');

  // ---- queue legs -------------------------------------------------------------------------

  const newLeg = (call: LedgerCall, q: QueueSpec): Waiting => {
    const leg: LedgerLeg = {
      leg_id: `${call.call_id}-${++legSeq}`, call_id: call.call_id, queue: q.queue, offered_at_ms: now, left_at_ms: now, outcome: 'exited',
      exit_reason: null, overflow_to: null, wait_ms: 0, agent: null, answered_at_ms: null, completed_at_ms: null,
      talk_ms: 0, hold_ms: 0, wrap_ms: 0, transfer: null, complete_reason: null, rings: [],
    };
    legs.push(leg);
    call.legs.push(leg.leg_id);
    const w: Waiting = { leg, call, q, ringing: null, retryAt: now, tried: new Set(), ver: 0 };
    waiting.push(w);
    emit({ t: now, kind: 'queue_join', call_id: call.call_id, leg_id: leg.leg_id, queue: q.queue });
    if (q.max_wait_s !== null) {
      const ver = w.ver;
      at(now + q.max_wait_s * S, () => w.ver === ver && waiting.includes(w) && timeoutLeg(w));
    }
    return w;
  };

  const leaveQueue = (w: Waiting): void => {
    waiting.splice(waiting.indexOf(w), 1);
    w.ver++;
    w.leg.left_at_ms = now;
    w.leg.wait_ms = now - w.leg.offered_at_ms;
  };

  /** The agent's current ring record on this leg. */
  const ringOf = (w: Waiting, a: Agent): LedgerRing => w.leg.rings.findLast((x) => x.agent === a.spec.agent)!;

  const cancelRing = (w: Waiting): void => {
    const r = w.ringing;
    if (!r) return;
    w.ringing = null;
    for (const a of r.agents) {
      const ring = ringOf(w, a);
      ring.ended_ms = now;
      ring.outcome = 'canceled';
      emit({ t: now, kind: 'ring_end', call_id: w.call.call_id, leg_id: w.leg.leg_id, agent: a.spec.agent, outcome: 'canceled', ring_ms: now - r.at });
      becomeFree(a);
    }
  };

  const abandon = (w: Waiting): void => {
    cancelRing(w);
    leaveQueue(w);
    w.leg.outcome = 'abandoned';
    emit({ t: now, kind: 'abandon', call_id: w.call.call_id, leg_id: w.leg.leg_id });
    endCall(w.call, 'caller', null);
  };

  const timeoutLeg = (w: Waiting): void => {
    cancelRing(w);
    leaveQueue(w);
    w.leg.outcome = 'exited';
    w.leg.exit_reason = 'timeout';
    emit({ t: now, kind: 'queue_timeout', call_id: w.call.call_id, leg_id: w.leg.leg_id });
    const next = w.q.overflow_to ? queues.get(w.q.overflow_to)! : null;
    if (next) {
      w.leg.overflow_to = next.queue;
      const w2 = newLeg(w.call, next);
      patience(w2, (w.call as CallState).patienceAt);
    } else {
      endCall(w.call, 'system', null);
    }
  };

  const patience = (w: Waiting, deadline: number): void => {
    const ver = w.ver;
    at(deadline, () => w.ver === ver && waiting.includes(w) && abandon(w));
  };

  const endCall = (call: LedgerCall, by: LedgerCall['ended_by'], agent: string | null): void => {
    call.ended_at_ms = now;
    call.ended_by = by;
    call.duration_s = Math.floor(now / S) - Math.floor(call.started_at_ms / S);
    call.billsec_s = call.pbx_answered_at_ms === null ? 0 : Math.floor(now / S) - Math.floor(call.pbx_answered_at_ms / S);
    emit({ t: now, kind: 'call_end', call_id: call.call_id, by, agent });
  };

  // ---- dispatch: oldest waiting caller first, longest-idle available member ---------------

  const dispatch = (): void => {
    for (const w of [...waiting]) {
      if (w.ringing || now < w.retryAt) continue;
      const members = [...agents.values()].filter((a) => a.state === 'available' && a.spec.queues.includes(w.q.queue));
      if (!members.length) continue;
      if (w.q.strategy === 'ringall') {
        ring(w, members.sort((x, y) => (x.spec.agent < y.spec.agent ? -1 : 1)));
        continue;
      }
      let fresh = members.filter((a) => !w.tried.has(a.spec.agent));
      if (!fresh.length) {
        w.tried.clear();
        fresh = members;
      }
      fresh.sort((x, y) => x.lastFree - y.lastFree || (x.spec.agent < y.spec.agent ? -1 : 1));
      ring(w, [fresh[0]!]);
    }
  };

  // Every member rung draws whether and when it would answer (the same draws, in the same
  // order, as a single ring): the quickest to answer wins the race; if none would answer, all
  // ring out together at the queue's timeout.
  const ring = (w: Waiting, members: Agent[]): void => {
    const r: Ringing = { agents: members, at: now };
    w.ringing = r;
    for (const a of members) {
      setState(a, 'ringing');
      w.tried.add(a.spec.agent);
      w.leg.rings.push({ agent: a.spec.agent, at_ms: now, ended_ms: now, outcome: 'canceled' });
      emit({ t: now, kind: 'ring', call_id: w.call.call_id, leg_id: w.leg.leg_id, agent: a.spec.agent });
    }
    const wver = w.ver;
    const live = (): boolean => w.ver === wver && w.ringing === r;
    let first: { a: Agent; delay: number } | null = null;
    for (const a of members) {
      if (rCall.chance(b.no_answer_p)) continue;
      const delay = Math.min(rCall.uniform(b.ring_delay_min_s, b.ring_delay_max_s), w.q.ring_timeout_s - 0.5) * S;
      if (!first || delay < first.delay) first = { a, delay };
    }
    if (first) {
      const { a, delay } = first;
      at(now + delay, () => live() && answer(w, a));
      return;
    }
    at(now + w.q.ring_timeout_s * S, () => {
      if (!live()) return;
      w.ringing = null;
      w.retryAt = now + w.q.retry_s * S;
      at(w.retryAt, () => undefined);
      for (const a of members) {
        const rec = ringOf(w, a);
        rec.ended_ms = now;
        rec.outcome = 'no_answer';
        a.missed++;
        emit({ t: now, kind: 'ring_end', call_id: w.call.call_id, leg_id: w.leg.leg_id, agent: a.spec.agent, outcome: 'no_answer', ring_ms: now - r.at });
        becomeFree(a);
      }
    });
  };

  // ---- an answered leg: talk, maybe hold, then hang-up or transfer -------------------------

  const answer = (w: Waiting, a: Agent): void => {
    const race = w.ringing!;
    const ringMs = now - race.at;
    w.ringing = null;
    const rec = ringOf(w, a);
    rec.ended_ms = now;
    rec.outcome = 'answered';
    // Ring-all losers: a cancelled ring each (METRICS.md: no missed call), free again at once.
    const losers = race.agents.filter((x) => x !== a);
    for (const x of losers) ringOf(w, x).ended_ms = now;
    leaveQueue(w);
    const { leg, call } = w;
    leg.outcome = 'answered';
    leg.agent = a.spec.agent;
    leg.answered_at_ms = now;
    call.answered_at_ms ??= now;
    a.handled++;
    setState(a, 'on_call');
    emit({ t: now, kind: 'connect', call_id: call.call_id, leg_id: leg.leg_id, agent: a.spec.agent, ring_ms: ringMs, ...(losers.length ? { losers: losers.map((x) => x.spec.agent) } : {}) });
    for (const x of losers) becomeFree(x);
    const seg = { w, a, holdFrom: null as number | null };
    talking.set(call.call_id, seg);

    const talk = Math.max(5 * S, Math.round(rCall.lognormal(b.talk_mean_s, b.talk_cv) * S));
    const holdLen = rCall.chance(b.hold_p) ? Math.max(2 * S, Math.round(rCall.exp(b.hold_mean_s) * S)) : 0;
    const holdAt = holdLen ? Math.round(talk * rCall.uniform(0.2, 0.8)) : 0;
    const u = rCall.next();
    const canTransfer = sc.transfer_queue !== null && sc.transfer_queue !== leg.queue;
    const ending: 'agent' | 'caller' | TransferKind =
      canTransfer && u < b.blind_transfer_p ? 'blind' : u < b.blind_transfer_p + b.attended_transfer_p ? 'attended' : rCall.chance(b.caller_hangs_up_p) ? 'caller' : 'agent';
    const start = now;
    midCall(a, call, start, Math.round(talk * 0.18));
    if (holdLen) {
      at(start + holdAt, () => {
        if (!alive(call)) return;
        setState(a, 'on_hold');
        seg.holdFrom = now;
        emit({ t: now, kind: 'hold', call_id: call.call_id, agent: a.spec.agent });
      });
      at(start + holdAt + holdLen, () => {
        if (!alive(call)) return;
        setState(a, 'on_call');
        seg.holdFrom = null;
        leg.hold_ms += holdLen;
        emit({ t: now, kind: 'unhold', call_id: call.call_id, agent: a.spec.agent });
      });
    }
    at(start + talk + holdLen, () => alive(call) && finishSegment(w, a, ending));
  };

  // Membership and pause changes inside [start, start + within) of a call: before any hold or
  // transfer (which start at 20 % of the talk at the earliest), so the call's own timeline is
  // untouched. METRICS.md membership: removed from its last queue while on a call, the agent
  // stays on_call; paused is below on_call, so the state does not change, but the pause counts
  // in pause_time_by_reason.
  const midCall = (a: Agent, call: LedgerCall, start: number, within: number): void => {
    if (within < 4 * S) return;
    if (rMid.chance(b.midcall_membership_p ?? 0)) {
      const off = start + Math.round(rMid.uniform(0.1, 0.45) * within);
      const on = off + Math.round(rMid.uniform(0.1, 0.45) * within);
      at(off, () => {
        if (!alive(call)) return;
        for (const q of a.spec.queues) {
          const m = openMembership.get(`${a.spec.agent}\u0000${q}`);
          if (!m) continue;
          emit({ t: now, kind: 'member_removed', agent: a.spec.agent, queue: q });
          m.to_ms = now;
          openMembership.delete(`${a.spec.agent}\u0000${q}`);
        }
      });
      at(on, () => {
        if (!a.loggedIn || !alive(call)) return;
        for (const q of a.spec.queues) {
          if (openMembership.has(`${a.spec.agent}\u0000${q}`)) continue;
          emit({ t: now, kind: 'member_added', agent: a.spec.agent, queue: q });
          const m: LedgerMembership = { agent: a.spec.agent, queue: q, from_ms: now, to_ms: null };
          memberships.push(m);
          openMembership.set(`${a.spec.agent}\u0000${q}`, m);
        }
      });
    } else if (rMid.chance(b.midcall_pause_p ?? 0)) {
      const from = start + Math.round(rMid.uniform(0.1, 0.45) * within);
      const to = from + Math.round(rMid.uniform(0.1, 0.45) * within);
      const reason = 'Coaching';
      at(from, () => {
        if (!alive(call)) return;
        pauseLog.push({ agent: a.spec.agent, reason, from_ms: now, to_ms: to });
        emit({ t: now, kind: 'pause', agent: a.spec.agent, paused: true, reason });
      });
      at(to, () => alive(call) && emit({ t: now, kind: 'pause', agent: a.spec.agent, paused: false, reason: '' }));
    }
  };

  const completeLeg = (w: Waiting, a: Agent, reason: 'agent' | 'caller' | 'transfer'): void => {
    const { leg } = w;
    talking.delete(w.call.call_id);
    leg.completed_at_ms = now;
    leg.complete_reason = reason;
    leg.talk_ms = now - leg.answered_at_ms! - leg.hold_ms;
    leg.wrap_ms = w.q.wrap_up_s * S;
    emit({ t: now, kind: 'agent_complete', call_id: w.call.call_id, leg_id: leg.leg_id, agent: a.spec.agent, reason });
    if (w.q.wrap_up_s > 0) {
      setState(a, 'wrap_up');
      const ver = a.ver;
      at(now + w.q.wrap_up_s * S, () => a.ver === ver && becomeFree(a));
    } else {
      becomeFree(a);
    }
  };

  const finishSegment = (w: Waiting, a: Agent, ending: 'agent' | 'caller' | TransferKind): void => {
    const { call, leg } = w;
    if (ending === 'blind') {
      const to = queues.get(sc.transfer_queue!)!;
      leg.transfer = 'blind';
      call.transfers.push({ kind: 'blind', at_ms: now, from_agent: a.spec.agent, to_queue: to.queue, to_agent: null });
      emit({ t: now, kind: 'blind_transfer', call_id: call.call_id, leg_id: leg.leg_id, agent: a.spec.agent, to_queue: to.queue });
      completeLeg(w, a, 'transfer');
      const w2 = newLeg(call, to);
      patience(w2, now + Math.round(rCall.exp(b.patience_mean_s) * S));
      return;
    }
    if (ending === 'attended') {
      const target = [...agents.values()].filter((x) => x.state === 'available' && x !== a).sort((x, y) => x.lastFree - y.lastFree)[0];
      if (target) return attended(w, a, target);
      ending = 'agent';
    }
    completeLeg(w, a, ending);
    endCall(call, ending, a.spec.agent);
  };

  // Attended: the caller goes on hold while the agent consults the target; the consultation
  // counts as hold time on the leg. After the transfer the target talks to the caller as a
  // direct (non-queue) call.
  const attended = (w: Waiting, a: Agent, target: Agent): void => {
    const { call, leg } = w;
    const holdFrom = now;
    consulting.add(call.call_id);
    setState(a, 'on_hold');
    emit({ t: now, kind: 'hold', call_id: call.call_id, agent: a.spec.agent, consult_to: target.spec.agent });
    setState(target, 'ringing');
    emit({ t: now, kind: 'consult_ring', call_id: call.call_id, agent: a.spec.agent, target: target.spec.agent });
    const ringFor = rCall.uniform(b.ring_delay_min_s, b.ring_delay_max_s) * S;
    const consult = Math.max(3 * S, rCall.exp(b.consult_mean_s) * S);
    const after = Math.max(5 * S, rCall.lognormal(b.talk_mean_s, b.talk_cv) * S);
    if (rMid.chance(b.consult_cancel_p ?? 0)) {
      // The target never answers: the agent hangs up the consultation and is back with the
      // caller (h3). The ring is no missed call (no queue rang the target); the wait on hold
      // is the leg's hold; the leg then ends as an ordinary agent hang-up.
      at(now + Math.round(rMid.uniform(5, 12) * S), () => {
        leg.hold_ms += now - holdFrom;
        consulting.delete(call.call_id);
        setState(a, 'on_call');
        emit({ t: now, kind: 'consult_cancel', call_id: call.call_id, agent: a.spec.agent, target: target.spec.agent });
        becomeFree(target);
        at(now + Math.max(5 * S, Math.round(rMid.exp(b.talk_mean_s / 4) * S)), () => {
          if (!alive(call)) return;
          completeLeg(w, a, 'agent');
          endCall(call, 'agent', a.spec.agent);
        });
      });
      return;
    }
    at(now + ringFor, () => {
      setState(target, 'on_call');
      target.handled++;
      emit({ t: now, kind: 'consult_answer', call_id: call.call_id, agent: a.spec.agent, target: target.spec.agent });
      at(now + consult, () => {
        // METRICS.md: the target is credited with the call and its talk from the transfer on;
        // the consultation before it is the transferring leg's hold (the target is on_call).
        const answeredAt = now;
        leg.hold_ms += now - holdFrom;
        leg.transfer = 'attended';
        call.transfers.push({ kind: 'attended', at_ms: now, from_agent: a.spec.agent, to_queue: null, to_agent: target.spec.agent });
        emit({ t: now, kind: 'attended_transfer', call_id: call.call_id, leg_id: leg.leg_id, agent: a.spec.agent, target: target.spec.agent });
        consulting.delete(call.call_id);
        completeLeg(w, a, 'transfer');
        directActive.set(call.call_id, { call, target, answeredAt });
        at(now + after, () => alive(call) && endDirect(call, target, answeredAt, 'agent'));
      });
    });
  };

  const endDirect = (call: LedgerCall, target: Agent, answeredAt: number, by: LedgerCall['ended_by']): void => {
    directActive.delete(call.call_id);
    direct.push({ call_id: call.call_id, agent: target.spec.agent, answered_at_ms: answeredAt, ended_at_ms: now, talk_ms: now - answeredAt, hold_ms: 0 });
    endCall(call, by, target.spec.agent);
    becomeFree(target);
  };

  // ---- arrivals: a Poisson process whose rate follows the local hour-of-day profile ---------

  const weightSum = sc.hour_profile.reduce((s, x) => s + x, 0);
  const STEP = 15 * 60 * S;
  for (const q of sc.queues) {
    if (q.calls_per_day <= 0) continue;
    for (let t0 = sc.from_ms; t0 < sc.to_ms; t0 += STEP) {
      const hour = DateTime.fromMillis(t0, { zone: sc.timezone }).hour;
      const perMs = (q.calls_per_day * sc.hour_profile[hour]!) / weightSum / (3600 * S);
      if (perMs <= 0) continue;
      const end = Math.min(t0 + STEP, sc.to_ms);
      for (let t = t0 + rArr.exp(1 / perMs); t < end; t += rArr.exp(1 / perMs)) {
        at(t, () => {
          if (down) return;
          const call: CallState = {
            call_id: `${sc.pbx}-${String(++callSeq).padStart(6, '0')}`, direction: 'inbound', number: callerNumber(), agent: null,
            started_at_ms: now, answered_at_ms: null, pbx_answered_at_ms: now, ended_at_ms: now, disposition: 'ANSWERED', duration_s: 0, billsec_s: 0,
            ended_by: 'caller', ended_in: null, legs: [], transfers: [], patienceAt: now + Math.round(rCall.exp(b.patience_mean_s) * S),
          };
          // The dialplan Answer()s before Queue(), so the caller's CDR says ANSWERED even when
          // the caller abandons (captures, README point 10).
          calls.push(call);
          emit({ t: now, kind: 'call_in', call_id: call.call_id });
          const w = newLeg(call, q);
          patience(w, call.patienceAt);
        });
      }
    }
  }

  // ---- shifts, breaks and outbound calls --------------------------------------------------

  const firstDay = DateTime.fromMillis(sc.from_ms, { zone: sc.timezone }).startOf('day').minus({ days: 1 });
  for (const a of agents.values()) {
    for (let d = firstDay; d.toMillis() < sc.to_ms; d = d.plus({ days: 1 })) {
      const [hh, mm] = a.spec.shift_start.split(':').map(Number) as [number, number];
      const start = d.set({ hour: hh, minute: mm }).toMillis();
      const end = d.set({ hour: hh, minute: mm }).plus({ minutes: Math.round(a.spec.shift_hours * 60) }).toMillis();
      if (end <= sc.from_ms || start >= sc.to_ms) continue;
      at(Math.max(start, sc.from_ms), () => {
        a.shiftEnd = sc.logout_at_end ? Math.min(end, sc.to_ms) : end < sc.to_ms ? end : Infinity;
        login(a);
      });
      if (end < sc.to_ms) {
        at(end, () => {
          if (!a.loggedIn) return;
          if (a.state === 'available' || a.state === 'paused') logout(a);
          else a.pendingLogout = true;
        });
      }
      const pauses = [...b.breaks];
      if (rAgent.chance(b.extra_pause_p)) pauses.push({ after_h: rAgent.uniform(1, a.spec.shift_hours - 1), minutes: rAgent.int(10, 40), reason: rAgent.pick(b.extra_pause_reasons) });
      for (const p of pauses) {
        const pt = start + Math.round((p.after_h * 3600 + rAgent.uniform(-600, 600)) * S);
        if (pt < sc.from_ms || pt >= Math.min(end, sc.to_ms)) continue;
        at(pt, () => {
          if (!a.loggedIn || down) return;
          if (a.state === 'available') startPause(a, p.minutes, p.reason);
          else if (a.state !== 'paused' && !a.pendingPause) a.pendingPause = { minutes: p.minutes, reason: p.reason };
        });
      }
      if (b.outbound_per_agent_hour > 0) {
        const lo = Math.max(start, sc.from_ms);
        const hi = Math.min(end, sc.to_ms);
        for (let t = lo + rOut.exp(3600 * S / b.outbound_per_agent_hour); t < hi; t += rOut.exp(3600 * S / b.outbound_per_agent_hour)) {
          at(t, () => a.state === 'available' && !down && outbound(a));
        }
      }
    }
  }

  const outbound = (a: Agent): void => {
    const call: LedgerCall = {
      call_id: `${sc.pbx}-${String(++callSeq).padStart(6, '0')}`, direction: 'outbound', number: callerNumber(), agent: a.spec.agent,
      started_at_ms: now, answered_at_ms: null, pbx_answered_at_ms: null, ended_at_ms: now, disposition: 'NO ANSWER', duration_s: 0, billsec_s: 0,
      ended_by: 'agent', ended_in: null, legs: [], transfers: [],
    };
    calls.push(call);
    setState(a, 'on_call');
    emit({ t: now, kind: 'outbound_start', call_id: call.call_id, agent: a.spec.agent });
    const u = rOut.next();
    const ringFor = rOut.uniform(3, 25) * S;
    const disposition: Disposition = u < b.outbound_answer_p ? 'ANSWERED' : u < b.outbound_answer_p + b.outbound_busy_p ? 'BUSY' : 'NO ANSWER';
    const talk = Math.max(5 * S, rOut.lognormal(b.talk_mean_s * 0.7, b.talk_cv) * S);
    const o = { call, a, answered: false };
    outActive.set(call.call_id, o);
    const hangup = (): void => endOutbound(o, disposition, 'agent');
    if (disposition === 'ANSWERED') {
      at(now + ringFor, () => {
        if (!alive(call)) return;
        o.answered = true;
        call.answered_at_ms = now;
        call.pbx_answered_at_ms = now;
        emit({ t: now, kind: 'outbound_answer', call_id: call.call_id, agent: a.spec.agent });
        at(now + talk, () => alive(call) && hangup());
      });
    } else {
      at(now + (disposition === 'BUSY' ? 2 * S : ringFor), () => alive(call) && hangup());
    }
  };

  const endOutbound = (o: { call: LedgerCall; a: Agent }, disposition: Disposition, by: LedgerCall['ended_by']): void => {
    outActive.delete(o.call.call_id);
    o.call.disposition = disposition;
    endCall(o.call, by, o.a.spec.agent);
    emit({ t: now, kind: 'outbound_end', call_id: o.call.call_id, agent: o.a.spec.agent, disposition });
    becomeFree(o.a);
  };

  // ---- `core restart now` (j_restart) ---------------------------------------------------------

  // Asterisk hangs every channel up with an event each: a waiting caller is a QueueCallerAbandon
  // (queue_log ABANDON), a talking call the agent's hang-up (AgentComplete Reason agent, queue_log
  // COMPLETEAGENT), so the feed itself ends them at the restart; nothing is left for the resync
  // but the members, which vanish without an event and so end at the gap's start (METRICS.md
  // "Gaps of the feed": the last moment the feed knew them, the Shutdown).
  const restart = (): void => {
    if (consulting.size > 0 || down || settling) {
      // Not inside an Atxfer consultation (what Asterisk sends then is not captured).
      at(now + S, restart);
      return;
    }
    down = true;
    settling = true;
    const rec: LedgerRestart = { at_ms: now, gap_from_ms: now + RESTART_SHUTDOWN_MS, up_ms: now + RESTART_SHUTDOWN_MS + RESTART_DOWN_MS, calls_cut: [] };
    restarts.push(rec);
    emit({ t: now, kind: 'pbx_restart' });
    for (const w of [...waiting]) {
      rec.calls_cut.push(w.call.call_id);
      cancelRing(w);
      leaveQueue(w);
      w.leg.outcome = 'abandoned';
      emit({ t: now, kind: 'abandon', call_id: w.call.call_id, leg_id: w.leg.leg_id });
      endCall(w.call, 'system', null);
    }
    for (const { w, a, holdFrom } of [...talking.values()]) {
      rec.calls_cut.push(w.call.call_id);
      if (holdFrom !== null) w.leg.hold_ms += now - holdFrom;
      completeLeg(w, a, 'agent');
      endCall(w.call, 'system', a.spec.agent);
    }
    for (const o of [...outActive.values()]) {
      rec.calls_cut.push(o.call.call_id);
      endOutbound(o, o.answered ? 'ANSWERED' : 'NO ANSWER', 'system');
    }
    for (const d of [...directActive.values()]) {
      rec.calls_cut.push(d.call.call_id);
      endDirect(d.call, d.target, d.answeredAt, 'system');
    }
    for (const c of rec.calls_cut) cut.add(c);
    at(rec.gap_from_ms, () => shutdown(rec));
  };

  const shutdown = (rec: LedgerRestart): void => {
    emit({ t: now, kind: 'pbx_shutdown' });
    const back = membersVanish();
    backUp(rec.up_ms, back);
  };

  // The PBX process is gone: its dynamic members vanish without an event, so memberships, pauses
  // and logged-in time end now (the gap's start); returns the agents to add back later.
  const membersVanish = (): Agent[] => {
    const back: Agent[] = [];
    for (const a of agents.values()) {
      if (!a.loggedIn) continue;
      for (const q of a.spec.queues) {
        const m = openMembership.get(`${a.spec.agent}\u0000${q}`);
        if (m) m.to_ms = now;
        openMembership.delete(`${a.spec.agent}\u0000${q}`);
      }
      const p = openPause.get(a.spec.agent);
      if (p) p.to_ms = now;
      openPause.delete(a.spec.agent);
      a.loggedIn = false;
      if (!a.pendingLogout) back.push(a);
      a.pendingLogout = false;
      setState(a, 'offline');
    }
    // Pauses taken on a call have their unpause scheduled; the restart ended them now.
    for (const p of pauseLog) if (p.from_ms <= now && p.to_ms > now) p.to_ms = now;
    return back;
  };

  const backUp = (upMs: number, back: Agent[]): void => {
    at(upMs, () => {
      down = false;
      emit({ t: now, kind: 'pbx_up' });
      at(now + RESTART_READD_MS, () => {
        settling = false;
        for (const a of back) if (now < a.shiftEnd) login(a);
      });
    });
  };

  // ---- a crash (`kill -9`) ------------------------------------------------------------------

  // Nothing is sent: the receiver's last sign of life is the last frame before the crash, so
  // that is where the gap starts (METRICS.md "Gaps of the feed": the last moment it was known
  // alive), and everything the crash cut ends there, as if the PBX had died then: waiting
  // callers leave unanswered (`exited`, reason `gap`: nobody hung up, the line dropped), talking
  // ones complete with their talk and hold up to then, rings are cancelled (no missed call),
  // the calls end flagged `ended_in: 'gap'`, members, pauses and logged-in time end there too.
  // The model's clock is set back to the gap's start for this bookkeeping, with nothing emitted.
  // What the model did silently after that moment (a wrap-up that ran out: Asterisk sends no
  // event for it) is cut back to it as well: the feed never said it.
  const crash = (downMs: number): void => {
    if (consulting.size > 0 || down || settling) {
      at(now + S, () => crash(downMs));
      return;
    }
    const crashAt = now;
    const gapFrom = lastFrameAt();
    emit({ t: crashAt, kind: 'pbx_crash' });
    down = true;
    settling = true;
    const rec: LedgerCrash = { at_ms: crashAt, gap_from_ms: gapFrom, up_ms: crashAt + downMs, calls_cut: [] };
    crashes.push(rec);
    muted = true;
    floor = crashAt;
    now = gapFrom;
    for (const i of intervals) if (i.to_ms > gapFrom) i.to_ms = Math.max(i.from_ms, gapFrom);
    for (const a of agents.values()) if (a.since > gapFrom) a.since = gapFrom;
    const cutCall = (call: LedgerCall): void => {
      rec.calls_cut.push(call.call_id);
      call.ended_in = 'gap';
    };
    for (const w of [...waiting]) {
      cutCall(w.call);
      cancelRing(w);
      leaveQueue(w);
      w.leg.outcome = 'exited';
      w.leg.exit_reason = 'gap';
      endCall(w.call, 'system', null);
    }
    for (const { w, a, holdFrom } of [...talking.values()]) {
      cutCall(w.call);
      if (holdFrom !== null) w.leg.hold_ms += now - holdFrom;
      completeLeg(w, a, 'agent');
      endCall(w.call, 'system', a.spec.agent);
    }
    for (const o of [...outActive.values()]) {
      cutCall(o.call);
      endOutbound(o, o.answered ? 'ANSWERED' : 'NO ANSWER', 'system');
    }
    for (const d of [...directActive.values()]) {
      cutCall(d.call);
      endDirect(d.call, d.target, d.answeredAt, 'system');
    }
    const back = membersVanish();
    for (let i = intervals.length - 1; i >= 0; i--) if (intervals[i]!.to_ms <= intervals[i]!.from_ms) intervals.splice(i, 1);
    for (const c of rec.calls_cut) cut.add(c);
    muted = false;
    now = crashAt;
    floor = sc.from_ms;
    backUp(rec.up_ms, back);
  };

  /** PBX time of the last frame sent so far: the last action that renders one (`pbx_up` does not). */
  const lastFrameAt = (): number => {
    for (let i = actions.length - 1; i >= 0; i--) if (actions[i]!.kind !== 'pbx_up') return actions[i]!.t;
    return sc.from_ms;
  };

  for (const r of sc.restarts ?? []) if (r.at_ms >= sc.from_ms && r.at_ms < sc.to_ms) at(r.at_ms, restart);
  for (const c of sc.crashes ?? []) if (c.at_ms >= sc.from_ms && c.at_ms < sc.to_ms) at(c.at_ms, () => crash(c.down_ms));

  if (sc.logout_at_end) {
    for (const a of agents.values()) {
      at(sc.to_ms, () => {
        if (!a.loggedIn) return;
        if (a.state === 'available' || a.state === 'paused') logout(a);
        else a.pendingLogout = true;
      });
    }
  }

  // ---- run ----------------------------------------------------------------------------------

  while (heap.size) {
    const e = heap.pop();
    now = e.t;
    e.run();
    dispatch();
  }
  const end = Math.max(now, sc.to_ms);
  now = end;
  for (const p of openPause.values()) p.to_ms = end;
  pauseLog.sort((x, y) => x.from_ms - y.from_ms || (x.agent < y.agent ? -1 : 1));
  for (const a of agents.values()) {
    if (end > a.since) intervals.push({ agent: a.spec.agent, state: a.state, reason: a.reason, from_ms: a.since, to_ms: end });
  }
  intervals.sort((x, y) => x.from_ms - y.from_ms || (x.agent < y.agent ? -1 : 1));
  for (const c of calls) delete (c as Partial<CallState>).patienceAt;

  return {
    ledger: {
      tenant: sc.tenant, pbx: sc.pbx, timezone: sc.timezone, seed: sc.seed, from_ms: sc.from_ms, to_ms: sc.to_ms, end_ms: end,
      queues: sc.queues.map((q) => ({ queue: q.queue, wrap_up_s: q.wrap_up_s, max_wait_s: q.max_wait_s, overflow_to: q.overflow_to })),
      agents: [...agents.values()].map((a) => ({ agent: a.spec.agent, name: a.spec.name, handled: a.handled, missed: a.missed })),
      calls, legs, direct, agent_intervals: intervals, memberships, pauses: pauseLog, restarts, crashes,
    },
    actions,
  };
}

type CallState = LedgerCall & { patienceAt: number };

export class ScenarioError extends Error {}

function validateScenario(sc: Scenario): void {
  const qs = new Set(sc.queues.map((q) => q.queue));
  const fail = (m: string): never => {
    throw new ScenarioError(`simulator scenario for tenant ${sc.tenant}, PBX ${sc.pbx}: ${m}`);
  };
  if (sc.hour_profile.length !== 24) fail(`hour_profile has ${sc.hour_profile.length} entries, expected 24`);
  if (!(sc.to_ms > sc.from_ms)) fail('to_ms must be after from_ms');
  if (!IANAZone.isValidZone(sc.timezone)) fail(`unknown time zone ${sc.timezone}`);
  for (const q of sc.queues) {
    if (q.overflow_to !== null && !qs.has(q.overflow_to)) fail(`queue ${q.queue} overflows to unknown queue ${q.overflow_to}`);
    if (q.overflow_to === q.queue) fail(`queue ${q.queue} overflows to itself`);
  }
  if (sc.transfer_queue !== null && !qs.has(sc.transfer_queue)) fail(`transfer_queue ${sc.transfer_queue} is not a queue`);
  for (const a of sc.agents) for (const q of a.queues) if (!qs.has(q)) fail(`agent ${a.agent} is a member of unknown queue ${q}`);
}

// Calls and their queue legs: opening a call, its start, entering and leaving a queue, an agent's
// completion, and an attended transfer's target. Built on ops/agents.ts; ops/snapshot.ts and the
// handlers build on it.
import { makeEvent, type Direction } from '@callboard/schemas';
import type { Member } from '../messages.ts';
import { STALE_CALL_MS, dict, eventCtx, memberKey, phaseOf, type CallState, type Cx, type LegState, type MemberState, type TranslatorState } from '../state.ts';

export function call(st: TranslatorState, callId: string, t: number): CallState {
  let c = st.calls[callId];
  if (!c) {
    c = {
      call_id: callId,
      started: false,
      started_at: t,
      direction: 'internal',
      members: dict<MemberState>(),
      legs: [],
      caller_gone: false,
      answered: false,
      cdr_seen: false,
      last_seen: t,
    };
    st.calls[callId] = c;
  }
  c.last_seen = Math.max(c.last_seen, t);
  return c;
}

/** Calls not seen for hours (BYE and CDR both missed) are dropped from the live state. */
export function sweep(st: TranslatorState, t: number): void {
  for (const [id, c] of Object.entries(st.calls)) if (t - c.last_seen > STALE_CALL_MS) delete st.calls[id];
}

export function start(cx: Cx, c: CallState, members: Member[], t: number): void {
  if (c.started) return;
  c.started = true;
  c.started_at = t;
  const inbound = members.find((m) => m.role === 'inbound');
  const outbound = members.find((m) => m.role === 'outbound');
  const exts = members.filter((m) => m.role === 'extension');
  const callerExt = exts.find((m) => m.status === 'ALERT' || m.status === 'ANSWERED') ?? exts[0];
  let payload: { direction: Direction; caller_number: string; called_number: string; extension?: string; trunk?: string };
  if (inbound) {
    payload = { direction: 'inbound', caller_number: inbound.from, called_number: inbound.to, trunk: inbound.trunk || undefined };
  } else if (outbound) {
    const ext = callerExt?.number || outbound.from;
    payload = {
      direction: 'outbound',
      caller_number: outbound.from || ext,
      called_number: outbound.to,
      extension: ext || undefined,
      trunk: outbound.trunk || undefined,
    };
  } else {
    const called = exts.find((m) => m !== callerExt);
    payload = {
      direction: 'internal',
      caller_number: callerExt?.number ?? '',
      called_number: called?.number ?? '',
      extension: callerExt?.number || undefined,
    };
  }
  c.direction = payload.direction;
  cx.out.push(makeEvent('call.started', eventCtx(cx, t, `${c.call_id}|started`), { call_id: c.call_id }, payload));
}

/** The queue the caller currently sits in, from the caller-side member's call_path. */
export function openLeg(st: TranslatorState, cx: Cx, c: CallState, queue: string, t: number, callerNumber: string): LegState {
  const current = c.legs.at(-1);
  if (current && current.queue === queue && (current.status === 'waiting' || current.status === 'answered')) return current;
  if (current && current.status === 'waiting') leaveLeg(st, cx, c, current, 'other', t);
  const n = c.legs.filter((l) => l.queue === queue).length + 1;
  const waiting = Object.values(st.calls).reduce((k, x) => k + x.legs.filter((l) => l.queue === queue && l.status === 'waiting').length, 0);
  const leg: LegState = { queue, leg_id: `${c.call_id}:${queue}:${n}`, queued_at: t, position: waiting + 1, status: 'waiting' };
  c.legs.push(leg);
  cx.out.push(
    makeEvent(
      'call.queued',
      eventCtx(cx, t, `${c.call_id}|leg|${leg.leg_id}`),
      { call_id: c.call_id },
      { queue, leg_id: leg.leg_id, position: leg.position, caller_number: callerNumber || undefined },
    ),
  );
  return leg;
}

/** Where a waiting leg stands now: 1 + legs of its queue still waiting that entered before it. */
export function currentPosition(st: TranslatorState, leg: LegState): number {
  let ahead = 0;
  for (const c of Object.values(st.calls)) {
    for (const l of c.legs) if (l !== leg && l.queue === leg.queue && l.status === 'waiting' && l.queued_at < leg.queued_at) ahead++;
  }
  return ahead + 1;
}

export function leaveLeg(st: TranslatorState, cx: Cx, c: CallState, leg: LegState, reason: 'other' | 'transfer', t: number): void {
  const position = currentPosition(st, leg);
  leg.status = 'exited';
  cx.out.push(
    makeEvent(
      'call.left_queue',
      eventCtx(cx, t, `${c.call_id}|${leg.leg_id}|left`),
      { call_id: c.call_id },
      { queue: leg.queue, leg_id: leg.leg_id, reason, wait_ms: Math.max(0, t - leg.queued_at), position },
    ),
  );
}

export function complete(cx: Cx, c: CallState, key: string, s: MemberState, reason: 'caller' | 'agent' | 'transfer', t: number, wasHeld: boolean): void {
  s.done = true;
  // Hung up while on hold: the hold lasted until the end.
  if (wasHeld && s.hold_at !== undefined) s.hold_ms += t - s.hold_at;
  const talk = Math.max(0, t - (s.answer_at ?? t));
  cx.out.push(
    makeEvent(
      'call.agent_completed',
      eventCtx(cx, t, `${c.call_id}|${key}|completed`),
      { call_id: c.call_id },
      {
        agent_id: s.number,
        queue: s.queue,
        leg_id: s.leg_id,
        reason,
        talk_ms: talk,
        hold_ms: Math.min(talk, Math.max(0, s.hold_ms)),
      },
    ),
  );
}

/** Another agent of the call is credited with it and still on it (connected or held). */
export function creditedAgentOtherThan(c: CallState, key: string): boolean {
  return Object.entries(c.members).some(
    ([k, o]) =>
      k !== key &&
      o.role === 'extension' &&
      !o.caller_side &&
      !o.done &&
      !o.consult &&
      o.answer_at !== undefined &&
      (phaseOf(o.status) === 'connected' || phaseOf(o.status) === 'held'),
  );
}

/** The consultation the transfer report's target answered, by channel, else by extension number. */
export function consultOf(c: CallState, target: Member): [string, MemberState] | undefined {
  const live = Object.entries(c.members).filter(([, s]) => s.consult && !s.done);
  return live.find(([k]) => k === memberKey(target)) ?? live.find(([, s]) => s.number === target.number);
}

/**
 * The target of an attended transfer receives the call now: credited with it and its talk from
 * here (METRICS.md handled), not from the consultation's answer; its ring is the consultation's
 * ring, and the call waited that long for this agent, as on the AMI path.
 */
export function creditTarget(cx: Cx, c: CallState, key: string, s: MemberState, t: number): void {
  s.consult = false;
  s.answer_at = t;
  s.queue = undefined;
  s.leg_id = undefined;
  s.hold_ms = 0;
  if (phaseOf(s.status) === 'held') s.hold_at = t;
  const ringMs = s.consult_ring_ms;
  cx.out.push(
    makeEvent(
      'call.answered',
      eventCtx(cx, t, `${c.call_id}|${key}|answer`),
      { call_id: c.call_id },
      {
        agent_id: s.number,
        wait_ms: ringMs ?? 0,
        ring_ms: ringMs,
      },
    ),
  );
}

// A call-status snapshot (the whole call's member list, no time of its own) applied to a call:
// which member is the caller, the queue leg it opens or leaves, and each member's transition
// since the last snapshot (ring, answer, hold, resume, hang-up) as events. Used by the call
// status handler, the transfer handler (a partial list) and the reconnect.
import { makeEvent } from '@callboard/schemas';
import type { Member } from '../messages.ts';
import { eventCtx, isQueue, memberKey, phaseOf, type CallState, type Cx, type LegState, type TranslatorState } from '../state.ts';
import { trackAgent } from './agents.ts';
import { call, complete, creditedAgentOtherThan, currentPosition, leaveLeg, openLeg, start } from './calls.ts';

/**
 * Applies a member list. `partial`: the list is not the whole call (a transfer report), so
 * members missing from it are left alone instead of being taken as gone.
 */
export function snapshot(st: TranslatorState, cx: Cx, callId: string, members: Member[], t: number, partial: boolean): void {
  const c = call(st, callId, t);
  start(cx, c, members, t);
  const isNewCall = Object.keys(c.members).length === 0;

  // Which member is the customer / caller side: the trunk leg of an inbound call, otherwise
  // the extension that placed the call (ALERT when first seen).
  const seen = new Map<string, Member>();
  for (const m of members) seen.set(memberKey(m), m);
  const placing = (m: Member) => m.role === 'extension' && (m.status === 'ALERT' || m.status === 'ANSWERED');
  // No extension shows the caller's statuses: the first extension of a new call placed it.
  const firstExt = isNewCall && !members.some(placing) ? members.find((x) => x.role === 'extension') : undefined;
  for (const [k, m] of seen) {
    if (c.members[k]) continue;
    const callerSide = m.role === 'inbound' || (m.role === 'extension' && c.direction !== 'inbound' && (placing(m) || m === firstExt));
    c.members[k] = { role: m.role, number: m.number, status: '', call_path: m.call_path, caller_side: callerSide, hold_ms: 0, holds: 0, done: false };
  }

  // Queue position of the caller: the caller-side member's call_path (any member's when the caller has none).
  const callerMember = members.find((m) => c.members[memberKey(m)]?.caller_side);
  const callerNumber = members.find((m) => m.role === 'inbound')?.from ?? callerMember?.number ?? '';
  const path = callerMember?.call_path || members.find((m) => m.call_path)?.call_path || '';
  const callerGoneNow =
    (callerMember !== undefined && phaseOf(callerMember.status) === 'gone') ||
    (!partial && callerMember === undefined && Object.values(c.members).some((x) => x.caller_side)) ||
    (!partial && members.length > 0 && members.every((m) => phaseOf(m.status) === 'gone'));
  if (isQueue(cx.opts, path) && !c.caller_gone && !callerGoneNow) openLeg(st, cx, c, path, t, callerNumber);
  else {
    const current = c.legs.at(-1);
    // The caller left the queue for somewhere else (failover to voicemail, IVR, another destination).
    if (
      current &&
      current.status === 'waiting' &&
      !callerGoneNow &&
      callerMember &&
      callerMember.call_path !== current.queue &&
      !members.some((m) => m.call_path === current.queue && phaseOf(m.status) === 'ringing')
    ) {
      leaveLeg(st, cx, c, current, 'other', t);
    }
  }
  const leg = c.legs.at(-1);

  // Answers first, so that other ringing members of the same leg are known as ring-all losers.
  const order = [...seen.entries()].sort(([, a], [, b]) => Number(phaseOf(b.status) === 'connected') - Number(phaseOf(a.status) === 'connected'));
  for (const [k, m] of order) member(st, cx, c, k, m, leg, callerGoneNow, t);
  if (!partial) {
    for (const [k, ms] of Object.entries(c.members)) {
      if (!seen.has(k) && !ms.done) member(st, cx, c, k, { ...ms, channel_id: k, from: '', to: '', trunk: '', status: 'BYE' }, leg, callerGoneNow, t);
    }
  }
  if (callerGoneNow && !c.caller_gone) {
    c.caller_gone = true;
    if (leg && leg.status === 'waiting') {
      const position = currentPosition(st, leg);
      leg.status = 'abandoned';
      cx.out.push(
        makeEvent(
          'call.abandoned',
          eventCtx(cx, t, `${c.call_id}|${leg.leg_id}|abandoned`),
          { call_id: c.call_id },
          {
            queue: leg.queue,
            leg_id: leg.leg_id,
            wait_ms: Math.max(0, t - leg.queued_at),
            position,
            original_position: leg.position,
          },
        ),
      );
    }
  }
  if (c.cdr_seen && Object.values(c.members).every((m) => m.done)) delete st.calls[callId];
}

/** One member's transition from its last known status to `m.status`. */
function member(st: TranslatorState, cx: Cx, c: CallState, key: string, m: Member, leg: LegState | undefined, callerGoneNow: boolean, t: number): void {
  const s = c.members[key]!;
  if (s.done) return;
  const prev = phaseOf(s.status);
  const next = phaseOf(m.status);
  if (m.status) s.status = m.status;
  if (m.call_path) s.call_path = m.call_path;
  if (m.status === '' || prev === next) return;
  const id = { call_id: c.call_id };
  const agentSide = s.role === 'extension' && !s.caller_side;
  const agentKey = `${c.call_id}|${key}`;

  if (s.caller_side || s.role !== 'extension') {
    if (next === 'connected' && s.role === 'outbound') c.answered = true;
    if (s.role === 'extension') {
      // An extension that placed the call can hold it too (internal and outbound calls).
      if (next === 'held') {
        s.holds++;
        s.hold_at = t;
        cx.out.push(makeEvent('call.held', eventCtx(cx, t, `${agentKey}|hold|${s.holds}`), id, { agent_id: s.number }));
      } else if (prev === 'held' && next === 'connected') {
        s.hold_ms += t - (s.hold_at ?? t);
        cx.out.push(makeEvent('call.resumed', eventCtx(cx, t, `${agentKey}|resume|${s.holds}`), id, { agent_id: s.number }));
      }
      // The extension that placed the call is busy with it from the first ring (as Asterisk's device state says).
      trackAgent(st, cx, s.number, agentKey, next === 'ringing' ? 'connected' : next, t);
    }
    if (next === 'gone') s.done = true;
    return;
  }
  if (!agentSide) return;

  if (next === 'ringing' && prev !== 'ringing') {
    s.ring_at = t;
    if (leg && leg.status === 'waiting' && s.call_path === leg.queue) {
      s.queue = leg.queue;
      s.leg_id = leg.leg_id;
    }
    cx.out.push(makeEvent('call.ringing', eventCtx(cx, t, `${agentKey}|ring`), id, { agent_id: s.number, queue: s.queue, leg_id: s.leg_id }));
  }
  // First seen on hold (after a reconnect): it was answered while we were away.
  const answering = (next === 'connected' || next === 'held') && prev !== 'connected' && prev !== 'held';
  if (answering && creditedAgentOtherThan(c, key)) {
    s.consult = true;
    s.consult_ring_ms = s.ring_at !== undefined ? Math.max(0, t - s.ring_at) : undefined;
  } else if (answering) {
    s.answer_at = t;
    c.answered = true;
    const legToAnswer = leg && leg.status === 'waiting' && (!m.call_path || m.call_path === leg.queue || s.leg_id === leg.leg_id) ? leg : undefined;
    let wait: number;
    if (legToAnswer) {
      legToAnswer.status = 'answered';
      s.queue = legToAnswer.queue;
      s.leg_id = legToAnswer.leg_id;
      wait = t - legToAnswer.queued_at;
    } else {
      s.queue = undefined;
      s.leg_id = undefined;
      wait = t - c.started_at;
    }
    cx.out.push(
      makeEvent('call.answered', eventCtx(cx, t, `${agentKey}|answer`), id, {
        agent_id: s.number,
        queue: s.queue,
        leg_id: s.leg_id,
        wait_ms: Math.max(0, wait),
        ring_ms: s.ring_at !== undefined ? Math.max(0, t - s.ring_at) : undefined,
      }),
    );
  }
  if (s.consult) {
    // Holds in a consultation belong to no credited call; the agent's state still shows them.
    if (next === 'held') s.hold_at = t;
  } else if (next === 'held' && prev !== 'held') {
    s.holds++;
    s.hold_at = t;
    cx.out.push(makeEvent('call.held', eventCtx(cx, t, `${agentKey}|hold|${s.holds}`), id, { agent_id: s.number, leg_id: s.leg_id }));
  } else if (next === 'connected' && prev === 'held') {
    s.hold_ms += t - (s.hold_at ?? t);
    cx.out.push(makeEvent('call.resumed', eventCtx(cx, t, `${agentKey}|resume|${s.holds}`), id, { agent_id: s.number, leg_id: s.leg_id }));
  }
  if (next === 'gone') {
    s.done = true;
    if (prev === 'ringing') {
      const legAnsweredElsewhere = s.leg_id ? c.legs.find((l) => l.leg_id === s.leg_id)?.status !== 'waiting' : c.answered;
      // Ring-all losers and rings cancelled because the caller left are not ring-no-answer.
      if (!legAnsweredElsewhere && !callerGoneNow && !c.caller_gone) {
        cx.out.push(
          makeEvent('call.ring_no_answer', eventCtx(cx, t, `${agentKey}|rna`), id, {
            agent_id: s.number,
            queue: s.queue,
            leg_id: s.leg_id,
            ring_ms: Math.max(0, t - (s.ring_at ?? t)),
          }),
        );
      }
    } else if ((prev === 'connected' || prev === 'held') && !s.consult) {
      // A consultation that never became the call was work, not a handled call (as on the AMI path).
      complete(cx, c, key, s, callerGoneNow || c.caller_gone ? 'caller' : 'agent', t, prev === 'held');
    }
  }
  trackAgent(st, cx, s.number, agentKey, next, t);
}

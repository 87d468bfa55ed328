// Transfer reports (P 30013, S Transfer): who transferred the call to whom, the transferring
// agent's completion, and an attended transfer's target credited from here.
import { makeEvent } from '@callboard/schemas';
import { ok } from '../../pipeline.ts';
import { eventCtx, memberKey, phaseOf, type Handler } from '../state.ts';
import { trackAgent } from '../ops/agents.ts';
import { complete, consultOf, creditTarget } from '../ops/calls.ts';
import { snapshot } from '../ops/snapshot.ts';

export const transfer: Handler<'transfer'> = (st, msg, cx) => {
  const { t } = cx;
  const { call_id: callId, members } = msg;
  const c = st.calls[callId];
  const listed = new Set(members.map((m) => memberKey(m)));
  const connected = c
    ? Object.entries(c.members).filter(
        ([, s]) => s.role === 'extension' && !s.caller_side && !s.done && (phaseOf(s.status) === 'connected' || phaseOf(s.status) === 'held'),
      )
    : [];
  const connectedKeys = new Set(connected.map(([k]) => k));
  const exts = members.filter((m) => m.role === 'extension' && !(c?.members[memberKey(m)]?.caller_side ?? false));
  // The report lists the parties after the transfer: the target is the extension that was not
  // already connected; the transferring agent is the connected one that is no longer listed.
  const target = [...exts].reverse().find((m) => !connectedKeys.has(memberKey(m))) ?? exts.at(-1);
  const from = connected.find(([k]) => !listed.has(k)) ?? connected.find(([, s]) => s.number !== target?.number);
  const to = target?.number || members.find((m) => m.role === 'outbound')?.to || '';
  if (!to && !from) return ok(cx.out);
  const fromState = from?.[1];
  const consult = c && target ? consultOf(c, target) : undefined;
  const seq = c ? c.legs.length + Object.values(c.members).filter((s) => s.done).length : 0;
  cx.out.push(
    makeEvent(
      'call.transferred',
      eventCtx(cx, t, `${callId}|transfer|${from?.[0] ?? ''}|${to}|${seq}`),
      { call_id: callId },
      {
        // The report does not say which feature code was used: a target that had answered a
        // consultation was transferred to attended, any other by the documented default, blind.
        kind: consult ? 'attended' : 'blind',
        from_agent_id: fromState?.number,
        to: to || 'unknown',
        queue: fromState?.queue,
        leg_id: fromState?.leg_id,
      },
    ),
  );
  if (c && from) {
    complete(cx, c, from[0], from[1], 'transfer', t, phaseOf(from[1].status) === 'held');
    trackAgent(st, cx, from[1].number, `${callId}|${from[0]}`, 'gone', t);
  }
  if (c && consult) creditTarget(cx, c, consult[0], consult[1], t);
  // P-Series transfer reports carry member statuses; S-Series ones do not.
  if (c && members.some((m) => m.status)) snapshot(st, cx, callId, members, t, true);
  return ok(cx.out);
};

// How an agent's call outside a queue ends: its ring (a dialled phone) and its answered
// segment; shared by the call, direct-call and resync handlers.
import { makeEvent } from '@callboard/schemas';
import type { TranslatorState, DirectSegment } from '../state.ts';
import type { Cx } from './context.ts';
import { agent, updateAgent } from './agents.ts';

/** A channel rung outside a queue stopped ringing: answered, refused or gone. */
export function endDial(st: TranslatorState, cx: Cx, dest: string, update = true): void {
  const d = st.dialled.get(dest);
  if (!d) return;
  st.dialled.delete(dest);
  const a = agent(st, cx, d.agentId);
  if (a.directRings > 0) a.directRings--;
  a.queueAt = st.frameNo;
  if (update) updateAgent(st, cx, a, st.channels.get(dest)?.callId);
}

export function directCompleted(st: TranslatorState, cx: Cx, u: string, d: DirectSegment, reason: 'caller' | 'agent', at = cx.now, ctx = cx.ctx): void {
  st.direct.delete(u);
  const a = agent(st, cx, d.agentId);
  a.direct.delete(d);
  a.queueAt = st.frameNo;
  // A consultation that never became the call (cancelled, or the transferer took the caller
  // back) was work, not a handled call: its time shows in the agent's state only.
  if (!d.credited) {
    updateAgent(st, cx, a, undefined, ctx);
    return;
  }
  if (d.holdStart > 0) {
    d.holdMs += at - d.holdStart;
    d.holdStart = 0;
  }
  const talkMs = Math.max(0, at - d.answeredAt);
  cx.emit(
    makeEvent('call.agent_completed', ctx, { call_id: d.callId }, {
      agent_id: d.agentId,
      agent_name: st.agents.get(d.agentId)?.name,
      reason,
      talk_ms: talkMs,
      hold_ms: Math.min(talkMs, d.holdMs),
    }),
  );
  updateAgent(st, cx, a, d.callId, ctx);
}

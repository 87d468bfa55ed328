// A queue's rings of its members: how a ring ends (answered elsewhere, refused, the member
// channel gone, the leg closed), shared by the call and queue-call handlers, the dispatch and
// a leg's end (legs.ts).
import type { TranslatorState, Leg, Ring } from '../state.ts';
import type { Cx } from './context.ts';
import { updateAgent } from './agents.ts';

export function dropRing(st: TranslatorState, cx: Cx, leg: Leg, ring: Ring): void {
  leg.rings.delete(ring.agentId);
  if (ring.dest) st.ringsByDest.delete(ring.dest);
  const a = st.agents.get(ring.agentId);
  if (a && a.rings > 0) a.rings--;
  if (a) a.queueAt = st.frameNo;
}

/** A rung member channel stopped ringing (DialEnd of any status, or its hang-up). */
export function endRing(st: TranslatorState, cx: Cx, dest: string): void {
  const ring = st.ringsByDest.get(dest);
  if (!ring) return;
  dropRing(st, cx, ring.leg, ring);
  const a = st.agents.get(ring.agentId);
  if (a) updateAgent(st, cx, a, ring.leg.callId);
}

/** Ends the leg's rings (but `except`'s) at `ctx`'s time: the frame's, or the gap's start for a leg gone in one. */
export function clearRings(st: TranslatorState, cx: Cx, leg: Leg, except?: string, ctx = cx.ctx): void {
  for (const ring of [...leg.rings.values()]) {
    if (ring.agentId === except) continue;
    dropRing(st, cx, leg, ring);
    const a = st.agents.get(ring.agentId);
    if (a) updateAgent(st, cx, a, leg.callId, ctx);
  }
}

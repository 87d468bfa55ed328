// Queue members and the agent state derived from everything known about an agent.
import { makeEvent } from '@callboard/schemas';
import type { TranslateOutcome } from '../../pipeline.ts';
import { type TranslatorState, int } from '../state.ts';
import type { Cx } from '../ops/context.ts';
import { agent, endWrapUp, learnDevices, memberOf, removeMembership, updateAgent } from '../ops/agents.ts';
import { resyncSet } from '../ops/resync.ts';

export function member(st: TranslatorState, cx: Cx, name: string, h: Record<string, string>): TranslateOutcome | undefined {
  const m = memberOf(st, cx, h);
  if (!m) return cx.missing(name, 'Interface');
  if (!h.Queue) return cx.missing(name, 'Queue');
  const a = agent(st, cx, m.agentId, m.name);
  // A member the PBX still lists after a gap kept its wrap-up running through it: a wrap-up
  // held for the resync (ops/agents.ts `expireWrapUps`) that is due ends before this frame's change.
  if (a.wrapUntil > 0 && a.wrapUntil < cx.now) endWrapUp(st, cx, a, cx.curMeta);
  learnDevices(st, cx, m.agentId, m.iface, h.StateInterface);
  if (!a.queues.has(h.Queue)) {
    a.queues.set(h.Queue, null);
    cx.emit(
      makeEvent('agent.queue_joined', cx.ctx, { agent_id: m.agentId }, {
        queue: h.Queue,
        agent_name: m.name,
        interface: m.iface,
        penalty: h.Penalty !== undefined ? Math.max(0, int(h.Penalty)) : undefined,
      }),
    );
  }
  if (h.Status !== undefined || h.InCall !== undefined) {
    if (h.Status !== undefined) a.status = int(h.Status);
    a.inCall = h.InCall === '1';
    a.statusAt = st.frameNo;
  }
  if (h.Paused !== undefined) a.queues.set(h.Queue, h.Paused === '1' ? (h.PausedReason ?? h.Reason ?? '') : null);
  resyncSet(st, cx, h)?.members.add(`${m.agentId}|${h.Queue}`);
  updateAgent(st, cx, a, undefined);
  return undefined;
}

export function memberRemoved(st: TranslatorState, cx: Cx, h: Record<string, string>): TranslateOutcome | undefined {
  const m = memberOf(st, cx, h);
  if (!m) return cx.missing('QueueMemberRemoved', 'Interface');
  if (!h.Queue) return cx.missing('QueueMemberRemoved', 'Queue');
  removeMembership(st, cx, agent(st, cx, m.agentId, m.name), h.Queue, cx.ctx);
  return undefined;
}

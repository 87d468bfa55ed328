// Agent reports: extension status (P 30008, S ExtensionStatus), queue agent status (pause,
// wrap-up, log in / out of a queue; P 30029, S AgentStatus) and the PBX's auto-pause (P 30030).
import { dlq, ok } from '../../pipeline.ts';
import type { Handler } from '../state.ts';
import { agent, agentEvent, membership } from '../ops/agents.ts';

export const extensionStatus: Handler<'extension_status'> = (st, msg, cx) => {
  const { extension: ext, status } = msg;
  const a = agent(st, ext);
  switch (status.trim().toLowerCase()) {
    case 'ringing':
      a.ext = 'ringing';
      a.registered = true;
      break;
    case 'busy':
    case 'inuse':
    case 'in use':
      a.ext = 'busy';
      a.registered = true;
      break;
    case 'idle':
    case 'registered':
      a.ext = 'idle';
      a.registered = true;
      // 30008 Idle means no call on the extension: forget members whose BYE we missed.
      a.active = {};
      break;
    case 'unregistered':
      a.registered = false;
      a.ext = 'idle';
      a.active = {};
      break;
    default:
      return dlq(
        'UNKNOWN_STATUS',
        `extension ${ext}: status "${status}" is not one the adapter knows (Ringing, Busy, Idle, Registered, Unregistered)`,
        '/status',
      );
  }
  agentEvent(st, cx, ext, cx.t, `ext|${status.toLowerCase()}|${cx.meta.received_at}`);
  return ok(cx.out);
};

export const agentStatus: Handler<'agent_status'> = (st, msg, cx) => {
  const { agent: agentId, queue, status, reason } = msg;
  const a = agent(st, agentId);
  const s = status.toLowerCase().replace(/[^a-z]/g, '');
  const key = `status|${queue}|${s}|${reason}|${cx.meta.received_at}`;
  switch (s) {
    case 'paused':
    case 'pause':
      a.paused = true;
      a.pause_reason = reason || undefined;
      a.wrap_up = false;
      break;
    case 'unpaused':
    case 'unpause':
    case 'resumed':
    case 'resume':
    case 'available':
    case 'idle':
    case 'active':
      a.paused = false;
      a.pause_reason = undefined;
      a.wrap_up = false;
      break;
    case 'wrapup':
    case 'aftercallwork':
      a.wrap_up = true;
      break;
    case 'loggedin':
    case 'login':
    case 'signin':
      membership(st, cx, agentId, queue, true, cx.t, key);
      break;
    case 'loggedout':
    case 'logout':
    case 'signout':
      membership(st, cx, agentId, queue, false, cx.t, key);
      break;
    default:
      return dlq('UNKNOWN_STATUS', `agent ${agentId} in queue ${queue}: agent status "${status}" is not one the adapter knows`, '/msg/status');
  }
  agentEvent(st, cx, agentId, cx.t, key);
  return ok(cx.out);
};

export const agentAutoPause: Handler<'agent_auto_pause'> = (st, msg, cx) => {
  const a = agent(st, msg.agent);
  a.paused = true;
  a.pause_reason = 'auto-pause (missed calls)';
  agentEvent(st, cx, msg.agent, cx.t, `autopause|${msg.queue}|${msg.calls.map((c) => c.call_id).join(',')}`);
  return ok(cx.out);
};

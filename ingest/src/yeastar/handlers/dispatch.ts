// Each normalised Yeastar message to its handler. Handlers import only the operations (ops/*.ts)
// and state.ts, never one another, so this is the one place that knows them all.
import { drop, type TranslateOutcome } from '../../pipeline.ts';
import type { YeastarMessage } from '../messages.ts';
import type { Cx, TranslatorState } from '../state.ts';
import { agentAutoPause, agentStatus, extensionStatus } from './agents.ts';
import { callFailed, callStatus, forward, inboundInvite } from './calls.ts';
import { cdr } from './cdr.ts';
import { transfer } from './transfer.ts';

export function dispatch(st: TranslatorState, msg: YeastarMessage, cx: Cx): TranslateOutcome {
  switch (msg.kind) {
    case 'call_status':
      return callStatus(st, msg, cx);
    case 'transfer':
      return transfer(st, msg, cx);
    case 'forward':
      return forward(st, msg, cx);
    case 'inbound_invite':
      return inboundInvite(st, msg, cx);
    case 'call_failed':
      return callFailed(st, msg, cx);
    case 'cdr':
      return cdr(st, msg, cx);
    case 'extension_status':
      return extensionStatus(st, msg, cx);
    case 'agent_status':
      return agentStatus(st, msg, cx);
    case 'agent_auto_pause':
      return agentAutoPause(st, msg, cx);
    case 'info':
      return drop(`${msg.name}: no call-centre fact (raw event kept)`);
  }
}

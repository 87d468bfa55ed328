// Which handler an AMI event goes to. The only module that imports the handlers (besides the
// facade); a handler imports only the operations below it (../ops/*.ts), never another handler.
import type { TranslateOutcome } from '../../pipeline.ts';
import type { TranslatorState } from '../state.ts';
import type { Cx } from '../ops/context.ts';
import { endDial } from '../ops/direct.ts';
import { endRing } from '../ops/rings.ts';
import { newChannel, newCallerid, answered, hangup, cdr } from './calls.ts';
import { dialBegin, consultRinging, firstToHangUp, directAnswered } from './direct.ts';
import { join, abandon, leave } from './legs.ts';
import { agentCalled, ringNoAnswer, connect, complete } from './queue-calls.ts';
import { hold, blindTransfer, attendedTransfer } from './transfers.ts';
import { member, memberRemoved } from './agents.ts';
import { queueEntry, coreShowChannel, resyncComplete } from './resync.ts';

export function dispatch(st: TranslatorState, cx: Cx, name: string, h: Record<string, string>): TranslateOutcome | undefined {
  switch (name) {
    case 'Newchannel':
      return newChannel(st, cx, h);
    case 'NewCallerid':
      return newCallerid(st, cx, h);
    case 'Newstate':
      if (h.ChannelState === '6') {
        answered(st, cx, h.Uniqueid);
        directAnswered(st, cx, h);
      }
      return undefined;
    case 'DialBegin':
      dialBegin(st, cx, h);
      return undefined;
    case 'HangupRequest':
    case 'SoftHangupRequest': {
      const ch = h.Uniqueid !== undefined ? st.channels.get(h.Uniqueid) : undefined;
      if (ch) {
        ch.hangupRequested = true;
        if (st.direct.size > 0) firstToHangUp(st, cx, ch);
      }
      return undefined;
    }
    case 'Hangup':
      return hangup(st, cx, h);
    case 'Cdr':
      return cdr(st, cx, h);
    case 'QueueCallerJoin':
      return join(st, cx, h);
    case 'QueueCallerAbandon':
      return abandon(st, cx, h);
    case 'QueueCallerLeave':
      return leave(st, cx, h);
    case 'AgentCalled':
      return agentCalled(st, cx, h);
    case 'AgentRingNoAnswer':
      return ringNoAnswer(st, cx, h);
    case 'DialState':
      // An AMI Atxfer dials its consultation without a DialBegin and without a caller channel.
      if (h.DialStatus === 'RINGING' && h.Uniqueid === undefined) consultRinging(st, cx, h);
      return undefined;
    case 'DialEnd':
      // An answered member keeps ringing until AgentConnect, so its state does not flicker.
      if (h.DestUniqueid !== undefined && h.DialStatus !== 'ANSWER') {
        endRing(st, cx, h.DestUniqueid);
        endDial(st, cx, h.DestUniqueid);
      }
      return undefined;
    case 'AgentConnect':
      return connect(st, cx, h);
    case 'AgentComplete':
      return complete(st, cx, h);
    case 'AgentDump':
      return undefined;
    case 'Hold':
      return hold(st, cx, h, true);
    case 'Unhold':
      return hold(st, cx, h, false);
    case 'BlindTransfer':
      return blindTransfer(st, cx, h);
    case 'AttendedTransfer':
      return attendedTransfer(st, cx, h);
    case 'QueueMemberAdded':
    case 'QueueMemberStatus':
    case 'QueueMemberPause':
    case 'QueueMemberPenalty':
    case 'QueueMemberRinginuse':
    case 'QueueMember':
      return member(st, cx, name, h);
    case 'QueueMemberRemoved':
      return memberRemoved(st, cx, h);
    case 'QueueEntry':
      return queueEntry(st, cx, h);
    case 'CoreShowChannel':
      return coreShowChannel(st, cx, h);
    case 'QueueStatusComplete':
    case 'CoreShowChannelsComplete':
      return resyncComplete(st, cx, name, h);
    case 'Shutdown':
      // The PBX goes down (a restart drops every channel and dynamic member without an event
      // for each): the gap starts now, and the resync after the reconnect finds what is gone.
      st.shutdownAt = cx.now;
      return undefined;
    default:
      return undefined;
  }
}

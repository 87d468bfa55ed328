// One line per canonical event in a call's timeline, in words a supervisor understands.
import type { EventOf, EventType } from '@callboard/schemas';
import { formatDuration } from './clock.ts';

// Type and payload stay correlated, so each case reads its own event's fields.
type Ev = { [T in EventType]: { type: T; payload: EventOf<T>['payload'] } }[EventType];

const ms = (v: number | undefined) => (v === undefined ? '' : formatDuration(v));

/** A short human description of an event; unknown types fall back to their name. */
export function describeEvent(input: { type: string; payload: unknown }): string {
  const e = input as Ev;
  switch (e.type) {
    case 'call.started':
      return `Call started (${e.payload.direction}) from ${e.payload.caller_number || 'withheld'} to ${e.payload.called_number}`;
    case 'call.queued':
      return `Entered queue ${e.payload.queue} at position ${e.payload.position}`;
    case 'call.ringing':
      return `Ringing agent ${e.payload.agent_name ?? e.payload.agent_id}`;
    case 'call.ring_no_answer':
      return `Agent ${e.payload.agent_name ?? e.payload.agent_id} did not answer (rang ${ms(e.payload.ring_ms)})`;
    case 'call.answered':
      return `Answered by ${e.payload.agent_name ?? e.payload.agent_id} after waiting ${ms(e.payload.wait_ms)}`;
    case 'call.held':
      return 'Put on hold';
    case 'call.resumed':
      return 'Taken off hold';
    case 'call.transferred':
      return `${e.payload.kind === 'blind' ? 'Blind' : 'Attended'} transfer to ${e.payload.to}`;
    case 'call.agent_completed':
      return `Agent ${e.payload.agent_name ?? e.payload.agent_id} finished (${e.payload.reason} hung up), talk ${ms(e.payload.talk_ms)}`;
    case 'call.abandoned':
      return `Caller hung up in queue ${e.payload.queue} after ${ms(e.payload.wait_ms)}`;
    case 'call.left_queue':
      return `Left queue ${e.payload.queue} (${e.payload.reason}) after ${ms(e.payload.wait_ms)}`;
    case 'call.ended':
      return `Call ended: ${e.payload.disposition}${e.payload.raw_disposition !== e.payload.disposition ? ` (PBX said ${e.payload.raw_disposition})` : ''}, duration ${ms(e.payload.duration_ms)}`;
    default:
      return input.type;
  }
}

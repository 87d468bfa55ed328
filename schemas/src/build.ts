// The one way adapters make canonical events: the envelope is filled in and the id derived
// from the vendor identity, so no adapter hand-rolls an envelope.
import { EVENT_DEFS, SCHEMA_VERSION, type EventOf, type EventType, type RawRef, type Source } from './events.ts';
import { eventId } from './ids.ts';

export interface EventContext {
  tenant_id: string;
  pbx_id: string;
  source: Source;
  occurred_at: string;
  received_at: string;
  raw_ref: RawRef | null;
  /** The vendor's identity of the raw event this comes from (see README "Event ids"). */
  vendor_key: string;
  /** Discriminator when one vendor event yields several canonical events of one type. */
  part?: string | number;
}

type SubjectArgs<T extends EventType> = (typeof EVENT_DEFS)[T]['subject'] extends 'call'
  ? { call_id: string }
  : (typeof EVENT_DEFS)[T]['subject'] extends 'agent'
    ? { agent_id: string }
    : Record<string, never>;

export function makeEvent<T extends EventType>(type: T, ctx: EventContext, subject: SubjectArgs<T>, payload: EventOf<T>['payload']): EventOf<T> {
  const { vendor_key, part, ...env } = ctx;
  // Optional fields left undefined would not survive JSON anyway; drop them so that the event
  // object equals its own JSON round trip (rebuilds must be byte-identical).
  const clean = Object.fromEntries(Object.entries(payload as Record<string, unknown>).filter(([, v]) => v !== undefined));
  return {
    event_id: eventId({ tenant_id: ctx.tenant_id, pbx_id: ctx.pbx_id, source: ctx.source, vendor_key, type, part }),
    ...env,
    schema_version: SCHEMA_VERSION,
    type,
    ...subject,
    payload: clean,
  } as unknown as EventOf<T>;
}

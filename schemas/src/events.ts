// The canonical call-centre event contract (cc.events.v1). One definition per event type gives
// the TypeScript type (Static), the JSON Schema (draft 2020-12, generated into schemas/json/)
// and the compiled validator (validate.ts). Every metric in METRICS.md is computable from these
// events alone; schemas/README.md explains each field with its unit and an example.
import { Type, type Static, type TObject, type TProperties, type TSchema } from '@sinclair/typebox';

export const SCHEMA_VERSION = 1 as const;

const Iso = (description: string) =>
  Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$', description: `${description} (UTC, ISO-8601 with milliseconds)` });
const Ms = (description: string) => Type.Integer({ minimum: 0, description: `${description}, in milliseconds` });
const Id = (description: string) => Type.String({ minLength: 1, maxLength: 256, description });

export const Source = Type.Union([Type.Literal('ami'), Type.Literal('yeastar-p'), Type.Literal('yeastar-s'), Type.Literal('simulator')], {
  description: 'Which adapter produced the event',
});
export type Source = Static<typeof Source>;

export const RawRef = Type.Object(
  {
    topic: Type.String({ description: 'Topic holding the raw vendor event (pbx.raw.v1), or "file" for an offline translation' }),
    partition: Type.Optional(Type.Integer({ minimum: 0 })),
    offset: Type.Optional(Type.String({ pattern: '^\\d+$', description: 'Kafka offset (decimal string)' })),
    connection: Type.Optional(Type.String({ description: 'Adapter connection id the raw event arrived on' })),
    seq: Type.Optional(Type.Integer({ minimum: 0, description: 'Per-connection sequence number of the raw event' })),
    line: Type.Optional(Type.Integer({ minimum: 1, description: 'Line or frame number in an offline capture' })),
  },
  { additionalProperties: false, description: 'Where the raw vendor event this was derived from lives' },
);
export type RawRef = Static<typeof RawRef>;

/** `raw_ref.topic` of an event `callboard import asterisk` read from a queue_log line (`line` is its number). */
export const QUEUE_LOG_REF_TOPIC = 'queue_log';

/**
 * Whether an event was imported from Asterisk's queue_log rather than seen on the PBX's live feed:
 * the two sources of one call are paired by it (one ring, one queue entry, METRICS.md).
 */
export function fromQueueLog(e: { raw_ref: RawRef | null }): boolean {
  return e.raw_ref?.topic === QUEUE_LOG_REF_TOPIC;
}

// ---- shared payload parts -------------------------------------------------------------------

const Queue = Id('Queue name or number as the PBX names it (for example "sales", "6400")');
const LegId = Id('Queue leg id: one entry of this call into one queue; unique within the call');
const AgentId = Id('Agent id: the extension or member the PBX identifies the agent by (for example "1001")');
const AgentName = Type.Optional(Type.String({ description: 'Display name of the agent when the PBX gives one' }));

export const Direction = Type.Union([Type.Literal('inbound'), Type.Literal('outbound'), Type.Literal('internal')]);
export type Direction = Static<typeof Direction>;

export const Disposition = Type.Union([Type.Literal('ANSWERED'), Type.Literal('NO ANSWER'), Type.Literal('BUSY'), Type.Literal('FAILED'), Type.Literal('CONGESTION')], {
  description: 'Canonical CDR disposition (METRICS.md); vendor values are mapped and the raw value kept',
});
export type Disposition = Static<typeof Disposition>;

export const AgentState = Type.Union(
  [Type.Literal('available'), Type.Literal('ringing'), Type.Literal('on_call'), Type.Literal('on_hold'), Type.Literal('wrap_up'), Type.Literal('paused'), Type.Literal('offline')],
  { description: 'Agent state (METRICS.md agent states)' },
);
export type AgentState = Static<typeof AgentState>;

/** The agent states about a call: only a change to one of these names a `call_id` (an agent free again names none). */
export const CALL_STATES: ReadonlySet<AgentState> = new Set<AgentState>(['ringing', 'on_call', 'on_hold', 'wrap_up']);

export const LeaveReason = Type.Union(
  [Type.Literal('timeout'), Type.Literal('key'), Type.Literal('empty'), Type.Literal('full'), Type.Literal('withdraw'), Type.Literal('transfer'), Type.Literal('other')],
  { description: 'Why a queue leg left unanswered without the caller hanging up (METRICS.md `exited`)' },
);
export type LeaveReason = Static<typeof LeaveReason>;

// ---- event definitions ---------------------------------------------------------------------

interface EventDef<P extends TSchema> {
  type: string;
  subject: 'call' | 'agent' | 'pbx';
  description: string;
  payload: P;
}

function def<const T extends string, const S extends EventDef<TSchema>['subject'], P extends TSchema>(type: T, subject: S, description: string, payload: P) {
  return { type, subject, description, payload } as const;
}

export const EVENT_DEFS = {
  'call.started': def(
    'call.started',
    'call',
    'A call began (first channel of the call seen). One per call, however many channels carry it.',
    Type.Object(
      {
        direction: Direction,
        caller_number: Type.String({ description: 'Calling party number ("" when withheld)' }),
        caller_name: Type.Optional(Type.String()),
        called_number: Type.String({ description: 'Dialled number or DID' }),
        extension: Type.Optional(Type.String({ description: 'Local extension on this call (the caller for outbound and internal calls)' })),
        trunk: Type.Optional(Type.String()),
      },
      { additionalProperties: false },
    ),
  ),
  'call.caller_identified': def(
    'call.caller_identified',
    'call',
    "The caller's number became known, or changed, after call.started: the dialplan set the caller id after the call's first channel was seen. The call's caller number (METRICS.md call) is the last one identified, else call.started's.",
    Type.Object(
      {
        caller_number: Type.String({ minLength: 1, description: 'Calling party number, as the PBX now gives it' }),
        caller_name: Type.Optional(Type.String()),
      },
      { additionalProperties: false },
    ),
  ),
  'call.queued': def(
    'call.queued',
    'call',
    'A queue leg opened: the call entered a queue (METRICS.md `offered`). A call that overflows to a second queue opens a second leg.',
    Type.Object(
      {
        queue: Queue,
        leg_id: LegId,
        position: Type.Integer({ minimum: 1, description: 'Position in the queue on entry (1 = first)' }),
        caller_number: Type.Optional(Type.String()),
      },
      { additionalProperties: false },
    ),
  ),
  'call.ringing': def(
    'call.ringing',
    'call',
    'An agent (queue member or extension) is being rung for this call.',
    Type.Object({ agent_id: AgentId, agent_name: AgentName, queue: Type.Optional(Queue), leg_id: Type.Optional(LegId) }, { additionalProperties: false }),
  ),
  'call.ring_no_answer': def(
    'call.ring_no_answer',
    'call',
    'The agent was rung and did not answer (METRICS.md agent `missed`). Ring-all losers and rings cancelled because the caller left are not ring-no-answer.',
    Type.Object(
      { agent_id: AgentId, agent_name: AgentName, queue: Type.Optional(Queue), leg_id: Type.Optional(LegId), ring_ms: Ms('How long the agent was rung') },
      { additionalProperties: false },
    ),
  ),
  'call.answered': def(
    'call.answered',
    'call',
    'The call (or one queue leg of it) was connected to an agent or extension. For a queue leg, wait_ms is the time from entering the queue to connect.',
    Type.Object(
      {
        agent_id: AgentId,
        agent_name: AgentName,
        queue: Type.Optional(Queue),
        leg_id: Type.Optional(LegId),
        wait_ms: Ms('Wait before answer: from queue entry for a queue leg, from call start otherwise'),
        ring_ms: Type.Optional(Ms('How long the answering agent was rung')),
      },
      { additionalProperties: false },
    ),
  ),
  'call.held': def(
    'call.held',
    'call',
    'The connected call was put on hold (real hold, not queue music).',
    Type.Object({ agent_id: Type.Optional(AgentId), leg_id: Type.Optional(LegId) }, { additionalProperties: false }),
  ),
  'call.resumed': def(
    'call.resumed',
    'call',
    'A held call was taken off hold.',
    Type.Object({ agent_id: Type.Optional(AgentId), leg_id: Type.Optional(LegId) }, { additionalProperties: false }),
  ),
  'call.transferred': def(
    'call.transferred',
    'call',
    'The call was transferred away from an agent (METRICS.md `transferred` counts answered legs that end this way).',
    Type.Object(
      {
        kind: Type.Union([Type.Literal('blind'), Type.Literal('attended')]),
        from_agent_id: Type.Optional(AgentId),
        to: Type.String({ description: 'Target: extension, number, or queue the call was sent to' }),
        queue: Type.Optional(Queue),
        leg_id: Type.Optional(LegId),
      },
      { additionalProperties: false },
    ),
  ),
  'call.agent_completed': def(
    'call.agent_completed',
    'call',
    "An agent's connected segment of the call ended (hang-up by either party, or transfer). Closes the answered leg's talk time.",
    Type.Object(
      {
        agent_id: AgentId,
        agent_name: AgentName,
        queue: Type.Optional(Queue),
        leg_id: Type.Optional(LegId),
        reason: Type.Union([Type.Literal('caller'), Type.Literal('agent'), Type.Literal('transfer')], { description: 'Who ended the segment' }),
        talk_ms: Ms('Connected time including hold (METRICS.md talk_time is this minus hold_ms)'),
        hold_ms: Type.Optional(Ms('Time on hold within the segment, when the PBX reports it')),
        wrap_ms: Type.Optional(Ms('After-call work time the PBX applies; absent: the queue setting wrap_up_s')),
      },
      { additionalProperties: false },
    ),
  ),
  'call.abandoned': def(
    'call.abandoned',
    'call',
    'The caller hung up while waiting in a queue (METRICS.md `abandoned`).',
    Type.Object(
      {
        queue: Queue,
        leg_id: LegId,
        wait_ms: Ms('Time from queue entry to hang-up'),
        position: Type.Integer({ minimum: 1, description: 'Position when the caller hung up' }),
        original_position: Type.Optional(Type.Integer({ minimum: 1 })),
      },
      { additionalProperties: false },
    ),
  ),
  'call.left_queue': def(
    'call.left_queue',
    'call',
    'A queue leg ended unanswered without the caller hanging up: timeout, exit key, empty or full queue (METRICS.md `exited`).',
    Type.Object(
      {
        queue: Queue,
        leg_id: LegId,
        reason: LeaveReason,
        wait_ms: Ms('Time from queue entry to leaving'),
        position: Type.Optional(Type.Integer({ minimum: 1 })),
      },
      { additionalProperties: false },
    ),
  ),
  'call.ended': def(
    'call.ended',
    'call',
    'The call ended (last channel gone). Carries the CDR view: canonical disposition with the raw vendor value kept, duration and billsec.',
    Type.Object(
      {
        disposition: Disposition,
        raw_disposition: Type.String({ description: 'The vendor value, unchanged (for example NORMAL, ANSWER, "NO ANSWER")' }),
        hangup_cause: Type.Optional(Type.Integer({ minimum: 0, description: 'Q.850 cause code' })),
        hangup_cause_text: Type.Optional(Type.String()),
        duration_ms: Ms('Start to end'),
        billsec_ms: Ms('Answer to end (0 when never answered)'),
        direction: Type.Optional(Direction),
        extension: Type.Optional(Type.String({ description: 'Local extension on this call, for per-extension CDR metrics' })),
        ended_in: Type.Optional(
          Type.Literal('gap', {
            description:
              '`gap` when the resync after a gap of the feed (PBX link down or PBX restart) found the call ended: it ended at the start of the gap, the last moment it was known alive, and its durations run to then (METRICS.md "Gaps of the feed")',
          }),
        ),
      },
      { additionalProperties: false },
    ),
  ),
  'agent.queue_joined': def(
    'agent.queue_joined',
    'agent',
    'The agent logged in to (became a member of) a queue.',
    Type.Object(
      { queue: Queue, agent_name: AgentName, interface: Type.Optional(Type.String()), penalty: Type.Optional(Type.Integer({ minimum: 0 })) },
      { additionalProperties: false },
    ),
  ),
  'agent.queue_left': def(
    'agent.queue_left',
    'agent',
    'The agent logged out of (was removed from) a queue.',
    Type.Object({ queue: Queue, agent_name: AgentName }, { additionalProperties: false }),
  ),
  'agent.state_changed': def(
    'agent.state_changed',
    'agent',
    "The agent's state changed. State time is the interval until the next change (METRICS.md agent metrics).",
    Type.Object(
      {
        state: AgentState,
        reason: Type.Optional(Type.String({ description: 'Pause reason (state paused), as the PBX names it' })),
        agent_name: AgentName,
        call_id: Type.Optional(Type.String({ description: 'The call that caused the change, when there is one' })),
        pause_reason: Type.Optional(
          Type.String({
            description:
              'Present while the agent is paused at the PBX, whatever its state ("" when the PBX gave no reason): a pause taken on a call keeps state on_call but counts in pause_time_by_reason (METRICS.md). Absent on events written before it existed: read those with pauseOf()',
          }),
        ),
      },
      { additionalProperties: false },
    ),
  ),
  'source.gap': def(
    'source.gap',
    'pbx',
    'The connection to the PBX was lost from `from` to `to`: events in that span may be missing, so metrics over it are flagged.',
    Type.Object(
      {
        from: Iso('Last moment the connection was known good'),
        to: Iso('Moment it was re-established and state resynchronised'),
        reason: Type.String({ description: 'Why the connection was lost' }),
      },
      { additionalProperties: false },
    ),
  ),
} as const;

export type EventType = keyof typeof EVENT_DEFS;
export const EVENT_TYPES = Object.keys(EVENT_DEFS) as EventType[];

type PayloadOf<T extends EventType> = Static<(typeof EVENT_DEFS)[T]['payload']>;

const envelopeProps = {
  event_id: Type.String({ format: 'uuid', pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$', description: 'Deterministic UUID v5 (ids.ts)' }),
  tenant_id: Id('Tenant the PBX belongs to'),
  pbx_id: Id('PBX connection id from config'),
  source: Source,
  schema_version: Type.Literal(SCHEMA_VERSION),
  occurred_at: Iso('When it happened at the PBX'),
  received_at: Iso('When the adapter received the vendor event'),
  raw_ref: Type.Union([RawRef, Type.Null()]),
};

function envelope<T extends EventType>(t: T): TObject {
  const d = EVENT_DEFS[t];
  const subject =
    d.subject === 'call'
      ? { call_id: Id('Call id: the PBX linked id (Asterisk Linkedid, Yeastar call id); one per call') }
      : d.subject === 'agent'
        ? { agent_id: AgentId }
        : {};
  return Type.Object({ ...envelopeProps, type: Type.Literal(t), ...subject, payload: d.payload } as unknown as TProperties, {
    $id: `https://callboard.dev/schemas/v1/${t}.json`,
    title: t,
    description: d.description,
    additionalProperties: false,
  });
}

export const EVENT_SCHEMAS = Object.fromEntries(EVENT_TYPES.map((t) => [t, envelope(t)])) as Record<EventType, TObject>;

interface Envelope {
  event_id: string;
  tenant_id: string;
  pbx_id: string;
  source: Source;
  schema_version: typeof SCHEMA_VERSION;
  occurred_at: string;
  received_at: string;
  raw_ref: RawRef | null;
}

type SubjectOf<T extends EventType> = (typeof EVENT_DEFS)[T]['subject'] extends 'call'
  ? { call_id: string }
  : (typeof EVENT_DEFS)[T]['subject'] extends 'agent'
    ? { agent_id: string }
    : object;

export type EventOf<T extends EventType> = Envelope & { type: T; payload: PayloadOf<T> } & SubjectOf<T>;
export type CanonicalEvent = { [T in EventType]: EventOf<T> }[EventType];
export type CallEvent = Extract<CanonicalEvent, { call_id: string }>;
export type AgentEvent = Extract<CanonicalEvent, { agent_id: string }>;

export function isCallEvent(e: CanonicalEvent): e is CallEvent {
  return EVENT_DEFS[e.type].subject === 'call';
}
export function isAgentEvent(e: CanonicalEvent): e is AgentEvent {
  return EVENT_DEFS[e.type].subject === 'agent';
}

/**
 * The pause in force during an agent state (METRICS.md `pause_time_by_reason`): its reason, or
 * null when the agent is not paused. Events written before `pause_reason` existed carry a pause
 * only as state `paused` with its `reason`, so that is what their absence means.
 */
export function pauseOf(p: EventOf<'agent.state_changed'>['payload']): string | null {
  if (p.pause_reason !== undefined) return p.pause_reason;
  return p.state === 'paused' ? (p.reason ?? '') : null;
}

/** Kafka key: keeps one call (or one agent) in order on one partition. */
export function partitionKey(e: CanonicalEvent): string {
  if ('call_id' in e) return `${e.tenant_id}:call:${e.call_id}`;
  if ('agent_id' in e) return `${e.tenant_id}:agent:${e.agent_id}`;
  return `${e.tenant_id}:pbx:${e.pbx_id}`;
}

/** The union schema of every canonical event, for documentation and generic tooling. */
export const CanonicalEventSchema = Type.Union(
  EVENT_TYPES.map((t) => EVENT_SCHEMAS[t]),
  { $id: 'https://callboard.dev/schemas/v1/canonical-event.json', title: 'CanonicalEvent' },
);

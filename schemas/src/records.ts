// The records on the two other topics. pbx.raw.v1 holds every vendor event unchanged (the
// source of truth); cc.dlq.v1 holds what could not be translated, validated or projected,
// with the reason, so it can be replayed after a fix.
import { Type, type Static } from '@sinclair/typebox';
import { Source } from './events.ts';

export const RawRecord = Type.Object(
  {
    tenant_id: Type.String({ minLength: 1 }),
    pbx_id: Type.String({ minLength: 1 }),
    source: Source,
    connection: Type.String({ description: 'Adapter connection id (a new one per (re)connect)' }),
    seq: Type.Integer({ minimum: 0, description: 'Sequence number within the connection' }),
    received_at: Type.String({ description: 'UTC ISO-8601 with milliseconds' }),
    format: Type.Union([Type.Literal('ami'), Type.Literal('json')], { description: 'ami: one verbatim AMI frame; json: one vendor JSON message' }),
    body: Type.String({ description: 'The vendor event exactly as received' }),
  },
  { $id: 'https://callboard.dev/schemas/v1/raw-record.json', title: 'RawRecord', additionalProperties: false },
);
export type RawRecord = Static<typeof RawRecord>;

export const DlqStage = Type.Union([Type.Literal('ingest'), Type.Literal('translate'), Type.Literal('validate'), Type.Literal('project')]);
export type DlqStage = Static<typeof DlqStage>;

/**
 * The reason codes of cc.dlq.v1, one set for every stage and vendor (README "Raw and
 * dead-letter records" says what each means). `source` and `stage` already say where a record
 * came from, so a code never repeats them.
 */
export const DLQ_REASONS = [
  'UNPARSEABLE_JSON',
  'UNPARSEABLE_FRAME',
  'UNKNOWN_EVENT_TYPE',
  'MISSING_FIELD',
  'INVALID_FIELD',
  'BAD_TIMESTAMP',
  'UNKNOWN_STATUS',
  'UNMATCHED',
  'SCHEMA_INVALID',
  'RAW_RECORD_INVALID',
  'OVERSIZED_FRAME',
  'OVERSIZED_RECORD',
  'TRANSLATOR_FAILED',
] as const;
export type DlqReason = (typeof DLQ_REASONS)[number];

export const DlqRecord = Type.Object(
  {
    stage: DlqStage,
    source: Type.String(),
    tenant_id: Type.Optional(Type.String()),
    pbx_id: Type.Optional(Type.String()),
    // A string, not a union of DLQ_REASONS: records written before a code was retired (AMI_*)
    // stay readable.
    reason_code: Type.String({ description: 'Stable machine code, one of DLQ_REASONS (schemas/README.md), e.g. UNPARSEABLE_JSON, SCHEMA_INVALID' }),
    reason: Type.String({ description: 'What was wrong, for a person' }),
    path: Type.Optional(Type.String({ description: 'JSON path of the offending field, when there is one' })),
    at: Type.String({ description: 'When it was dead-lettered (UTC ISO-8601)' }),
    original: Type.String({ description: 'The offending input, unchanged' }),
    origin: Type.Optional(Type.Object({ topic: Type.String(), partition: Type.Integer(), offset: Type.String() }, { additionalProperties: false })),
  },
  { $id: 'https://callboard.dev/schemas/v1/dlq-record.json', title: 'DlqRecord', additionalProperties: false },
);
export type DlqRecord = Static<typeof DlqRecord>;

/** Kafka key for raw records: one PBX's stream stays in order on one partition. */
export function rawKey(r: Pick<RawRecord, 'tenant_id' | 'pbx_id'>): string {
  return `${r.tenant_id}:pbx:${r.pbx_id}`;
}

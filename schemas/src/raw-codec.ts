// The one codec of pbx.raw.v1: every writer encodes with `encodeRaw` and every reader decodes
// with `decodeRaw` (ingest's sink, projections' raw consumer, `callboard retranslate`, the
// tests' log reader), so the two record formats the topic holds are known in one place:
//   format 2 (written since #17): the message value is the vendor frame's bytes, unchanged, and
//     the other RawRecord fields travel in ONE header, `raw.v2`, as a small JSON object
//     ({"tenant_id","pbx_id","source","connection","seq","received_at","format"}). Serialising
//     every frame into a JSON envelope, its CRLFs escaped, is gone. One header, not one per
//     field: kafkajs encodes each header with an encoder of its own that allocates a zeroed
//     512-byte buffer, and eight headers a frame cost the AMI path 12 % more CPU than the
//     envelope; one costs about what the envelope did (docs/BENCHMARKS.md "Raw records: the
//     frame as the message value");
//   format 1 (everything written before): no `raw.v2` header, the value is the RawRecord as JSON.
// Both decode to the same RawRecord, so raw_events rows and re-translations do not depend on
// which format a message was written in.
import { rawKey, type RawRecord } from './records.ts';
import { validateRawRecord, type ValidationIssue } from './validate.ts';

/** The header that carries a format-2 record's fields; its name is the format. */
export const RAW_HEADER = 'raw.v2';

/** A header value as kafkajs hands it to a consumer. */
type HeaderValue = Buffer | string | (Buffer | string)[] | undefined;
export type RawHeaders = Record<string, HeaderValue>;

/** A raw record as a Kafka message (kafkajs' `Message` shape). */
export interface RawMessage {
  key: string;
  value: string;
  headers?: Record<string, string>;
}

// A string with a lone surrogate has no UTF-8 form: as a value it would come back with U+FFFD.
// Bodies are decoded from bytes and never hold one, but a record that does is written as
// format 1, whose JSON escapes keep it exact.
const wellFormed = (s: string) => (s as string & { isWellFormed(): boolean }).isWellFormed();

// The fields of a connection's records but seq and received_at are the same frame after frame:
// their JSON is made once per connection, and each frame only appends its seq and time (an
// integer and an ISO instant, which JSON needs no escaping for).
let head = { tenant_id: '', pbx_id: '', source: '', connection: '', format: '', json: '' };
function headerOf(r: RawRecord): string {
  const h = head;
  if (r.connection !== h.connection || r.tenant_id !== h.tenant_id || r.pbx_id !== h.pbx_id || r.source !== h.source || r.format !== h.format) {
    const json = JSON.stringify({ tenant_id: r.tenant_id, pbx_id: r.pbx_id, source: r.source, connection: r.connection, format: r.format });
    head = { tenant_id: r.tenant_id, pbx_id: r.pbx_id, source: r.source, connection: r.connection, format: r.format, json: json.slice(0, -1) };
  }
  return `${head.json},"seq":${r.seq},"received_at":"${r.received_at}"}`;
}

const isoInstant = /^[0-9T:.Z+-]*$/;

/** The message a raw record is written as (format 2). */
export function encodeRaw(r: RawRecord): RawMessage {
  if (!wellFormed(r.body) || !isoInstant.test(r.received_at) || !Number.isSafeInteger(r.seq)) return encodeRawJson(r);
  return { key: rawKey(r), value: r.body, headers: { [RAW_HEADER]: headerOf(r) } };
}

/** Format 1, the JSON envelope: what logs written before format 2 hold (and tests of them). */
export function encodeRawJson(r: RawRecord): RawMessage {
  return { key: rawKey(r), value: JSON.stringify(r) };
}

/**
 * Bytes a raw record takes in its message (value and headers; the key and the record framing
 * are within the margin of the broker limit the pipeline checks against).
 */
export function rawMessageBytes(r: RawRecord): number {
  const m = encodeRaw(r);
  let n = Buffer.byteLength(m.value);
  for (const k in m.headers) n += k.length + Buffer.byteLength(m.headers[k]!) + 2;
  return n;
}

export type RawDecoded =
  | { ok: true; value: RawRecord }
  | {
      ok: false;
      reason_code: 'UNPARSEABLE_JSON' | 'SCHEMA_INVALID';
      reason: string;
      path?: string;
      /** The message as text, for a dead letter: format 1's JSON, or format 2's fields as JSON. */
      original: string;
    };

const text = (v: HeaderValue): string | undefined =>
  v === undefined ? undefined : Array.isArray(v) ? text(v[0]) : typeof v === 'string' ? v : v.toString('utf8');

/** Reads a message of pbx.raw.v1 in either format and checks it is a RawRecord. */
export function decodeRaw(value: Buffer | string | null, headers?: RawHeaders): RawDecoded {
  const body = value === null ? '' : typeof value === 'string' ? value : value.toString('utf8');
  const h = headers ? text(headers[RAW_HEADER]) : undefined;
  let rec: unknown;
  try {
    rec = JSON.parse(h ?? body);
  } catch (e) {
    const what = h === undefined ? 'not JSON' : `header ${RAW_HEADER} is not JSON`;
    return {
      ok: false,
      reason_code: 'UNPARSEABLE_JSON',
      reason: `${what}: ${(e as Error).message}`,
      original: h === undefined ? body : JSON.stringify({ [RAW_HEADER]: h, body }),
    };
  }
  if (h !== undefined) rec = rec !== null && typeof rec === 'object' && !Array.isArray(rec) ? { ...rec, body } : { [RAW_HEADER]: rec, body };
  const r = validateRawRecord(rec);
  if (r.ok) return r;
  return {
    ok: false,
    reason_code: 'SCHEMA_INVALID',
    reason: describe(r.errors),
    path: r.errors[0]?.path,
    original: h === undefined ? body : JSON.stringify(rec),
  };
}

const describe = (errors: ValidationIssue[]) => errors.map((x) => `${x.path}: ${x.message}`).join('; ');

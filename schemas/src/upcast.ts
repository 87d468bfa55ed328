// Versioning rules (schemas/README.md "Versioning"):
// - Within a version only additive, optional changes are allowed: a consumer that knows v1
//   reads every v1 event ever written.
// - A breaking change (rename, removal, a new required field, a changed unit) makes a new
//   schema_version and an upcaster here from the previous version, so consumers accept every
//   version they know and always see the current shape.
// - An event from a newer version than this build knows is rejected (to the DLQ), never guessed.
import { SCHEMA_VERSION } from './events.ts';
import type { ValidationResult } from './validation-result.ts';

type Upcaster = (e: Record<string, unknown>) => Record<string, unknown>;

/** UPCASTERS[n] turns a version-n event into version n+1. Empty while v1 is the only version. */
export const UPCASTERS: Record<number, Upcaster> = {};

export function upcast(e: Record<string, unknown>): ValidationResult<Record<string, unknown>> {
  let v = e.schema_version;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    return { ok: false, errors: [{ path: '/schema_version', expected: `an integer 1..${SCHEMA_VERSION}`, received: JSON.stringify(v) ?? 'nothing', message: 'Missing or invalid schema_version' }] };
  }
  if (v > SCHEMA_VERSION) {
    return {
      ok: false,
      errors: [{ path: '/schema_version', expected: `<= ${SCHEMA_VERSION}`, received: String(v), message: `Event is from schema version ${v}, newer than this build knows (${SCHEMA_VERSION}); upgrade the consumer` }],
    };
  }
  let out = e;
  while (v < SCHEMA_VERSION) {
    const up = UPCASTERS[v];
    if (!up) return { ok: false, errors: [{ path: '/schema_version', expected: String(SCHEMA_VERSION), received: String(v), message: `No upcaster from version ${v}` }] };
    out = { ...up(out), schema_version: v + 1 };
    v++;
  }
  return { ok: true, value: out };
}

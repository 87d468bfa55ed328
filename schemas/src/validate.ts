// Compiled validators and structured, readable errors. Consumers call `parseEvent` on what they
// read: it upcasts known older versions, then validates against the current schema.
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { FormatRegistry, type TSchema } from '@sinclair/typebox';
import { EVENT_SCHEMAS, EVENT_TYPES, SCHEMA_VERSION, type CanonicalEvent, type EventType } from './events.ts';
import { RawRecord } from './records.ts';
import { upcast } from './upcast.ts';
import type { ValidationIssue, ValidationResult } from './validation-result.ts';

export type { ValidationIssue, ValidationResult };

if (!FormatRegistry.Has('uuid')) FormatRegistry.Set('uuid', (v) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(v));

const checks = new Map<EventType, TypeCheck<TSchema>>(EVENT_TYPES.map((t) => [t, TypeCompiler.Compile(EVENT_SCHEMAS[t] as TSchema)]));
const knownTypes = new Set<string>(EVENT_TYPES);

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function expectedOf(schema: TSchema): string {
  if ('const' in schema) return JSON.stringify(schema.const);
  if (schema.anyOf) return (schema.anyOf as TSchema[]).map(expectedOf).join(' | ');
  const t = schema.type as string | undefined;
  const bits: string[] = [t ?? 'value'];
  if (schema.pattern) bits.push(`matching ${schema.pattern}`);
  if (schema.minimum !== undefined) bits.push(`>= ${schema.minimum}`);
  if (schema.minLength) bits.push(`of length >= ${schema.minLength}`);
  return bits.join(' ');
}

function issues(check: TypeCheck<TSchema>, value: unknown): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  const seen = new Set<string>();
  for (const e of check.Errors(value)) {
    // TypeBox reports one error per failed union branch; keep the first per path.
    if (seen.has(e.path)) continue;
    seen.add(e.path);
    // additionalProperties errors carry the parent object's schema: say what is actually wrong.
    const unexpected = /unexpected property/i.test(e.message);
    out.push({ path: e.path || '/', expected: unexpected ? 'no such field (see schemas/README.md)' : expectedOf(e.schema), received: show(e.value), message: e.message });
    if (out.length >= 20) break;
  }
  return out;
}

/** Validates one already-parsed canonical event (after upcasting older versions). */
export function validateEvent(input: unknown): ValidationResult<CanonicalEvent> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, errors: [{ path: '/', expected: 'an event object', received: show(input), message: 'Expected an object' }] };
  }
  const o = input as Record<string, unknown>;
  const type = o.type;
  if (typeof type !== 'string' || !knownTypes.has(type)) {
    return { ok: false, errors: [{ path: '/type', expected: EVENT_TYPES.join(' | '), received: show(type), message: 'Unknown event type' }] };
  }
  const up = upcast(o);
  if (!up.ok) return up;
  const check = checks.get(type as EventType)!;
  if (check.Check(up.value)) return { ok: true, value: up.value as CanonicalEvent };
  return { ok: false, errors: issues(check, up.value) };
}

/** Parses one JSON line and validates it. */
export function parseEvent(line: string): ValidationResult<CanonicalEvent> {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    return { ok: false, errors: [{ path: '/', expected: 'a JSON object', received: show(line), message: `Unparseable JSON: ${(e as Error).message}` }] };
  }
  return validateEvent(v);
}

export interface LineIssue extends ValidationIssue {
  line: number;
}

/** Validates NDJSON text; blank lines are ignored. Returns the valid events and every issue with its line. */
export function validateNdjson(text: string): { events: CanonicalEvent[]; issues: LineIssue[]; lines: number } {
  const events: CanonicalEvent[] = [];
  const all: LineIssue[] = [];
  const lines = text.split('\n');
  let n = 0;
  lines.forEach((l, i) => {
    if (!l.trim()) return;
    n++;
    const r = parseEvent(l);
    if (r.ok) events.push(r.value);
    else for (const e of r.errors) all.push({ line: i + 1, ...e });
  });
  return { events, issues: all, lines: n };
}

export function formatIssue(i: LineIssue | ValidationIssue): string {
  const where = 'line' in i ? `line ${i.line}: ` : '';
  return `${where}${i.path}: ${i.message} (expected ${i.expected}, got ${i.received})`;
}

const rawCheck = TypeCompiler.Compile(RawRecord);

export function validateRawRecord(v: unknown): ValidationResult<RawRecord> {
  return rawCheck.Check(v) ? { ok: true, value: v } : { ok: false, errors: issues(rawCheck as TypeCheck<TSchema>, v) };
}

export { SCHEMA_VERSION };

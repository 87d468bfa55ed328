// fast-check arbitraries for canonical events. Payloads are derived from the TypeBox
// definitions themselves (so a field added to events.ts is generated without touching this
// file); envelopes go through makeEvent, the one way adapters build events.
import fc from 'fast-check';
import type { TSchema } from '@sinclair/typebox';
import { EVENT_DEFS, EVENT_TYPES, makeEvent, type CanonicalEvent, type EventContext, type EventType, type RawRef, type Source } from '../src/index.ts';

const ISO_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$';

export const isoArb = fc
  .date({ min: new Date('2000-01-01T00:00:00.000Z'), max: new Date('2099-12-31T23:59:59.999Z'), noInvalidDate: true })
  .map((d) => d.toISOString());

/** An arbitrary for the subset of JSON Schema the contract uses; throws on anything else so a new construct is noticed. */
export function arbitraryOf(schema: TSchema): fc.Arbitrary<unknown> {
  if ('const' in schema) return fc.constant(schema.const);
  if (schema.anyOf) return fc.oneof(...(schema.anyOf as TSchema[]).map(arbitraryOf));
  switch (schema.type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return fc.integer({ min: (schema.minimum as number | undefined) ?? -1_000_000, max: (schema.maximum as number | undefined) ?? 86_400_000 });
    case 'string': {
      if (schema.pattern === ISO_PATTERN) return isoArb;
      if (schema.pattern === '^\\d+$') return fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }).map(String);
      if (schema.pattern) throw new Error(`no arbitrary for string pattern ${schema.pattern}`);
      return fc.string({
        minLength: (schema.minLength as number | undefined) ?? 0,
        maxLength: Math.min((schema.maxLength as number | undefined) ?? 40, 40),
        unit: 'grapheme',
      });
    }
    case 'object': {
      const props = (schema.properties ?? {}) as Record<string, TSchema>;
      const required = new Set<string>((schema.required as string[] | undefined) ?? []);
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, s] of Object.entries(props)) record[k] = arbitraryOf(s);
      return fc.record(record, { requiredKeys: Object.keys(props).filter((k) => required.has(k)) });
    }
    default:
      throw new Error(`no arbitrary for schema ${JSON.stringify(schema).slice(0, 120)}`);
  }
}

const idArb = fc.string({ minLength: 1, maxLength: 24, unit: 'grapheme' });
const sourceArb = fc.constantFrom<Source>('ami', 'yeastar-p', 'yeastar-s', 'simulator');
const rawRefArb: fc.Arbitrary<RawRef | null> = fc.option(
  fc.record(
    {
      topic: fc.constantFrom('pbx.raw.v1', 'file'),
      partition: fc.nat(63),
      offset: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }).map(String),
      connection: idArb,
      seq: fc.nat(),
      line: fc.integer({ min: 1, max: 1_000_000 }),
    },
    { requiredKeys: ['topic'] },
  ),
  { nil: null },
);

export const contextArb: fc.Arbitrary<EventContext> = fc.record({
  tenant_id: idArb,
  pbx_id: idArb,
  source: sourceArb,
  occurred_at: isoArb,
  received_at: isoArb,
  raw_ref: rawRefArb,
  vendor_key: fc.string({ minLength: 1, maxLength: 60 }),
});

export function eventArb<T extends EventType>(type: T): fc.Arbitrary<CanonicalEvent> {
  const d = EVENT_DEFS[type];
  const subject: fc.Arbitrary<Record<string, string>> =
    d.subject === 'call' ? idArb.map((call_id) => ({ call_id })) : d.subject === 'agent' ? idArb.map((agent_id) => ({ agent_id })) : fc.constant({});
  return fc.tuple(contextArb, subject, arbitraryOf(d.payload)).map(([ctx, s, payload]) => makeEvent(type, ctx, s as never, payload as never) as CanonicalEvent);
}

export const anyEventArb: fc.Arbitrary<CanonicalEvent> = fc.oneof(...EVENT_TYPES.map((t) => eventArb(t)));

/** JSON pointers of every required field of an event, envelope and payload (nested objects included). */
export function requiredPaths(schema: TSchema, prefix = ''): string[] {
  if (schema.type !== 'object') return [];
  const props = (schema.properties ?? {}) as Record<string, TSchema>;
  const out: string[] = [];
  for (const k of (schema.required as string[] | undefined) ?? []) {
    out.push(`${prefix}/${k}`);
    out.push(...requiredPaths(props[k]!, `${prefix}/${k}`));
  }
  return out;
}

/** Every field (required or optional) present in a value, as [pointer, schema]. */
export function presentFields(schema: TSchema, value: unknown, prefix = ''): [string, TSchema][] {
  if (schema.type !== 'object' || typeof value !== 'object' || value === null) return [];
  const props = (schema.properties ?? {}) as Record<string, TSchema>;
  const out: [string, TSchema][] = [];
  for (const [k, s] of Object.entries(props)) {
    if (!(k in (value as object))) continue;
    out.push([`${prefix}/${k}`, s]);
    out.push(...presentFields(s, (value as Record<string, unknown>)[k], `${prefix}/${k}`));
  }
  return out;
}

/** A value that the field's schema rejects: wrong JSON type, or out of range / off pattern / not a listed literal. */
export function invalidFor(schema: TSchema): fc.Arbitrary<unknown> {
  const wrongType: unknown[] = [];
  const t = schema.type as string | undefined;
  const isNullable = (schema.anyOf as TSchema[] | undefined)?.some((s) => s.type === 'null');
  if (t !== 'string' && !('const' in schema && typeof schema.const === 'string') && !schema.anyOf) wrongType.push('x');
  if (t !== 'integer' && t !== 'number') wrongType.push(7);
  if (t !== 'object' && !schema.anyOf) wrongType.push({});
  wrongType.push([], true);
  if (!isNullable) wrongType.push(null);
  const special: unknown[] = [];
  if ('const' in schema) special.push(typeof schema.const === 'number' ? (schema.const as number) + 1000 : 'not-a-known-value');
  if (schema.anyOf && (schema.anyOf as TSchema[]).every((s) => 'const' in s)) special.push('not-a-known-value');
  if (t === 'integer') special.push(1.5, ...(schema.minimum !== undefined ? [(schema.minimum as number) - 1] : []));
  if (t === 'string' && schema.minLength) special.push('');
  if (t === 'string' && schema.pattern) special.push('2025-10-01 21:30:00');
  return fc.constantFrom(...special, ...wrongType);
}

export function getAt(o: unknown, pointer: string): { parent: Record<string, unknown>; key: string } {
  const keys = pointer.split('/').slice(1);
  let cur = o as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) cur = cur[k] as Record<string, unknown>;
  return { parent: cur, key: keys.at(-1)! };
}

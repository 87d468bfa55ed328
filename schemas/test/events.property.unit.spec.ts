// Property tests for the contract: whatever makeEvent builds validates; breaking any required
// field is rejected at exactly that field's JSON path.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EVENT_SCHEMAS, EVENT_TYPES, SCHEMA_VERSION, type CanonicalEvent } from '../src/index.ts';
import { formatIssue, parseEvent, validateEvent, validateNdjson } from '../src/validate.ts';
import { anyEventArb, eventArb, getAt, invalidFor, presentFields, requiredPaths } from './arbitraries.ts';

const clone = (e: CanonicalEvent) => JSON.parse(JSON.stringify(e)) as Record<string, unknown>;
const paths = (r: ReturnType<typeof validateEvent>) => (r.ok ? [] : r.errors.map((e) => e.path));

describe('canonical events: generated valid events validate', () => {
  for (const type of EVENT_TYPES) {
    it(`${type}: every event built by makeEvent validates and survives a JSON round trip`, () => {
      fc.assert(
        fc.property(eventArb(type), (e) => {
          const r = validateEvent(e);
          if (!r.ok) throw new Error(r.errors.map((x) => formatIssue(x)).join('\n'));
          expect(r.value).toEqual(e);
          // The event object equals its own JSON text: rebuilds are byte-identical.
          expect(JSON.parse(JSON.stringify(e))).toEqual(e);
          expect(parseEvent(JSON.stringify(e)).ok).toBe(true);
        }),
        { numRuns: 150 },
      );
    });
  }
});

describe('canonical events: broken events are rejected at the right path', () => {
  for (const type of EVENT_TYPES) {
    const required = requiredPaths(EVENT_SCHEMAS[type]);

    it(`${type}: removing any required field is rejected at that field's path`, () => {
      expect(required).toEqual(expect.arrayContaining(['/event_id', '/type', '/schema_version', '/occurred_at', '/payload']));
      fc.assert(
        fc.property(eventArb(type), fc.constantFrom(...required), (e, pointer) => {
          const broken = clone(e);
          const { parent, key } = getAt(broken, pointer);
          delete parent[key];
          const r = validateEvent(broken);
          expect(r.ok).toBe(false);
          expect(paths(r)).toEqual([pointer]);
        }),
        { numRuns: 200 },
      );
    });

    it(`${type}: a wrong value in any present field is rejected at that field's path`, () => {
      fc.assert(
        fc.property(
          eventArb(type).chain((e) => {
            const fields = presentFields(EVENT_SCHEMAS[type], e);
            return fc.constantFrom(...fields).chain(([pointer, schema]) => invalidFor(schema).map((bad) => ({ e, pointer, bad })));
          }),
          ({ e, pointer, bad }) => {
            const broken = clone(e);
            const { parent, key } = getAt(broken, pointer);
            parent[key] = bad;
            const r = validateEvent(broken);
            expect(r.ok, `${pointer} = ${JSON.stringify(bad)} was accepted`).toBe(false);
            expect(paths(r)).toEqual([pointer]);
          },
        ),
        { numRuns: 300 },
      );
    });

    it(`${type}: an unknown field, in the envelope or the payload, is rejected at its path`, () => {
      fc.assert(
        fc.property(eventArb(type), fc.constantFrom('', '/payload'), fc.stringMatching(/^zz_[a-z]{1,8}$/), (e, where, name) => {
          const broken = clone(e);
          const target = where ? (broken.payload as Record<string, unknown>) : broken;
          target[name] = 1;
          const r = validateEvent(broken);
          expect(r.ok).toBe(false);
          expect(paths(r)).toEqual([`${where}/${name}`]);
        }),
        { numRuns: 50 },
      );
    });
  }

  it('an unknown type is rejected at /type, listing the known types', () => {
    fc.assert(
      fc.property(
        anyEventArb,
        fc.string().filter((s) => !(EVENT_TYPES as string[]).includes(s)),
        (e, t) => {
          const r = validateEvent({ ...clone(e), type: t });
          expect(r.ok).toBe(false);
          if (r.ok) return;
          expect(r.errors).toHaveLength(1);
          expect(r.errors[0]!.path).toBe('/type');
          expect(r.errors[0]!.expected).toContain('call.answered');
        },
      ),
    );
  });

  it('an event from a newer schema version is rejected, not guessed', () => {
    fc.assert(
      fc.property(anyEventArb, fc.integer({ min: SCHEMA_VERSION + 1, max: 1_000 }), (e, v) => {
        const r = validateEvent({ ...clone(e), schema_version: v });
        expect(r.ok).toBe(false);
        if (r.ok) return;
        expect(r.errors[0]).toMatchObject({ path: '/schema_version', received: String(v) });
        expect(r.errors[0]!.message).toMatch(/newer than this build knows/);
      }),
    );
  });

  it('non-objects and unparseable lines are rejected at /', () => {
    for (const v of [null, 1, 'call.started', [], true]) expect(paths(validateEvent(v))).toEqual(['/']);
    const r = parseEvent('{"type": "call.started",');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]!.message).toMatch(/^Unparseable JSON/);
  });
});

describe('NDJSON validation', () => {
  type Line = { kind: 'valid'; e: CanonicalEvent } | { kind: 'invalid'; text: string } | { kind: 'blank'; text: string };
  const lineArb: fc.Arbitrary<Line> = fc.oneof(
    { weight: 3, arbitrary: anyEventArb.map((e) => ({ kind: 'valid' as const, e })) },
    {
      weight: 2,
      arbitrary: fc
        .oneof(
          anyEventArb.map((e) => JSON.stringify({ ...e, occurred_at: 'yesterday' })),
          fc.constant('{"not": "an event"}'),
          fc.constant('{broken json'),
          fc.constant('42'),
        )
        .map((text) => ({ kind: 'invalid' as const, text })),
    },
    { weight: 1, arbitrary: fc.constantFrom('', '   ', '\t').map((text) => ({ kind: 'blank' as const, text })) },
  );

  it('reports every invalid line with its 1-based line number, keeps every valid event, ignores blank lines', () => {
    fc.assert(
      fc.property(fc.array(lineArb, { maxLength: 30 }), fc.boolean(), (lines, trailingNewline) => {
        const text = lines.map((l) => (l.kind === 'valid' ? JSON.stringify(l.e) : l.text)).join('\n') + (trailingNewline ? '\n' : '');
        const r = validateNdjson(text);
        const invalidLines = lines.flatMap((l, i) => (l.kind === 'invalid' ? [i + 1] : []));
        expect([...new Set(r.issues.map((i) => i.line))]).toEqual(invalidLines);
        expect(r.events).toEqual(lines.flatMap((l) => (l.kind === 'valid' ? [l.e] : [])));
        expect(r.lines).toBe(lines.filter((l) => l.kind !== 'blank').length);
      }),
      { numRuns: 100 },
    );
  });

  it('formats an issue as "line N: /path: message (expected …, got …)"', () => {
    const r = validateNdjson(`\n${JSON.stringify({ ...clone(fc.sample(eventArb('call.answered'), 1)[0]!), occurred_at: 'soon' })}\n`);
    expect(r.issues).toHaveLength(1);
    expect(formatIssue(r.issues[0]!)).toMatch(/^line 2: \/occurred_at: .+ \(expected string matching .+, got "soon"\)$/);
  });
});

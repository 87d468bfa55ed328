import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CALLBOARD_NAMESPACE, eventId, isoMs, uuidv5, type EventIdParts } from '../src/ids.ts';
import { makeEvent, partitionKey } from '../src/index.ts';
import { contextArb } from './arbitraries.ts';

const V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const partsArb: fc.Arbitrary<EventIdParts> = fc.record(
  {
    tenant_id: fc.string({ minLength: 1 }),
    pbx_id: fc.string({ minLength: 1 }),
    source: fc.constantFrom('ami', 'yeastar-p', 'yeastar-s', 'simulator'),
    vendor_key: fc.string({ minLength: 1 }),
    type: fc.constantFrom('call.started', 'call.answered', 'agent.state_changed'),
    part: fc.oneof(fc.string({ minLength: 1 }), fc.nat()),
  },
  { requiredKeys: ['tenant_id', 'pbx_id', 'source', 'vendor_key', 'type'] },
);

describe('deterministic event ids', () => {
  it('matches the RFC 9562 UUID v5 test vector (DNS namespace, "www.example.com")', () => {
    expect(uuidv5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('computes SHA-1 over namespace bytes then the name, with version 5 and the RFC variant', () => {
    fc.assert(
      fc.property(fc.string(), (name) => {
        const id = uuidv5(name);
        expect(id).toMatch(V5);
        const h = createHash('sha1')
          .update(Buffer.from(CALLBOARD_NAMESPACE.replace(/-/g, ''), 'hex'))
          .update(name, 'utf8')
          .digest('hex');
        // Everything but the version nibble and the variant bits is the hash itself.
        expect(id.replace(/-/g, '').slice(0, 12)).toBe(h.slice(0, 12));
        expect(id.replace(/-/g, '').slice(13, 16)).toBe(h.slice(13, 16));
        expect(id.replace(/-/g, '').slice(17, 32)).toBe(h.slice(17, 32));
      }),
    );
  });

  it('same inputs give the same id', () => {
    fc.assert(fc.property(partsArb, (p) => void expect(eventId({ ...p })).toBe(eventId(p))));
  });

  it('changing any one part gives a different id', () => {
    fc.assert(
      fc.property(
        partsArb,
        fc.constantFrom<keyof EventIdParts>('tenant_id', 'pbx_id', 'source', 'vendor_key', 'type', 'part'),
        fc.string({ minLength: 1 }),
        (p, key, v) => {
          const changed = { ...p, [key]: v };
          fc.pre(String(changed[key]) !== String(p[key] ?? ''));
          expect(eventId(changed)).not.toBe(eventId(p));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a part boundary cannot be shifted to forge another id (fields are separated, not concatenated)', () => {
    const a = eventId({ tenant_id: 'ab', pbx_id: 'c', source: 'ami', vendor_key: 'k', type: 'call.started' });
    const b = eventId({ tenant_id: 'a', pbx_id: 'bc', source: 'ami', vendor_key: 'k', type: 'call.started' });
    expect(a).not.toBe(b);
  });

  it('makeEvent ids depend on the vendor key and type, not on receive time or raw_ref', () => {
    fc.assert(
      fc.property(contextArb, contextArb, (c1, c2) => {
        const again = { ...c2, tenant_id: c1.tenant_id, pbx_id: c1.pbx_id, source: c1.source, vendor_key: c1.vendor_key };
        const e1 = makeEvent('call.held', c1, { call_id: 'c' }, {});
        const e2 = makeEvent('call.held', again, { call_id: 'c' }, {});
        // A vendor event re-delivered (another connection, another offset) keeps its id.
        expect(e2.event_id).toBe(e1.event_id);
        expect(makeEvent('call.resumed', c1, { call_id: 'c' }, {}).event_id).not.toBe(e1.event_id);
        expect(makeEvent('call.held', { ...c1, part: 1 }, { call_id: 'c' }, {}).event_id).not.toBe(e1.event_id);
      }),
    );
  });

  it('keys events so that one call, one agent or one PBX stays on one partition', () => {
    const ctx = { tenant_id: 't1', pbx_id: 'p1', source: 'ami' as const, occurred_at: isoMs(0), received_at: isoMs(0), raw_ref: null, vendor_key: 'k' };
    expect(partitionKey(makeEvent('call.held', ctx, { call_id: 'c9' }, {}))).toBe('t1:call:c9');
    expect(partitionKey(makeEvent('agent.queue_left', ctx, { agent_id: '1001' }, { queue: 'sales' }))).toBe('t1:agent:1001');
    expect(partitionKey(makeEvent('source.gap', ctx, {}, { from: isoMs(0), to: isoMs(1), reason: 'x' }))).toBe('t1:pbx:p1');
  });

  it('isoMs always writes UTC with milliseconds', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date(0), max: new Date(4102444800000), noInvalidDate: true }),
        (d) => void expect(isoMs(d.getTime())).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      ),
    );
  });
});

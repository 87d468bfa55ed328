// The raw topic's codec: format 2 (frame as value, the other fields in the raw.v2 header) and format 1 (the JSON
// envelope of older logs) decode to the same RawRecord, headers as kafkajs delivers them
// (Buffers) included; what is not a raw record says why.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeRaw, encodeRaw, encodeRawJson, rawKey, rawMessageBytes, RAW_HEADER, type RawMessage, type RawRecord } from '../src/index.ts';

const record = (over: Partial<RawRecord> = {}): RawRecord => ({
  tenant_id: 'acme',
  pbx_id: 'pbx-nbo-1',
  source: 'ami',
  connection: 'pbx-nbo-1#3',
  seq: 41,
  received_at: '2026-05-01T08:00:00.123Z',
  format: 'ami',
  body: 'Event: QueueCallerJoin\r\nQueue: sales\r\nCallerIDName: "Zoë \\ Ω"\r\n\r\n',
  ...over,
});

/** The message as a kafkajs consumer hands it over: the value and every header a Buffer. */
const delivered = (m: RawMessage) => ({
  value: Buffer.from(m.value, 'utf8'),
  headers: m.headers && Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k, Buffer.from(v, 'utf8')])),
});
const roundTrip = (m: RawMessage) => {
  const d = delivered(m);
  return decodeRaw(d.value, d.headers);
};

const recordArb: fc.Arbitrary<RawRecord> = fc.record({
  tenant_id: fc.string({ minLength: 1, maxLength: 12 }),
  pbx_id: fc.string({ minLength: 1, maxLength: 12 }),
  source: fc.constantFrom('ami', 'yeastar-p', 'yeastar-s', 'simulator') as fc.Arbitrary<RawRecord['source']>,
  connection: fc.string({ maxLength: 20 }),
  seq: fc.nat(),
  received_at: fc.constantFrom('2026-05-01T08:00:00.123Z', '1999-12-31T23:59:59.999Z'),
  format: fc.constantFrom('ami', 'json') as fc.Arbitrary<RawRecord['format']>,
  body: fc.oneof(fc.string({ unit: 'grapheme', maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 })),
});

describe('raw codec', () => {
  it('writes the frame as the value and the other fields in one header', () => {
    const r = record();
    const m = encodeRaw(r);
    expect(m.key).toBe(rawKey(r));
    expect(m.value).toBe(r.body);
    expect(Object.keys(m.headers!)).toEqual([RAW_HEADER]);
    expect(JSON.parse(m.headers![RAW_HEADER]!)).toEqual({
      tenant_id: 'acme',
      pbx_id: 'pbx-nbo-1',
      source: 'ami',
      connection: 'pbx-nbo-1#3',
      seq: 41,
      received_at: '2026-05-01T08:00:00.123Z',
      format: 'ami',
    });
    // The connection's part of the header is cached: the next record of another connection has its own.
    expect(JSON.parse(encodeRaw(record({ connection: 'c"2', seq: 42, format: 'json' })).headers![RAW_HEADER]!)).toMatchObject({
      connection: 'c"2',
      seq: 42,
      format: 'json',
    });
    expect(JSON.parse(encodeRaw(r).headers![RAW_HEADER]!)).toMatchObject({ connection: 'pbx-nbo-1#3', format: 'ami' });
  });

  it('reads both formats back as the same record, for any record', () => {
    fc.assert(
      fc.property(recordArb, (r) => {
        expect(roundTrip(encodeRaw(r))).toEqual({ ok: true, value: r });
        expect(roundTrip(encodeRawJson(r))).toEqual({ ok: true, value: r });
      }),
      { numRuns: 500 },
    );
  });

  it('keeps a body with a lone surrogate exact by writing it as format 1', () => {
    const r = record({ body: 'Event: X\r\nName: \ud800\r\n\r\n' });
    const m = encodeRaw(r);
    expect(m.headers).toBeUndefined();
    expect(roundTrip(m)).toEqual({ ok: true, value: r });
  });

  it('reads a message without headers, or with an empty header set, as format 1', () => {
    const r = record();
    expect(decodeRaw(JSON.stringify(r))).toEqual({ ok: true, value: r });
    expect(decodeRaw(Buffer.from(JSON.stringify(r)), {})).toEqual({ ok: true, value: r });
  });

  it('says why a message is not a raw record, in either format', () => {
    expect(decodeRaw('Event: Ping\r\n\r\n')).toMatchObject({ ok: false, reason_code: 'UNPARSEABLE_JSON', original: 'Event: Ping\r\n\r\n' });
    expect(decodeRaw(JSON.stringify({ ...record(), seq: -1 }))).toMatchObject({ ok: false, reason_code: 'SCHEMA_INVALID', path: '/seq' });
    const fields = (over: Record<string, unknown>) => ({ [RAW_HEADER]: JSON.stringify({ ...JSON.parse(encodeRaw(record()).headers![RAW_HEADER]!), ...over }) });
    expect(decodeRaw('Event: Ping', fields({ seq: undefined }))).toMatchObject({ ok: false, reason_code: 'SCHEMA_INVALID', path: '/seq' });
    expect(decodeRaw('Event: Ping', fields({ seq: 'x1' }))).toMatchObject({ ok: false, reason_code: 'SCHEMA_INVALID', path: '/seq' });
    expect(decodeRaw('Event: Ping', fields({ extra: 1 }))).toMatchObject({ ok: false, reason_code: 'SCHEMA_INVALID' });
    expect(decodeRaw('Event: Ping', { [RAW_HEADER]: '{"tenant_id":' })).toMatchObject({ ok: false, reason_code: 'UNPARSEABLE_JSON' });
    expect(decodeRaw('Event: Ping', { [RAW_HEADER]: '[1]' })).toMatchObject({ ok: false, reason_code: 'SCHEMA_INVALID' });
    const empty = decodeRaw('Event: Ping', fields({ tenant_id: '' }));
    expect(empty).toMatchObject({ ok: false, reason_code: 'SCHEMA_INVALID', path: '/tenant_id' });
    // A dead letter of a format-2 message keeps every field, the frame included.
    expect(empty.ok || JSON.parse(empty.original)).toMatchObject({ tenant_id: '', seq: 41, body: 'Event: Ping' });
  });

  it('sizes a record as it is written, below its JSON envelope', () => {
    fc.assert(
      fc.property(recordArb, (r) => {
        const m = encodeRaw(r);
        const headers = Object.entries(m.headers ?? {}).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
        expect(rawMessageBytes(r)).toBeGreaterThanOrEqual(Buffer.byteLength(m.value) + headers);
        expect(rawMessageBytes(r)).toBeLessThanOrEqual(Buffer.byteLength(JSON.stringify(r)));
      }),
      { numRuns: 300 },
    );
  });
});

// pbx.raw.v1 holds two record formats (@callboard/schemas raw-codec.ts): the frame as the value
// with its fields in one header (written now), and the JSON envelope (logs written before). A
// re-translation of the same frames must not depend on which one it reads: the real Asterisk 22
// captures, written both ways and delivered as a consumer delivers them (Buffers), give the same
// events and dead letters, and the sink writes the new format.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ProducerRecord } from '@callboard/platform';
import { decodeRaw, encodeRaw, encodeRawJson, RAW_HEADER, type RawMessage, type RawRecord } from '@callboard/schemas';
import { parseAll } from '../src/ami/parser.ts';
import { nothingSettled, type Settled } from '../src/pipeline.ts';
import { Retranslation } from '../src/retranslate.ts';
import { IngestSink, type KafkaSend } from '../src/sink.ts';

const A22 = join(import.meta.dirname, '..', '..', '..', 'shared', 'fixtures', 'ami', 'asterisk22');

/** Every frame of every capture as the raw records the adapter writes. */
function records(): RawRecord[] {
  const out: RawRecord[] = [];
  for (const d of readdirSync(A22).filter((x) => existsSync(join(A22, x, 'capture.ami')))) {
    parseAll(readFileSync(join(A22, d, 'capture.ami'), 'utf8')).forEach((f, seq) =>
      out.push({
        tenant_id: 'acme',
        pbx_id: `pbx-${d}`,
        source: 'ami',
        connection: `pbx-${d}#1`,
        seq,
        received_at: new Date(Date.UTC(2026, 4, 1, 8, 0, 0, seq)).toISOString(),
        format: 'ami',
        body: f.raw,
      }),
    );
  }
  return out;
}

const delivered = (m: RawMessage) => ({
  value: Buffer.from(m.value, 'utf8'),
  headers: m.headers && Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k, Buffer.from(v, 'utf8')])),
});

async function retranslate(rs: RawRecord[], encode: (r: RawRecord) => RawMessage): Promise<Settled> {
  const t = new Retranslation({ cfg: { queues: [] }, warn: () => {} });
  const s = nothingSettled();
  for (const [i, r] of rs.entries()) {
    const m = delivered(encode(r));
    await t.add(s, m.value, { topic: 'pbx.raw.v1', partition: 0, offset: String(i) }, m.headers);
  }
  return t.flush(s);
}

describe('raw record formats', () => {
  it('re-translate the real captures to the same events and dead letters', async () => {
    const rs = records();
    expect(rs.length).toBeGreaterThan(1000);
    const before = await retranslate(rs, encodeRawJson);
    const after = await retranslate(rs, encodeRaw);
    expect(before.events.length).toBeGreaterThan(100);
    // Dead letters carry the time they were made: compare everything else.
    const stable = (s: Settled) => ({ events: s.events, dlq: s.dlq.map(({ at: _, ...d }) => d) });
    expect(stable(after)).toEqual(stable(before));
    // Each frame read back is the record written, in both formats.
    for (const r of rs) {
      const m = delivered(encodeRaw(r));
      expect(m.headers && Object.keys(m.headers)).toEqual([RAW_HEADER]);
      expect(decodeRaw(m.value, m.headers)).toEqual({ ok: true, value: r });
    }
  });

  it('a mixed log (old records, then new ones) re-translates as one stream', async () => {
    const rs = records();
    const half = Math.floor(rs.length / 2);
    const mixed = await retranslate(rs, (r) => (rs.indexOf(r) < half ? encodeRawJson(r) : encodeRaw(r)));
    const stable = (s: Settled) => ({ events: s.events, dlq: s.dlq.map(({ at: _, ...d }) => d) });
    expect(stable(mixed)).toEqual(stable(await retranslate(rs, encodeRawJson)));
  });

  it('the sink writes the frame as the value and its fields in the raw.v2 header', async () => {
    const sent: ProducerRecord[] = [];
    const producer: KafkaSend = {
      send: async (b) => (sent.push(b), [{ topicName: 't', partition: 1, baseOffset: '10' }]),
    };
    const rs = records().slice(0, 3);
    const refs = await new IngestSink(producer, { kafka: { topicPrefix: '' } as never }).raw(rs);
    expect(sent[0]!.messages).toEqual(rs.map(encodeRaw));
    expect(sent[0]!.messages.map((m) => m.value)).toEqual(rs.map((r) => r.body));
    expect(refs.map((r) => r.offset)).toEqual(['10', '11', '12']);
  });
});

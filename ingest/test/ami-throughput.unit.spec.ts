// What the issue #17 throughput changes of the AMI path rely on, checked where it could break:
// the raw-record size bound never under-counts (so no record over the broker's limit is sent),
// the parser's per-parser key cache keeps repeated keys apart when two PBX streams interleave,
// and the translator's shared "no event" outcome never leaks events from one frame to another.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@callboard/platform';
import type { CanonicalEvent, DlqRecord, RawRecord, RawRef } from '@callboard/schemas';
import { AmiParser, parseAll, type AmiFrame } from '../src/ami/parser.ts';
import { AmiTranslator } from '../src/ami/translator.ts';
import { IngestPipeline, rawRecordBytes, rawRecordBytesAtMost } from '../src/pipeline.ts';

const record = (body: string, connection = 'c1'): RawRecord => ({
  tenant_id: 'acme',
  pbx_id: 'pbx1',
  source: 'ami',
  connection,
  seq: 9_007_199_254_740_991,
  received_at: '2026-01-01T00:00:00.000Z',
  format: 'ami',
  body,
});

describe('raw record size bound', () => {
  const everyCodeUnit = Array.from({ length: 0x10000 }, (_, i) => String.fromCharCode(i)).join('');
  const bodies: [string, string][] = [
    ['empty', ''],
    ['an AMI frame', 'Event: Newchannel\r\nChannel: PJSIP/trunk-0001\r\nUniqueid: 1795306503.12\r\n\r\n'],
    ['control characters (6 bytes each in JSON)', '\u0000\u0001\u001f'.repeat(1000)],
    ['quotes and backslashes', '"\\'.repeat(5000)],
    ['non-BMP characters', '😀'.repeat(3000)],
    ['lone surrogates', '\ud800x\udfff'.repeat(2000)],
    ['every UTF-16 code unit', everyCodeUnit],
  ];
  it.each(bodies)('never under-counts the serialized size: %s', (_name, body) => {
    for (const r of [record(body), record(body, `conn-"${body.slice(0, 50)}"`)]) expect(rawRecordBytesAtMost(r)).toBeGreaterThanOrEqual(rawRecordBytes(r));
  });

  function shell(maxMessageBytes: number) {
    const sent: RawRecord[] = [];
    const dead: DlqRecord[] = [];
    const p = new IngestPipeline({
      source: 'ami',
      tenant_id: 'acme',
      pbx_id: 'pbx1',
      log: createLogger('test', 'error'),
      maxMessageBytes,
      sink: {
        raw: async (rs: RawRecord[]): Promise<RawRef[]> => {
          sent.push(...rs);
          return rs.map((r, i) => ({ topic: 'pbx.raw.v1', partition: 0, offset: String(i), connection: r.connection, seq: r.seq }));
        },
        canonical: async (_: CanonicalEvent[]) => {},
        dlq: async (ds: DlqRecord[]) => void dead.push(...ds),
      },
    });
    return { p, sent, dead };
  }

  it('a record over the bound but under the limit is written; one over the limit is dead-lettered with its real size', async () => {
    const fits = record('x'.repeat(300));
    const tooBig = record('€'.repeat(300));
    const max = rawRecordBytes(fits) + 10;
    expect(rawRecordBytesAtMost(fits)).toBeGreaterThan(max);
    expect(rawRecordBytes(tooBig)).toBeGreaterThan(max);
    const { p, sent, dead } = shell(max);
    const refs = await p.writeRaw([fits, tooBig]);
    expect(sent).toEqual([fits]);
    expect(refs[0]).not.toBeNull();
    expect(refs[1]).toBeNull();
    expect(dead.map((d) => d.reason_code)).toEqual(['OVERSIZED_RECORD']);
    expect(dead[0]!.reason).toContain(`raw record of ${rawRecordBytes(tooBig)} bytes`);
    p.close();
  });
});

describe('parser key cache', () => {
  const frameA = (n: number) => `Event: UserEvent\r\nUniqueid: a${n}\r\nOutput: 1\r\nOutput: 2\r\nQueue: sales\r\n\r\n`;
  const frameB = (n: number) => `Event: UserEvent\r\nQueue: support\r\nOutput: x\r\nUniqueid: b${n}\r\nOutput: y\r\nOutput: z\r\n\r\n`;
  const shape = (f: AmiFrame) => ({ kind: f.kind, name: f.name, headers: { ...f.headers }, repeated: f.repeated && { ...f.repeated }, raw: f.raw });

  it('two streams parsed interleaved, each frame cut across pushes, give the frames each gives alone', () => {
    const a = Array.from({ length: 6 }, (_, i) => frameA(i)).join('');
    const b = Array.from({ length: 6 }, (_, i) => frameB(i)).join('');
    const pa = new AmiParser();
    const pb = new AmiParser();
    const got: { a: AmiFrame[]; b: AmiFrame[] } = { a: [], b: [] };
    // Cuts that fall inside frames and inside repeated keys, alternating between the streams.
    for (let i = 0; i < Math.max(a.length, b.length); i += 7) {
      got.a.push(...pa.push(a.slice(i, i + 7)));
      got.b.push(...pb.push(b.slice(i, i + 7)));
    }
    got.a.push(...pa.end());
    got.b.push(...pb.end());
    expect(got.a.map(shape)).toEqual(parseAll(a, false).map(shape));
    expect(got.b.map(shape)).toEqual(parseAll(b, false).map(shape));
    expect(got.a[3]!.headers.Output).toBe('1');
    expect(got.a[3]!.repeated).toEqual({ Output: ['1', '2'] });
    expect(got.b[5]!.repeated).toEqual({ Output: ['x', 'y', 'z'] });
    expect(got.b[5]!.headers.Uniqueid).toBe('b5');
  });

  it('a key once per frame is never taken as repeated, and start keys inside a frame still cut it', () => {
    const frames = parseAll('Event: A\r\nX: 1\r\n\r\nEvent: B\r\nX: 2\r\nevent: lower\r\n\r\nEvent: C\r\nX: 3\r\nEvent: D\r\nX: 4\r\n\r\n', false);
    expect(frames.map((f) => [f.kind, f.name, f.headers.X, f.repeated])).toEqual([
      ['event', 'A', '1', undefined],
      ['event', 'B', '2', undefined],
      ['garbage', 'C', '3', undefined],
      ['event', 'D', '4', undefined],
    ]);
    expect(frames[1]!.headers.event).toBe('lower');
  });
});

describe('translator outcomes', () => {
  const dir = join(import.meta.dirname, '..', '..', '..', 'shared', 'fixtures', 'ami', 'asterisk22');
  const captures = readdirSync(dir).filter((d) => !d.includes('.'));

  it.each(captures)('%s: events handed out stay as they were; frames without events share one frozen outcome', (name) => {
    const frames = parseAll(readFileSync(join(dir, name, 'capture.ami'), 'utf8'));
    const t = new AmiTranslator({ tenant_id: 'acme', pbx_id: 'pbx1' });
    const kept: { events: CanonicalEvent[]; json: string }[] = [];
    const empty = new Set<unknown>();
    frames.forEach((frame, seq) => {
      const o = t.translate(frame, { received_at: 1_795_300_000_000, raw_ref: null, connection: 'c1', seq });
      if (o.kind !== 'ok') return;
      if (o.events.length === 0) {
        expect(Object.isFrozen(o.events)).toBe(true);
        empty.add(o);
      } else kept.push({ events: o.events, json: JSON.stringify(o.events) });
    });
    expect(kept.length).toBeGreaterThan(0);
    expect(empty.size).toBe(1);
    for (const k of kept) expect(JSON.stringify(k.events)).toBe(k.json);
    const tail = t.flush({ received_at: 1_795_300_000_000, raw_ref: null, connection: 'c1', seq: frames.length });
    const tailJson = JSON.stringify(tail);
    t.translate(frames[frames.length - 1]!, { received_at: 1_795_300_000_000, raw_ref: null, connection: 'c1', seq: frames.length + 1 });
    expect(JSON.stringify(tail)).toBe(tailJson);
  });
});

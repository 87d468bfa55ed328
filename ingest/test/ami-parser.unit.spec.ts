// The streaming AMI parser: properties over the real captures (any chunking gives the same
// frames; garbage never costs a well-formed frame), a bounded fuzz run, and the wire shapes
// the reference lists (banner, command output, repeated keys, event lists).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AmiParser, parseAll, type AmiFrame } from '../src/ami/parser.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const AMI = join(repoRoot, '..', 'shared', 'fixtures', 'ami');

const captures = existsSync(AMI)
  ? [
      ...readdirSync(join(AMI, 'asterisk22')).filter((d) => !d.endsWith('.md')).map((d) => join(AMI, 'asterisk22', d, 'capture.ami')),
      ...readdirSync(join(AMI, 'panoramisk')).map((f) => join(AMI, 'panoramisk', f)),
      ...readdirSync(join(AMI, 'callme')).map((f) => join(AMI, 'callme', f)),
    ]
  : [];

const shape = (f: AmiFrame) => ({ kind: f.kind, name: f.name, headers: f.headers, repeated: f.repeated });

function parseChunks(chunks: (string | Buffer)[], lenient = true): AmiFrame[] {
  const p = new AmiParser();
  const out: AmiFrame[] = [];
  for (const c of chunks) out.push(...p.push(c));
  out.push(...p.end(lenient));
  return out;
}

function cutAt(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    parts.push(buf.subarray(prev, p));
    prev = p;
  }
  parts.push(buf.subarray(prev));
  return parts;
}

describe.skipIf(captures.length === 0)('AMI parser on the real captures (needs ../shared/fixtures)', () => {
  it.each(captures.map((c) => [c.slice(AMI.length + 1), c]))('%s: any chunking gives the same frames', (_name, path) => {
    const bytes = readFileSync(path);
    const whole = parseAll(bytes);
    expect(whole.length).toBeGreaterThan(0);
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 400 }), (cuts) => {
        expect(parseChunks(cutAt(bytes, cuts))).toEqual(whole);
      }),
      { numRuns: 25 },
    );
    // Byte by byte, too (every multi-byte character split).
    const small = bytes.subarray(0, 20_000);
    expect(parseChunks([...small].map((b) => Buffer.from([b])))).toEqual(parseAll(small));
  });

  it.each(captures.map((c) => [c.slice(AMI.length + 1), c]))('%s: every input character lands in exactly one frame', (_name, path) => {
    const text = readFileSync(path, 'utf8');
    const joined = parseAll(text).map((f) => f.raw).join('');
    expect(text.startsWith(joined)).toBe(true);
    expect(text.slice(joined.length)).toMatch(/^(\r?\n)*$/);
  });

  it('reads CRLF and bare LF alike', () => {
    for (const path of captures.filter((c) => c.includes('asterisk22'))) {
      const crlf = readFileSync(path, 'utf8');
      expect(crlf).toContain('\r\n');
      expect(parseAll(crlf.replace(/\r\n/g, '\n')).map(shape)).toEqual(parseAll(crlf).map(shape));
    }
  });

  it('never loses a well-formed frame after injected garbage', () => {
    const text = readFileSync(captures.find((c) => c.includes('b_abandon'))!, 'utf8');
    const frames = parseAll(text);
    const good = frames.filter((f) => f.kind === 'event' || f.kind === 'response');
    const junk = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.constantFrom('Response: Follows', 'Event: Cut', 'Event: Cut\r\nKey: v', 'Asterisk Call Manager/1.3', '\u0000\u0001\u0002', 'Foo: bar', '--END COMMAND--', ':', ' : '),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(frames.length - 1), junk), { minLength: 1, maxLength: 30 }), fc.array(fc.nat(), { maxLength: 50 }), (inject, cuts) => {
        const at = new Map<number, string[]>();
        for (const [i, g] of inject) at.set(i, [...(at.get(i) ?? []), g]);
        // Garbage is inserted between frames, ending in a line break (the one thing it must
        // not do is swallow the first line of the next frame).
        const noisy = frames.map((f, i) => (at.get(i) ?? []).map((g) => `${g}\r\n`).join('') + f.raw).join('');
        const out = parseChunks(cutAt(Buffer.from(noisy, 'utf8'), cuts));
        // Every well-formed frame comes out, in order, unchanged (a subsequence of the output).
        let k = 0;
        for (const f of out) if (k < good.length && JSON.stringify(shape(f)) === JSON.stringify(shape(good[k]!))) k++;
        expect(k).toBe(good.length);
      }),
      { numRuns: 100 },
    );
  });
});

describe('AMI parser wire shapes', () => {
  it('banner line without a blank line after it, then frames', () => {
    const f = parseAll('Asterisk Call Manager/11.0.0\r\nResponse: Success\r\nActionID: 1\r\nMessage: Authentication accepted\r\n\r\n');
    expect(f.map((x) => [x.kind, x.name])).toEqual([
      ['banner', '11.0.0'],
      ['response', 'Success'],
    ]);
    expect(f[1]!.headers).toEqual({ Response: 'Success', ActionID: '1', Message: 'Authentication accepted' });
  });

  it('Asterisk 13 command output (Response: Follows … --END COMMAND--), empty lines inside', () => {
    const text = 'Response: Follows\r\nPrivilege: Command\r\nActionID: 7\r\nline one\r\n\r\nline: three has a colon and spaces\r\n--END COMMAND--\r\n\r\nEvent: Next\r\n\r\n';
    const f = parseAll(text);
    expect(f.map((x) => x.kind)).toEqual(['response', 'event']);
    expect(f[0]!.headers.ActionID).toBe('7');
    expect(f[0]!.text).toEqual(['line one', '', 'line: three has a colon and spaces', '--END COMMAND--']);
    expect(f.map((x) => x.raw).join('')).toBe(text);
  });

  it('repeated keys (Output: lines of 16+ command replies) keep every value in order', () => {
    const f = parseAll('Response: Success\r\nMessage: Command output follows\r\nOutput: a\r\nOutput: b\r\nOutput: \r\n\r\n')[0]!;
    expect(f.headers.Output).toBe('a');
    expect(f.repeated!.Output).toEqual(['a', 'b', '']);
  });

  it('EventList responses: start, items carrying the ActionID, Complete', () => {
    const text = [
      'Response: Success\r\nActionID: q1\r\nEventList: start\r\nMessage: Queue status will follow\r\n\r\n',
      'Event: QueueMember\r\nQueue: sales\r\nName: Ann\r\nLocation: PJSIP/1001\r\nActionID: q1\r\n\r\n',
      'Event: QueueStatusComplete\r\nActionID: q1\r\nEventList: Complete\r\nListItems: 1\r\n\r\n',
    ].join('');
    const f = parseAll(text);
    expect(f.map((x) => `${x.kind}:${x.name}:${x.headers.ActionID}:${x.headers.EventList ?? ''}`)).toEqual(['response:Success:q1:start', 'event:QueueMember:q1:', 'event:QueueStatusComplete:q1:Complete']);
  });

  it('keeps unknown events with all their headers, empty values and odd keys included', () => {
    const f = parseAll('Event: BrandNew\r\nAccountCode: \r\nCause-txt: Normal Clearing\r\nChanVariable(PJSIP/1): x=y\r\nNoSpace:v\r\n\r\n')[0]!;
    expect(f).toMatchObject({ kind: 'event', name: 'BrandNew', headers: { AccountCode: '', 'Cause-txt': 'Normal Clearing', 'ChanVariable(PJSIP/1)': 'x=y', NoSpace: 'v' } });
  });

  it('a frame cut short by the end of the stream is garbage unless the input is a finished file', () => {
    const p = new AmiParser();
    expect(p.push('Event: Half\r\nKey: v')).toEqual([]);
    expect(p.end().map((f) => f.kind)).toEqual(['garbage']);
    expect(parseAll('Event: Whole\r\nKey: v\r\n').map((f) => f.kind)).toEqual(['event']);
  });

  it('fuzz: random bytes never throw, and every character is accounted for', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('\r\n', '\n', 'Event: X\r\n', 'Response: Follows\r\n', ': ', '--END COMMAND--\r\n', '\r\n\r\n')), { maxLength: 60 }), fc.array(fc.nat(), { maxLength: 20 }), (parts, cuts) => {
        const text = parts.join('');
        const out = parseChunks(cutAt(Buffer.from(text, 'utf8'), cuts), false);
        const joined = out.map((f) => f.raw).join('');
        expect(text.startsWith(joined)).toBe(true);
        expect(text.slice(joined.length)).toMatch(/^(\r?\n)*$/);
        for (const f of out) expect(['event', 'response', 'action', 'banner', 'garbage']).toContain(f.kind);
      }),
      { numRuns: 2000 },
    );
  });
});

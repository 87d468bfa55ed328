// Streaming parser for the AMI wire format (pure: text in, frames out; no I/O).
//
// A frame is a block of `Key: Value` lines closed by an empty line; CRLF or bare LF. Besides
// events and responses the stream holds the banner line (no blank line after it), command
// output (`Response: Follows` … `--END COMMAND--` in Asterisk 13, repeated `Output:` keys later)
// and, on a bad link or a misbehaving proxy, garbage. The parser never throws: what is not a
// frame comes out as a `garbage` frame (the caller dead-letters it), and a well-formed frame
// that follows garbage is still found, because an `Event:`/`Response:` line always starts a
// new frame. Every input character ends up in exactly one frame's `raw`, so the concatenation
// of all `raw` strings is the input: raw records can be kept byte-exact.
//
// The one exception is a frame over the size limit (MAX_FRAME_CHARS by default, configurable):
// its first `limit` characters come out as a garbage frame with `truncatedFrom` set to its real
// size, and the rest is counted and dropped up to the next empty line. The parser then holds at
// most `limit` characters whatever arrives: a peer sending 50 MB without a line end cannot grow
// memory, and the frames after it are still found.
import { StringDecoder } from 'node:string_decoder';

/** `action` only appears in recordings of both directions (test fixtures); a server never sends one. */
export type AmiFrameKind = 'event' | 'response' | 'action' | 'banner' | 'garbage';

export interface AmiFrame {
  kind: AmiFrameKind;
  /** Event name, Response value ("Success", "Error", "Follows", …), Action name, banner version, or "". */
  name: string;
  /** First value of each key, as sent (keys case-sensitive, as Asterisk spells them). */
  headers: Record<string, string>;
  /** Every value of keys that occur more than once (e.g. `Output` of a Command reply). */
  repeated?: Record<string, string[]>;
  /** Lines that are not `Key: Value` (Asterisk 13 command output, junk), without line ends. */
  text?: string[];
  /** The frame exactly as received, line ends and closing empty line included. */
  raw: string;
  /** Only on a frame over the size limit: its real size (characters); `raw` is its head. */
  truncatedFrom?: number;
}

const BANNER = /^Asterisk Call Manager\/(\S+)\s*$/;
const END_COMMAND = '--END COMMAND--';
/** Default size limit of a frame (and so of a line), in characters. */
export const MAX_FRAME_CHARS = 256 * 1024;

const ACTION = /^action:/i;
function isStartLine(line: string): boolean {
  // Checked on every line: look at the first character before comparing strings.
  const c = line.charCodeAt(0);
  if (c === 69 /* E */) return line.startsWith('Event:');
  if (c === 82 /* R */) return line.startsWith('Response:');
  if (c === 65 /* A */ || c === 97 /* a */) return ACTION.test(line);
  return false;
}
function startKind(line: string): 'event' | 'response' | 'action' {
  return line.charCodeAt(0) === 69 /* E */ ? 'event' : line.charCodeAt(0) === 82 /* R */ ? 'response' : 'action';
}

export class AmiParser {
  private buf = '';
  /** Where the next line starts in `buf`. */
  private scan = 0;
  /** Where the unfinished material (stray empty lines, then the open frame) starts, or -1. */
  private start = -1;
  private frame: AmiFrame | null = null;
  private follows = false;
  private readonly decoder = new StringDecoder('utf8');
  private readonly keys = new KeyCache();
  /** An oversized frame being skipped: its kept head, size so far, and last two characters. */
  private skip: { head: string; size: number; tail: string } | null = null;

  constructor(readonly maxFrameChars = MAX_FRAME_CHARS) {}

  /** Characters held between pushes (the bound the size limit guarantees, for tests and metrics). */
  get buffered(): number {
    return this.buf.length + (this.skip?.head.length ?? 0);
  }

  /** Feeds a chunk (bytes or text) and returns the frames it completed. */
  push(chunk: Buffer | string): AmiFrame[] {
    let text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const out: AmiFrame[] = [];
    if (this.skip) text = this.skipThrough(text, out);
    if (this.skip) return out;
    this.buf += text;
    this.run(out);
    return out;
  }

  /** Drops `text` up to the end of the oversized frame; returns what follows it. */
  private skipThrough(text: string, out: AmiFrame[]): string {
    const k = this.skip!;
    const seen = k.tail + text;
    const m = /\n\r?\n/.exec(seen);
    if (!m) {
      k.size += text.length;
      k.tail = seen.slice(-2);
      return '';
    }
    const used = m.index + m[0].length - k.tail.length;
    k.size += used;
    this.skip = null;
    out.push({ kind: 'garbage', name: '', headers: {}, raw: k.head, truncatedFrom: k.size });
    return text.slice(used);
  }

  /**
   * End of stream. A frame without its closing empty line may be truncated, so it comes out as
   * garbage, unless `lenient` (a capture file whose last frame simply lacks the empty line).
   */
  end(lenient = false): AmiFrame[] {
    const out: AmiFrame[] = [];
    const rest = this.skip ? this.skipThrough(this.decoder.end(), out) : this.decoder.end();
    if (this.skip) {
      out.push({ kind: 'garbage', name: '', headers: {}, raw: this.skip.head, truncatedFrom: this.skip.size });
      this.skip = null;
    }
    this.buf += rest;
    this.run(out);
    if (this.scan < this.buf.length) this.line(this.buf.slice(this.scan), this.scan, this.buf.length, out);
    if (this.frame) {
      const f = this.frame;
      this.close(this.buf.length, out);
      // No closing empty line: the frame may be truncated, so it is not trusted.
      if (!lenient && !/\n\r?\n$/.test(f.raw)) f.kind = 'garbage';
    }
    this.buf = '';
    this.scan = 0;
    this.start = -1;
    return out;
  }

  private run(out: AmiFrame[]): void {
    const buf = this.buf;
    let pos = this.scan;
    for (;;) {
      const nl = buf.indexOf('\n', pos);
      if (nl < 0) break;
      const end = nl > pos && buf.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      // The hot path: a header line of an open frame is read straight from the buffer.
      const f = this.frame;
      if (f !== null && !this.follows && end > pos && headerAt(this.keys, f, buf, pos, end, true)) {
        pos = nl + 1;
        continue;
      }
      this.line(buf.slice(pos, end), pos, nl + 1, out);
      pos = nl + 1;
    }
    const keepFrom = this.start >= 0 ? this.start : pos;
    if (keepFrom > 0) {
      this.buf = buf.slice(keepFrom);
      if (this.start >= 0) this.start -= keepFrom;
    }
    this.scan = pos - keepFrom;
    // Every complete line was read and no empty line closed the frame, so all of `buf` is one
    // unfinished frame (or line): over the limit, keep its head and skip to its end.
    if (this.buf.length > this.maxFrameChars) {
      this.skip = { head: this.buf.slice(0, this.maxFrameChars), size: this.buf.length, tail: this.buf.slice(-2) };
      this.buf = '';
      this.scan = 0;
      this.start = -1;
      this.frame = null;
      this.follows = false;
    }
  }

  /** One line (without its line end) that starts at `at` and whose successor starts at `next`. */
  private line(line: string, at: number, next: number, out: AmiFrame[]): void {
    const f = this.frame;
    if (line.length === 0) {
      if (f && this.follows) f.text!.push(line); // Asterisk 13 command output may hold empty lines
      else if (f) this.close(next, out);
      else if (this.start < 0) this.start = at; // stray empty line: travels with the next frame
      return;
    }
    if (!f) {
      if (this.start < 0) this.start = at;
      const m = BANNER.exec(line);
      if (m) {
        out.push({ kind: 'banner', name: m[1]!, headers: {}, raw: this.buf.slice(this.start, next) });
        this.start = -1;
        return;
      }
      this.open(line);
      return;
    }
    if (this.follows) {
      const text = f.text!;
      if (line === END_COMMAND) {
        this.follows = false;
        text.push(line);
        return;
      }
      // A frame start: the END marker never came (a cut reply, or garbage that said Follows).
      if (isStartLine(line)) {
        this.cut(at, line, out);
        return;
      }
      // Headers come first; from the first output line on, everything is output.
      if (text.length > 0 || !headerAt(this.keys, f, line, 0, line.length)) text.push(line);
      return;
    }
    // A frame start line inside a frame means the frame before was garbage or cut short.
    // The one exception: OriginateResponse is an event with a `Response:` header.
    if (isStartLine(line) && !(f.kind === 'event' && f.name === 'OriginateResponse' && startKind(line) === 'response')) {
      this.cut(at, line, out);
      return;
    }
    if (!headerAt(this.keys, f, line, 0, line.length)) (f.text ??= []).push(line);
  }

  /** Garbage, or a frame that never got its closing empty line, ends where a frame starts. */
  private cut(at: number, line: string, out: AmiFrame[]): void {
    this.frame!.kind = 'garbage';
    this.close(at, out);
    this.start = at;
    this.open(line);
  }

  private open(line: string): void {
    const f: AmiFrame = { kind: 'garbage', name: '', headers: Object.create(null) as Record<string, string>, raw: '' };
    this.keys.frame++;
    if (isStartLine(line) && headerAt(this.keys, f, line, 0, line.length)) {
      f.kind = startKind(line);
      if (f.kind === 'event') {
        f.name = f.headers.Event!;
      } else if (f.kind === 'action') {
        f.name = Object.values(f.headers)[0]!;
      } else {
        f.name = f.headers.Response!;
        if (f.name === 'Follows') {
          this.follows = true;
          f.text = [];
        }
      }
    } else {
      f.text = [line];
    }
    this.frame = f;
  }

  private close(end: number, out: AmiFrame[]): void {
    const f = this.frame!;
    this.frame = null;
    this.follows = false;
    const size = end - this.start;
    // A frame that arrived whole in one chunk is over the limit too: cut the same way.
    if (size > this.maxFrameChars) out.push({ kind: 'garbage', name: '', headers: {}, raw: this.buf.slice(this.start, this.start + this.maxFrameChars), truncatedFrom: size });
    else {
      f.raw = this.buf.slice(this.start, end);
      out.push(f);
    }
    this.start = -1;
  }
}

/** A key of a header line, as the parser's key cache keeps it. */
interface Key {
  name: string;
  /** `Event`, `Response` or `Action` (any case): the key of a line that starts a frame. */
  start: boolean;
  /** The parser's number of the last frame that had this key (-1: not cached, look it up). */
  seen: number;
}

// Keys seen before, by length and first character: the same few dozen keys repeat on every
// frame, and reusing one string (already internalised as a property name) saves an allocation
// and a hash per line. Each parser has its own, so an entry can also say whether the open frame
// already has the key (its `seen` frame number) without looking it up in the headers.
class KeyCache {
  private readonly lists: Key[][] = [];
  /** Number of the open frame (counts frames opened by this parser). */
  frame = 0;

  at(buf: string, pos: number, c: number): Key | null {
    const len = c - pos;
    const first = buf.charCodeAt(pos);
    // Usually one candidate to compare.
    const list = len < 64 && first < 128 ? (this.lists[(len << 7) | first] ??= []) : undefined;
    if (list) {
      for (let i = 0; i < list.length; i++) if (buf.startsWith(list[i]!.name, pos)) return list[i]!;
    }
    const name = buf.slice(pos, c);
    // Keys are tokens such as `Cause-txt` or `ChanVariable(PJSIP/1001)`; a space means prose.
    if (name.indexOf(' ') >= 0 || name === '__proto__') return null;
    const key: Key = { name, start: name === 'Event' || name === 'Response' || ACTION.test(`${name}:`), seen: -1 };
    if (list && list.length < 16) {
      key.seen = 0;
      list.push(key);
    }
    return key;
  }
}

/**
 * Adds the `Key: Value` line buf[pos, end) to the frame; false when it is not a header, or, with
 * `notStart`, when it starts a frame (the caller decides what that means).
 */
function headerAt(keys: KeyCache, f: AmiFrame, buf: string, pos: number, end: number, notStart = false): boolean {
  const c = buf.indexOf(':', pos);
  if (c <= pos || c >= end) return false;
  const key = keys.at(buf, pos, c);
  if (key === null || (notStart && key.start)) return false;
  const value = buf.charCodeAt(c + 1) === 32 ? buf.slice(c + 2, end) : buf.slice(c + 1, end);
  const h = f.headers;
  if (key.seen >= 0 ? key.seen !== keys.frame : h[key.name] === undefined) {
    if (key.seen >= 0) key.seen = keys.frame;
    h[key.name] = value;
  } else {
    const rep = (f.repeated ??= Object.create(null) as Record<string, string[]>);
    (rep[key.name] ??= [h[key.name]!]).push(value);
  }
  return true;
}

/** Parses a whole capture in one go (files, tests). */
export function parseAll(text: string | Buffer, lenientEnd = true): AmiFrame[] {
  const p = new AmiParser();
  return [...p.push(text), ...p.end(lenientEnd)];
}

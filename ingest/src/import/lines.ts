// Reading a PBX log a line at a time, as bytes: a file, `-` for stdin, gzip read transparently
// (by its magic bytes, so a rotated `queue_log.1.gz` and a piped `zcat`-less stream both work).
// Lines stay bytes so the parser can reject a non-UTF-8 line by its number instead of the
// decoder quietly replacing the byte.
import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';

export interface Line {
  bytes: Buffer;
  /** 1-based. */
  line: number;
}

export interface LineSource {
  lines: AsyncIterable<Line>;
  /** Input bytes consumed so far (compressed bytes for gzip), for progress. */
  consumed(): number;
  /** Total input bytes when known (a regular file), else null. */
  total: number | null;
}

function isGzipFile(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(2);
    return readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

/** Opens `path` (or stdin for `-`); throws with a one-line message when it cannot be read. */
export function openLines(path: string, stdin: Readable = process.stdin): LineSource {
  let consumed = 0;
  let input: Readable;
  let total: number | null = null;
  if (path === '-') {
    input = stdin;
  } else {
    let st;
    try {
      st = statSync(path);
    } catch {
      throw new Error(`${path}: no such file`);
    }
    if (!st.isFile()) throw new Error(`${path}: not a regular file`);
    total = st.size;
    input = createReadStream(path);
  }
  input.on('data', (c: Buffer) => (consumed += c.length));
  const gz = path !== '-' && isGzipFile(path);
  const stream = gz ? input.pipe(createGunzip()) : input;
  return { lines: splitLines(stream), consumed: () => consumed, total };
}

async function* splitLines(stream: AsyncIterable<Buffer>): AsyncGenerator<Line> {
  let rest: Buffer = Buffer.alloc(0);
  let n = 0;
  for await (const chunk of stream) {
    const buf = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    let start = 0;
    for (let nl = buf.indexOf(0x0a, start); nl >= 0; nl = buf.indexOf(0x0a, start)) {
      n++;
      if (nl > start) yield { bytes: buf.subarray(start, nl), line: n };
      start = nl + 1;
    }
    rest = Buffer.from(buf.subarray(start));
  }
  if (rest.length) yield { bytes: rest, line: n + 1 };
}

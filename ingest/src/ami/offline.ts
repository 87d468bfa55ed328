// Offline translation: a capture file (`callboard translate`) or raw records read back from
// pbx.raw.v1 (`callboard retranslate`) through the same parser and translator as the live
// adapter.
import { existsSync, readFileSync } from 'node:fs';
import { queueSettings } from '@callboard/platform';
import type { CanonicalEvent, RawRecord, RawRef } from '@callboard/schemas';
import { ok, type OfflineOptions, type RawTranslator, type TranslateOutcome } from '../pipeline.ts';
import { parseAll, type AmiFrame } from './parser.ts';
import { AmiTranslator, type FrameMeta } from './translator.ts';

export function newTranslator(opts: Pick<OfflineOptions, 'cfg' | 'tenant_id' | 'pbx_id'>): AmiTranslator {
  return new AmiTranslator({
    tenant_id: opts.tenant_id,
    pbx_id: opts.pbx_id,
    wrapUpMs: (queue) => queueSettings(opts.cfg, opts.tenant_id, queue).wrap_up_s * 1000,
  });
}

/** Receive times of a capture, from a `<file>.rxtimes.jsonl` beside it ({offset,len,rx_time} per chunk). */
function readRxTimes(path: string): { end: number; at: number }[] | null {
  const p = `${path}.rxtimes.jsonl`;
  if (!existsSync(p)) return null;
  const chunks: { end: number; at: number }[] = [];
  for (const line of readFileSync(p, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const c = JSON.parse(line) as { offset: number; len: number; rx_time: number };
    chunks.push({ end: c.offset + c.len, at: Math.round(c.rx_time * 1000) });
  }
  return chunks;
}

/**
 * Frames of a capture with the time each was received: from the rxtimes file when there is
 * one, otherwise the last Timestamp header seen before it, otherwise `start` plus one
 * millisecond per frame (file order).
 */
export function framesWithTimes(path: string, opts: Pick<OfflineOptions, 'start' | 'warn'>): { frame: AmiFrame; meta: FrameMeta }[] {
  const bytes = readFileSync(path);
  const frames = parseAll(bytes);
  const rx = readRxTimes(path);
  const start = opts.start?.getTime() ?? 0;
  let offset = 0;
  let chunk = 0;
  let lastTs = Number.NaN;
  let anyTs = false;
  const out = frames.map((frame, i) => {
    offset += Buffer.byteLength(frame.raw);
    let at: number;
    if (rx) {
      while (chunk < rx.length - 1 && rx[chunk]!.end < offset) chunk++;
      at = rx[chunk]!.at;
    } else {
      const ts = frame.headers.Timestamp;
      if (ts) {
        const v = Math.floor(Number(ts) * 1000);
        if (Number.isFinite(v)) {
          lastTs = v;
          anyTs = true;
        }
      }
      at = Number.isNaN(lastTs) ? start + i : lastTs;
    }
    const raw_ref: RawRef = { topic: 'file', line: i + 1 };
    return { frame, meta: { received_at: at, raw_ref, connection: 'file', seq: i } };
  });
  if (!rx && !anyTs) {
    if (!opts.start) opts.warn(`${path}: no Timestamp headers (timestampevents=no) and no --start: times are file order from 1970-01-01T00:00:00.000Z; pass --start ISO`);
    else opts.warn(`${path}: no Timestamp headers (timestampevents=no): times are file order from ${opts.start.toISOString()}, 1 ms per frame; waits come from HoldTime/TalkTime`);
  }
  return out;
}

export async function* translateAmiFile(path: string, opts: OfflineOptions): AsyncIterable<TranslateOutcome> {
  const t = newTranslator(opts);
  let last: FrameMeta | undefined;
  for (const { frame, meta } of framesWithTimes(path, opts)) {
    if (frame.kind === 'action') continue; // a recording of both directions: our own requests
    last = meta;
    yield t.translate(frame, meta);
  }
  if (last) yield ok(t.flush(last));
}

export function amiRawTranslator(opts: OfflineOptions): RawTranslator {
  const t = newTranslator(opts);
  let last: FrameMeta | undefined;
  return {
    translate(record: RawRecord, ref: RawRef | null): TranslateOutcome[] {
      const meta: FrameMeta = { received_at: Date.parse(record.received_at), raw_ref: ref, connection: record.connection, seq: record.seq };
      last = meta;
      return parseAll(record.body).map((f) => t.translate(f, meta));
    },
    flush(): CanonicalEvent[] {
      return last ? t.flush(last) : [];
    },
  };
}

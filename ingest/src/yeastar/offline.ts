// Offline translation of Yeastar vendor messages: a file with one JSON message per line (what
// `callboard translate --source yeastar-p|yeastar-s` reads), or raw records from pbx.raw.v1
// (`callboard retranslate`). Pure apart from reading the file.
//
// A file line is either a bare vendor message, or a RawRecord (`{body, received_at, …}`), which
// carries its own receive time. Bare messages carry no receive time (Yeastar status events have
// no timestamp at all), so one is synthesised deterministically: one second after the previous
// line, and never earlier than the call id's epoch (the call's UTC start) — or `start` if given.
import { readFile } from 'node:fs/promises';
import type { CallboardConfig } from '@callboard/platform';
import type { CanonicalEvent, RawRecord, RawRef, Source } from '@callboard/schemas';
import { dlq, type OfflineOptions as RegistryOfflineOptions, type RawTranslator, type TranslateOutcome } from '../pipeline.ts';
import { parseYeastarText, type YeastarMessage } from './messages.ts';
import { callIdEpochMs, yeastarLocalToUtc } from './time.ts';
import { translateSafely, YeastarTranslator } from './translate.ts';

export interface YeastarOfflineOptions {
  source: Extract<Source, 'yeastar-p' | 'yeastar-s'>;
  tenant_id: string;
  pbx_id: string;
  timezone: string;
  queues?: readonly string[];
  /** Receive time of the first bare line when it has no call id to go by. */
  start?: Date;
}

/** A message's own clue to when it happened: its call id's epoch, or a CDR's start; none for status events. */
export function hintMs(m: YeastarMessage, zone: string): number | undefined {
  if (!('call_id' in m)) return undefined;
  const e = callIdEpochMs(m.call_id);
  if (e !== undefined) return e;
  if (m.kind === 'cdr') return m.start_utc_ms ?? yeastarLocalToUtc(m.time_start, zone)?.ms;
  return undefined;
}

/** One outcome per non-blank line, in order. */
export function* translateYeastarLines(
  text: string,
  opts: YeastarOfflineOptions,
  translator = new YeastarTranslator(opts),
): Generator<TranslateOutcome & { line: number }> {
  const product = opts.source === 'yeastar-p' ? 'p' : 's';
  let clock: number | undefined = opts.start?.getTime();
  let first = true;
  for (const [i, rawLine] of text.split('\n').entries()) {
    const line = rawLine.trim();
    if (!line) continue;
    const lineNo = i + 1;
    let body = line;
    let receivedAt: string | undefined;
    try {
      const v = JSON.parse(line) as Record<string, unknown>;
      if (v && typeof v === 'object' && typeof v.body === 'string' && typeof v.received_at === 'string') {
        body = v.body;
        receivedAt = v.received_at;
      }
    } catch {
      // parseYeastarText reports the JSON error below.
    }
    const parsed = parseYeastarText(body, product);
    if (!parsed.ok) {
      yield { ...dlq(parsed.reason_code, `line ${lineNo}: ${parsed.reason}`, parsed.path), line: lineNo };
      continue;
    }
    if (receivedAt === undefined) {
      const hint = hintMs(parsed.message, opts.timezone);
      const base = clock === undefined ? (hint ?? 0) : first ? clock : clock + 1000;
      clock = Math.max(base, hint ?? base);
      receivedAt = new Date(clock).toISOString();
    } else clock = Date.parse(receivedAt);
    first = false;
    const o = translateSafely(translator, parsed.message, { received_at: receivedAt, raw_ref: { topic: 'file', line: lineNo } });
    yield { ...(o.kind === 'dlq' ? { ...o, reason: `line ${lineNo}: ${o.reason}` } : o), line: lineNo };
  }
}

/** All canonical events of a text, and the problems, for tests and tools. */
export function translateYeastarText(text: string, opts: YeastarOfflineOptions, translator = new YeastarTranslator(opts)) {
  const res = {
    events: [] as CanonicalEvent[],
    dlq: [] as { line: number; reason_code: string; reason: string }[],
    dropped: [] as { line: number; reason: string }[],
  };
  for (const o of translateYeastarLines(text, opts, translator)) {
    if (o.kind === 'ok') res.events.push(...o.events);
    else if (o.kind === 'dlq') res.dlq.push({ line: o.line, reason_code: o.reason_code, reason: o.reason });
    else res.dropped.push({ line: o.line, reason: o.reason });
  }
  return res;
}

/** Registry options → translator options: queue numbers of the tenant, zone from --tz or UTC. */
function fromRegistry(source: YeastarOfflineOptions['source'], o: RegistryOfflineOptions & { timezone?: string }): YeastarOfflineOptions {
  const queues = o.cfg.queues.filter((q) => q.tenant === o.tenant_id).map((q) => q.queue);
  return { source, tenant_id: o.tenant_id, pbx_id: o.pbx_id, timezone: zoneOf(o) ?? 'UTC', queues, ...(o.start ? { start: o.start } : {}) };
}

/** --tz, else the configured PBX's zone (the registry passes the whole config when it has one). */
function zoneOf(o: RegistryOfflineOptions & { timezone?: string }): string | undefined {
  const pbxes = (o.cfg as Partial<Pick<CallboardConfig, 'pbxes'>>).pbxes ?? [];
  return o.timezone ?? pbxes.find((p) => p.id === o.pbx_id)?.timezone;
}

/** `translateFile` of the registry (adapters.ts) for one Yeastar source. */
export function yeastarFileTranslator(source: YeastarOfflineOptions['source']) {
  return async function* translateFile(path: string, o: RegistryOfflineOptions & { timezone?: string }): AsyncIterable<TranslateOutcome> {
    if (!zoneOf(o)) o.warn(`${path}: no --tz and no configured PBX time zone: Yeastar local times are read as UTC`);
    const text = await readFile(path, 'utf8');
    for (const out of translateYeastarLines(text, fromRegistry(source, o))) {
      const { line: _line, ...outcome } = out;
      yield outcome as TranslateOutcome;
    }
  };
}

/** `translator` of the registry: raw records of one PBX, in stream order (retranslate). */
export function yeastarRawTranslator(source: YeastarOfflineOptions['source']) {
  return (o: RegistryOfflineOptions & { timezone?: string }): RawTranslator => {
    const opts = fromRegistry(source, o);
    const t = new YeastarTranslator(opts);
    const product = source === 'yeastar-p' ? 'p' : 's';
    return {
      translate(record: RawRecord, ref: RawRef | null): TranslateOutcome[] {
        const parsed = parseYeastarText(record.body, product);
        if (!parsed.ok) return [dlq(parsed.reason_code, `PBX ${record.pbx_id}: ${parsed.reason}`, parsed.path)];
        return [translateSafely(t, parsed.message, { received_at: record.received_at, raw_ref: ref })];
      },
      flush: () => [],
    };
  };
}

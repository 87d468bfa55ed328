// `callboard replay --source yeastar CAPTURE`: a recorded Yeastar stream — P-Series WebSocket
// frames or S-Series pushed reports — played through the live adapters' own pipeline
// (yeastar/pipeline.ts: parse, raw record on pbx.raw.v1, the stateful translator, the ingest
// shell), Kafka and the projections, at the recorded pace divided by --speed, or --speed max.
//
// The capture is what `callboard translate --source yeastar-p|yeastar-s` reads (yeastar/offline.ts):
// one message a line, either a record of pbx.raw.v1 (`{"body": "…", "received_at": "…", …}`,
// e.g. the customer's raw topic dumped as NDJSON) or a bare vendor message. Yeastar status events
// carry no time of their own: the live adapters stamp each with its arrival, so a replay stamps
// each with its recorded arrival — a bare line one second after the line before, never earlier
// than its call id's epoch, as the offline translation does. Why not the WebSocket and HTTP
// transports themselves: they stamp the wall clock, which would squash a recorded day into the
// minutes a replay takes (and AMI events carry their own Timestamp, Yeastar's do not). So the
// customer's day appears as that day, with the same events as the live adapter made of it.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ServiceUnavailable, type Logger } from '@callboard/platform';
import type { IngestSink } from '../sink.ts';
import { parseYeastarText } from '../yeastar/messages.ts';
import { YeastarPipeline } from '../yeastar/pipeline.ts';
import { hintMs } from '../yeastar/offline.ts';
import { YeastarTranslator } from '../yeastar/translate.ts';
import { chunkDelays } from './replay.ts';

export type YeastarSource = 'yeastar-p' | 'yeastar-s';

/** One recorded message: its text as the PBX sent it and when it arrived (epoch ms). */
export interface CapturedMessage {
  line: number;
  text: string;
  at: number;
}

/** The messages of a capture with their receive times (rule above); blank lines skipped. */
export function readYeastarCapture(text: string, source: YeastarSource, timezone: string): CapturedMessage[] {
  const product = source === 'yeastar-p' ? 'p' : 's';
  const out: CapturedMessage[] = [];
  let clock: number | undefined;
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line) continue;
    let body = line;
    let at: number | undefined;
    try {
      const v = JSON.parse(line) as Record<string, unknown>;
      if (v && typeof v === 'object' && typeof v.body === 'string' && typeof v.received_at === 'string') {
        body = v.body;
        at = Date.parse(v.received_at);
      }
    } catch {
      // Not JSON: replayed as received, and dead-lettered by the pipeline as the adapter would.
    }
    if (at === undefined || !Number.isFinite(at)) {
      const parsed = parseYeastarText(body, product);
      const hint = parsed.ok ? hintMs(parsed.message, timezone) : undefined;
      const base = clock === undefined ? (hint ?? 0) : clock + 1000;
      at = Math.max(base, hint ?? base);
    }
    clock = at;
    out.push({ line: i + 1, text: body, at });
  }
  return out;
}

export interface YeastarReplayOptions {
  capture: string;
  source: YeastarSource;
  /** The PBX's zone: CDR times are its local time. */
  timezone: string;
  /** Queue numbers of the tenant (as the adapters take them from the configuration). */
  queues?: readonly string[];
  /** Divides the recorded pace; Infinity: as fast as Kafka takes it. */
  speed: number;
  tenant_id: string;
  pbx_id: string;
  sink: Pick<IngestSink, 'raw' | 'canonical' | 'dlq'>;
  log: Logger;
}

/** Plays a capture and returns, once every message was written, how many there were. */
export async function replayYeastar(o: YeastarReplayOptions): Promise<{ messages: number }> {
  const messages = readYeastarCapture(await readFile(o.capture, 'utf8'), o.source, o.timezone);
  const translator = new YeastarTranslator({
    tenant_id: o.tenant_id,
    pbx_id: o.pbx_id,
    source: o.source,
    timezone: o.timezone,
    ...(o.queues ? { queues: o.queues } : {}),
  });
  const pipeline = new YeastarPipeline(o.sink, translator, o.log);
  // Raw records say they came from a replay, not from one of the PBX's own connections.
  pipeline.newConnection(`${o.pbx_id}#replay-${randomUUID().slice(0, 8)}`);
  const delays = chunkDelays(messages, o.speed);
  let failed = 0;
  try {
    for (const [i, m] of messages.entries()) {
      if (delays[i]! > 0) await new Promise((r) => setTimeout(r, delays[i]));
      // On the pipeline's serial chain, as the P-Series socket does: order kept, Kafka sets the pace.
      const written = pipeline.handle(m.text, new Date(m.at));
      written.catch((e: Error) => {
        failed++;
        o.log.error({ pbx: o.pbx_id, line: m.line, err: e.message }, 'replayed Yeastar message not written');
      });
      if (!Number.isFinite(o.speed)) await written.catch(() => undefined);
    }
    await pipeline.drain();
  } finally {
    pipeline.close();
  }
  if (failed)
    throw new ServiceUnavailable(`${failed} of ${messages.length} messages of ${o.capture} were not written to Kafka (logged with their line numbers)`);
  return { messages: messages.length };
}

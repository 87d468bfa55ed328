// The thin shell both Yeastar adapters share: raw first (pbx.raw.v1, acknowledged by Kafka),
// then translation to cc.events.v1, or the dead-letter topic with the reason. Translation runs
// on one serial chain per PBX so the stateful translator sees messages in arrival order.
import { counter, type Logger } from '@callboard/platform';
import { isoMs, validateEvent, type CanonicalEvent, type DlqRecord, type RawRef } from '@callboard/schemas';
import type { IngestSink } from '../sink.ts';
import { parseYeastarText, type ParseResult } from './messages.ts';
import type { YeastarTranslator } from './translate.ts';

export const yeastarMessagesTotal = counter('callboard_yeastar_messages_total', 'Yeastar vendor messages handled, by outcome (ok, drop, dlq)', [
  'source',
  'pbx',
  'outcome',
]);

export interface PipelineTarget {
  tenant_id: string;
  pbx_id: string;
}

export class YeastarPipeline {
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;
  private connection = 'init';
  private readonly seqs = new Map<string, number>();

  constructor(
    private readonly sink: IngestSink,
    readonly translator: YeastarTranslator,
    private readonly log: Logger,
  ) {}

  private get source() {
    return this.translator.opts.source;
  }

  private get product(): 'p' | 's' {
    return this.source === 'yeastar-p' ? 'p' : 's';
  }

  /** A new connection id (one per (re)connect or login), so raw records say where they came from. */
  newConnection(id: string): void {
    this.connection = id;
  }

  /** Runs `fn` after everything queued before it. */
  enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Resolves when every queued step has run. */
  drain(): Promise<void> {
    return this.chain.then(() => undefined);
  }

  private dlqRecord(stage: DlqRecord['stage'], reason_code: string, reason: string, original: string, path?: string, ref?: RawRef): DlqRecord {
    return {
      stage,
      source: this.source,
      tenant_id: this.translator.opts.tenant_id,
      pbx_id: this.translator.opts.pbx_id,
      reason_code,
      reason: `PBX ${this.translator.opts.pbx_id}: ${reason}`,
      ...(path ? { path } : {}),
      at: isoMs(Date.now()),
      original,
      ...(ref?.partition !== undefined && ref.offset !== undefined ? { origin: { topic: ref.topic, partition: ref.partition, offset: ref.offset } } : {}),
    };
  }

  /**
   * Step 1: parse and append the raw message. Resolves once Kafka acknowledged it (or the
   * unparseable body was dead-lettered). Rejects when Kafka did not acknowledge: the caller must
   * not tell the PBX the event was taken.
   */
  async accept(text: string, receivedAt: Date, connection = this.connection, seq?: number): Promise<{ parsed: ParseResult; ref: RawRef | null }> {
    const parsed = parseYeastarText(text, this.product);
    if (!parsed.ok && parsed.reason_code === 'UNPARSEABLE_JSON' && parsed.path === '/') {
      await this.sink.dlq([this.dlqRecord('ingest', 'UNPARSEABLE_JSON', parsed.reason, text)]);
      yeastarMessagesTotal.inc({ source: this.source, pbx: this.translator.opts.pbx_id, outcome: 'dlq' });
      return { parsed, ref: null };
    }
    const [ref] = await this.sink.raw([
      {
        tenant_id: this.translator.opts.tenant_id,
        pbx_id: this.translator.opts.pbx_id,
        source: this.source,
        connection,
        seq: seq ?? this.nextSeq(connection),
        received_at: isoMs(receivedAt),
        format: 'json',
        body: text,
      },
    ]);
    return { parsed, ref: ref ?? null };
  }

  private nextSeq(connection: string): number {
    const n = this.seqs.get(connection) ?? 0;
    this.seqs.set(connection, n + 1);
    // Only the live connections' counters are worth keeping.
    if (this.seqs.size > 16) this.seqs.delete(this.seqs.keys().next().value!);
    return n;
  }

  /** Step 2: translate and write canonical events or the dead letter. */
  async translate(text: string, parsed: ParseResult, ref: RawRef | null, receivedAt: Date): Promise<CanonicalEvent[]> {
    const pbx = this.translator.opts.pbx_id;
    if (!parsed.ok) {
      if (ref) {
        await this.sink.dlq([this.dlqRecord('translate', parsed.reason_code, parsed.reason, text, parsed.path, ref)]);
        yeastarMessagesTotal.inc({ source: this.source, pbx, outcome: 'dlq' });
      }
      return [];
    }
    const outcome = this.translator.translate(parsed.message, { received_at: isoMs(receivedAt), raw_ref: ref });
    if (outcome.kind === 'drop') {
      this.log.debug({ pbx, vendor_type: parsed.vendor_type, reason: outcome.reason }, 'no canonical event');
      yeastarMessagesTotal.inc({ source: this.source, pbx, outcome: 'drop' });
      return [];
    }
    if (outcome.kind === 'dlq') {
      await this.sink.dlq([this.dlqRecord('translate', outcome.reason_code, outcome.reason, text, outcome.path, ref ?? undefined)]);
      yeastarMessagesTotal.inc({ source: this.source, pbx, outcome: 'dlq' });
      return [];
    }
    await this.publish(outcome.events, text, ref);
    yeastarMessagesTotal.inc({ source: this.source, pbx, outcome: 'ok' });
    return outcome.events;
  }

  /** Validates and produces canonical events; an event that fails its schema is dead-lettered, never dropped. */
  async publish(events: CanonicalEvent[], original: string, ref: RawRef | null): Promise<void> {
    const good: CanonicalEvent[] = [];
    const bad: DlqRecord[] = [];
    for (const e of events) {
      const v = validateEvent(e);
      if (v.ok) good.push(e);
      else
        bad.push(
          this.dlqRecord(
            'validate',
            'SCHEMA_INVALID',
            `${e.type}: ${v.errors.map((x) => `${x.path} ${x.message}`).join('; ')}`,
            original,
            v.errors[0]?.path,
            ref ?? undefined,
          ),
        );
    }
    if (good.length) await this.sink.canonical(good);
    if (bad.length) await this.sink.dlq(bad);
  }

  /**
   * Both steps on the serial chain (the P-Series socket: one ordered stream). The socket has no
   * replay, so a raw write Kafka refuses is retried with backoff (up to 30 s apart) until it is
   * taken or the pipeline is closed; `onRetry` hears about each failure. Later frames wait.
   */
  handle(text: string, receivedAt = new Date(), connection = this.connection, onRetry?: (e: Error, attempt: number) => void): Promise<CanonicalEvent[]> {
    return this.enqueue(async () => {
      let accepted: Awaited<ReturnType<YeastarPipeline['accept']>>;
      // One sequence number per frame, however many attempts it takes.
      const seq = this.nextSeq(connection);
      for (let attempt = 1; ; attempt++) {
        try {
          accepted = await this.accept(text, receivedAt, connection, seq);
          break;
        } catch (e) {
          if (this.closed) throw e;
          onRetry?.(e as Error, attempt);
          const until = Date.now() + Math.min(30_000, 200 * 2 ** Math.min(attempt, 8));
          while (Date.now() < until && !this.closed) await new Promise((r) => setTimeout(r, Math.min(250, until - Date.now())));
        }
      }
      const { parsed, ref } = accepted;
      if (!parsed.ok && !ref) return [];
      return this.translate(text, parsed, ref, receivedAt);
    });
  }

  /** Stops retrying: steps still failing reject (their frames are logged by the caller). */
  close(): void {
    this.closed = true;
  }
}

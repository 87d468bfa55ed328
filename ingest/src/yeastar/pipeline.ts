// What both Yeastar adapters add to the ingest shell (../pipeline.ts): parsing the vendor's JSON,
// connection ids and per-connection sequence numbers for raw records, and one serial chain per
// PBX so the stateful translator sees messages in arrival order.
import type { Logger } from '@callboard/platform';
import { isoMs, type CanonicalEvent, type RawRef } from '@callboard/schemas';
import { dlq, IngestPipeline, nothingSettled, ok } from '../pipeline.ts';
import type { IngestSink } from '../sink.ts';
import { parseYeastarText, type ParseResult } from './messages.ts';
import { translateSafely, type YeastarTranslator } from './translate.ts';

export class YeastarPipeline {
  private chain: Promise<unknown> = Promise.resolve();
  private connection = 'init';
  private readonly seqs = new Map<string, number>();
  private readonly shell: IngestPipeline;

  constructor(
    sink: Pick<IngestSink, 'raw' | 'canonical' | 'dlq'>,
    readonly translator: YeastarTranslator,
    log: Logger,
  ) {
    const { source, tenant_id, pbx_id } = translator.opts;
    this.shell = new IngestPipeline({ source, tenant_id, pbx_id, sink, log, live: true });
  }

  private get product(): 'p' | 's' {
    return this.translator.opts.source === 'yeastar-p' ? 'p' : 's';
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

  /**
   * Step 1: parse and append the raw message. Resolves once Kafka acknowledged it (or the
   * unparseable body was dead-lettered). Rejects when Kafka did not acknowledge: the caller must
   * not tell the PBX the event was taken.
   */
  async accept(text: string, receivedAt: Date, connection = this.connection, seq?: number): Promise<{ parsed: ParseResult; ref: RawRef | null }> {
    const parsed = parseYeastarText(text, this.product);
    // Not JSON at all: nothing to keep as a vendor event, and the S-Series PBX is answered 400.
    if (!parsed.ok && parsed.reason_code === 'UNPARSEABLE_JSON' && parsed.path === '/') {
      await this.shell.write(this.shell.refuse('UNPARSEABLE_JSON', parsed.reason, text));
      return { parsed, ref: null };
    }
    const [ref] = await this.shell.writeRaw([this.shell.rawRecord(text, 'json', connection, seq ?? this.nextSeq(connection), receivedAt)]);
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
    // Refused in step 1: already dead-lettered.
    if (!parsed.ok && !ref) return [];
    const outcome = parsed.ok
      ? translateSafely(this.translator, parsed.message, { received_at: isoMs(receivedAt), raw_ref: ref })
      : dlq(parsed.reason_code, parsed.reason, parsed.path);
    const settled = this.shell.settle(nothingSettled(), outcome, { original: text, ref, ...(parsed.ok ? { label: parsed.vendor_type } : {}) });
    await this.shell.write(settled);
    return settled.events;
  }

  /** Events the adapter derives without a vendor message (resync, gap): validated and produced. */
  async publish(events: CanonicalEvent[], original: string): Promise<void> {
    await this.shell.write(this.shell.settle(nothingSettled(), ok(events), { original, ref: null }));
  }

  /**
   * Both steps on the serial chain (the P-Series socket: one ordered stream). The socket has no
   * replay, so a raw write Kafka refuses is retried until it is taken or the pipeline is closed;
   * `onRetry` hears about each failure. Later frames wait.
   */
  handle(text: string, receivedAt = new Date(), connection = this.connection, onRetry?: (e: Error, attempt: number) => void): Promise<CanonicalEvent[]> {
    return this.enqueue(async () => {
      // One sequence number per frame, however many attempts it takes.
      const seq = this.nextSeq(connection);
      const { parsed, ref } = await this.shell.retrying('pbx.raw.v1', () => this.accept(text, receivedAt, connection, seq), {
        onRetry: (_what, e, attempt) => onRetry?.(e, attempt),
      });
      return this.translate(text, parsed, ref, receivedAt);
    });
  }

  /** Stops retrying: steps still failing reject (their frames are logged by the caller). */
  close(): void {
    this.shell.close();
  }
}

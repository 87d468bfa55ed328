// The translation side of `callboard retranslate` and `callboard translate`, without Kafka or
// files: raw records (or a capture's outcomes) in, settled events and dead letters out, through
// the same shell (pipeline.ts) as the live adapters, so a re-translation validates every event
// and dead-letters with the same reason codes. Also how `retranslate` writes the result: the one
// policy for a Kafka write that fails (retried while transient, within a bound; then given up).
import { isRetriableKafkaError, retryKafka, ServiceUnavailable, summarizeError } from '@callboard/platform';
import { decodeRaw, type RawHeaders, type RawRecord, type RawRef } from '@callboard/schemas';
import { ADAPTERS, SOURCE_KIND } from './adapters.ts';
import { deadLetter, ok, RETRY_FIRST_MS, RETRY_MAX_MS, settle, type OfflineOptions, type RawTranslator, type Settled } from './pipeline.ts';

export interface RetranslateOptions {
  cfg: OfflineOptions['cfg'];
  warn: (message: string) => void;
  /** Only records of this tenant / PBX. */
  tenant?: string;
  pbx?: string;
}

/** Re-translates raw records of any number of PBXes, one translator per PBX, in stream order. */
export class Retranslation {
  private readonly translators = new Map<string, { t: RawTranslator; r: RawRecord }>();
  /** Messages that were not RawRecords. */
  invalid = 0;

  constructor(private readonly o: RetranslateOptions) {}

  private async translatorFor(r: RawRecord): Promise<RawTranslator | undefined> {
    const key = `${r.tenant_id}\u0000${r.pbx_id}`;
    const known = this.translators.get(key);
    if (known) return known.t;
    const kind = SOURCE_KIND[r.source];
    const entry = kind ? ADAPTERS[kind] : undefined;
    if (!entry) return undefined;
    const t = (await entry.translator())({ cfg: this.o.cfg, tenant_id: r.tenant_id, pbx_id: r.pbx_id, warn: this.o.warn });
    this.translators.set(key, { t, r });
    return t;
  }

  /**
   * One message read from pbx.raw.v1 at `origin`, added to `into`: its value and headers, in
   * either record format of the topic (without headers: the JSON envelope).
   */
  async add(into: Settled, value: Buffer | string | null, origin: { topic: string; partition: number; offset: string }, headers?: RawHeaders): Promise<void> {
    const ref: RawRef = { topic: origin.topic, partition: origin.partition, offset: origin.offset };
    const v = decodeRaw(value, headers);
    if (!v.ok) {
      this.invalid++;
      into.dlq.push(
        deadLetter({ source: 'unknown' }, 'translate', 'RAW_RECORD_INVALID', `${origin.topic}[${origin.partition}]@${origin.offset} is not a RawRecord`, v.original, {
          ref,
        }),
      );
      return;
    }
    const r = v.value;
    if ((this.o.tenant && r.tenant_id !== this.o.tenant) || (this.o.pbx && r.pbx_id !== this.o.pbx)) return;
    const t = await this.translatorFor(r);
    if (!t) return;
    const who = { source: r.source, tenant_id: r.tenant_id, pbx_id: r.pbx_id };
    for (const outcome of t.translate(r, { ...ref, connection: r.connection, seq: r.seq })) settle(into, outcome, who, { original: r.body, ref });
  }

  /** End of input: the events every translator still had due. */
  flush(into: Settled): Settled {
    for (const { t, r } of this.translators.values()) {
      settle(into, ok(t.flush()), { source: r.source, tenant_id: r.tenant_id, pbx_id: r.pbx_id }, { original: '', ref: null });
    }
    return into;
  }
}

/**
 * How long `callboard retranslate` goes on with a write, or with reading, that keeps failing for
 * a transient reason (brokers unreachable, a leader election) before it gives up: long enough for
 * a broker restart or a leader election, short enough that a one-off command whose brokers are
 * gone ends.
 */
export const RETRANSLATE_GIVE_UP_MS = 5 * 60_000;

/**
 * Whether reading has been failing, with nothing read, for longer than the bound. `failed` and
 * `read` are the consumer's events; `failed` answers true once it is time to give up. Pure: the
 * clock is given.
 */
export class ReadGiveUp {
  private since: number | null = null;
  constructor(
    readonly boundMs = RETRANSLATE_GIVE_UP_MS,
    private readonly now: () => number = Date.now,
  ) {}

  failed(): boolean {
    const t = this.now();
    this.since ??= t;
    return t - this.since >= this.boundMs;
  }

  read(): void {
    this.since = null;
  }
}

/**
 * Runs one write of a retranslation until it is taken. A transient Kafka error
 * (isRetriableKafkaError) is retried with the shell's backoff (retryDelayMs: 0.5 s doubling to
 * 30 s) for at most `giveUpAfterMs` in all. An error no retry can change (not authorized, a
 * record too large even alone) ends it at once, and the bound ends it too: with an error saying
 * `what`, and why in the broker's words (exit 77 not authorized, 65 refused as too large or
 * invalid, 69 otherwise: `classify` reads the broker's answer kept as the cause).
 */
export async function writeOrGiveUp(what: string, write: () => Promise<void>, o: { warn: (message: string) => void; giveUpAfterMs?: number }): Promise<void> {
  const bound = o.giveUpAfterMs ?? RETRANSLATE_GIVE_UP_MS;
  const describe = (e: unknown) => summarizeError(e).text;
  const attempt = () =>
    write().catch((e: unknown) => {
      if (isRetriableKafkaError(e)) o.warn(`${what} failed (retried for up to ${bound / 1000} s): ${describe(e)}`);
      throw e;
    });
  try {
    // The shell's backoff for Kafka writes (retryDelayMs).
    await retryKafka(what, attempt, { timeoutMs: bound, initialDelayMs: RETRY_FIRST_MS, maxDelayMs: RETRY_MAX_MS, describe });
  } catch (e) {
    // retryKafka's message says what, how long, how many attempts, and the cause.
    throw new ServiceUnavailable((e as Error).message, { cause: (e as Error).cause ?? e });
  }
}

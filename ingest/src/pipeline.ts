// The ingest shell (STYLE 1). A vendor adapter is a connection plus a translator; translators
// return values (`ok(events)`, `dlq(reason)`, `drop(reason)`) and this module is the one place
// that turns them into Kafka writes, dead-letter records and metrics, for every vendor and for
// the offline paths (`callboard translate`, `retranslate`):
//   raw first: a vendor message is acknowledged on pbx.raw.v1 before it is translated;
//   every canonical event is validated against the contract before it is produced;
//   one set of dead-letter reason codes (DLQ_REASONS in @callboard/schemas);
//   one backoff for Kafka writes that must not be given up;
//   bounded sizes: a raw record the broker can never take is dead-lettered with its size instead
//   of being retried forever, and a dead letter keeps at most the head of a huge input.
// The vendor-neutral adapter interfaces live here too, so that vendor code depends on the shell
// and the registry (adapters.ts) on the vendors, never the other way round.
import { counter, dlqTotal, FailureLog, gauge, kafkaErrorIs, type CallboardConfig, type Health, type Logger, type PbxConfig } from '@callboard/platform';
import {
  isoMs,
  rawMessageBytes,
  validateEvent,
  type CanonicalEvent,
  type DlqReason,
  type DlqRecord,
  type DlqStage,
  type RawRecord,
  type RawRef,
  type Source,
} from '@callboard/schemas';
import { PbxClockOffset } from './pbx-clock.ts';
import type { IngestSink } from './sink.ts';

export type { DlqReason };

// ---------------------------------------------------------------------------------------------
// Step results

export type TranslateOutcome =
  { kind: 'ok'; events: CanonicalEvent[] } | { kind: 'dlq'; reason_code: DlqReason; reason: string; path?: string } | { kind: 'drop'; reason: string };

export const ok = (events: CanonicalEvent[]): TranslateOutcome => ({ kind: 'ok', events });
export const dlq = (reason_code: DlqReason, reason: string, path?: string): TranslateOutcome => ({
  kind: 'dlq',
  reason_code,
  reason,
  ...(path ? { path } : {}),
});
export const drop = (reason: string): TranslateOutcome => ({ kind: 'drop', reason });

/** Messages translated in a batch, by outcome, before they are added to the metric. */
export type OutcomeCounts = Record<TranslateOutcome['kind'], number>;
export const noOutcomes = (): OutcomeCounts => ({ ok: 0, drop: 0, dlq: 0 });

/**
 * Runs a translator step; a throw (a value no check foresaw, such as a time out of range)
 * becomes a TRANSLATOR_FAILED dead letter. A vendor message may never vanish after the PBX was
 * answered, nor stop the feed it came on.
 */
export function translating(label: string, step: () => TranslateOutcome): TranslateOutcome {
  try {
    return step();
  } catch (e) {
    return dlq('TRANSLATOR_FAILED', `${label}: ${(e as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Metrics, declared once (STYLE 8). Dead letters are counted in the shared
// callboard_dlq_events_total{stage,source,reason}.

export const messagesTotal = counter('callboard_ingest_messages_total', 'Vendor messages translated, by outcome (ok, drop, dlq)', ['source', 'pbx', 'outcome']);
export const rawTotal = counter('callboard_ingest_raw_events_total', 'Vendor events written to pbx.raw.v1', ['source', 'pbx']);
export const canonicalTotal = counter('callboard_ingest_canonical_events_total', 'Canonical events written to cc.events.v1', ['source', 'type']);
/** The PBX id only, as callboard_pbx_link_up: a PBX id names equipment, never a tenant. */
export const pbxClockOffsetSeconds = gauge('callboard_pbx_clock_offset_seconds', "PBX clock minus server clock (negative: the PBX is behind), from the PBX times of its live events against their receive times (pbx-clock.ts)", ['pbx']);

// ---------------------------------------------------------------------------------------------
// The pure part: outcomes → events to produce and dead-letter records

/** Who a record is about: the DlqRecord fields that do not depend on the input. */
export interface Subject {
  source: string;
  tenant_id?: string;
  pbx_id?: string;
}

/** The input an outcome was derived from. */
export interface Input {
  /** The vendor message as received (the raw body). */
  original: string;
  /** Where it is in pbx.raw.v1, when it was written there. */
  ref: RawRef | null;
  /** The vendor's name for it (AMI event name), for a person reading a dead letter. */
  label?: string;
  /**
   * Set when the edge cut the input because it was over its size limit: its real size. Such an
   * input is dead-lettered OVERSIZED_FRAME whatever the translator made of the head.
   */
  truncatedFrom?: number;
}

/** What outcomes come to: the events to produce and the dead letters, in input order. */
export interface Settled {
  events: CanonicalEvent[];
  dlq: DlqRecord[];
}

export const nothingSettled = (): Settled => ({ events: [], dlq: [] });

/**
 * The most of an input a dead letter keeps (characters). JSON escaping can make a character six
 * bytes, so 64 Ki characters stay well below the broker's 1 MiB message limit even then.
 */
export const DLQ_ORIGINAL_MAX_CHARS = 64 * 1024;

/** Kafka's default message.max.bytes is 1 MiB; the margin is for the key and batch framing. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_000_000;

export function deadLetter(
  who: Subject,
  stage: DlqStage,
  reason_code: DlqReason,
  reason: string,
  original: string,
  opts: { path?: string; ref?: RawRef | null; at?: Date } = {},
): DlqRecord {
  const ref = opts.ref;
  const cut = original.length > DLQ_ORIGINAL_MAX_CHARS;
  return {
    stage,
    source: who.source,
    ...(who.tenant_id ? { tenant_id: who.tenant_id } : {}),
    ...(who.pbx_id ? { pbx_id: who.pbx_id } : {}),
    reason_code,
    reason: cut ? `${reason} (original of ${original.length} characters; the first ${DLQ_ORIGINAL_MAX_CHARS} kept)` : reason,
    ...(opts.path ? { path: opts.path } : {}),
    at: isoMs(opts.at ?? new Date()),
    original: cut ? original.slice(0, DLQ_ORIGINAL_MAX_CHARS) : original,
    ...(ref && ref.partition !== undefined && ref.offset !== undefined ? { origin: { topic: ref.topic, partition: ref.partition, offset: ref.offset } } : {}),
  };
}

/**
 * Adds one translator outcome to `into`: valid events to `events`; a `dlq` outcome, and every
 * event that fails the contract, to `dlq`. A failed event's `original` is the event itself (the
 * input of the validate stage, as in projections); `origin` points at its raw record.
 */
export function settle(into: Settled, outcome: TranslateOutcome, who: Subject, input: Input, at = new Date()): Settled {
  if (input.truncatedFrom !== undefined) {
    const reason = `${input.label || 'input'} of ${input.truncatedFrom} characters exceeds the size limit; the first ${input.original.length} were kept and the rest skipped`;
    into.dlq.push(deadLetter(who, 'ingest', 'OVERSIZED_FRAME', reason, input.original, { ref: input.ref, at }));
  } else if (outcome.kind === 'dlq') {
    into.dlq.push(deadLetter(who, 'translate', outcome.reason_code, outcome.reason, input.original, { path: outcome.path, ref: input.ref, at }));
  } else if (outcome.kind === 'ok') {
    for (const e of outcome.events) {
      const v = validateEvent(e);
      if (v.ok) {
        into.events.push(e);
        continue;
      }
      const why = v.errors.map((x) => `${x.path} ${x.message} (got ${x.received})`).join('; ');
      into.dlq.push(
        deadLetter(who, 'validate', 'SCHEMA_INVALID', `${e.type}${input.label ? ` from ${input.label}` : ''}: ${why}`, JSON.stringify(e), {
          path: v.errors[0]?.path,
          ref: input.ref,
          at,
        }),
      );
    }
  }
  return into;
}

/**
 * Sends `items` with `send`; a batch the broker refuses as too large is split in halves until it
 * fits. A single item still refused goes to `alone` (default: the error stands).
 */
export async function sendSplitting<T>(items: T[], send: (batch: T[]) => Promise<void>, alone?: (item: T, err: unknown) => void): Promise<void> {
  if (items.length === 0) return;
  try {
    await send(items);
  } catch (e) {
    if (!isTooLarge(e)) throw e;
    if (items.length === 1) {
      if (!alone) throw e;
      return alone(items[0]!, e);
    }
    const half = Math.ceil(items.length / 2);
    await sendSplitting(items.slice(0, half), send, alone);
    await sendSplitting(items.slice(half), send, alone);
  }
}

/**
 * Produces settled events to cc.events.v1 and dead letters to cc.dlq.v1, and counts them. A
 * flood of dead letters from one PBX (all on one partition) can exceed the broker's message
 * limit in one batch: it is split rather than retried forever.
 */
export async function produce(sink: Pick<IngestSink, 'canonical' | 'dlq'>, s: Settled): Promise<void> {
  await Promise.all([sendSplitting(s.events, (b) => sink.canonical(b)), sendSplitting(s.dlq, (b) => sink.dlq(b))]);
  for (const e of s.events) canonicalTotal.inc({ source: e.source, type: e.type });
  for (const r of s.dlq) dlqTotal.inc({ stage: r.stage, source: r.source, reason: r.reason_code });
}

/** True for the broker's "message too large" refusal, which no retry can change. */
export function isTooLarge(e: unknown): boolean {
  // A batch with any part too large can never be taken as it is, so one is enough to split.
  return kafkaErrorIs(e, 'MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE');
}

/** Serialized size of a raw record as the sink writes it (bytes). */
export function rawRecordBytes(r: RawRecord): number {
  return rawMessageBytes(r);
}

/**
 * An upper bound of `rawRecordBytes` without serializing: a character takes at most 6 bytes in
 * JSON (`\u001f`; UTF-8 needs at most 3 per UTF-16 unit), and the keys, the fixed short fields
 * (source, format, receive time) and the seq number stay well under 512. Every record is
 * checked against the broker's limit, and serializing each one twice (here and in the sink) cost
 * the AMI → Kafka path 3–4 % of its CPU plus the garbage: only a record this bound does not
 * clear is serialized here.
 */
export function rawRecordBytesAtMost(r: RawRecord): number {
  return 6 * (r.body.length + r.connection.length + r.tenant_id.length + r.pbx_id.length) + 512;
}

/** Delay before retry `attempt` (1-based) of a Kafka write: doubling from 0.5 s, at most 30 s. */
export const RETRY_FIRST_MS = 500;
export const RETRY_MAX_MS = 30_000;
export function retryDelayMs(attempt: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.min(Math.max(attempt - 1, 0), 6));
}

// ---------------------------------------------------------------------------------------------
// The I/O shell of one PBX

export interface RetryHooks {
  /** A write failed and will be retried (health: degraded, pause the socket…). */
  onRetry?: (what: string, err: Error, attempt: number) => void;
  /** A write went through after `failures` failed attempts. */
  onRecovered?: (what: string, failures: number) => void;
}

export interface IngestPipelineOptions extends RetryHooks {
  source: Source;
  tenant_id: string;
  pbx_id: string;
  sink: Pick<IngestSink, 'raw' | 'canonical' | 'dlq'>;
  log: Logger;
  /** Largest raw record written (bytes); larger ones are dead-lettered. Default 1,000,000. */
  maxMessageBytes?: number;
  /**
   * A live link: measure the PBX's clock offset from the events written (their PBX time against
   * their receive time). Not for imports and re-translations, whose receive times are not live.
   */
  live?: boolean;
}

/** A feed whose Kafka writes keep failing: its PBX's events wait (readiness reports it). */
export interface StuckFeed {
  source: string;
  tenant_id: string;
  pbx_id: string;
  /** What is being retried (topic). */
  what: string;
  /** When the write first failed (epoch ms). */
  since: number;
}

const open = new Set<IngestPipeline>();

/**
 * Every open feed whose writes have been failing since before `now - minMs`: the readiness hook
 * of `callboard ingest` (a feed stuck on a write is not ready, whatever its socket says).
 */
export function stuckFeeds(minMs = 0, now = Date.now()): StuckFeed[] {
  const out: StuckFeed[] = [];
  for (const p of open) {
    const s = p.stuck();
    if (s && now - s.since >= minMs) out.push({ source: p.o.source, tenant_id: p.o.tenant_id, pbx_id: p.o.pbx_id, ...s });
  }
  return out;
}

/** Each open live feed's PBX clock offset (ms, PBX minus server; null until measured), by PBX. */
export function clockOffsets(): Map<string, number | null> {
  const out = new Map<string, number | null>();
  for (const p of open) if (p.o.live) out.set(p.o.pbx_id, p.clock.offsetMs ?? out.get(p.o.pbx_id) ?? null);
  return out;
}

export class IngestPipeline {
  private closed = false;
  readonly who: Subject;
  /** Writes being retried: id → what and since when. */
  private readonly failing = new Map<number, { what: string; since: number }>();
  private retries = 0;
  /** Per topic written, the log of its failing writes: a line now and then, one on recovery. */
  private readonly failureLogs = new Map<string, FailureLog>();
  /** The PBX's clock offset (live links only). */
  readonly clock = new PbxClockOffset();

  constructor(readonly o: IngestPipelineOptions) {
    this.who = { source: o.source, tenant_id: o.tenant_id, pbx_id: o.pbx_id };
    open.add(this);
  }

  /** The oldest write still being retried, or null when every write went through. */
  stuck(): { what: string; since: number } | null {
    let oldest: { what: string; since: number } | null = null;
    for (const f of this.failing.values()) if (!oldest || f.since < oldest.since) oldest = f;
    return oldest;
  }

  rawRecord(body: string, format: RawRecord['format'], connection: string, seq: number, receivedAt: Date | number): RawRecord {
    // The frames of one socket read share their receive time: format it once.
    if (typeof receivedAt !== 'number') return { tenant_id: this.o.tenant_id, pbx_id: this.o.pbx_id, source: this.o.source, connection, seq, received_at: isoMs(receivedAt), format, body };
    if (receivedAt !== this.receivedAt) {
      this.receivedAt = receivedAt;
      this.receivedAtIso = isoMs(receivedAt);
    }
    return { tenant_id: this.o.tenant_id, pbx_id: this.o.pbx_id, source: this.o.source, connection, seq, received_at: this.receivedAtIso, format, body };
  }
  private receivedAt = Number.NaN;
  private receivedAtIso = '';

  /**
   * Appends raw records; resolves with their refs (in input order) once Kafka has acknowledged
   * them. A record the broker can never take (over maxMessageBytes, or refused as too large
   * alone) is dead-lettered OVERSIZED_RECORD with its size and its ref is null: retrying it
   * would freeze the feed. A batch refused as too large is split in halves.
   */
  async writeRaw(records: RawRecord[]): Promise<(RawRef | null)[]> {
    if (records.length === 0) return [];
    const max = this.o.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    const refs: (RawRef | null)[] = records.map(() => null);
    const tooBig: { r: RawRecord; bytes: number }[] = [];
    const fits: number[] = [];
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      const bytes = rawRecordBytesAtMost(r) > max ? rawRecordBytes(r) : 0;
      if (bytes > max) tooBig.push({ r, bytes });
      else fits.push(i);
    }
    await sendSplitting(
      fits,
      async (idx) => {
        const got = await this.o.sink.raw(idx.map((i) => records[i]!));
        idx.forEach((i, k) => (refs[i] = got[k] ?? null));
        rawTotal.inc({ source: this.o.source, pbx: this.o.pbx_id }, idx.length);
      },
      (i) => tooBig.push({ r: records[i]!, bytes: rawRecordBytes(records[i]!) }),
    );
    if (tooBig.length > 0) {
      const s: Settled = { events: [], dlq: [] };
      for (const { r, bytes } of tooBig) {
        messagesTotal.inc({ source: this.o.source, pbx: this.o.pbx_id, outcome: 'dlq' });
        s.dlq.push(
          deadLetter(
            this.who,
            'ingest',
            'OVERSIZED_RECORD',
            `raw record of ${bytes} bytes exceeds the broker's message limit of ${max} bytes (connection ${r.connection}, seq ${r.seq})`,
            r.body,
          ),
        );
      }
      await this.write(s);
    }
    return refs;
  }

  /**
   * `settle` for this PBX, counting the outcome (unless `counted` is given: a batch's outcomes
   * counted once per kind, see `countOutcomes`); drops are logged.
   */
  settle(into: Settled, outcome: TranslateOutcome, input: Input, counted?: OutcomeCounts): Settled {
    if (counted) counted[outcome.kind]++;
    else messagesTotal.inc({ source: this.o.source, pbx: this.o.pbx_id, outcome: outcome.kind });
    if (outcome.kind === 'drop') this.o.log.debug({ pbx: this.o.pbx_id, vendor_type: input.label, reason: outcome.reason }, 'no canonical event');
    return settle(into, outcome, this.who, input);
  }

  /** Adds a batch's outcome counts to the messages metric: one update per kind, not per message. */
  countOutcomes(n: OutcomeCounts): void {
    for (const kind of ['ok', 'drop', 'dlq'] as const) if (n[kind] > 0) messagesTotal.inc({ source: this.o.source, pbx: this.o.pbx_id, outcome: kind }, n[kind]);
  }

  /**
   * A message refused before anything was written to raw (not even readable as the vendor's
   * format, and the vendor is told so): stage `ingest`.
   */
  refuse(reason_code: DlqReason, reason: string, original: string): Settled {
    messagesTotal.inc({ source: this.o.source, pbx: this.o.pbx_id, outcome: 'dlq' });
    return { events: [], dlq: [deadLetter(this.who, 'ingest', reason_code, reason, original)] };
  }

  /** Produces settled events and dead letters. */
  write(s: Settled): Promise<void> {
    if (this.o.live && s.events.length > 0) {
      for (const e of s.events) this.clock.add(Date.parse(e.received_at), Date.parse(e.occurred_at));
      const off = this.clock.offsetMs;
      if (off !== null) pbxClockOffsetSeconds.set({ pbx: this.o.pbx_id }, off / 1000);
    }
    return produce(this.o.sink, s);
  }

  /**
   * Runs a Kafka write until it succeeds: a vendor stream without replay must not lose what it
   * sent. Backs off (retryDelayMs) between attempts; gives up only once `close()` was called.
   */
  async retrying<T>(what: string, fn: () => Promise<T>, hooks: RetryHooks = this.o): Promise<T> {
    const id = ++this.retries;
    try {
      return await this.retryLoop(id, what, fn, hooks);
    } finally {
      this.failing.delete(id);
    }
  }

  private async retryLoop<T>(id: number, what: string, fn: () => Promise<T>, hooks: RetryHooks): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        const v = await fn();
        if (attempt > 1) {
          hooks.onRecovered?.(what, attempt - 1);
          this.failureLogs.get(what)?.recovered();
        }
        return v;
      } catch (e) {
        if (this.closed) throw e;
        if (!this.failing.has(id)) this.failing.set(id, { what, since: Date.now() });
        // One log per topic, whichever of its writes fails (they may overlap).
        let failures = this.failureLogs.get(what);
        if (!failures) {
          failures = new FailureLog({ log: this.o.log, level: 'error', subject: `Kafka write to ${what}`, fields: { pbx: this.o.pbx_id } });
          this.failureLogs.set(what, failures);
        }
        failures.failed(e, `Kafka write to ${what}`, { attempt });
        hooks.onRetry?.(what, e as Error, attempt);
        const until = Date.now() + retryDelayMs(attempt);
        // Sliced, so that close() ends the wait promptly.
        while (Date.now() < until && !this.closed) await new Promise((r) => setTimeout(r, Math.min(250, until - Date.now())));
      }
    }
  }

  /** Stops retrying: writes still failing reject. */
  close(): void {
    this.closed = true;
    open.delete(this);
  }
}

// ---------------------------------------------------------------------------------------------
// What a vendor adapter implements (the registry in adapters.ts lists them)

export interface AdapterDeps {
  cfg: CallboardConfig;
  pbx: PbxConfig;
  sink: IngestSink;
  health: Health;
  log: Logger;
}

/** A started adapter: it connects, reconnects and writes through the shell until stopped. */
export interface RunningAdapter {
  /** Stops reconnecting, flushes what it holds and closes the connection. */
  stop(): Promise<void>;
}

export type StartAdapter = (deps: AdapterDeps) => Promise<RunningAdapter>;

/** Options of an offline translation (`callboard translate`, `retranslate`). */
export interface OfflineOptions {
  cfg: Pick<CallboardConfig, 'queues'>;
  tenant_id: string;
  pbx_id: string;
  /** Time base for captures that carry no time of their own (AMI without timestampevents). */
  start?: Date;
  /** IANA zone of the PBX's local timestamps (Yeastar); default: the configured PBX's zone. */
  timezone?: string;
  /** Problems for a person (stderr in the CLI). */
  warn: (message: string) => void;
}

/** Deterministic translator of raw records of one PBX, fed in stream order (retranslate). */
export interface RawTranslator {
  translate(record: RawRecord, ref: RawRef | null): TranslateOutcome[];
  /** End of input: events still due (e.g. wrap-up ends). */
  flush(): CanonicalEvent[];
}

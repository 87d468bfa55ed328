// Implementations of `callboard ingest | translate | retranslate` (table in cli.ts). They only
// wire: the work is in the adapters (registry in adapters.ts), the shell (pipeline.ts,
// retranslate.ts) and the sink.
import { existsSync } from 'node:fs';
import { checkTenant, ConfigError, ConsumerFailureLog, createKafka, createLogger, ensureTopics, runBatches, isIanaZone, isIsoInstant, loadConfig, parseOptions, portInUse, ServiceUnavailable, summarizeError, topicName, UsageError, type CallboardConfig, type KafkaClient, type Logger } from '@callboard/platform';
import { ADAPTERS, SOURCE_KIND } from './adapters.ts';
import { nothingSettled, produce, settle, type Settled } from './pipeline.ts';
import { ReadGiveUp, Retranslation, writeOrGiveUp } from './retranslate.ts';
import { IngestSink } from './sink.ts';

export async function ingest(argv: string[]): Promise<number> {
  parseOptions(argv, {});
  const { runIngestService } = await import('./main.ts');
  const cfg = loadConfig();
  // main.ts reads INGEST_OPS_PORT itself; a port in use is named by that setting.
  await runIngestService(cfg).catch((e: unknown) => {
    throw portInUse(e, { INGEST_OPS_PORT: Number(process.env.INGEST_OPS_PORT || cfg.ingest.opsPort) });
  });
  return 0;
}

function fail(msg: string): never {
  throw new UsageError(msg);
}

/** Every option of `translate` and `retranslate`, for the parsers and the `--help` test. */
export const translateOptions = { source: { type: 'string' }, tenant: { type: 'string' }, pbx: { type: 'string' }, start: { type: 'string' }, tz: { type: 'string' } } as const;
export const retranslateOptions = { from: { type: 'string' }, to: { type: 'string' }, tenant: { type: 'string' }, pbx: { type: 'string' }, stdout: { type: 'boolean' } } as const;

/** The PBX a capture or raw record belongs to: explicit flags, else the only configured one. */
function pickPbx(cfg: CallboardConfig, kind: string, tenant?: string, pbx?: string): { tenant_id: string; pbx_id: string } {
  const candidates = cfg.pbxes.filter((p) => p.kind === kind && (!pbx || p.id === pbx) && (!tenant || p.tenant === tenant));
  const only = candidates.length === 1 ? candidates[0] : undefined;
  return { tenant_id: tenant ?? only?.tenant ?? 'default', pbx_id: pbx ?? only?.id ?? 'file' };
}

export async function translate(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions(argv, translateOptions, { required: ['source'], positionals: ['FILE'] });
  const source = values.source!;
  const file = positionals[0]!;
  if (values.tz && !isIanaZone(values.tz)) return fail(`--tz ${values.tz}: expected an IANA time zone such as Africa/Nairobi`);
  const kind = SOURCE_KIND[source];
  const entry = kind ? ADAPTERS[kind] : undefined;
  if (!entry) return fail(`--source ${source}: no translator for this source (known: ${Object.keys(ADAPTERS).join(', ')})`);
  if (!existsSync(file)) return fail(`${file}: cannot read it (no such file)`);
  if (values.start && !isIsoInstant(values.start)) return fail(`--start ${values.start}: expected an ISO-8601 instant such as 2026-01-31T09:00:00Z`);
  const cfg = loadConfig();
  checkTenant(cfg, values.tenant);
  const ids = pickPbx(cfg, kind!, values.tenant, values.pbx);
  const warn = (m: string) => process.stderr.write(`${m}\n`);
  const translateFile = await entry.translateFile();
  let events = 0;
  let problems = 0;
  const out: string[] = [];
  const who = { source, ...ids };
  for await (const o of translateFile(file, { cfg, ...ids, ...(values.start ? { start: new Date(values.start) } : {}), ...(values.tz ? { timezone: values.tz } : {}), warn })) {
    // Through the shell, so an event that breaks the contract is a problem here too.
    const s = settle(nothingSettled(), o, who, { original: '', ref: null });
    for (const e of s.events) out.push(JSON.stringify(e));
    events += s.events.length;
    if (out.length >= 512) process.stdout.write(out.splice(0).join('\n') + '\n');
    for (const d of s.dlq) warn(`${d.reason_code}: ${d.reason}`);
    problems += s.dlq.length;
  }
  if (out.length) process.stdout.write(out.join('\n') + '\n');
  warn(`${file}: ${events} canonical events, ${problems} untranslatable frames or invalid events`);
  return 0;
}

/**
 * Re-reads pbx.raw.v1 between two instants (by Kafka timestamp, i.e. when the raw record was
 * written) and emits the canonical events again. Translator state starts empty at --from: pick
 * a quiet moment (or an earlier --from) so calls are not cut in half. Event ids are derived from
 * the vendor identity, so re-emitted events replace rather than add to what projections hold.
 */
export async function retranslate(argv: string[]): Promise<number> {
  const { values } = parseOptions(argv, retranslateOptions, { required: ['from', 'to'] });
  for (const [k, v] of [['--from', values.from!], ['--to', values.to!]] as const) {
    if (!isIsoInstant(v)) return fail(`${k} ${v}: expected an ISO-8601 instant such as 2026-01-31T09:00:00Z`);
  }
  const from = Date.parse(values.from!);
  const to = Date.parse(values.to!);
  if (!(from < to)) return fail(`--from ${values.from} must be before --to ${values.to}`);
  const cfg = loadConfig();
  checkTenant(cfg, values.tenant);
  const log = createLogger('retranslate', cfg.logLevel);
  if (cfg.kafka.brokers.length === 0) throw new ConfigError('KAFKA_BROKERS', '', 'the brokers holding pbx.raw.v1 (retranslate reads an existing log, it starts no broker)');
  const kafka = createKafka(cfg, log, `${cfg.kafka.clientId}-retranslate`);
  const done = await retranslateRange(kafka, cfg, log, {
    from,
    to,
    ...(values.tenant ? { tenant: values.tenant } : {}),
    ...(values.pbx ? { pbx: values.pbx } : {}),
    ...(values.stdout ? { stdout: true } : {}),
  });
  process.stderr.write(
    `retranslate: ${done.emitted} canonical events from ${done.topic} [${values.from}, ${values.to})${done.invalid ? `, ${done.invalid} records were not RawRecords (dead-lettered)` : ''}\n`,
  );
  return 0;
}

/** What `retranslateRange` re-reads, and where the result goes. */
export interface RetranslateRange {
  /** Kafka timestamps (ms since the epoch): the records written in [from, to). */
  from: number;
  to: number;
  /** Only records of this tenant / PBX. */
  tenant?: string;
  pbx?: string;
  /** Print the events (NDJSON on stdout) and dead letters (stderr) instead of producing them. */
  stdout?: boolean;
  /** How long a write, or reading, failing for a transient reason is retried (default RETRANSLATE_GIVE_UP_MS). */
  giveUpAfterMs?: number;
}

/**
 * The work of `callboard retranslate` on a Kafka client. Every raw record in the range is
 * translated once: a batch handler never throws, since runBatches would hand the same batch over
 * again and the translators, which keep state per PBX (calls in progress, agents), would see its
 * frames twice. A write is retried in the handler instead (writeOrGiveUp); one that cannot be
 * made ends the reading (the consumer stopped, the producer disconnected) and rejects with an
 * error naming the raw records it came from and the cause.
 */
export async function retranslateRange(
  kafka: KafkaClient,
  cfg: CallboardConfig,
  log: Logger,
  o: RetranslateRange,
): Promise<{ topic: string; emitted: number; invalid: number }> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const sink = new IngestSink(producer, cfg);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, cfg);
  const topic = topicName(cfg, 'raw');
  const starts = await admin.fetchTopicOffsetsByTimestamp(topic, o.from);
  const ends = await admin.fetchTopicOffsetsByTimestamp(topic, o.to);
  // Offsets are exclusive ends; "-1" means no record at or after the instant: read to the end
  // as it was when we started.
  const latest = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
  await admin.disconnect();
  const endOf = new Map(ends.map((p) => [p.partition, p.offset === '-1' ? latest.get(p.partition)! : BigInt(p.offset)]));
  const pending = new Set(starts.filter((s) => BigInt(s.offset === '-1' ? latest.get(s.partition)! : BigInt(s.offset)) < endOf.get(s.partition)!).map((s) => s.partition));
  if (!o.stdout) await producer.connect();

  const retranslation = new Retranslation({ cfg, warn: (m) => log.warn(m), ...(o.tenant ? { tenant: o.tenant } : {}), ...(o.pbx ? { pbx: o.pbx } : {}) });
  let emitted = 0;
  /** `s`, translated from what `source` says. */
  const emit = async (s: Settled, source: string) => {
    if (o.stdout) {
      if (s.events.length) process.stdout.write(s.events.map((e) => JSON.stringify(e)).join('\n') + '\n');
      for (const d of s.dlq) process.stderr.write(`${d.reason_code}: ${d.reason}\n`);
    } else if (s.events.length || s.dlq.length) {
      const to = [s.events.length ? topicName(cfg, 'events') : '', s.dlq.length ? topicName(cfg, 'dlq') : ''].filter(Boolean).join(' and ');
      const what = `writing ${s.events.length} events and ${s.dlq.length} dead letters ${source} to ${to}`;
      await writeOrGiveUp(what, () => produce(sink, s), { warn: (m) => log.warn(m), giveUpAfterMs: o.giveUpAfterMs });
    }
    emitted += s.events.length;
  };

  try {
    if (pending.size > 0) {
      let finished!: () => void;
      let failedWith!: (e: Error) => void;
      const done = new Promise<void>((resolve, reject) => ((finished = resolve), (failedWith = reject)));
      let failed = false;
      const startAt = new Map(starts.map((st) => [st.partition, st.offset === '-1' ? latest.get(st.partition)! : BigInt(st.offset)]));
      const readFailures = new ConsumerFailureLog({ log, subject: `reading ${topic}`, fields: { topic } });
      const reading = new ReadGiveUp(o.giveUpAfterMs);
      const consumer = await runBatches(kafka.connection, {
        groupId: `callboard-retranslate-${process.pid}-${Date.now()}`,
        topic,
        start: startAt,
        // Reading failed (the stream, the group): runBatches tries again, with backoff; after the
        // bound with nothing read the command gives up, as on a write. A batch handler never fails (below).
        on: {
          failed: (e, what, partition) => {
            readFailures.failed(e, what, partition);
            if (partition !== undefined || failed || !reading.failed()) return;
            failed = true;
            failedWith(new ServiceUnavailable(`reading ${topic}: ${what} still failing after ${reading.boundMs / 1000} s: ${summarizeError(e).text}`, { cause: e }));
          },
          fetched: () => {
            readFailures.fetched();
            reading.read();
          },
          joined: (partitions) => readFailures.assigned(partitions),
        },
        eachBatch: async (batch) => {
          if (failed || !pending.has(batch.partition)) return;
          const end = endOf.get(batch.partition)!;
          let last = batch.firstOffset;
          const where = () => `${topic}[${batch.partition}] offsets ${batch.firstOffset}..${last}`;
          try {
            const settled = nothingSettled();
            for (const m of batch.messages) {
              if (BigInt(m.offset) >= end) break;
              last = m.offset;
              await retranslation.add(settled, m.value, { topic, partition: batch.partition, offset: m.offset }, m.headers);
            }
            await emit(settled, `translated from ${where()}`);
          } catch (e) {
            failed = true;
            // A write given up on names itself; anything else is a fault of the translation.
            return failedWith(e instanceof ServiceUnavailable ? e : new Error(`translating ${where()}: ${(e as Error).message}`, { cause: e }));
          }
          if (BigInt(batch.lastOffset) + 1n >= end) {
            pending.delete(batch.partition);
            if (pending.size === 0) finished();
          }
        },
      });
      try {
        await done;
      } finally {
        await consumer.stop();
      }
    }
    await emit(retranslation.flush(nothingSettled()), "due at the end of the range (the translators' last)");
  } finally {
    if (!o.stdout) await producer.disconnect();
  }
  return { topic, emitted, invalid: retranslation.invalid };
}

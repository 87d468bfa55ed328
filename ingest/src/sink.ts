// The Kafka edge of ingest: the three topics it writes, with their keys, acks and compression.
// What to write (raw first, validation, dead letters, metrics, retries) is decided in
// pipeline.ts; nothing else in ingest produces to Kafka.
import { topicName, type CallboardConfig, type KafkaProducer, type RecordMetadata } from '@callboard/platform';
import { encodeRaw, partitionKey, type CanonicalEvent, type DlqRecord, type RawMessage, type RawRecord, type RawRef } from '@callboard/schemas';

/** The three writes of a sink: what the pipeline, the feed watch and the spool wrap. */
export type KafkaSink = Pick<IngestSink, 'raw' | 'canonical' | 'dlq'>;

/**
 * What the sink needs of a Kafka producer: one `send` of a topic's messages, acknowledged with
 * each partition's base offset. bench/ami-to-kafka.ts puts kafkajs behind it to measure the
 * adapter on the client it replaced (docs/BENCHMARKS.md).
 */
export type KafkaSend = Pick<KafkaProducer, 'send'>;

export class IngestSink {
  constructor(
    private readonly producer: KafkaSend,
    private readonly cfg: Pick<CallboardConfig, 'kafka'>,
    /** How a raw record becomes a message; format 1 only for the bench's before-peer. */
    private readonly encode: (r: RawRecord) => RawMessage = encodeRaw,
  ) {}

  /** Appends raw vendor events; resolves once Kafka has acknowledged them. Returns their refs. */
  async raw(records: RawRecord[]): Promise<RawRef[]> {
    if (records.length === 0) return [];
    const topic = topicName(this.cfg, 'raw');
    // GZIP: vendor frames are verbose text, and a batch compresses well enough to double the
    // records per second (docs/BENCHMARKS.md, AMI). Offsets in a compressed batch still follow
    // from its base offset. Canonical events stay uncompressed (no measured gain). The frame is
    // the message value and the rest of the record one raw.v2 header (@callboard/schemas raw-codec.ts).
    const meta = await this.producer.send({ topic, acks: -1, compression: 'gzip', messages: records.map(this.encode) });
    return refs(topic, records, meta);
  }

  async canonical(events: CanonicalEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.producer.send({
      topic: topicName(this.cfg, 'events'),
      acks: -1,
      messages: events.map((e) => ({ key: partitionKey(e), value: JSON.stringify(e), headers: { type: e.type, tenant: e.tenant_id } })),
    });
  }

  async dlq(records: DlqRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.producer.send({
      topic: topicName(this.cfg, 'dlq'),
      acks: -1,
      messages: records.map((r) => ({ key: r.tenant_id && r.pbx_id ? `${r.tenant_id}:pbx:${r.pbx_id}` : null, value: JSON.stringify(r) })),
    });
  }
}

// A send reports one base offset per partition; records of one key land on one
// partition in send order, so offsets follow from the base.
function refs(topic: string, records: RawRecord[], meta: RecordMetadata[]): RawRef[] {
  if (meta.length !== 1) return records.map((r) => ({ topic, connection: r.connection, seq: r.seq }));
  const m = meta[0]!;
  const base = BigInt(m.baseOffset);
  return records.map((r, i) => ({ topic, partition: m.partition, offset: String(base + BigInt(i)), connection: r.connection, seq: r.seq }));
}

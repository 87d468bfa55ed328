// A test's own Kafka: topics created, an IngestSink to write through (on the services' client),
// and every canonical event and dead letter written to them read back by an independent client
// (kafkajs, toolKafka), on the real broker of test/global-setup.ts.
import { createKafka, ensureTopics, topicName, type CallboardConfig, type Logger } from '@callboard/platform';
import type { CanonicalEvent, DlqRecord } from '@callboard/schemas';
import { eventually, toolKafka } from '../../test/helpers.ts';
import { IngestSink } from '../src/sink.ts';

export interface KafkaCapture {
  sink: IngestSink;
  events: CanonicalEvent[];
  dead: DlqRecord[];
  /** Resolves once every event written so far has been read back. */
  caughtUp(): Promise<void>;
  close(): Promise<void>;
}

export async function captureKafka(cfg: CallboardConfig, log: Logger, group: string): Promise<KafkaCapture> {
  const kafka = createKafka(cfg, log);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, cfg);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const consumer = toolKafka(cfg).consumer({ groupId: `${cfg.kafka.topicPrefix}${group}` });
  await consumer.connect();
  const topics = { events: topicName(cfg, 'events'), dlq: topicName(cfg, 'dlq') };
  await consumer.subscribe({ topics: Object.values(topics), fromBeginning: true });
  const events: CanonicalEvent[] = [];
  const dead: DlqRecord[] = [];
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      const v = JSON.parse(message.value!.toString()) as unknown;
      if (topic === topics.events) events.push(v as CanonicalEvent);
      else dead.push(v as DlqRecord);
    },
  });
  return {
    sink: new IngestSink(producer, cfg),
    events,
    dead,
    async caughtUp() {
      const offsets = await admin.fetchTopicOffsets(topics.events);
      const total = offsets.reduce((n, o) => n + Number(o.high), 0);
      await eventually(() => (events.length >= total ? true : undefined), 30_000, `${total} events read back`);
    },
    async close() {
      await consumer.disconnect();
      await producer.disconnect();
      await admin.disconnect();
    },
  };
}

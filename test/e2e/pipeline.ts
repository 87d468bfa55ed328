// The production pipeline of one machine for end-to-end tests: topics, migrated ClickHouse,
// projections and ingest on the configured PBXes, started the way `callboard start` does.
import { createClickHouse, createKafka, ensureTopics, Health, migrate, type CallboardConfig, type ClickHouse, type Logger } from '@callboard/platform';
import { startIngest } from '@callboard/ingest/main';
import { startProjections } from '@callboard/projections/main';
import { allMigrations } from '../../cli/migrations.ts';

export interface Pipeline {
  ch: ClickHouse;
  /** Stops ingest, the producer, projections and ClickHouse, in that order. */
  stop(): Promise<void>;
}

export async function startPipeline(cfg: CallboardConfig, log: Logger): Promise<Pipeline> {
  const kafka = createKafka(cfg, log);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, cfg);
  await admin.disconnect();
  const ch = await createClickHouse(cfg);
  await migrate(ch, allMigrations());
  const health = new Health();
  const projections = await startProjections({ cfg, log, health, ch });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const ingest = await startIngest(cfg, producer, log, health);
  return {
    ch,
    stop: async () => {
      await ingest.stop();
      await producer.disconnect();
      await projections.stop();
      await ch.close();
    },
  };
}

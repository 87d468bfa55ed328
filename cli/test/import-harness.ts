// Shared by the `callboard import` int tests: a tenant's stack (ClickHouse migrated, topics, the
// projections and the API) with the environment the command reads, as on a terminal; waiting for
// the projections to take in what an import wrote; counting the tenant's stored rows.
import {
  createClickHouse,
  createKafka,
  createLogger,
  ensureTopics,
  Health,
  migrate,
  topicName,
  type CallboardConfig,
  type ClickHouse,
} from '@callboard/platform';
import { startProjections } from '@callboard/projections/main';
import { startApi } from '../../api/src/main.ts';
import { allMigrations } from '../migrations.ts';
import { eventually, testConfig, toolKafka, uniqueId } from '../../test/helpers.ts';

export interface ImportStack {
  cfg: CallboardConfig;
  ch: ClickHouse;
  apiUrl: string;
  /** Until the projections have committed everything on cc.events.v1, and something was written. */
  caughtUp(): Promise<void>;
  /** The tenant's rows of `table`, each once (FINAL). */
  count(table: string): Promise<number>;
  stop(): Promise<void>;
}

/** Starts the stack for `tenant`; `before` runs on the migrated ClickHouse before the consumers start. */
export async function startImportStack(tenant: string, timezone: string, before?: (ch: ClickHouse) => Promise<void>): Promise<ImportStack> {
  const log = createLogger('import-test', 'warn');
  const group = uniqueId('g');
  const saved = { ...process.env };
  const cfg = testConfig({ tenants: [{ id: tenant, timezone }] });
  // The command reads its configuration from the environment, as on a terminal.
  Object.assign(process.env, {
    KAFKA_BROKERS: cfg.kafka.brokers.join(','),
    KAFKA_TOPIC_PREFIX: cfg.kafka.topicPrefix,
    KAFKA_PARTITIONS: String(cfg.kafka.partitions),
    CLICKHOUSE_DATABASE: cfg.clickhouse.database,
    CALLBOARD_DATA_DIR: cfg.dataDir,
  });
  const ch = await createClickHouse(cfg);
  await migrate(ch, allMigrations());
  await before?.(ch);
  const setup = createKafka(cfg, log).admin();
  await setup.connect();
  try {
    await ensureTopics(setup, cfg);
  } finally {
    await setup.disconnect();
  }
  // The group's committed offsets, read by a client of its own.
  const admin = toolKafka(cfg).admin();
  await admin.connect();
  const projections = await startProjections({ cfg, log, health: new Health(), ch, groupId: group, fetch: { minBytes: 1, maxWaitTimeInMs: 100 } });
  const api = await startApi({ cfg, log, health: new Health(), ch, port: 0, host: '127.0.0.1' });
  const topic = topicName(cfg, 'events');
  return {
    cfg,
    ch,
    apiUrl: api.url,
    caughtUp: async () => {
      await eventually(
        async () => {
          const ends = await admin.fetchTopicOffsets(topic);
          const [o] = await admin.fetchOffsets({ groupId: `${group}-events`, topics: [topic] });
          const committed = new Map((o?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
          return ends.some((p) => Number(p.high) > 0) && ends.every((p) => Number(p.high) === 0 || committed.get(p.partition) === Number(p.high))
            ? true
            : undefined;
        },
        120_000,
        'projections to commit every imported event',
      );
    },
    count: async (table) => {
      const rs = await ch.client.query({
        query: `SELECT count() AS n FROM ${ch.db}.${table} FINAL WHERE tenant_id = {t:String}`,
        query_params: { t: tenant },
        format: 'JSONEachRow',
      });
      return Number((await rs.json<{ n: number }>())[0]!.n);
    },
    stop: async () => {
      await api.stop();
      await projections.stop();
      await admin.disconnect();
      await ch.close();
      process.env = saved;
    },
  };
}

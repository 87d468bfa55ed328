// Shared by the `callboard import` int tests: waiting for the projections to take in what an
// import wrote, and counting a tenant's stored rows.
import type { Admin } from 'kafkajs';
import { topicName, type CallboardConfig, type ClickHouse } from '@callboard/platform';
import { eventually } from '../../test/helpers.ts';

/** Until the projections (consumer group `group`) have committed everything on cc.events.v1, and something was written. */
export async function caughtUp(admin: Admin, cfg: CallboardConfig, group: string): Promise<void> {
  const topic = topicName(cfg, 'events');
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
}

/** A tenant's rows of `table`, each once (FINAL). */
export async function countRows(ch: ClickHouse, tenant: string, table: string): Promise<number> {
  const rs = await ch.client.query({
    query: `SELECT count() AS n FROM ${ch.db}.${table} FINAL WHERE tenant_id = {t:String}`,
    query_params: { t: tenant },
    format: 'JSONEachRow',
  });
  return Number((await rs.json<{ n: number }>())[0]!.n);
}

// A late event re-keys a call's rows: a `call.queued` that sorts before the one a leg was derived
// from (an imported queue_log line, whole seconds, over a period the live adapter covered) makes
// it the leg, in another 15-minute bucket. Given the call derived live, then the late event
// derived on its own, the tables and every rollup equal one load of both: the leg under its old
// key is gone, and the bucket it left reads zero instead of its old counts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_QUEUE_SETTINGS, type ClickHouse } from '@callboard/platform';
import type { CanonicalEvent } from '@callboard/schemas';
import { queueMetrics } from '../src/queries.ts';
import { loadEvents } from '../src/report.ts';
import { ProjectionStore, touchedBy } from '../src/store.ts';
import { uniqueId } from '../../test/helpers.ts';
import { ev, queuedCall, utc } from './given.ts';
import { openProjections } from './engine.ts';

let ch: ClickHouse;

beforeAll(async () => ({ ch } = await openProjections()));
afterAll(async () => ch?.close());

const ENTERED = utc('2026-05-03T09:15:00.400Z');
/** The queue_log's ENTERQUEUE of the same call: its whole second, in the bucket before. */
const ENTERED_BY_THE_LOG = utc('2026-05-03T08:59:59.000Z');

const liveCall = (t: string) => queuedCall({ tenant: t, call_id: 'c1', at: ENTERED, queue: 'sales', outcome: 'answered', wait_s: 5, agent: 'a1', talk_s: 60 });
const lateEntry = (t: string): CanonicalEvent => ev('call.queued', t, ENTERED_BY_THE_LOG, { call_id: 'c1' }, { queue: 'sales', leg_id: 'c1:sales:imported', position: 1 }, 'c1|queue_log|ENTERQUEUE');

async function derive(store: ProjectionStore, events: CanonicalEvent[], partition: number) {
  await store.writeEvents(events.map((event, i) => ({ event, partition, offset: i })));
  return store.derive(touchedBy(events), 'now');
}

async function rows(tenant: string, sql: string): Promise<Record<string, unknown>[]> {
  const rs = await ch.client.query({ query: sql.replaceAll('DB', ch.db), query_params: { tenant }, format: 'JSONEachRow', clickhouse_settings: { output_format_json_quote_64bit_integers: 0 } });
  return rs.json();
}

const metrics = (tenant: string, kind: 'DAY' | 'MONTH', group_by: 'none' | 'agent') =>
  queueMetrics(ch, { tenant_id: tenant, timezone: 'UTC', week_start: 'monday', period: { kind, date: kind === 'DAY' ? '2026-05-03' : '2026-05-01' }, group_by, settings: () => DEFAULT_QUEUE_SETTINGS, now: new Date('2026-07-01T00:00:00Z') });

describe('a late event that re-keys a derived call', () => {
  it('leaves no row under the old key, and the bucket the leg left reads zero', async () => {
    const t = uniqueId('late');
    const store = new ProjectionStore(ch);
    expect((await derive(store, liveCall(t), 0)).goneRows).toBe(0);
    expect(await rows(t, `SELECT toString(bucket) AS bucket, offered FROM DB.queue_15m FINAL WHERE tenant_id = {tenant:String}`)).toEqual([{ bucket: '2026-05-03 09:15:00', offered: 1 }]);

    const stats = await derive(store, [lateEntry(t)], 1);
    // The leg moved (new id, new bucket); the agent call keeps its key (the same answer), so it is
    // replaced, not removed.
    expect(stats.goneRows).toBe(1);
    expect(await rows(t, `SELECT toString(bucket) AS bucket, leg_id, outcome, agent_id FROM DB.queue_legs FINAL WHERE tenant_id = {tenant:String}`)).toEqual([
      { bucket: '2026-05-03 08:45:00', leg_id: 'c1:sales:imported', outcome: 'answered', agent_id: 'a1' },
    ]);
    expect(await rows(t, `SELECT toString(bucket) AS bucket, offered, answered FROM DB.queue_15m FINAL WHERE tenant_id = {tenant:String} ORDER BY bucket`)).toEqual([
      { bucket: '2026-05-03 08:45:00', offered: 1, answered: 1 },
      { bucket: '2026-05-03 09:15:00', offered: 0, answered: 0 },
    ]);
    // The per-agent rollup as its readers take it: each bucket's highest version.
    const agentSnapshot = `SELECT toString(bucket) AS bucket, agent_id, offered, answered FROM DB.queue_agent_15m WHERE tenant_id = {tenant:String}
      AND (bucket, version) IN (SELECT bucket, max(version) FROM DB.queue_agent_15m WHERE tenant_id = {tenant:String} GROUP BY bucket) ORDER BY bucket, agent_id`;
    expect(await rows(t, agentSnapshot)).toEqual([
      { bucket: '2026-05-03 08:45:00', agent_id: 'a1', offered: 1, answered: 1 },
      { bucket: '2026-05-03 09:15:00', agent_id: 'a1', offered: 0, answered: 0 },
    ]);

    // The same figures as one load of both, through every rollup the reports read.
    const once = uniqueId('late1');
    await loadEvents(new ProjectionStore(ch), [...liveCall(once), lateEntry(once)], { rollupVersion: 'now' });
    for (const kind of ['DAY', 'MONTH'] as const) {
      for (const group_by of ['none', 'agent'] as const) {
        const [a, b] = [await metrics(once, kind, group_by), await metrics(t, kind, group_by)];
        expect(b.map((r) => [r.agent_id, r.offered, r.answered, r.talk_time]), `${kind} by ${group_by}`).toEqual(a.map((r) => [r.agent_id, r.offered, r.answered, r.talk_time]));
        expect(b[0]!.offered).toBe(1);
      }
    }
    expect(await rows(t, `SELECT count() AS n FROM DB.calls FINAL WHERE tenant_id = {tenant:String}`)).toEqual([{ n: 1 }]);
    expect(await rows(t, `SELECT count() AS n FROM DB.agent_calls FINAL WHERE tenant_id = {tenant:String}`)).toEqual([{ n: 1 }]);
  });

  it('gives the same tables when the batch is delivered again after its rollup failed', async () => {
    const t = uniqueId('retry');
    const store = new ProjectionStore(ch);
    await derive(store, liveCall(t), 0);
    // The first delivery writes the derived rows and removes the old leg, then its rollup fails
    // (the consumer does not commit, and the batch comes again).
    const recompute = store.recomputeRollup.bind(store);
    store.recomputeRollup = async () => {
      throw new Error('the engine went away');
    };
    await expect(derive(store, [lateEntry(t)], 1)).rejects.toThrow('the engine went away');
    store.recomputeRollup = recompute;
    // Delivered again: the old leg is already gone from the table, and its bucket still recomputed.
    expect((await derive(store, [lateEntry(t)], 1)).goneRows).toBe(1);
    expect(await rows(t, `SELECT toString(bucket) AS bucket, offered, answered FROM DB.queue_15m FINAL WHERE tenant_id = {tenant:String} ORDER BY bucket`)).toEqual([
      { bucket: '2026-05-03 08:45:00', offered: 1, answered: 1 },
      { bucket: '2026-05-03 09:15:00', offered: 0, answered: 0 },
    ]);
    const [day] = await metrics(t, 'DAY', 'none');
    expect([day!.offered, day!.answered]).toEqual([1, 1]);
  });

  it('removes nothing when the events come in time order, over several batches', async () => {
    const t = uniqueId('inorder');
    const store = new ProjectionStore(ch);
    const events = liveCall(t);
    let stale = 0;
    // Each event as its own batch: every derivation sees a prefix of the call.
    for (const [i, e] of events.entries()) stale += (await derive(store, [e], i)).goneRows;
    expect(stale).toBe(0);
    expect(await rows(t, `SELECT count() AS n FROM DB.queue_legs FINAL WHERE tenant_id = {tenant:String}`)).toEqual([{ n: 1 }]);
  });
});

// A month by agent reads the per-agent month, day, hour and 15-minute rollups (migration 0016,
// read/agent-rollup.ts). Every field of it must be the figure of the month's legs read one by one
// (queueMetrics `source: 'legs'`), in zones east and west of UTC and on the half hour, for an
// agent answering in two queues, and after a late leg and a correction to days already rolled up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_QUEUE_SETTINGS, type ClickHouse } from '@callboard/platform';
import type { CallEvent, CanonicalEvent } from '@callboard/schemas';
import { foldCall } from '../src/fold.ts';
import { queueMetrics } from '../src/queries.ts';
import { loadEvents } from '../src/report.ts';
import { ProjectionStore } from '../src/store.ts';
import { uniqueId } from '../../test/helpers.ts';
import { queuedCall, utc } from './given.ts';
import { openProjections } from './engine.ts';

let ch: ClickHouse;
let store: ProjectionStore;

beforeAll(async () => ({ ch, store } = await openProjections()));
afterAll(async () => ch?.close());

const ZONES = ['Africa/Nairobi', 'America/New_York', 'Asia/Kolkata', 'UTC'] as const;

const monthByAgent = (tenant: string, timezone: string, source?: 'legs') =>
  queueMetrics(
    ch,
    {
      tenant_id: tenant,
      timezone,
      week_start: 'monday',
      period: { kind: 'MONTH', date: '2026-05-15' },
      group_by: 'agent',
      settings: () => DEFAULT_QUEUE_SETTINGS,
      queues: ['sales', 'support'],
      now: new Date('2026-07-01T00:00:00Z'),
    },
    { percentiles: true, ...(source ? { source } : {}) },
  );

/** Answered legs per agent of the local month straight from queue_legs (its latest rows). */
async function answeredInLegs(tenant: string, timezone: string): Promise<Record<string, number>> {
  const rs = await ch.client.query({
    query: `SELECT agent_id, toUInt32(count()) AS n FROM ${ch.db}.queue_legs FINAL
            WHERE tenant_id = {t:String} AND outcome = 'answered' AND toStartOfMonth(toDate(offered_at, {tz:String})) = '2026-05-01'
            GROUP BY agent_id`,
    query_params: { t: tenant, tz: timezone },
    format: 'JSONEachRow',
  });
  return Object.fromEntries(((await rs.json()) as { agent_id: string; n: number }[]).map((r) => [r.agent_id, Number(r.n)]));
}

async function expectSameAsLegs(tenant: string): Promise<void> {
  for (const zone of ZONES) {
    const rolled = await monthByAgent(tenant, zone);
    expect(rolled, zone).toEqual(await monthByAgent(tenant, zone, 'legs'));
    expect(Object.fromEntries(rolled.filter((r) => r.answered > 0).map((r) => [r.agent_id, r.answered])), zone).toEqual(await answeredInLegs(tenant, zone));
  }
}

const rowsIn = async (table: string, tenant: string): Promise<number> => {
  const rs = await ch.client.query({ query: `SELECT count() AS n FROM ${ch.db}.${table} WHERE tenant_id = {t:String}`, query_params: { t: tenant }, format: 'JSONEachRow' });
  return Number(((await rs.json()) as { n: string }[])[0]!.n);
};

describe('month by agent from the per-agent month and hour rollups', () => {
  it('equals the month of legs in every zone, after a late leg and a re-derived one too', async () => {
    const t = uniqueId('agmonth');
    const call = (id: string, at: string, queue: string, outcome: 'answered' | 'abandoned', wait_s: number, agent?: string): CanonicalEvent[] =>
      queuedCall({ tenant: t, call_id: id, at: utc(at), queue, outcome, wait_s, ...(agent ? { agent, talk_s: 40 + wait_s } : {}) });
    const moved = call('c9', '2026-05-12T10:00:00Z', 'sales', 'answered', 21, 'a1');
    await loadEvents(
      store,
      [
        // Edges: 30 April 18:40 UTC is May in Kolkata (a quarter hour of its first local hour),
        // 22:10 May in Nairobi too; 1 May early UTC is April in New York.
        ...call('c1', '2026-04-30T18:40:00Z', 'sales', 'answered', 3, 'a1'),
        ...call('c2', '2026-04-30T22:10:00Z', 'support', 'answered', 7, 'a1'),
        ...call('c3', '2026-05-01T02:00:00Z', 'sales', 'abandoned', 4),
        // The month's core days, a1 in both queues, and its last UTC days.
        ...call('c4', '2026-05-03T09:00:00Z', 'sales', 'answered', 12, 'a1'),
        ...call('c5', '2026-05-03T09:20:00Z', 'support', 'answered', 25, 'a1'),
        ...call('c6', '2026-05-20T14:00:00Z', 'support', 'answered', 30, 'a2'),
        ...call('c7', '2026-05-31T20:30:00Z', 'sales', 'answered', 9, 'a2'),
        ...call('c8', '2026-06-01T03:00:00Z', 'sales', 'answered', 15, 'a2'),
        ...moved,
      ],
      { rollupVersion: 'now' },
    );
    // The month's core came from the month rollup (else the comparison below proves nothing about it).
    expect(await rowsIn('queue_agent_1mo', t)).toBeGreaterThan(0);
    expect(await rowsIn('queue_agent_1h', t)).toBeGreaterThan(0);
    await expectSameAsLegs(t);

    // A late leg on a core day already rolled up, and a leg of another core day re-derived to a2.
    await loadEvents(store, call('c10', '2026-05-20T15:00:00Z', 'sales', 'answered', 33, 'a1'), { rollupVersion: 'now' });
    const leg = foldCall(moved as CallEvent[]).legs[0]!;
    await store.writeDerived([], [{ ...leg, agent_id: 'a2', version: leg.version + 1 }], [], []);
    await store.recomputeRollup(t, [leg.bucket], 'now');
    await expectSameAsLegs(t);
    const nairobi = Object.fromEntries((await monthByAgent(t, 'Africa/Nairobi')).map((r) => [r.agent_id ?? '', [r.queue, r.answered]]));
    // c2, c4, c5, c10 for a1; c6, c7, and the moved c9 for a2 (c1 is April and c8 June in Nairobi).
    expect(nairobi).toEqual({ '': [null, 0], a1: [null, 4], a2: [null, 3] });
  });
});

// Queue metrics by agent come from the per-agent rollups (queue_agent_1d for the whole UTC days of
// a period, queue_agent_15m for its edges and for intraday spans), read without FINAL as the latest
// snapshot of each bucket or day. Given answered and abandoned legs, one of them in the local
// month's first hours (still April in UTC), then a leg re-derived to another agent (an older row
// left unmerged in the table), the figures are those of the legs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_QUEUE_SETTINGS, type ClickHouse, type TenantHours } from '@callboard/platform';
import type { CallEvent } from '@callboard/schemas';
import { foldCall } from '../src/fold.ts';
import { queueMetrics, type QueueSource } from '../src/queries.ts';
import { loadEvents } from '../src/report.ts';
import { ProjectionStore } from '../src/store.ts';
import { uniqueId } from '../../test/helpers.ts';
import { queuedCall, utc } from './given.ts';
import { openProjections } from './engine.ts';

let ch: ClickHouse;
let store: ProjectionStore;

beforeAll(async () => ({ ch, store } = await openProjections()));
afterAll(async () => ch?.close());

const byAgent = (
  tenant: string,
  period: { kind: 'MONTH' | 'DAY'; date: string } = { kind: 'MONTH', date: '2026-05-01' },
  o: { group_by?: 'agent' | 'queue' | 'day'; percentiles?: boolean; business_hours?: TenantHours; onSource?: (s: QueueSource) => void } = {},
) =>
  queueMetrics(
    ch,
    {
      tenant_id: tenant,
      timezone: 'Africa/Nairobi',
      week_start: 'monday',
      period,
      group_by: o.group_by ?? 'agent',
      settings: () => DEFAULT_QUEUE_SETTINGS,
      now: new Date('2026-07-01T00:00:00Z'),
      ...(o.business_hours ? { business_hours: o.business_hours } : {}),
    },
    { percentiles: o.percentiles ?? true, ...(o.onSource ? { onSource: o.onSource } : {}) },
  );

describe('queue metrics by agent from the per-agent rollup', () => {
  it('counts each agent’s legs, and a leg re-derived to another agent only once, before any merge', async () => {
    const t = uniqueId('agroll');
    const moved = queuedCall({ tenant: t, call_id: 'c3', at: utc('2026-05-03T09:01:00Z'), queue: 'sales', outcome: 'answered', wait_s: 12, agent: 'a1', talk_s: 40 });
    await loadEvents(
      store,
      [
        ...queuedCall({ tenant: t, call_id: 'c1', at: utc('2026-05-03T09:00:00Z'), queue: 'sales', outcome: 'answered', wait_s: 3, agent: 'a1', talk_s: 60 }),
        ...queuedCall({ tenant: t, call_id: 'c2', at: utc('2026-05-20T14:00:00Z'), queue: 'sales', outcome: 'answered', wait_s: 30, agent: 'a2', talk_s: 90 }),
        ...queuedCall({ tenant: t, call_id: 'c4', at: utc('2026-05-03T09:02:00Z'), queue: 'sales', outcome: 'abandoned', wait_s: 8 }),
        // 1 May 01:00 in Nairobi: an edge bucket of the month, before its first whole UTC day.
        ...queuedCall({ tenant: t, call_id: 'c5', at: utc('2026-04-30T22:00:00Z'), queue: 'sales', outcome: 'answered', wait_s: 2, agent: 'a1', talk_s: 30 }),
        ...moved,
      ],
      { rollupVersion: 'now' },
    );
    const before = Object.fromEntries((await byAgent(t)).map((r) => [r.agent_id ?? '', [r.offered, r.answered, r.abandoned]]));
    expect(before).toEqual({ '': [1, 0, 1], a1: [3, 3, 0], a2: [1, 1, 0] });
    const may1 = Object.fromEntries((await byAgent(t, { kind: 'DAY', date: '2026-05-01' })).map((r) => [r.agent_id ?? '', r.answered]));
    expect(may1).toEqual({ a1: 1 });

    // The leg of c3 re-derived as answered by a2 (a newer version), and its bucket rolled up again.
    const leg = foldCall(moved as CallEvent[]).legs[0]!;
    await store.writeDerived([], [{ ...leg, agent_id: 'a2', version: leg.version + 1 }], [], []);
    await store.recomputeRollup(t, [leg.bucket], 'now');
    const rows = await ch.client.query({ query: `SELECT count() AS n FROM ${ch.db}.queue_agent_15m WHERE tenant_id = {t:String} AND agent_id = 'a1'`, query_params: { t }, format: 'JSONEachRow' });
    // a1's older row of that bucket is still in the table (no merge yet): the read must skip it.
    expect(Number(((await rows.json()) as { n: string }[])[0]!.n)).toBeGreaterThanOrEqual(2);
    const after = Object.fromEntries((await byAgent(t)).map((r) => [r.agent_id ?? '', [r.offered, r.answered, r.talk_time]]));
    expect(after).toEqual({ '': [1, 0, 0], a1: [2, 2, 90], a2: [2, 2, 130] });
    const may3 = Object.fromEntries((await byAgent(t, { kind: 'DAY', date: '2026-05-03' })).map((r) => [r.agent_id ?? '', r.answered]));
    expect(may3).toEqual({ '': 0, a1: 1, a2: 1 });
  });

  it('without percentiles, gives every other field as with them, from each rollup', async () => {
    const t = uniqueId('agpct');
    await loadEvents(
      store,
      [
        ...queuedCall({ tenant: t, call_id: 'c1', at: utc('2026-05-03T09:00:00Z'), queue: 'sales', outcome: 'answered', wait_s: 3, agent: 'a1', talk_s: 60 }),
        ...queuedCall({ tenant: t, call_id: 'c2', at: utc('2026-05-03T09:20:00Z'), queue: 'sales', outcome: 'answered', wait_s: 25, agent: 'a1', talk_s: 90 }),
        ...queuedCall({ tenant: t, call_id: 'c3', at: utc('2026-05-20T14:00:00Z'), queue: 'support', outcome: 'answered', wait_s: 30, agent: 'a2', talk_s: 90 }),
        ...queuedCall({ tenant: t, call_id: 'c4', at: utc('2026-05-03T09:02:00Z'), queue: 'sales', outcome: 'abandoned', wait_s: 4 }),
        ...queuedCall({ tenant: t, call_id: 'c5', at: utc('2026-04-30T22:00:00Z'), queue: 'sales', outcome: 'answered', wait_s: 2, agent: 'a1', talk_s: 30 }),
      ],
      { rollupVersion: 'now' },
    );
    const month = { kind: 'MONTH', date: '2026-05-01' } as const;
    const day = { kind: 'DAY', date: '2026-05-03' } as const;
    // Open 08:10–23:50 local every day: edges inside buckets, so the legs answer, not a rollup.
    const offEdges: TenantHours = {
      default: { tenant: t, name: 'long-day', weekly: Array.from({ length: 7 }, () => [{ from: 490, to: 1430 }]), holidays: [], exceptions: [] },
      queues: {},
    };
    const sources = new Set<QueueSource>();
    for (const [period, group_by, business_hours] of [
      [month, 'agent', undefined],
      [day, 'agent', undefined],
      [month, 'queue', undefined],
      [month, 'day', undefined],
      [month, 'agent', offEdges],
    ] as const) {
      const o = { group_by, ...(business_hours ? { business_hours } : {}), onSource: (s: QueueSource) => sources.add(s) };
      const all = await byAgent(t, period, { ...o, percentiles: true });
      const lean = await byAgent(t, period, { ...o, percentiles: false });
      // The asked rows have percentiles, so leaving them out is a change the test can see.
      expect(all.some((r) => r.wait_p50 !== null)).toBe(true);
      expect(lean.every((r) => r.wait_p50 === null && r.wait_p90 === null && r.wait_p99 === null)).toBe(true);
      expect(lean).toEqual(all.map((r) => ({ ...r, wait_p50: null, wait_p90: null, wait_p99: null })));
    }
    expect([...sources].sort()).toEqual(['legs', 'rollup']);
  });
});

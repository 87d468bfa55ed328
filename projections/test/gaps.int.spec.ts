// What every metrics result states besides its figures (METRICS.md "Time and precision"): the gaps
// of the tenant's feed it overlaps, its data-until time, and wait percentiles at 0.1 s. Fold →
// ClickHouse → read path, on the embedded engine; each test has its own tenant.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_QUEUE_SETTINGS, type ClickHouse } from '@callboard/platform';
import type { CanonicalEvent } from '@callboard/schemas';
import { WAIT_PERCENTILE_ERROR_S } from '../src/metrics/index.ts';
import { feedGaps, lastEventAt, queueMetrics, resultCoverage } from '../src/read.ts';
import { loadEvents, report } from '../src/report.ts';
import { ProjectionStore } from '../src/store.ts';
import { uniqueId } from '../../test/helpers.ts';
import { agentState, ev, feedGap, queuedCall, utc } from './given.ts';
import { openProjections } from './engine.ts';

let ch: ClickHouse;
let store: ProjectionStore;

beforeAll(async () => ({ ch, store } = await openProjections()));
afterAll(async () => ch?.close());

const given = (events: CanonicalEvent[]) => loadEvents(store, events, { rollupVersion: 'now' });
const day = (tenant: string, date: string, now = new Date('2027-01-01T00:00:00Z')) =>
  ({ tenant_id: tenant, timezone: 'UTC', week_start: 'monday' as const, period: { kind: 'DAY' as const, date }, settings: () => DEFAULT_QUEUE_SETTINGS, now });

describe('gaps of the feed', () => {
  it('a result over a period lists the gaps that overlap it, once each, and only its own tenant\'s', async () => {
    const t = uniqueId('gaps');
    const other = uniqueId('gaps-other');
    const gap = feedGap(t, utc('2026-06-01T10:00:00.250Z'), utc('2026-06-01T10:00:41.000Z'), 'PBX restarted');
    await given([gap, feedGap(t, utc('2026-06-02T23:59:00Z'), utc('2026-06-03T00:01:00Z'), 'connection lost', 'pbx-2'), feedGap(other, utc('2026-06-01T11:00:00Z'), utc('2026-06-01T11:01:00Z'))]);
    // a redelivered gap replaces its row
    await given([gap]);
    expect((await resultCoverage(ch, day(t, '2026-06-01'))).gaps).toEqual([{ pbx_id: 'pbx-1', from: '2026-06-01T10:00:00.250Z', to: '2026-06-01T10:00:41.000Z', reason: 'PBX restarted' }]);
    // a gap across midnight belongs to both days
    for (const d of ['2026-06-02', '2026-06-03']) expect((await resultCoverage(ch, day(t, d))).gaps.map((g) => g.pbx_id)).toEqual(['pbx-2']);
    expect((await resultCoverage(ch, day(t, '2026-06-04'))).gaps).toEqual([]);
    // touching the span only at its edge is no overlap
    expect(await feedGaps(ch, { tenant_id: t, from: '2026-06-01T10:00:41.000Z', to: '2026-06-01T11:00:00.000Z' })).toEqual([]);
    const rs = await ch.client.query({ query: `SELECT pbx_id, reason, duration FROM ${ch.db}.bi_gaps WHERE tenant_id = {t:String} ORDER BY from_at`, query_params: { t }, format: 'JSONEachRow' });
    expect(await rs.json()).toEqual([
      { pbx_id: 'pbx-1', reason: 'PBX restarted', duration: 40.75 },
      { pbx_id: 'pbx-2', reason: 'connection lost', duration: 120 },
    ]);
  });

  it('a gap that is not yet over for a live period is still listed up to now', async () => {
    const t = uniqueId('gaps-live');
    await given([feedGap(t, utc('2026-06-05T09:00:00Z'), utc('2026-06-05T09:05:00Z'))]);
    const c = await resultCoverage(ch, { ...day(t, '2026-06-05'), now: new Date('2026-06-05T09:01:00Z') });
    expect(c.data_until).toBe('2026-06-05T09:01:00.000Z');
    expect(c.gaps).toHaveLength(1);
    // a period entirely after now has no data and so no gaps
    expect(await resultCoverage(ch, { ...day(t, '2026-06-06'), now: new Date('2026-06-05T09:01:00Z') })).toEqual({ data_until: '2026-06-05T09:01:00.000Z', gaps: [] });
  });

  it('a call the resync found ended in a gap is flagged, and its leg\'s exit delivered after the end still counts', async () => {
    const t = uniqueId('gaps-cut');
    const c = { call_id: 'cut1' };
    const from = utc('2026-06-07T09:00:20Z');
    const iso = (x: number) => new Date(x).toISOString();
    await given([
      ev('call.started', t, from - 30_000, c, { direction: 'inbound', caller_number: '+254700000009', called_number: '0800' }),
      ev('call.queued', t, from - 20_000, c, { queue: 'sales', leg_id: 'cut1:sales:1', position: 1 }),
      feedGap(t, from, from + 40_000, 'PBX restarted'),
      ev('call.ended', t, from, c, { disposition: 'NO ANSWER', raw_disposition: 'NO ANSWER', duration_ms: 30_000, billsec_ms: 0, direction: 'inbound', ended_in: 'gap' }),
    ]);
    await given([ev('call.left_queue', t, from, c, { queue: 'sales', leg_id: 'cut1:sales:1', reason: 'other', wait_ms: 20_000 })]);
    const [r] = await queueMetrics(ch, { ...day(t, '2026-06-07'), group_by: 'none' });
    expect(r).toMatchObject({ offered: 1, exited: 1, waiting: 0 });
    const rs = await ch.client.query({ query: `SELECT call_id, ended_in, toString(ended_at) AS ended_at FROM ${ch.db}.bi_calls WHERE tenant_id = {t:String}`, query_params: { t }, format: 'JSONEachRow' });
    expect(await rs.json()).toEqual([{ call_id: 'cut1', ended_in: 'gap', ended_at: iso(from).replace('T', ' ').replace('Z', '') }]);
  });
});

describe('data until', () => {
  it('a report over events runs open states to the last event, not to the end of the day, and says so', async () => {
    const t = uniqueId('until');
    const at = utc('2026-06-10T08:00:00Z');
    await given([agentState(t, '1001', at, 'available'), ...queuedCall({ tenant: t, call_id: 'u1', at: at + 60_000, outcome: 'answered', agent: '1001', wait_s: 2, talk_s: 30 })]);
    const last = await lastEventAt(ch, t);
    // call.ended of u1: queued + wait 2 s + talk 30 s + 50 ms
    expect(last).toBe('2026-06-10T08:01:32.050Z');
    const out = await report(ch, { tenant: t, timezone: 'UTC', week_start: 'monday', period: 'day', date: '2026-06-10', group_by: 'none', settings: DEFAULT_QUEUE_SETTINGS });
    expect(out.data_until).toBe(last);
    expect(out.gaps).toEqual([]);
    expect(out.agent_metrics[0]!.logged_in_time).toBeCloseTo(92.05, 3);
  });
});

describe('wait percentiles', () => {
  it('a single 2.004 s wait gives p50 = 2.004 s ± 0.1, never above max_wait; from the rollup and from the legs', async () => {
    const t = uniqueId('pct');
    await given(queuedCall({ tenant: t, call_id: 'p1', at: utc('2026-06-11T09:00:00Z'), outcome: 'answered', agent: '1001', wait_s: 2.004 }));
    for (const group_by of ['none', 'agent'] as const) {
      const [r] = await queueMetrics(ch, { ...day(t, '2026-06-11'), group_by });
      expect(r!.max_wait).toBe(2.004);
      for (const p of [r!.wait_p50, r!.wait_p90, r!.wait_p99]) {
        expect(Math.abs(p! - 2.004)).toBeLessThanOrEqual(WAIT_PERCENTILE_ERROR_S);
        expect(p!).toBeLessThanOrEqual(r!.max_wait!);
      }
    }
  });

  it('percentiles over a day stay within the shortest and longest answered wait, to 0.1 s', async () => {
    const t = uniqueId('pct-day');
    const waits = [0.35, 1.2, 7.77, 7.78, 19.999, 20.001, 44.4];
    await given(waits.flatMap((w, i) => queuedCall({ tenant: t, call_id: `w${i}`, at: utc('2026-06-12T09:00:00Z') + i * 20 * 60_000, outcome: 'answered', wait_s: w })));
    const [r] = await queueMetrics(ch, { ...day(t, '2026-06-12'), group_by: 'none' });
    // nearest rank of 7: p50 → 4th (7.78 s), p90 and p99 → 7th (44.4 s)
    expect(r!.wait_p50).toBeCloseTo(7.8, 6);
    expect(r!.wait_p90).toBe(44.4);
    expect(r!.wait_p99).toBe(44.4);
  });
});

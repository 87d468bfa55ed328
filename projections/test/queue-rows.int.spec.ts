// Thresholds and percentiles in the engine (read/queue-rows.ts) against TypeScript on generated
// legs: given 400 calls over May 2026 in three queues with their own thresholds (waits on and
// just past each threshold, and past the hour where the histogram keys step by 60 s), queue
// metrics read with the queues known (thresholds applied in the engine) equal the read without
// (thresholds applied in TypeScript to the histograms), field by field; and every row's
// wait_p50/p90/p99 equal waitPercentile over a sketch of that row's answered legs, built in
// TypeScript from the generated waits — for each source (queue_15m, the per-agent rollups, the legs)
// and grouping (by nothing and by queue the rows go to TypeScript as they are: both reads are that
// path, and the percentiles check it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { DEFAULT_QUEUE_SETTINGS, type ClickHouse, type QueueSettings, type TenantHours } from '@callboard/platform';
import type { CanonicalEvent } from '@callboard/schemas';
import { addWait, emptyWaitSketch, waitPercentile } from '../src/metrics/index.ts';
import { queueMetrics, type Hours, type QueueGroupBy, type QueueSource } from '../src/queries.ts';
import { loadEvents } from '../src/report.ts';
import { ProjectionStore } from '../src/store.ts';
import { uniqueId } from '../../test/helpers.ts';
import { queuedCall, utc } from './given.ts';
import { openProjections } from './engine.ts';

let ch: ClickHouse;
let store: ProjectionStore;
const t = uniqueId('qrows');

const SETTINGS: Record<string, QueueSettings> = {
  sales: DEFAULT_QUEUE_SETTINGS,
  support: { ...DEFAULT_QUEUE_SETTINGS, sl_threshold_s: 15, short_abandon_s: 3, sl_formula: 'within_T_over_answered_and_abandoned' },
  billing: { ...DEFAULT_QUEUE_SETTINGS, sl_threshold_s: 12.5, short_abandon_s: 7.5, sl_formula: 'answered_within_T_over_answered' },
};
const QUEUES = Object.keys(SETTINGS);
// Every other leg waits on or around a threshold (s) or past the hour; the rest up to two minutes.
const EDGE_WAITS = [0, 2.999, 3, 3.001, 4.999, 5, 5.001, 7.5, 7.501, 12.5, 12.501, 13, 14.999, 15, 15.001, 19.999, 20, 20.001, 21, 3600, 3600.001, 3661.5, 3725];

interface Leg {
  queue: string;
  agent: string | null;
  outcome: 'answered' | 'abandoned' | 'exited';
  wait_ms: number;
  at: number;
}
const legs: Leg[] = [];

beforeAll(async () => {
  ({ ch, store } = await openProjections());
  // A fixed pseudo-random sequence, so a failure can be replayed.
  let seed = 17;
  const rnd = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
  const events: CanonicalEvent[] = [];
  const start = utc('2026-04-30T20:00:00Z');
  for (let i = 0; i < 400; i++) {
    const queue = QUEUES[i % 3]!;
    const r = rnd();
    const outcome = r < 0.6 ? 'answered' : r < 0.9 ? 'abandoned' : 'exited';
    const wait_s = i % 2 === 0 ? EDGE_WAITS[(i / 2) % EDGE_WAITS.length]! : Math.round(rnd() * 120_000) / 1000;
    const agent = outcome === 'answered' ? `a${Math.floor(rnd() * 5)}` : null;
    const at = start + Math.floor(rnd() * 32 * 86_400_000);
    legs.push({ queue, agent, outcome, wait_ms: Math.round(wait_s * 1000), at });
    events.push(...queuedCall({ tenant: t, call_id: `c${i}`, at, queue, outcome, wait_s, ...(agent ? { agent } : {}), talk_s: 30 + (i % 7) }));
  }
  await loadEvents(store, events, { rollupVersion: 'now' });
}, 600_000);
afterAll(async () => ch?.close());

const ZONE = 'Africa/Nairobi';
// Open 09:00–17:00 local every day (on bucket edges: the rollups answer).
const HOURS: TenantHours = { default: { tenant: 't', name: 'day', weekly: Array.from({ length: 7 }, () => [{ from: 540, to: 1020 }]), holidays: [], exceptions: [] }, queues: {} };
// Open 08:10–23:50 local: edges inside buckets, so the legs answer.
const OFF_EDGES: TenantHours = { default: { tenant: 't', name: 'long', weekly: Array.from({ length: 7 }, () => [{ from: 490, to: 1430 }]), holidays: [], exceptions: [] }, queues: {} };
const openIn = (h: TenantHours, at: number) => {
  const d = DateTime.fromMillis(at, { zone: ZONE });
  const m = d.hour * 60 + d.minute;
  return h.default!.weekly[0]!.some((i) => m >= i.from && m < i.to);
};

interface Case {
  period: { kind: 'MONTH' | 'DAY'; date: string };
  group_by: QueueGroupBy;
  business_hours?: TenantHours;
  hours?: Hours;
  agents?: string[];
}
const CASES: Case[] = [
  { period: { kind: 'MONTH', date: '2026-05' }, group_by: 'agent' },
  { period: { kind: 'MONTH', date: '2026-05' }, group_by: 'queue' },
  { period: { kind: 'MONTH', date: '2026-05' }, group_by: 'none' },
  { period: { kind: 'MONTH', date: '2026-05' }, group_by: 'day' },
  { period: { kind: 'DAY', date: '2026-05-11' }, group_by: 'interval' },
  { period: { kind: 'MONTH', date: '2026-05' }, group_by: 'queue', agents: ['a1', 'a2'] },
  { period: { kind: 'MONTH', date: '2026-05' }, group_by: 'agent', business_hours: HOURS, hours: 'open' },
  { period: { kind: 'MONTH', date: '2026-05' }, group_by: 'queue', business_hours: HOURS, hours: 'closed' },
  { period: { kind: 'MONTH', date: '2026-05' }, group_by: 'agent', business_hours: OFF_EDGES },
  { period: { kind: 'MONTH', date: '2026-05' }, group_by: 'none', business_hours: OFF_EDGES, hours: 'open' },
];

const read = (c: Case, known: boolean, onSource?: (s: QueueSource) => void) =>
  queueMetrics(
    ch,
    {
      tenant_id: t,
      timezone: ZONE,
      week_start: 'monday',
      period: c.period,
      group_by: c.group_by,
      ...(c.group_by === 'interval' ? { interval_minutes: 60 as const } : {}),
      settings: (q) => SETTINGS[q] ?? DEFAULT_QUEUE_SETTINGS,
      ...(known ? { queues: QUEUES } : {}),
      ...(c.agents ? { filter: { agents: c.agents } } : {}),
      ...(c.business_hours ? { business_hours: c.business_hours } : {}),
      ...(c.hours ? { hours: c.hours } : {}),
      now: new Date('2026-07-01T00:00:00Z'),
    },
    onSource ? { onSource } : {},
  );

describe('queue metrics: thresholds and percentiles in the engine', () => {
  it('equal the same figures computed in TypeScript, for every source and grouping', async () => {
    const sources = new Set<QueueSource>();
    for (const c of CASES) {
      const engine = await read(c, true, (s) => sources.add(s));
      const ts = await read(c, false);
      expect(engine, JSON.stringify(c)).toEqual(ts);
      // Not vacuous: the thresholds counted something, and percentiles came back.
      expect(engine.some((r) => r.answered_within_sl > 0 && r.wait_p90 !== null), JSON.stringify(c)).toBe(true);
      for (const row of engine) {
        const s = emptyWaitSketch();
        for (const l of legs) {
          const at = l.at;
          if (l.outcome !== 'answered' || at < Date.parse(row.start) || at >= Date.parse(row.end)) continue;
          if ((c.group_by === 'queue' && l.queue !== row.queue) || (c.group_by === 'agent' && l.agent !== row.agent_id)) continue;
          if (c.agents && !c.agents.includes(l.agent ?? '')) continue;
          if (c.hours && c.business_hours && (c.hours === 'open') !== openIn(c.business_hours, at)) continue;
          addWait(s, l.wait_ms);
        }
        const want = [0.5, 0.9, 0.99].map((p) => waitPercentile(s, p));
        expect([row.wait_p50, row.wait_p90, row.wait_p99], `${JSON.stringify(c)} ${row.queue}/${row.agent_id}/${row.interval}`).toEqual(want);
      }
    }
    expect([...sources].sort()).toEqual(['legs', 'rollup']);
    // The threshold edges were met: short abandons and within-threshold counts differ by queue settings.
    const byQueue = await read(CASES[1]!, true);
    expect(byQueue.every((r) => r.short_abandoned > 0 && r.abandoned_within_sl > 0)).toBe(true);
  }, 600_000);
});

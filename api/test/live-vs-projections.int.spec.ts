// The live fold (api/src/live.ts) and the projections (fold → ClickHouse → queries) are two
// implementations of the same METRICS.md definitions over the same events: given the same random
// canonical event stream, today's figures must be equal. This is what catches a change to one
// side only (a threshold, a formula, how hold or transfers are counted).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { DEFAULT_QUEUE_SETTINGS, SL_FORMULAS, createClickHouse, migrate, readMigrations, type ClickHouse, type QueueSettings } from '@callboard/platform';
import type { CanonicalEvent } from '@callboard/schemas';
import { MIGRATIONS_DIR } from '@callboard/projections/migrations-dir';
import { listAgents, queueMetrics, type QueueMetricsRow } from '@callboard/projections/read';
import { loadEvents } from '@callboard/projections/report';
import { ProjectionStore } from '@callboard/projections/store';
import { agentState, ev, queuedCall } from '../../projections/test/given.ts';
import { testConfig, uniqueId } from '../../test/helpers.ts';
import { LiveStore } from '../src/live.ts';

let ch: ClickHouse;
let store: ProjectionStore;

beforeAll(async () => {
  ch = await createClickHouse(testConfig());
  await migrate(ch, readMigrations(MIGRATIONS_DIR));
  store = new ProjectionStore(ch);
});
afterAll(async () => ch?.close());

const QUEUES = ['sales', 'support'] as const;
const ZONES = ['Africa/Nairobi', 'America/New_York', 'UTC'] as const;
const AGENTS = ['1001', '1002', '1003'] as const;

/** Every figure both sides compute for a day; max_wait is not one (live: longest current wait). */
const SHARED = [
  'offered',
  'answered',
  'abandoned',
  'short_abandoned',
  'exited',
  'waiting',
  'answered_within_sl',
  'abandoned_within_sl',
  'service_level',
  'abandon_rate',
  'asa',
  'avg_abandon_wait',
  'wait_p50',
  'wait_p90',
  'wait_p99',
  'talk_time',
  'hold_time',
  'wrap_time',
  'aht',
  'transferred',
] as const;
const shared = (r: Partial<Record<(typeof SHARED)[number], unknown>>) => Object.fromEntries(SHARED.map((k) => [k, r[k]]));

const settingsArb: fc.Arbitrary<QueueSettings> = fc.record({
  sl_threshold_s: fc.constantFrom(10, 20, 30),
  short_abandon_s: fc.constantFrom(0, 5),
  sl_formula: fc.constantFrom(...SL_FORMULAS),
  wrap_up_s: fc.constantFrom(0, 15),
});

const callArb = fc.record({
  queue: fc.constantFrom(...QUEUES),
  // minutes from local midnight; negative ones are yesterday's legs (some answered today)
  offsetMin: fc.integer({ min: -90, max: 18 * 60 }),
  outcome: fc.oneof(
    { arbitrary: fc.constant('answered' as const), weight: 4 },
    { arbitrary: fc.constant('abandoned' as const), weight: 3 },
    { arbitrary: fc.constant('exited' as const), weight: 1 },
    { arbitrary: fc.constant('waiting' as const), weight: 1 },
  ),
  // Waits at millisecond precision (20.021 s is not within 20 s): mostly relative to the leg's
  // queue's own SL or short-abandon threshold (exactly on it, a millisecond either side, or within
  // a second or so), where an implementation that compares differently goes wrong; some anywhere.
  wait: fc.oneof(
    { arbitrary: fc.record({ near: fc.constantFrom('sl' as const, 'short' as const), deltaMs: fc.oneof(fc.constantFrom(0, -1, 1), fc.integer({ min: -1500, max: 1500 })) }), weight: 3 },
    { arbitrary: fc.record({ near: fc.constant(null), deltaMs: fc.integer({ min: 0, max: 200_000 }) }), weight: 1 },
  ),
  agent: fc.constantFrom(...AGENTS),
  talkS: fc.integer({ min: 1, max: 600 }),
  holdS: fc.constantFrom(0, 0, 7.5, 30),
  holdEvents: fc.boolean(),
  wrapS: fc.option(fc.constantFrom(0, 12.5, 40), { nil: undefined }),
  transfer: fc.boolean(),
  redelivered: fc.boolean(),
  // the same queue entry seen again through a Local channel, under another leg id (one leg, METRICS.md)
  localDuplicate: fc.boolean(),
});

function waitMs(w: { near: 'sl' | 'short' | null; deltaMs: number }, s: QueueSettings): number {
  const base = w.near === 'sl' ? s.sl_threshold_s * 1000 : w.near === 'short' ? s.short_abandon_s * 1000 : 0;
  return Math.max(0, base + w.deltaMs);
}

const agentArb = fc.record({ agent: fc.constantFrom(...AGENTS), offsetMin: fc.integer({ min: -600, max: 18 * 60 }), state: fc.constantFrom('available', 'on_call', 'paused', 'offline') as fc.Arbitrary<'available' | 'on_call' | 'paused' | 'offline'> });

describe('live fold and projections agree', () => {
  it("give the same queue figures for today, per queue and for the tenant, from the same random events", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ZONES),
        fc.record({ sales: settingsArb, support: settingsArb }),
        fc.array(callArb, { minLength: 1, maxLength: 30 }),
        fc.array(agentArb, { maxLength: 8 }),
        async (zone, perQueue, calls, agents) => {
          const tenant = uniqueId('lvp');
          const midnight = DateTime.fromISO('2026-03-10', { zone }).startOf('day').toMillis();
          // 20:00 local: every generated event (≤ 18:00 + wait + talk + hold) has happened by then
          const now = midnight + 20 * 3600_000;
          const settingsOf = (queue: string): QueueSettings => perQueue[queue as (typeof QUEUES)[number]] ?? DEFAULT_QUEUE_SETTINGS;

          const events: CanonicalEvent[] = [];
          calls.forEach((c, i) => {
            const evs = queuedCall({
              tenant,
              call_id: `c${i}`,
              at: midnight + c.offsetMin * 60_000 + i,
              queue: c.queue,
              outcome: c.outcome,
              wait_s: waitMs(c.wait, settingsOf(c.queue)) / 1000,
              agent: c.agent,
              talk_s: c.talkS,
              hold_s: c.holdS,
              hold_events: c.holdEvents,
              ...(c.wrapS !== undefined ? { wrap_s: c.wrapS } : {}),
              transfer: c.transfer,
            });
            const q = evs.findIndex((e) => e.type === 'call.queued');
            const queued = evs[q];
            if (c.localDuplicate && queued?.type === 'call.queued') {
              // Same instant, right after the original: the entry is still waiting whatever its wait.
              evs.splice(q + 1, 0, ev('call.queued', tenant, Date.parse(queued.occurred_at), { call_id: queued.call_id }, { ...queued.payload, leg_id: `${queued.payload.leg_id};2` }, `c${i}|local-dup`));
            }
            events.push(...evs, ...(c.redelivered ? evs : []));
          });
          agents.forEach((a, i) => events.push(agentState(tenant, a.agent, midnight + a.offsetMin * 60_000 + i, a.state)));
          // Kafka keeps one call's (one agent's) events in order; the fold is fed that order.
          const stream = [...events].sort((a, b) => Date.parse(a.occurred_at) - Date.parse(b.occurred_at));

          const live = new LiveStore({ zoneOf: () => zone, settingsOf: (_, q) => settingsOf(q), formulaOf: () => DEFAULT_QUEUE_SETTINGS.sl_formula });
          for (const e of stream) live.apply(e, now);
          const snap = live.snapshot(tenant, now);

          await loadEvents(store, stream, { rollupVersion: 'now' });
          const query = { tenant_id: tenant, timezone: zone, week_start: 'monday' as const, period: { kind: 'TODAY' as const }, settings: settingsOf, now: new Date(now) };
          const byQueue = await queueMetrics(ch, { ...query, group_by: 'queue' });
          const [total] = await queueMetrics(ch, { ...query, group_by: 'none' });

          // Both could agree on nothing at all: today's offered legs are known from the generator.
          expect(total!.offered).toBe(calls.filter((c) => c.offsetMin >= 0).length);
          const liveQueues = Object.fromEntries(snap.queues.filter((q) => q.today.offered > 0 || q.today.waiting > 0).map((q) => [q.queue, shared(q.today)]));
          const projQueues = Object.fromEntries(byQueue.map((r: QueueMetricsRow) => [r.queue!, shared(r)]));
          expect(liveQueues).toEqual(projQueues);
          // The tenant row's service level follows each side's formula rule for mixed queues;
          // the live view uses the tenant default, so compare it only where both use that.
          const formulas = new Set(byQueue.map((r) => settingsOf(r.queue!).sl_formula));
          const sameFormula = formulas.size !== 1 || formulas.has(DEFAULT_QUEUE_SETTINGS.sl_formula);
          const { service_level: liveSl, ...liveTotal } = shared(snap.today);
          const { service_level: projSl, ...projTotal } = shared(total!);
          expect(liveTotal).toEqual(projTotal);
          if (sameFormula) expect(liveSl).toEqual(projSl);

          // Live keeps agents' current state, not period figures: both know the same agents and names.
          const known = (await listAgents(ch, tenant)).map((a) => a.agent_id);
          expect(snap.agents.map((a) => a.agent_id)).toEqual(known);
          const lastState = new Map<string, string>();
          for (const e of stream) if (e.type === 'agent.state_changed') lastState.set(e.agent_id, e.payload.state);
          expect(Object.fromEntries(snap.agents.map((a) => [a.agent_id, a.state]))).toEqual(Object.fromEntries(lastState));
        },
      ),
      { numRuns: 25 },
    );
  });
});

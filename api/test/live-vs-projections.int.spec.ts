// The live fold (api/src/live.ts) and the projections (fold → ClickHouse → queries) are two
// implementations of the same METRICS.md definitions over the same events: given the same random
// canonical event stream, today's figures must be equal. This is what catches a change to one
// side only (a threshold, a formula, how hold or transfers are counted).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { DEFAULT_QUEUE_SETTINGS, SL_FORMULAS, type ClickHouse, type QueueSettings } from '@callboard/platform';
import type { CanonicalEvent } from '@callboard/schemas';
import { listAgents, queueMetrics, type QueueMetricsRow } from '@callboard/projections/read';
import { loadEvents } from '@callboard/projections/report';
import { ProjectionStore } from '@callboard/projections/store';
import { agentState, ev, feedGap, queuedCall, type CallSpec } from '../../projections/test/given.ts';
import { uniqueId } from '../../test/helpers.ts';
import { LiveStore } from '../src/live.ts';
import { openProjections } from '../../projections/test/engine.ts';

let ch: ClickHouse;
let store: ProjectionStore;

beforeAll(async () => ({ ch, store } = await openProjections()));
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

type CallCase = typeof callArb extends fc.Arbitrary<infer T> ? T : never;
type SettingsOf = (queue: string) => QueueSettings;
const ms = (e: CanonicalEvent) => Date.parse(e.occurred_at);

/** One generated call's spec; `place` puts it exactly (ms, wait, talk) instead of by the case. */
function specOf(c: CallCase, i: number, tenant: string, midnight: number, settingsOf: SettingsOf, place?: { at: number; waitMs?: number; talkS?: number }): CallSpec {
  return {
    tenant,
    call_id: `c${i}`,
    at: place?.at ?? midnight + c.offsetMin * 60_000 + i,
    queue: c.queue,
    outcome: c.outcome,
    wait_s: (place?.waitMs ?? waitMs(c.wait, settingsOf(c.queue))) / 1000,
    agent: c.agent,
    talk_s: place?.talkS ?? c.talkS,
    hold_s: c.holdS,
    hold_events: c.holdEvents,
    ...(c.wrapS !== undefined ? { wrap_s: c.wrapS } : {}),
    transfer: c.transfer,
  };
}

/** The same queue entry seen again through a Local channel, under another leg id (one leg, METRICS.md). */
function withLocalDuplicate(evs: CanonicalEvent[], tenant: string, i: number): CanonicalEvent[] {
  const q = evs.findIndex((e) => e.type === 'call.queued');
  const queued = evs[q];
  if (queued?.type !== 'call.queued') return evs;
  // Same instant, right after the original: the entry is still waiting whatever its wait.
  const dup = ev('call.queued', tenant, ms(queued), { call_id: queued.call_id }, { ...queued.payload, leg_id: `${queued.payload.leg_id};2` }, `c${i}|local-dup`);
  return [...evs.slice(0, q + 1), dup, ...evs.slice(q + 1)];
}

/** Live fold and projections over the same stream must give the same figures for today. */
async function expectAgreement(tenant: string, zone: string, now: number, settingsOf: SettingsOf, stream: CanonicalEvent[], offeredToday: number): Promise<void> {
  const live = new LiveStore({ zoneOf: () => zone, settingsOf: (_, q) => settingsOf(q), formulaOf: () => DEFAULT_QUEUE_SETTINGS.sl_formula });
  for (const e of stream) live.apply(e, now);
  const snap = live.snapshot(tenant, now);

  await loadEvents(store, stream, { rollupVersion: 'now' });
  const query = { tenant_id: tenant, timezone: zone, week_start: 'monday' as const, period: { kind: 'TODAY' as const }, settings: settingsOf, now: new Date(now) };
  const byQueue = await queueMetrics(ch, { ...query, group_by: 'queue' });
  const [total] = await queueMetrics(ch, { ...query, group_by: 'none' });

  // Both could agree on nothing at all: today's offered legs are known from the generator.
  expect(total!.offered).toBe(offeredToday);
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
}

/**
 * One call's events through a feed gap from `from` to `to`, as the AMI translator emits them
 * (ingest/src/ami/handlers/resync.ts): `seen` are those before the gap; a call the resync finds
 * gone has its open leg closed at the gap's start (an unanswered one left with reason `other`
 * and its wait up to then, an answered one completed with its talk and hold up to then), then
 * `call.ended` with `ended_in: 'gap'` at the gap's start; those come in `resync`, after the gap,
 * and the call's end may come before its leg's close (`endedFirst`). A call that began in the
 * gap is left out whole: the resync lists only entries still waiting, which this does not make.
 */
function throughGap(evs: CanonicalEvent[], s: CallSpec, from: number, to: number, endedFirst: boolean): { seen: CanonicalEvent[]; resync: CanonicalEvent[] } {
  const first = Math.min(...evs.map(ms));
  // a call still waiting at the end of the case never ended: the gap catches it
  const last = evs.some((e) => e.type === 'call.ended') ? Math.max(...evs.map(ms)) : Infinity;
  if (first >= to || last < from) return { seen: evs, resync: [] };
  if (first >= from) return { seen: [], resync: [] };
  const seen = evs.filter((e) => ms(e) < from);
  const t = s.tenant!;
  const c = { call_id: s.call_id };
  const k = (x: string) => `${s.call_id}|resync-${x}`;
  const started = seen.find((e) => e.type === 'call.started')!;
  const queued = seen.find((e) => e.type === 'call.queued');
  const answered = seen.find((e) => e.type === 'call.answered');
  const closes: CanonicalEvent[] = [];
  if (queued?.type === 'call.queued' && !seen.some((e) => e.type === 'call.answered' || e.type === 'call.abandoned' || e.type === 'call.left_queue')) {
    closes.push(ev('call.left_queue', t, from, c, { queue: queued.payload.queue, leg_id: queued.payload.leg_id, reason: 'other', wait_ms: from - ms(queued) }, k('gone')));
  }
  if (answered?.type === 'call.answered' && !seen.some((e) => e.type === 'call.agent_completed')) {
    // Hold runs from a second after the answer (given.ts); the cut ends an open one too.
    const holdMs = Math.round((s.hold_s ?? 0) * 1000);
    const heldMs = Math.min(holdMs, Math.max(0, from - (ms(answered) + 1000)));
    const wrapMs = Math.round((s.wrap_s ?? 0) * 1000);
    const p = answered.payload;
    closes.push(ev('call.agent_completed', t, from, c, { agent_id: p.agent_id, queue: p.queue, leg_id: p.leg_id, reason: 'agent', talk_ms: from - ms(answered), hold_ms: heldMs, ...(wrapMs > 0 ? { wrap_ms: wrapMs } : {}) }, k('free')));
  }
  const disposition = answered ? 'ANSWERED' : 'NO ANSWER';
  const ended = ev('call.ended', t, from, c, { disposition, raw_disposition: 'unknown', duration_ms: from - ms(started), billsec_ms: answered ? from - ms(answered) : 0, direction: 'inbound', ended_in: 'gap' }, k('ended'));
  return { seen, resync: endedFirst ? [ended, ...closes] : [...closes, ended] };
}

const GAP_RUNS = 25;
const gapArb = fc.record({
  fromMin: fc.integer({ min: -60, max: 17 * 60 }),
  lengthS: fc.integer({ min: 1, max: 3 * 3600 }),
  // Calls the gap is sure to catch, whatever the random ones do: one talking to an agent (for
  // `talkedMs` so far), one waiting in its queue (for `waitedMs` so far).
  talking: fc.record({ call: callArb, talkedMs: fc.integer({ min: 1, max: 300_000 }) }),
  waiting: fc.record({ call: callArb, waitedMs: fc.integer({ min: 1, max: 120_000 }), moreMs: fc.integer({ min: 1, max: 60_000 }) }),
  // per call (by index): whether the resync ends the call before it closes the leg
  endedFirst: fc.array(fc.boolean(), { minLength: 34, maxLength: 34 }),
  // agents ringing (for `ringMs` so far) when the gap began, and those the PBX no longer lists after it
  ringing: fc.subarray([...AGENTS]),
  ringMs: fc.integer({ min: 1, max: 30_000 }),
  offline: fc.subarray([...AGENTS]),
});

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
            const evs = queuedCall(specOf(c, i, tenant, midnight, settingsOf));
            const withDup = c.localDuplicate ? withLocalDuplicate(evs, tenant, i) : evs;
            events.push(...withDup, ...(c.redelivered ? withDup : []));
          });
          agents.forEach((a, i) => events.push(agentState(tenant, a.agent, midnight + a.offsetMin * 60_000 + i, a.state)));
          // Kafka keeps one call's (one agent's) events in order; the fold is fed that order.
          const stream = [...events].sort((a, b) => ms(a) - ms(b));
          await expectAgreement(tenant, zone, now, settingsOf, stream, calls.filter((c) => c.offsetMin >= 0).length);
        },
      ),
      { numRuns: 25 },
    );
  });

  // METRICS.md "Gaps of the feed": what the resync after a gap finds ended, both count the same.
  it('give the same figures when the feed had a gap and the resync ended calls in it', async () => {
    let caught = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ZONES),
        fc.record({ sales: settingsArb, support: settingsArb }),
        fc.array(callArb, { maxLength: 30 }),
        fc.array(agentArb, { maxLength: 8 }),
        gapArb,
        async (zone, perQueue, calls, agents, gap) => {
          const tenant = uniqueId('lvg');
          const midnight = DateTime.fromISO('2026-03-10', { zone }).startOf('day').toMillis();
          const now = midnight + 20 * 3600_000;
          const settingsOf = (queue: string): QueueSettings => perQueue[queue as (typeof QUEUES)[number]] ?? DEFAULT_QUEUE_SETTINGS;
          const from = midnight + gap.fromMin * 60_000 + 517;
          const to = from + gap.lengthS * 1000;

          const talkWaitMs = waitMs(gap.talking.call.wait, settingsOf(gap.talking.call.queue));
          const waitingMs = gap.waiting.waitedMs + gap.waiting.moreMs;
          const specs: { c: CallCase; s: CallSpec }[] = [
            ...calls.map((c, i) => ({ c, s: specOf(c, i, tenant, midnight, settingsOf) })),
            { c: gap.talking.call, s: { ...specOf(gap.talking.call, calls.length, tenant, midnight, settingsOf, { at: from - gap.talking.talkedMs - talkWaitMs, talkS: Math.ceil(gap.talking.talkedMs / 1000) + 1 }), outcome: 'answered' } },
            { c: gap.waiting.call, s: specOf(gap.waiting.call, calls.length + 1, tenant, midnight, settingsOf, { at: from - gap.waiting.waitedMs, waitMs: waitingMs }) },
          ];
          const seen: CanonicalEvent[] = [];
          const resync: CanonicalEvent[] = [];
          let talking = 0;
          let waiting = 0;
          specs.forEach(({ c, s }, i) => {
            const cut = throughGap(queuedCall(s), s, from, to, gap.endedFirst[i] ?? false);
            const withDup = c.localDuplicate ? withLocalDuplicate(cut.seen, tenant, i) : cut.seen;
            seen.push(...withDup, ...(c.redelivered ? withDup : []));
            resync.push(...cut.resync, ...(c.redelivered ? cut.resync : []));
            if (cut.resync.some((e) => e.type === 'call.agent_completed')) talking++;
            if (cut.resync.some((e) => e.type === 'call.left_queue')) waiting++;
          });
          if (talking > 0 && waiting > 0) caught++;
          // What agents did in the gap is unknown: their rings ended at its start, and members the
          // PBX no longer lists went offline then.
          agents.forEach((a, i) => {
            const at = midnight + a.offsetMin * 60_000 + i;
            if (at < from || at >= to) seen.push(agentState(tenant, a.agent, at, a.state));
          });
          seen.push(...gap.ringing.map((a) => agentState(tenant, a, from - gap.ringMs, 'ringing')));
          const offline = [...gap.ringing.map((a) => agentState(tenant, a, from, 'available')), ...gap.offline.map((a) => agentState(tenant, a, from, 'offline'))];

          // Kafka order: what the resync emits comes when the feed is back, stamped at the gap's start.
          const stream = [...seen].sort((a, b) => ms(a) - ms(b));
          const back = stream.findIndex((e) => ms(e) >= to);
          stream.splice(back < 0 ? stream.length : back, 0, feedGap(tenant, from, to), ...resync, ...offline);

          const offeredToday = stream.filter((e) => e.type === 'call.queued' && !e.payload.leg_id.endsWith(';2') && ms(e) >= midnight);
          await expectAgreement(tenant, zone, now, settingsOf, stream, new Set(offeredToday.map((e) => e.type === 'call.queued' && e.payload.leg_id)).size);
        },
      ),
      { numRuns: GAP_RUNS },
    );
    // Every gap must have caught a call talking and one waiting, or this proves nothing about the resync.
    expect(caught).toBe(GAP_RUNS);
  });
});

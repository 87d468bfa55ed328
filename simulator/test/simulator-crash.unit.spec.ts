// A PBX crash (`kill -9` of Asterisk mid-call, issue #13 point 7): no event at all, the
// connections drop, the PBX comes back empty. The ledger's truth for it (METRICS.md "Gaps of the
// feed"), what is (not) rendered, and what ingest's translator makes of the day across the
// reconnect and the empty resync, against the ledger.
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { RESYNC_ACTION_PREFIX } from '@callboard/ingest/ami/translator';
import { RESTART_DOWN_MS, RESTART_READD_MS, simulate, type Scenario } from '../src/model.ts';
import { callCentreScenario, dayWindow, DEFAULT_BEHAVIOUR } from '../src/scenarios.ts';
import { get, name, of, playConnections, translatePlayed } from './replay.ts';
import { comparedStates, eventStateTime, ledgerStateTime } from './state-time.ts';

const TZ = 'America/New_York';
const DATE = '2026-03-08';
// Busy: 4 calls talking and 3 callers waiting at the crash (seed 22), as in the live run.
const CRASH_AT = DateTime.fromISO(`${DATE}T11:15`, { zone: TZ }).toMillis();

function scenario(): Scenario {
  const base = callCentreScenario({ tenant: 'nyc', pbx: 'nyc-ami', timezone: TZ, seed: 22, logout_at_end: true, ...dayWindow(DATE, TZ, 2, 2) });
  return {
    ...base,
    queues: base.queues.map((q) => (q.queue === 'sales' ? { ...q, strategy: 'ringall' as const } : q)),
    restarts: [{ at_ms: DateTime.fromISO(`${DATE}T10:30`, { zone: TZ }).toMillis() }],
    crashes: [{ at_ms: CRASH_AT, down_ms: RESTART_DOWN_MS }],
    behaviour: { ...DEFAULT_BEHAVIOUR, midcall_membership_p: 0.05, midcall_pause_p: 0.05, consult_cancel_p: 0.33 },
  };
}

const { ledger, actions } = simulate(scenario());
const crash = ledger.crashes[0]!;
/** The canonical call id is the Linkedid of the call's first channel. */
const linkedid = new Map<string, string>();
const played = playConnections(ledger, actions, (a, frames) => {
  if (a.kind === 'call_in' || a.kind === 'outbound_start') linkedid.set(a.call_id, get(frames.find((f) => name(f) === 'Newchannel')!.headers, 'Linkedid')!);
});
const frames = played.map((p) => p.frame);
const cutLegs = ledger.legs.filter((l) => crash.calls_cut.includes(l.call_id));
const talking = cutLegs.filter((l) => l.completed_at_ms === crash.gap_from_ms);
const waiting = cutLegs.filter((l) => l.exit_reason === 'gap');

describe('a PBX crash in the ledger', () => {
  it('starts its gap at the last frame sent before the crash, and cuts calls talking and waiting there', () => {
    expect(crash.at_ms).toBe(CRASH_AT);
    expect(crash.up_ms).toBe(CRASH_AT + RESTART_DOWN_MS);
    expect(crash.gap_from_ms).toBe(Math.max(...frames.filter((f) => f.t <= CRASH_AT).map((f) => f.t)));
    expect(crash.gap_from_ms).toBeLessThan(CRASH_AT);
    expect(talking.length).toBeGreaterThanOrEqual(3);
    expect(waiting.length).toBeGreaterThanOrEqual(1);
    for (const c of crash.calls_cut) {
      const call = ledger.calls.find((x) => x.call_id === c)!;
      expect([call.ended_at_ms, call.ended_in, call.ended_by], c).toEqual([crash.gap_from_ms, 'gap', 'system']);
    }
    expect(ledger.calls.filter((c) => c.ended_in === 'gap').length).toBe(crash.calls_cut.length);
  });

  it('keeps wait and talk up to the gap start: waiting legs exit (reason gap), talking ones complete', () => {
    for (const l of waiting) {
      expect([l.outcome, l.left_at_ms, l.wait_ms], l.leg_id).toEqual(['exited', crash.gap_from_ms, crash.gap_from_ms - l.offered_at_ms]);
      // A ring cut by the crash is cancelled, not missed.
      for (const r of l.rings.filter((x) => x.ended_ms === crash.gap_from_ms)) expect(r.outcome).toBe('canceled');
    }
    for (const l of talking) {
      expect(l.talk_ms, l.leg_id).toBe(crash.gap_from_ms - l.answered_at_ms! - l.hold_ms);
      expect(l.talk_ms).toBeGreaterThan(0);
      expect(l.complete_reason).toBe('agent');
    }
  });

  it('ends memberships, pauses and logged-in time at the gap start; members are added back after the PBX is up', () => {
    const ended = ledger.memberships.filter((m) => m.to_ms === crash.gap_from_ms);
    expect(ended.length).toBeGreaterThan(0);
    for (const m of ended) expect(ledger.memberships.some((n) => n.agent === m.agent && n.queue === m.queue && n.from_ms === crash.up_ms + RESTART_READD_MS)).toBe(true);
    for (const m of ended) expect(ledger.agent_intervals.find((i) => i.agent === m.agent && i.from_ms === crash.gap_from_ms)?.state, m.agent).toBe('offline');
    expect(ledger.agent_intervals.filter((i) => i.state !== 'offline' && i.to_ms > crash.gap_from_ms && i.from_ms < crash.up_ms)).toEqual([]);
    expect(ledger.pauses.filter((p) => p.from_ms < crash.gap_from_ms && p.to_ms > crash.gap_from_ms)).toEqual([]);
  });
});

describe('a PBX crash on the wire', () => {
  it('sends nothing after the cut: no hang-up, no Cdr, no Shutdown, no frame until the PBX is back', () => {
    expect(frames.filter((f) => f.t > crash.gap_from_ms && f.t < crash.up_ms)).toEqual([]);
    const shutdowns = frames.filter((f) => name(f) === 'Shutdown').map((f) => f.t);
    expect(shutdowns).toEqual([ledger.restarts[0]!.gap_from_ms]);
    // The cut calls' channels were opened on the old connection and never hung up on any.
    const before = played.filter((p) => p.frame.t <= crash.gap_from_ms).map((p) => p.frame);
    const opened = new Set(before.filter((f) => name(f) === 'Newchannel').map((f) => get(f.headers, 'Uniqueid')));
    const closed = new Set(frames.filter((f) => name(f) === 'Hangup').map((f) => get(f.headers, 'Uniqueid')));
    const open = [...opened].filter((u) => !closed.has(u));
    // Both halves of every cut caller, and the talking agents' Local pairs, at least.
    expect(open.length).toBeGreaterThanOrEqual(2 * crash.calls_cut.length + 2 * talking.length);
  });

  it('reconnects to an empty PBX: the resync lists no channel and no member, Uniqueids start again', () => {
    const conn = played.find((p) => p.frame.t >= crash.up_ms)!.conn;
    const after = played.filter((p) => p.conn === conn).map((p) => p.frame);
    expect(after[0]!.t).toBe(crash.up_ms);
    const resync = after.filter((f) => get(f.headers, 'ActionID')?.startsWith(RESYNC_ACTION_PREFIX));
    expect(resync.map(name)).toEqual(['CoreShowChannelsComplete', 'QueueParams', 'QueueParams', 'QueueStatusComplete']);
    expect(resync.filter((f) => name(f) === 'QueueParams').map((f) => get(f.headers, 'Calls'))).toEqual(['0', '0']);
    const firstChannel = after.find((f) => name(f) === 'Newchannel')!;
    expect(get(firstChannel.headers, 'Uniqueid')).toBe(`${Math.floor(firstChannel.t / 1000)}.0`);
    expect(after.find((f) => name(f) === 'QueueMemberAdded')!.t).toBe(crash.up_ms + RESTART_READD_MS);
  });
});

describe("ingest's AMI translator across the crash, the reconnect and the empty resync", () => {
  const { events, dlq } = translatePlayed(ledger, played);

  it('ends exactly the cut calls in the gap, at its start, flagged', () => {
    expect(dlq).toEqual([]);
    const inGap = of(events, 'call.ended').filter((e) => e.payload.ended_in === 'gap');
    expect(inGap.map((e) => e.call_id).sort()).toEqual(crash.calls_cut.map((c) => linkedid.get(c)).sort());
    for (const e of inGap) expect(Date.parse(e.occurred_at)).toBe(crash.gap_from_ms);
    expect(of(events, 'call.ended')).toHaveLength(ledger.calls.length);
  });

  it('gives the cut legs their wait and talk up to the gap start', () => {
    const completed = of(events, 'call.agent_completed').filter((e) => Date.parse(e.occurred_at) === crash.gap_from_ms);
    // The event's talk_ms is connected time, hold included (schemas); the ledger's is without.
    expect(completed.map((e) => [e.payload.agent_id, e.payload.talk_ms - (e.payload.hold_ms ?? 0), e.payload.hold_ms ?? 0]).sort()).toEqual(talking.map((l) => [l.agent, l.talk_ms, l.hold_ms]).sort());
    const left = of(events, 'call.left_queue').filter((e) => Date.parse(e.occurred_at) === crash.gap_from_ms);
    expect(left.map((e) => [e.payload.queue, e.payload.wait_ms]).sort()).toEqual(waiting.map((l) => [l.queue, l.wait_ms]).sort());
  });

  it('agent state time per state matches the ledger within 2 s, across the crash', () => {
    const truth = ledgerStateTime(ledger);
    const got = eventStateTime(events);
    for (const k of comparedStates(truth, got)) expect(Math.abs((got.get(k) ?? 0) - (truth.get(k) ?? 0)), k).toBeLessThanOrEqual(2000);
  });
});


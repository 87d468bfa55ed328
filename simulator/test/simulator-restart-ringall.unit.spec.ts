// Ring-all races and `core restart now`, rendered as the real Asterisk 22 captures show them
// (../shared/fixtures/ami/asterisk22 a_answered and j_restart), and what ingest's translator makes
// of the whole simulated day, reconnect and resync included, against the ledger.
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { RESYNC_ACTION_PREFIX } from '@callboard/ingest/ami/translator';
import type { AmiFrame } from '../src/ami-render.ts';
import { RESTART_DOWN_MS, RESTART_SHUTDOWN_MS, simulate, type Scenario } from '../src/model.ts';
import { callCentreScenario, dayWindow, DEFAULT_BEHAVIOUR } from '../src/scenarios.ts';
import { get, name, of, playConnections, translatePlayed } from './replay.ts';
import { comparedStates, eventStateTime, ledgerStateTime } from './state-time.ts';

const TZ = 'Africa/Nairobi';
const DATE = '2026-03-08';
const RESTART_AT = DateTime.fromISO(`${DATE}T10:30`, { zone: TZ }).toMillis();

function scenario(): Scenario {
  const base = callCentreScenario({ tenant: 'acme', pbx: 'acme-ami', timezone: TZ, seed: 21, logout_at_end: true, ...dayWindow(DATE, TZ, 2, 2) });
  return {
    ...base,
    queues: base.queues.map((q) => (q.queue === 'sales' ? { ...q, strategy: 'ringall' as const } : q)),
    restarts: [{ at_ms: RESTART_AT }],
    behaviour: { ...DEFAULT_BEHAVIOUR, midcall_membership_p: 0.05, midcall_pause_p: 0.05, consult_cancel_p: 0.33 },
  };
}

const { ledger, actions } = simulate(scenario());
const played = playConnections(ledger, actions);
const frames = played.map((p) => p.frame);

describe('ring-all races (a_answered)', () => {
  const race = actions.find((a) => a.kind === 'connect' && (a.losers?.length ?? 0) >= 2)!;

  it('rings every available member at once; the losers have a cancelled ring, not a missed one', () => {
    expect(race).toBeDefined();
    if (race.kind !== 'connect') throw new Error('not a connect');
    const leg = ledger.legs.find((l) => l.leg_id === race.leg_id)!;
    const rings = leg.rings.filter((r) => r.ended_ms === race.t);
    expect(new Set(rings.map((r) => r.at_ms)).size).toBe(1);
    expect(rings.filter((r) => r.outcome === 'answered').map((r) => r.agent)).toEqual([race.agent]);
    expect(rings.filter((r) => r.outcome === 'canceled').map((r) => r.agent).sort()).toEqual([...race.losers!].sort());
    // The support queue keeps ringing one member at a time.
    const support = ledger.legs.filter((l) => l.queue === 'support');
    expect(support.every((l) => new Set(l.rings.map((r) => r.at_ms)).size === l.rings.length)).toBe(true);
  });

  it("sends each loser's Cdr (NO ANSWER) after both its Hangups and after the winner's AgentConnect", () => {
    if (race.kind !== 'connect') throw new Error('not a connect');
    const at = frames.findIndex((f) => f.t === race.t && name(f) === 'DialEnd' && get(f.headers, 'DialStatus') === 'ANSWER' && get(f.headers, 'DestChannel')?.startsWith(`Local/${race.agent}@agents`));
    expect(at).toBeGreaterThan(0);
    // From the winner's answer to the caller entering the bridge: the race's own frames.
    const end = frames.findIndex((f, i) => i > at && name(f) === 'BridgeEnter' && get(f.headers, 'Channel') === get(frames[at]!.headers, 'Channel'));
    const window = frames.slice(at, end + 1);
    const connect = window.findIndex((f) => name(f) === 'AgentConnect');
    for (const loser of race.losers!) {
      const mine = (f: AmiFrame) => [get(f.headers, 'Channel'), get(f.headers, 'DestChannel')].some((c) => c?.startsWith(`Local/${loser}@agents`));
      const cancels = window.filter((f) => name(f) === 'DialEnd' && mine(f)).map((f) => get(f.headers, 'DialStatus'));
      expect(cancels, loser).toEqual(['CANCEL', 'CANCEL']);
      const hangups = window.flatMap((f, i) => (name(f) === 'Hangup' && mine(f) ? [i] : []));
      expect(hangups, loser).toHaveLength(2);
      for (const i of hangups) expect(get(window[i]!.headers, 'Cause')).toBe('26');
      const cdr = window.findIndex((f) => name(f) === 'Cdr' && mine(f));
      expect(get(window[cdr]!.headers, 'Disposition')).toBe('NO ANSWER');
      expect(cdr).toBeGreaterThan(Math.max(...hangups));
      expect(cdr).toBeGreaterThan(connect);
    }
  });
});

describe('members that ring out (c_ringnoanswer)', () => {
  it("send their ;2 Cdr as FAILED, between the hang-up request and the Hangups", () => {
    const rna = frames.flatMap((f, i) => (name(f) === 'AgentRingNoAnswer' ? [i] : []));
    expect(rna.length).toBeGreaterThan(0);
    for (const i of rna) {
      const one = get(frames[i]!.headers, 'DestChannel')!;
      const two = one.replace(/;1$/, ';2');
      const next = frames.slice(i, i + 12);
      const at = (n: string, ch: string) => next.findIndex((f) => name(f) === n && get(f.headers, 'Channel') === ch);
      expect(get(next[at('Cdr', two)]!.headers, 'Disposition'), one).toBe('FAILED');
      expect(at('Cdr', two)).toBeGreaterThan(at('HangupRequest', two));
      expect(at('Cdr', two)).toBeLessThan(at('Hangup', one));
    }
  });
});

describe('core restart now (j_restart)', () => {
  const rec = ledger.restarts[0]!;

  it('is in the ledger with calls talking and waiting cut by it', () => {
    expect(rec.at_ms).toBe(RESTART_AT);
    expect(rec.gap_from_ms).toBe(RESTART_AT + RESTART_SHUTDOWN_MS);
    expect(rec.up_ms).toBe(rec.gap_from_ms + RESTART_DOWN_MS);
    const legs = ledger.legs.filter((l) => rec.calls_cut.includes(l.call_id) && l.left_at_ms === RESTART_AT);
    expect(legs.some((l) => l.outcome === 'abandoned')).toBe(true);
    const talking = ledger.legs.filter((l) => rec.calls_cut.includes(l.call_id) && l.completed_at_ms === RESTART_AT);
    expect(talking.length).toBeGreaterThan(0);
    for (const l of talking) expect(l.complete_reason).toBe('agent');
    for (const c of rec.calls_cut) expect(ledger.calls.find((x) => x.call_id === c)!.ended_at_ms).toBe(RESTART_AT);
    // Members vanish at the Shutdown (the gap's start) and are added back after the PBX is up.
    const ended = ledger.memberships.filter((m) => m.to_ms === rec.gap_from_ms);
    expect(ended.length).toBeGreaterThan(0);
    for (const m of ended) expect(ledger.memberships.some((n) => n.agent === m.agent && n.queue === m.queue && n.from_ms > rec.up_ms)).toBe(true);
    for (const m of ended) expect(ledger.agent_intervals.find((i) => i.agent === m.agent && i.from_ms === rec.gap_from_ms)?.state).toBe('offline');
    // Nothing happens while the PBX is down.
    expect(actions.filter((a) => a.t > rec.at_ms && a.t < rec.up_ms).map((a) => a.kind).filter((k) => k !== 'pbx_shutdown' && k !== 'ring_end' && k !== 'member_removed' && k !== 'pause')).toEqual([]);
  });

  it('renders SoftHangupRequests, then QueueCallerAbandon and AgentComplete (Reason agent), then Shutdown last', () => {
    const from = frames.findIndex((f) => f.t === RESTART_AT);
    const shut = frames.findIndex((f) => name(f) === 'Shutdown');
    expect(frames[shut]!.t).toBe(rec.gap_from_ms);
    expect(frames[shut]!.headers.map(([k, v]) => `${k}: ${v}`)).toEqual(['Event: Shutdown', 'Privilege: system,all', `Timestamp: ${(rec.gap_from_ms / 1000).toFixed(6)}`, 'Shutdown: Cleanly', 'Restart: True']);
    const restart = frames.slice(from, shut);
    const firstOther = restart.findIndex((f) => name(f) !== 'SoftHangupRequest');
    expect(firstOther).toBeGreaterThan(0);
    expect(restart.slice(0, firstOther).every((f) => get(f.headers, 'Cause') === '4')).toBe(true);
    expect(restart.filter((f) => name(f) === 'QueueCallerAbandon').length).toBeGreaterThan(0);
    const completes = restart.filter((f) => name(f) === 'AgentComplete');
    expect(completes.length).toBeGreaterThan(0);
    for (const f of completes) expect(get(f.headers, 'Reason')).toBe('agent');
    // Every channel of the old process is hung up before it goes; no member is removed by event.
    expect(restart.filter((f) => name(f) === 'QueueMemberRemoved')).toEqual([]);
    const opened = new Set(frames.slice(0, shut).filter((f) => name(f) === 'Newchannel').map((f) => get(f.headers, 'Uniqueid')));
    const closed = new Set(frames.slice(0, shut).filter((f) => name(f) === 'Hangup').map((f) => get(f.headers, 'Uniqueid')));
    expect([...opened].filter((u) => !closed.has(u))).toEqual([]);
  });

  it('comes back empty: the resync lists no channel and no member; Uniqueids start again', () => {
    const after = played.filter((p) => p.conn === 'sim-2').map((p) => p.frame);
    const resync = after.filter((f) => get(f.headers, 'ActionID')?.startsWith(RESYNC_ACTION_PREFIX));
    expect(resync.map(name)).toEqual(['CoreShowChannelsComplete', 'QueueParams', 'QueueParams', 'QueueStatusComplete']);
    const firstChannel = after.find((f) => name(f) === 'Newchannel')!;
    expect(get(firstChannel.headers, 'Uniqueid')).toBe(`${Math.floor(firstChannel.t / 1000)}.0`);
    expect(after.find((f) => name(f) === 'QueueMemberAdded')!.t).toBeGreaterThan(rec.up_ms);
  });
});

describe("ingest's AMI translator on the day with ring-all and a restart", () => {
  const { events, dlq } = translatePlayed(ledger, played);

  it('translates every frame; leg outcomes, waits and missed rings match the ledger', () => {
    expect(dlq).toEqual([]);
    expect(of(events, 'call.started')).toHaveLength(ledger.calls.length);
    expect(of(events, 'call.ended')).toHaveLength(ledger.calls.length);
    const count = (o: string) => ledger.legs.filter((l) => l.outcome === o).length;
    expect(of(events, 'call.answered').filter((e) => e.payload.queue !== undefined)).toHaveLength(count('answered'));
    expect(of(events, 'call.abandoned')).toHaveLength(count('abandoned'));
    for (const a of ledger.agents) expect(of(events, 'call.ring_no_answer').filter((e) => e.payload.agent_id === a.agent).length, a.agent).toBe(a.missed);
  });

  it("each call's disposition is its caller side's, whatever the losing and ringing-out members' rows say", () => {
    const tally = (xs: string[]) => Object.fromEntries([...new Set(xs)].sort().map((d) => [d, xs.filter((x) => x === d).length]));
    expect(tally(of(events, 'call.ended').map((e) => e.payload.disposition))).toEqual(tally(ledger.calls.map((c) => c.disposition)));
  });

  it('the calls cut by the restart: wait and talk up to the restart, the answered ones ANSWERED', () => {
    for (const c of ledger.restarts[0]!.calls_cut) {
      for (const l of ledger.legs.filter((x) => x.call_id === c)) {
        const done = of(events, 'call.agent_completed').find((e) => e.payload.leg_id !== undefined && Date.parse(e.occurred_at) === l.completed_at_ms && e.payload.agent_id === l.agent);
        if (l.completed_at_ms !== null) expect(done?.payload.talk_ms, l.leg_id).toBe(l.talk_ms);
        if (l.outcome === 'abandoned') expect(of(events, 'call.abandoned').some((e) => e.payload.wait_ms === l.wait_ms && Date.parse(e.occurred_at) === l.left_at_ms), l.leg_id).toBe(true);
      }
    }
  });

  it('agent state time per state matches the ledger within 2 s, across the restart', () => {
    const truth = ledgerStateTime(ledger);
    const got = eventStateTime(events);
    const keys = comparedStates(truth, got);
    expect(keys.some((k) => k.endsWith('|ringing'))).toBe(true);
    for (const k of keys) expect(Math.abs((got.get(k) ?? 0) - (truth.get(k) ?? 0)), k).toBeLessThanOrEqual(2000);
  });
});

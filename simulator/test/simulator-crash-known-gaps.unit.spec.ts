// Two gaps ingest's AMI translator had after a PBX crash, kept as regression tests now fixed
// (they were `it.fails`; ingest/test/ami-translator-crash.unit.spec.ts has the frame-level
// tests). Both found by simulator-crash.unit.spec.ts on crash times where an agent was ringing
// or in wrap-up; the truth e2e's crash avoids those moments.
// Each is the shortest sequence that shows it, as the simulator renders it for Asterisk 22: the
// frames of the old connection, the crash (no frame, the connection drops), and on the new one
// the adapter's resync (CoreShowChannelsComplete, then QueueParams and QueueStatusComplete, empty).
// METRICS.md "Gaps of the feed": what the resync finds gone ended at the gap's start, the last
// frame before the crash; the agents' memberships and logged-in time end there too (the members
// of a crashed Asterisk vanish), so no state change of theirs may be stamped after it.
import { describe, expect, it } from 'vitest';
import type { EventOf } from '@callboard/schemas';
import { AmiRenderer } from '../src/ami-render.ts';
import type { Ledger } from '../src/ledger.ts';
import type { SimAction } from '../src/model.ts';
import { of, resync, translatePlayed, type Played } from './replay.ts';

const T0 = Date.parse('2026-03-08T16:00:00.000Z');
const S = 1000;
const CALL = 'nyc-ami-000001';
const LEG = `${CALL}-1`;

const ledger: Ledger = {
  tenant: 'nyc', pbx: 'nyc-ami', timezone: 'America/New_York', seed: 0, from_ms: T0, to_ms: T0 + 3600 * S, end_ms: T0 + 3600 * S,
  queues: [{ queue: 'sales', wrap_up_s: 10, max_wait_s: null, overflow_to: null }],
  agents: [{ agent: '1001', name: 'Agent 1001', handled: 0, missed: 0 }],
  calls: [{
    call_id: CALL, direction: 'inbound', number: '+15550000001', agent: null, started_at_ms: T0 + S, answered_at_ms: null, pbx_answered_at_ms: T0 + S,
    ended_at_ms: T0 + S, disposition: 'ANSWERED', duration_s: 0, billsec_s: 0, ended_by: 'agent', ended_in: null, legs: [LEG], transfers: [],
  }],
  legs: [], direct: [], agent_intervals: [], memberships: [], pauses: [], restarts: [], crashes: [],
};

/** The frames per connection: `actions` on the old one, the crash, then the resync at `upAt` on the new one. */
function translate(actions: SimAction[], upAt: number): { events: EventOf<'agent.state_changed'>[]; gapFrom: number } {
  const r = new AmiRenderer(ledger);
  const played: Played[] = [];
  for (const a of actions) for (const frame of r.render(a)) played.push({ conn: 'sim-1', frame });
  const gapFrom = played[played.length - 1]!.frame.t;
  r.render({ t: upAt - 5 * S, kind: 'pbx_crash' });
  played.push(...resync(r, upAt, 'sim-2'));
  return { events: of(translatePlayed(ledger, played).events, 'agent.state_changed'), gapFrom };
}

const ringing: SimAction[] = [
  { t: T0, kind: 'member_added', agent: '1001', queue: 'sales' },
  { t: T0 + S, kind: 'call_in', call_id: CALL },
  { t: T0 + S, kind: 'queue_join', call_id: CALL, leg_id: LEG, queue: 'sales' },
  { t: T0 + 2 * S, kind: 'ring', call_id: CALL, leg_id: LEG, agent: '1001' },
];

describe('AMI translator after a PBX crash (gaps it had, now fixed)', () => {
  // Frames: QueueMemberAdded 1001; the caller's Newchannel pair, QueueCallerJoin; 1001's
  // Local/1001@agents pair, AgentCalled, DialBegin, DialState RINGING (last frame, the gap's
  // start); the connection drops; new connection: CoreShowChannelsComplete (no channel) and
  // QueueStatusComplete (no member). It was: handlers/resync.ts resolveGone → ops/legs.ts
  // resolveExit → ops/rings.ts clearRings called updateAgent without a context, so the ring
  // ended at the resync frame's time: 1001 `ringing` until the reconnect, `available` there, and
  // then `offline` at the gap's start, back in time. resolveGone now clears the rings at the gap.
  it('a ring cut by a crash ends at the gap start, not at the reconnect (clearRings uses the resync frame time)', () => {
    const { events, gapFrom } = translate(ringing, T0 + 10 * S);
    const after = events.filter((e) => e.agent_id === '1001' && Date.parse(e.occurred_at) > gapFrom);
    expect(after.map((e) => `${e.payload.state} at +${Date.parse(e.occurred_at) - gapFrom} ms`)).toEqual([]);
    expect(events.at(-1)?.payload.state).toBe('offline');
  });

  // Frames: as above up to the ring, then 1001 answers (DialEnd ANSWER, AgentConnect, bridge)
  // and hangs up at +60 s (AgentComplete Reason agent, Hangups, Cdrs: the gap's start); sales
  // has a 10 s wrap-up; the crash; new connection 15 s later: the empty resync. It was:
  // ops/agents.ts expireWrapUps ran on the new connection's first frame, before the resync, and
  // ended the wrap-up at +10 s, inside the gap: `available` after the gap's start, then
  // `offline` at it. A wrap-up running at the gap's start now waits for the resync (`wrapHeld`).
  it('a wrap-up running at the gap start does not end inside the gap (expireWrapUps before the resync)', () => {
    const end = T0 + 60 * S;
    const talked: SimAction[] = [
      ...ringing,
      { t: T0 + 4 * S, kind: 'connect', call_id: CALL, leg_id: LEG, agent: '1001', ring_ms: 2 * S },
      { t: end, kind: 'agent_complete', call_id: CALL, leg_id: LEG, agent: '1001', reason: 'agent' },
      { t: end, kind: 'call_end', call_id: CALL, by: 'agent', agent: '1001' },
    ];
    const { events, gapFrom } = translate(talked, end + 15 * S);
    expect(gapFrom).toBe(end);
    const after = events.filter((e) => e.agent_id === '1001' && Date.parse(e.occurred_at) > gapFrom);
    expect(after.map((e) => `${e.payload.state} at +${Date.parse(e.occurred_at) - gapFrom} ms`)).toEqual([]);
    expect(events.at(-1)?.payload.state).toBe('offline');
  });
});

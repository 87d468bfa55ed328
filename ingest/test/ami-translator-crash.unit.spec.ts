// Agent states across a gap of the feed (METRICS.md "Gaps of the feed"): frames on one
// connection, the link lost (a PBX crash, or a cut link), then the adapter's resync on the next
// (CoreShowChannels, QueueStatus: replies without a Timestamp). What the resync finds gone ended
// at the gap's start, and no agent change may be stamped before one emitted ahead of it.
import { describe, expect, it } from 'vitest';
import type { CanonicalEvent, EventOf } from '@callboard/schemas';
import { parseAll } from '../src/ami/parser.ts';
import { AmiTranslator, RESYNC_ACTION_PREFIX } from '../src/ami/translator.ts';

const T0 = 1_795_305_000_000;

/** Frames per connection; `reply` frames carry no Timestamp, as the resync's replies. */
class Feed {
  private readonly frames: { conn: string; at: number; wire: string }[] = [];
  constructor(private conn = 'c1') {}
  ev(atMs: number, name: string, fields: Record<string, string>): this {
    const us = (T0 + atMs) * 1000 + this.frames.length;
    const ts = `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}`;
    return this.push(atMs, `Event: ${name}\r\nTimestamp: ${ts}\r\n`, fields);
  }
  reply(atMs: number, name: string, fields: Record<string, string>): this {
    return this.push(atMs, `Event: ${name}\r\n`, fields);
  }
  /** The link is lost; the next frames come on a new connection, beginning with its resync. */
  reconnect(conn: string): this {
    this.conn = conn;
    return this;
  }
  /** The adapter's resync on the current connection at `atMs`, listing `members`. */
  resync(atMs: number, members: Record<string, string>[] = []): this {
    const id = `${RESYNC_ACTION_PREFIX}-${this.conn}`;
    this.reply(atMs, 'CoreShowChannelsComplete', { ActionID: `${id}-channels`, EventList: 'Complete', ListItems: '0' });
    for (const m of members) this.reply(atMs, 'QueueMember', { ActionID: `${id}-queues`, ...m });
    return this.reply(atMs, 'QueueStatusComplete', { ActionID: `${id}-queues`, EventList: 'Complete', ListItems: String(members.length) });
  }
  private push(atMs: number, head: string, fields: Record<string, string>): this {
    this.frames.push({
      conn: this.conn,
      at: T0 + atMs,
      wire:
        head +
        Object.entries(fields)
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('') +
        '\r\n',
    });
    return this;
  }
  translate(wrapUpMs: number): CanonicalEvent[] {
    const t = new AmiTranslator({ tenant_id: 't1', pbx_id: 'pbx1', wrapUpMs: () => wrapUpMs });
    const out: CanonicalEvent[] = [];
    this.frames.forEach((f, seq) => {
      for (const frame of parseAll(f.wire)) {
        const o = t.translate(frame, { received_at: f.at, raw_ref: null, connection: f.conn, seq });
        if (o.kind !== 'ok') throw new Error(`not translated: ${JSON.stringify(o)}`);
        out.push(...o.events);
      }
    });
    const last = this.frames[this.frames.length - 1]!;
    out.push(...t.flush({ received_at: last.at, raw_ref: null, connection: last.conn, seq: this.frames.length }));
    return out;
  }
}

const member = (extra: Record<string, string> = {}) => ({
  Queue: 'sales',
  MemberName: 'Agent 1001',
  Interface: 'Local/1001@agents',
  StateInterface: 'PJSIP/1001',
  ...extra,
});
const caller = {
  Channel: 'Local/555@callers-00000001;2',
  ChannelState: '6',
  CallerIDNum: '555',
  Context: 'callers',
  Exten: '555',
  Uniqueid: 'c1',
  Linkedid: 'c0',
};
const agentLeg = (state: number) => ({ DestChannel: 'Local/1001@agents-00000002;1', DestChannelState: String(state), DestUniqueid: 'a1', DestLinkedid: 'c0' });

/** 1001 in sales; a caller queues at 1 s and 1001 is rung from 2 s. */
function ringing(): Feed {
  return new Feed()
    .ev(0, 'QueueMemberAdded', member({ Status: '1', Paused: '0', InCall: '0' }))
    .ev(0, 'Newchannel', caller)
    .ev(1000, 'QueueCallerJoin', { ...caller, Queue: 'sales', Position: '1' })
    .ev(2000, 'AgentCalled', { ...caller, ...agentLeg(0), ...member() });
}

/** As `ringing`, then 1001 answers at 3 s and completes at 10 s: the last frame before the gap. */
function completed(): Feed {
  return ringing()
    .ev(3000, 'QueueCallerLeave', { ...caller, Queue: 'sales', Position: '1' })
    .ev(3000, 'AgentConnect', { ...caller, ...agentLeg(6), ...member({ HoldTime: '2', RingTime: '1' }) })
    .ev(10000, 'AgentComplete', { ...caller, ...agentLeg(6), ...member({ HoldTime: '2', TalkTime: '7', Reason: 'agent' }) });
}

/** 1001's changes as emitted: `state@ms after T0`. */
function changes(events: CanonicalEvent[]): string[] {
  return (events.filter((e) => e.type === 'agent.state_changed') as EventOf<'agent.state_changed'>[])
    .filter((e) => e.agent_id === '1001')
    .map((e) => `${e.payload.state}@${Date.parse(e.occurred_at) - T0}`);
}

describe('AMI agent states across a gap of the feed', () => {
  it('a member rung when the PBX crashed stops ringing at the gap start, then goes offline there, not at the reconnect', () => {
    const ev = ringing().reconnect('c2').resync(30000).translate(0);
    expect(changes(ev)).toEqual(['available@0', 'ringing@2000', 'available@2000', 'offline@2000']);
    expect(ev.find((e) => e.type === 'call.left_queue')).toMatchObject({ occurred_at: new Date(T0 + 2000).toISOString(), payload: { reason: 'other' } });
  });

  it('a wrap-up running when the PBX crashed ends with the member at the gap start, not inside the gap', () => {
    // The wrap-up (10 s) would end at 20 s, inside the gap (10 s to the reconnect at 30 s).
    const ev = completed().reconnect('c2').resync(30000).translate(10000);
    expect(changes(ev)).toEqual(['available@0', 'ringing@2000', 'on_call@3000', 'wrap_up@10000', 'offline@10000']);
  });

  it('a wrap-up running when the link was cut, the member still listed by the resync: it ends at its usual end, before the resync state', () => {
    const listed = member({
      Status: '1',
      Paused: '1',
      PausedReason: 'Lunch',
      InCall: '0',
      LastCall: '0',
      CallsTaken: '1',
      Membership: 'dynamic',
      Penalty: '0',
    });
    const ev = completed().reconnect('c2').resync(30000, [listed]).translate(10000);
    // Paused during the gap: known only at the resync, so stamped there, after the wrap-up's end.
    expect(changes(ev)).toEqual(['available@0', 'ringing@2000', 'on_call@3000', 'wrap_up@10000', 'available@20000', 'paused@30000']);
  });
});

// AMI frames → canonical events. Pure and deterministic: the translator's state is its own
// (channels, calls, queue legs, agents), it does no I/O and reads no clock, so the same raw
// history always gives the same canonical history with the same ids.
//
// Times: a frame's time is its `Timestamp` header (timestampevents=yes, microseconds, cut to
// ms), otherwise the receive time the caller passes. Durations (waits, talk, ring) come from the
// difference of two Timestamp headers when both ends have one, otherwise from Asterisk's own
// whole-second HoldTime/TalkTime/RingTime fields.
//
// Event ids (schemas/README "Event ids"): vendor_key is `Timestamp|Event|Uniqueid|Queue|Interface`
// for a frame with a Timestamp, else `<connection>#<seq>` (file order in offline translation).
// Events derived later from an earlier frame (an abandon decided by what follows it, a wrap-up
// that ends) keep the key of the frame that caused them, so the decision's timing never
// changes an id.
import { makeEvent, isoMs, type AgentState, type CanonicalEvent, type EventContext, type LeaveReason, type Source } from '@callboard/schemas';
import { dlq, ok, type TranslateOutcome } from '../sink.ts';
import { agentIdFromInterface } from './agent-id.ts';
import type { AmiFrame } from './parser.ts';
import {
  DEVICE_BUSY,
  DEVICE_GONE,
  DEVICE_RINGING,
  OLD_NAMES,
  QUEUESTATUS_REASON,
  RESYNC_ACTION_PREFIX,
  TranslatorState,
  dispositionFromCause,
  int,
  mapDisposition,
  parseAmiTimestamp,
  partyOf,
  unknownToEmpty,
  type Agent,
  type AmiTranslatorOptions,
  type Call,
  type Channel,
  type DirectSegment,
  type FrameMeta,
  type Leg,
  type ResyncItems,
  type Ring,
  type Segment,
} from './state.ts';

export { RESYNC_ACTION_PREFIX, mapDisposition, parseAmiTimestamp, type AmiTranslatorOptions, type FrameMeta } from './state.ts';

export class AmiTranslator {
  private readonly source: Source;
  private readonly wrapUpMs: (queue: string) => number;
  /** Everything the translator knows between frames. */
  private readonly s = new TranslatorState();

  private out: CanonicalEvent[] = [];
  private now = 0;
  private hasTs = false;
  private curName = '';
  private curHeaders: Record<string, string> = {};
  private curMeta!: FrameMeta;
  private ctxCache: EventContext | null = null;

  /** The event context of the frame being translated. */
  private get ctx(): EventContext {
    if (this.ctxCache) return this.ctxCache;
    const name = this.curName;
    const h = this.curHeaders;
    const meta = this.curMeta;
    const ts = h.Timestamp;
    this.ctxCache = {
      tenant_id: this.opts.tenant_id,
      pbx_id: this.opts.pbx_id,
      source: this.source,
      occurred_at: isoMs(this.now),
      received_at: isoMs(meta.received_at),
      raw_ref: meta.raw_ref,
      vendor_key: ts !== undefined ? `${ts}|${name}|${h.Uniqueid ?? ''}|${h.Queue ?? ''}|${h.Interface ?? h.Location ?? ''}` : `${meta.connection}#${meta.seq}`,
    };
    return this.ctxCache;
  }

  constructor(private readonly opts: AmiTranslatorOptions) {
    this.source = opts.source ?? 'ami';
    this.wrapUpMs = opts.wrapUpMs ?? (() => 0);
  }

  /** Translates one frame. Frames must come in stream order. */
  translate(frame: AmiFrame, meta: FrameMeta): TranslateOutcome {
    if (frame.kind === 'garbage') return dlq('AMI_UNPARSEABLE', `not an AMI frame (connection ${meta.connection}, frame ${meta.seq})`);
    if (frame.kind !== 'event' && !(frame.kind === 'response' && frame.headers.Timestamp)) return ok([]);
    const h = frame.headers;
    const tsRaw = h.Timestamp;
    let t = meta.received_at;
    this.hasTs = false;
    if (tsRaw !== undefined) {
      const ms = parseAmiTimestamp(tsRaw);
      if (Number.isNaN(ms)) return dlq('AMI_BAD_TIMESTAMP', `${frame.name}: Timestamp "${tsRaw}" is not <seconds>.<micro> (connection ${meta.connection}, frame ${meta.seq})`, 'Timestamp');
      t = ms;
      this.hasTs = true;
      const off = ms - meta.received_at;
      // A new connection keeps the last estimate until it has its own: the clocks did not change.
      if (this.s.offsetConn !== meta.connection || this.s.clockOffset === null || off > this.s.clockOffset) this.s.clockOffset = off;
      this.s.offsetConn = meta.connection;
    } else if (this.s.clockOffset !== null) t = meta.received_at + this.s.clockOffset;
    if (meta.connection !== this.s.conn) {
      if (this.s.conn !== undefined) this.s.gapFrom = this.s.shutdownAt ?? this.s.lastAt;
      this.s.conn = meta.connection;
      this.s.shutdownAt = null;
    }
    this.s.lastAt = t;
    this.out = [];
    this.now = t;
    this.s.frameNo++;
    if (this.s.wrapping.size > 0) this.expireWrapUps(t, meta);
    if (frame.kind !== 'event') return ok(this.out);
    const name = OLD_NAMES[frame.name] ?? frame.name;
    // Most frames (VarSet, Newexten, CEL, …) yield nothing: the event context is built only
    // when an event is made (see `ctx`).
    this.ctxCache = null;
    this.curName = name;
    this.curHeaders = h;
    this.curMeta = meta;
    if (this.s.pending.size > 0 && h.Uniqueid !== undefined) {
      const leg = this.s.pending.get(h.Uniqueid);
      if (leg) this.decidePending(leg, name, h);
    }
    const problem = this.dispatch(name, h);
    if (problem) return problem;
    return ok(this.out);
  }

  /** Events that become due with time alone (wrap-up ends), for a quiet link. */
  advance(now: number, meta: FrameMeta): CanonicalEvent[] {
    this.out = [];
    this.expireWrapUps(now, meta);
    return this.out;
  }

  /** End of input: decide what is still pending, as the most likely outcome. */
  flush(meta: FrameMeta): CanonicalEvent[] {
    this.out = [];
    for (const leg of [...this.s.pending.values()]) this.resolveExit(leg, leg.abandon ? 'abandoned' : 'key');
    this.expireWrapUps(Number.MAX_SAFE_INTEGER, meta);
    return this.out;
  }

  // ---- dispatch --------------------------------------------------------------------------

  private dispatch(name: string, h: Record<string, string>): TranslateOutcome | undefined {
    switch (name) {
      case 'Newchannel':
        return this.newChannel(h);
      case 'Newstate':
        if (h.ChannelState === '6') {
          this.answered(h.Uniqueid);
          this.directAnswered(h);
        }
        return undefined;
      case 'DialBegin':
        this.dialBegin(h);
        return undefined;
      case 'HangupRequest':
      case 'SoftHangupRequest': {
        const ch = h.Uniqueid !== undefined ? this.s.channels.get(h.Uniqueid) : undefined;
        if (ch) {
          ch.hangupRequested = true;
          if (this.s.direct.size > 0) this.firstToHangUp(ch);
        }
        return undefined;
      }
      case 'Hangup':
        return this.hangup(h);
      case 'Cdr':
        return this.cdr(h);
      case 'QueueCallerJoin':
        return this.join(h);
      case 'QueueCallerAbandon':
        return this.abandon(h);
      case 'QueueCallerLeave':
        return this.leave(h);
      case 'AgentCalled':
        return this.agentCalled(h);
      case 'AgentRingNoAnswer':
        return this.ringNoAnswer(h);
      case 'DialState':
        // An AMI Atxfer dials its consultation without a DialBegin and without a caller channel.
        if (h.DialStatus === 'RINGING' && h.Uniqueid === undefined) this.consultRinging(h);
        return undefined;
      case 'DialEnd':
        // An answered member keeps ringing until AgentConnect, so its state does not flicker.
        if (h.DestUniqueid !== undefined && h.DialStatus !== 'ANSWER') {
          this.endRing(h.DestUniqueid);
          this.endDial(h.DestUniqueid);
        }
        return undefined;
      case 'AgentConnect':
        return this.connect(h);
      case 'AgentComplete':
        return this.complete(h);
      case 'AgentDump':
        return undefined;
      case 'Hold':
        return this.hold(h, true);
      case 'Unhold':
        return this.hold(h, false);
      case 'BlindTransfer':
        return this.blindTransfer(h);
      case 'AttendedTransfer':
        return this.attendedTransfer(h);
      case 'QueueMemberAdded':
      case 'QueueMemberStatus':
      case 'QueueMemberPause':
      case 'QueueMemberPenalty':
      case 'QueueMemberRinginuse':
      case 'QueueMember':
        return this.member(name, h);
      case 'QueueMemberRemoved':
        return this.memberRemoved(h);
      case 'QueueEntry':
        return this.queueEntry(h);
      case 'CoreShowChannel':
        return this.coreShowChannel(h);
      case 'QueueStatusComplete':
      case 'CoreShowChannelsComplete':
        return this.resyncComplete(name, h);
      case 'Shutdown':
        // The PBX goes down (a restart drops every channel and dynamic member without an event
        // for each): the gap starts now, and the resync after the reconnect finds what is gone.
        this.s.shutdownAt = this.now;
        return undefined;
      default:
        return undefined;
    }
  }

  private missing(event: string, field: string): TranslateOutcome {
    return dlq('AMI_MISSING_FIELD', `${event} without ${field} (pbx ${this.opts.pbx_id}, ${this.ctx.vendor_key})`, field);
  }

  private emit(e: CanonicalEvent): void {
    this.out.push(e);
  }

  private ctxPart(part: string | number, base = this.ctx): EventContext {
    return { ...base, part };
  }

  // ---- channels and calls ----------------------------------------------------------------

  private callIdOf(h: Record<string, string>, prefix = ''): string | undefined {
    const linked = h[`${prefix}Linkedid`];
    if (linked) return linked;
    const u = h[`${prefix}Uniqueid`];
    if (u === undefined) return undefined;
    return this.s.channels.get(u)?.callId ?? u;
  }

  private ensureCall(callId: string, h: Record<string, string>, at: number, ctx = this.ctx): Call {
    let call = this.s.calls.get(callId);
    if (call) return call;
    const state = h.ChannelState;
    const chan = h.Channel ?? '';
    // Direction from the call's first channel (ingest/README.md "Call direction"):
    // - a Local channel: an Originate into the dialplan, how dialers and test rigs inject callers;
    // - a known agent's phone (a queue member's StateInterface or device): the agent placed the
    //   call, internal when it dials another agent's extension, otherwise outbound. A phone
    //   calling in also starts in Ring (4), so the channel state alone cannot tell;
    // - otherwise a channel that starts ringing in (4) is an incoming call from a trunk and a
    //   channel created down (0) is dialled out (an Originate to a device).
    const placedBy = chan.startsWith('Local/') ? undefined : this.agentOfChannel(chan);
    const direction: Call['direction'] = chan.startsWith('Local/')
      ? 'inbound'
      : placedBy !== undefined
        ? h.Exten !== undefined && h.Exten !== placedBy && this.isAgentExtension(h.Exten)
          ? 'internal'
          : 'outbound'
        : state === '4'
          ? 'inbound'
          : 'outbound';
    call = { id: callId, origin: h.Uniqueid ?? callId, channels: new Set(), startedAt: at, answeredAt: 0, direction, cdr: null, cause: null, causeFromOther: false, extension: placedBy };
    this.s.calls.set(callId, call);
    this.emit(
      makeEvent('call.started', { ...ctx, occurred_at: isoMs(at) }, { call_id: callId }, {
        direction,
        caller_number: unknownToEmpty(h.CallerIDNum),
        caller_name: unknownToEmpty(h.CallerIDName) || undefined,
        called_number: h.Exten ?? '',
        extension: placedBy,
      }),
    );
    return call;
  }

  private trackChannel(h: Record<string, string>, callId: string, at: number, ctx = this.ctx): Channel {
    const u = h.Uniqueid!;
    let ch = this.s.channels.get(u);
    if (!ch) {
      const call = this.ensureCall(callId, h, at, ctx);
      ch = { uniqueid: u, callId, name: h.Channel ?? '', hangupRequested: false };
      this.s.channels.set(u, ch);
      call.channels.add(u);
    }
    return ch;
  }

  private newChannel(h: Record<string, string>): TranslateOutcome | undefined {
    if (h.Uniqueid === undefined) return this.missing('Newchannel', 'Uniqueid');
    this.trackChannel(h, h.Linkedid || h.Uniqueid, this.now);
    return undefined;
  }

  private answered(uniqueid: string | undefined): void {
    if (uniqueid === undefined) return;
    const ch = this.s.channels.get(uniqueid);
    if (!ch) return;
    const call = this.s.calls.get(ch.callId);
    if (call && call.answeredAt === 0) call.answeredAt = this.now;
  }

  private hangup(h: Record<string, string>): TranslateOutcome | undefined {
    const u = h.Uniqueid;
    if (u === undefined) return this.missing('Hangup', 'Uniqueid');
    this.endRing(u);
    const ch = this.s.channels.get(u);
    if (!ch) return undefined;
    this.s.channels.delete(u);
    this.s.heldChannels.delete(u);
    this.endDial(u);
    const seg = this.s.direct.get(u);
    if (seg) this.directCompleted(u, seg, seg.endBy ?? (ch.hangupRequested ? 'agent' : 'caller'));
    const call = this.s.calls.get(ch.callId);
    if (!call) return undefined;
    const cause = int(h.Cause, -1);
    // The caller's side gives the call's cause; another leg's only until the caller's is known.
    if (cause >= 0 && (u === call.origin || !call.cause || call.causeFromOther)) {
      call.cause = { code: cause, text: h['Cause-txt'] ?? '' };
      call.causeFromOther = u !== call.origin;
    }
    call.channels.delete(u);
    if (call.channels.size === 0) this.endCall(call, this.ctx);
    return undefined;
  }

  private endCall(call: Call, ctx: EventContext, inGap = false): void {
    this.s.calls.delete(call.id);
    const end = Date.parse(ctx.occurred_at);
    const answered = call.answeredAt > 0;
    const disposition = call.cdr?.disposition ?? dispositionFromCause(call.cause?.code ?? 0, answered);
    const raw = call.cdr?.raw ?? (call.cause ? call.cause.text || `cause ${call.cause.code}` : 'unknown');
    this.emit(
      makeEvent('call.ended', ctx, { call_id: call.id }, {
        disposition,
        raw_disposition: raw,
        hangup_cause: call.cause?.code,
        hangup_cause_text: call.cause?.text || undefined,
        duration_ms: Math.max(0, end - call.startedAt),
        billsec_ms: answered ? Math.max(0, end - call.answeredAt) : 0,
        direction: call.direction,
        extension: call.extension,
        ended_in: inGap ? 'gap' : undefined,
      }),
    );
  }

  private cdr(h: Record<string, string>): TranslateOutcome | undefined {
    const raw = h.Disposition;
    if (raw === undefined) return this.missing('Cdr', 'Disposition');
    const u = h.UniqueID ?? h.Uniqueid;
    if (u === undefined) return undefined;
    // The caller's channel has usually hung up already; it started the call, so its Uniqueid is
    // the call's id (Linkedid).
    const ch = this.s.channels.get(u);
    const call = this.s.calls.get(ch ? ch.callId : u);
    if (!call) return undefined; // the call already ended: its disposition was decided then
    // METRICS.md: a call's disposition is its caller side's. The other legs' rows (ring-all
    // losers say NO ANSWER or FAILED) never decide it, whatever order Asterisk sends them in;
    // Asterisk 22 usually sends the caller's own Cdr after its Hangup, and then the disposition
    // comes from the call's answer and the caller's hang-up cause instead.
    if (u !== call.origin) return undefined;
    call.cdr = { disposition: mapDisposition(raw), raw };
    return undefined;
  }

  // ---- agents' phones and direct (non-queue) calls ----------------------------------------

  private learnDevices(agentId: string, iface: string, stateInterface: string | undefined): void {
    // Local members (`Local/1003@agents`) too: an Atxfer to a member dials that Local channel.
    if (iface.includes('/')) this.s.agentDevices.set(iface, agentId);
    if (stateInterface && stateInterface.includes('/')) this.s.agentDevices.set(stateInterface, agentId);
  }

  /**
   * The agent whose phone a channel is: `PJSIP/1001-0000002a` → device `PJSIP/1001`,
   * `Local/1003@agents-00000002;1` → member `Local/1003@agents`.
   */
  private agentOfChannel(name: string): string | undefined {
    if (this.s.agentDevices.size === 0) return undefined;
    const base = partyOf(name);
    const dash = base.lastIndexOf('-');
    return this.s.agentDevices.get(dash > base.indexOf('/') ? base.slice(0, dash) : base);
  }

  private isAgentExtension(exten: string): boolean {
    for (const id of this.s.agentDevices.values()) if (id === exten) return true;
    return false;
  }

  /** A known agent's phone dialled other than by a queue (a queue rings it through AgentCalled). */
  private dialBegin(h: Record<string, string>): void {
    const dest = h.DestUniqueid;
    if (dest === undefined || this.s.ringsByDest.has(dest) || this.s.segByDest.has(dest)) return;
    const agentId = this.agentOfChannel(h.DestChannel ?? '');
    if (agentId === undefined) return;
    // A queue calling a member that is a phone itself (Interface PJSIP/1001): the dialling
    // channel is a caller waiting in a queue, and the answer comes as AgentConnect.
    if (h.Uniqueid !== undefined) {
      for (const leg of this.s.legs.values()) if (leg.caller === h.Uniqueid) return;
    }
    this.startDial(dest, agentId, false);
  }

  private consultRinging(h: Record<string, string>): void {
    const dest = h.DestUniqueid;
    if (dest === undefined || this.s.dialled.has(dest) || this.s.ringsByDest.has(dest) || this.s.segByDest.has(dest) || this.s.direct.has(dest)) return;
    const agentId = this.agentOfChannel(h.DestChannel ?? '');
    if (agentId !== undefined) this.startDial(dest, agentId, true);
  }

  private startDial(dest: string, agentId: string, consult: boolean): void {
    this.s.dialled.set(dest, { agentId, at: this.now, ts: this.hasTs, consult });
    const a = this.agent(agentId);
    a.directRings++;
    this.updateAgent(a, this.s.channels.get(dest)?.callId);
  }

  /** A channel rung outside a queue stopped ringing: answered, refused or gone. */
  private endDial(dest: string, update = true): void {
    const d = this.s.dialled.get(dest);
    if (!d) return;
    this.s.dialled.delete(dest);
    const a = this.agent(d.agentId);
    if (a.directRings > 0) a.directRings--;
    a.queueAt = this.s.frameNo;
    if (update) this.updateAgent(a, this.s.channels.get(dest)?.callId);
  }

  /** Once a transfer target is credited, the first side to ask for the hang-up ended its call. */
  private firstToHangUp(ch: Channel): void {
    for (const d of this.s.direct.values()) {
      if (d.callId === ch.callId && d.credited && d.endBy === undefined) d.endBy = partyOf(ch.name) === d.party ? 'agent' : 'caller';
    }
  }

  private directAnswered(h: Record<string, string>): void {
    const u = h.Uniqueid;
    if (u === undefined) return;
    const d = this.s.dialled.get(u);
    const ch = this.s.channels.get(u);
    if (!d || !ch || this.s.direct.has(u)) return;
    this.endDial(u, false);
    const call = this.s.calls.get(ch.callId);
    const a = this.agent(d.agentId);
    const seg: DirectSegment = { agentId: d.agentId, callId: ch.callId, party: partyOf(ch.name), rungAt: d.at, answeredAt: this.now, ts: this.hasTs, holdStart: 0, holdMs: 0, credited: !d.consult, endBy: undefined };
    this.s.direct.set(u, seg);
    a.direct.add(seg);
    this.updateAgent(a, ch.callId);
    if (d.consult) return; // credited when the transfer completes (attendedTransfer)
    if (call && call.extension === undefined) call.extension = d.agentId;
    this.emit(
      makeEvent('call.answered', this.ctx, { call_id: ch.callId }, {
        agent_id: d.agentId,
        agent_name: a.name,
        wait_ms: Math.max(0, this.now - (call?.startedAt ?? this.now)),
        ring_ms: Math.max(0, this.now - d.at),
      }),
    );
  }

  private directCompleted(u: string, d: DirectSegment, reason: 'caller' | 'agent', at = this.now, ctx = this.ctx): void {
    this.s.direct.delete(u);
    const a = this.agent(d.agentId);
    a.direct.delete(d);
    a.queueAt = this.s.frameNo;
    // A consultation that never became the call (cancelled, or the transferer took the caller
    // back) was work, not a handled call: its time shows in the agent's state only.
    if (!d.credited) {
      this.updateAgent(a, undefined, ctx);
      return;
    }
    if (d.holdStart > 0) {
      d.holdMs += at - d.holdStart;
      d.holdStart = 0;
    }
    const talkMs = Math.max(0, at - d.answeredAt);
    this.emit(
      makeEvent('call.agent_completed', ctx, { call_id: d.callId }, {
        agent_id: d.agentId,
        agent_name: this.s.agents.get(d.agentId)?.name,
        reason,
        talk_ms: talkMs,
        hold_ms: Math.min(talkMs, d.holdMs),
      }),
    );
    this.updateAgent(a, d.callId, ctx);
  }

  // ---- queue legs ------------------------------------------------------------------------

  private join(h: Record<string, string>): TranslateOutcome | undefined {
    const u = h.Uniqueid;
    if (u === undefined) return this.missing('QueueCallerJoin', 'Uniqueid');
    if (!h.Queue) return this.missing('QueueCallerJoin', 'Queue');
    const callId = this.callIdOf(h)!;
    this.trackChannel(h, callId, this.now);
    const legKey = `${u}|${h.Queue}`;
    const old = this.s.legs.get(legKey);
    // A caller cannot wait in one queue twice at once: a second join is a repeated frame.
    if (old && !old.pendingExit) return undefined;
    if (old) this.resolveExit(old, old.abandon ? 'timeout' : 'key');
    const leg: Leg = {
      id: `${u}:${h.Queue}:${h.Timestamp ?? this.ctx.vendor_key}`,
      queue: h.Queue,
      callId,
      caller: u,
      joinedAt: this.now,
      ts: this.hasTs,
      rings: new Map(),
      abandon: null,
      pendingExit: null,
    };
    this.s.legs.set(legKey, leg);
    this.emit(
      makeEvent('call.queued', this.ctx, { call_id: callId }, {
        queue: h.Queue,
        leg_id: leg.id,
        position: Math.max(1, int(h.Position, 1)),
        caller_number: unknownToEmpty(h.CallerIDNum) || undefined,
      }),
    );
    return undefined;
  }

  private abandon(h: Record<string, string>): TranslateOutcome | undefined {
    const leg = this.s.legs.get(`${h.Uniqueid}|${h.Queue}`);
    if (!leg) return undefined; // a leg from before we connected: resync reported it or it is gone
    leg.abandon = {
      ctx: this.ctx,
      position: Math.max(1, int(h.Position, 1)),
      original: h.OriginalPosition ? Math.max(1, int(h.OriginalPosition, 1)) : undefined,
      holdS: int(h.HoldTime),
      at: this.now,
      ts: this.hasTs,
    };
    return undefined;
  }

  private leave(h: Record<string, string>): TranslateOutcome | undefined {
    const leg = this.s.legs.get(`${h.Uniqueid}|${h.Queue}`);
    if (!leg) return undefined;
    const ch = this.s.channels.get(leg.caller);
    if (leg.abandon && ch?.hangupRequested) {
      this.resolveExitNow(leg, 'abandoned');
      return undefined;
    }
    // QueueCallerAbandon also fires on timeout and leave-when-empty, and the caller's own
    // hang-up request is often published just after QueueCallerLeave: the next thing the
    // caller channel does decides (decidePending).
    leg.pendingExit = { ctx: this.ctx, at: this.now, ts: this.hasTs, position: h.Position ? Math.max(1, int(h.Position, 1)) : undefined };
    this.s.pending.set(leg.caller, leg);
    return undefined;
  }

  private decidePending(leg: Leg, name: string, h: Record<string, string>): void {
    switch (name) {
      case 'AgentConnect':
        return; // connect() takes the leg
      case 'SoftHangupRequest':
      case 'HangupRequest':
      case 'Hangup':
        this.resolveExit(leg, leg.abandon ? 'abandoned' : 'key');
        return;
      case 'VarSet': {
        if (h.Variable !== 'QUEUESTATUS') return;
        this.resolveExit(leg, QUEUESTATUS_REASON[h.Value ?? ''] ?? (leg.abandon ? 'timeout' : 'key'));
        return;
      }
      case 'Newexten':
      case 'QueueCallerJoin':
      case 'Newstate':
        this.resolveExit(leg, leg.abandon ? 'timeout' : 'key');
        return;
      default:
        return;
    }
  }

  private resolveExitNow(leg: Leg, outcome: 'abandoned'): void {
    leg.pendingExit = { ctx: this.ctx, at: this.now, ts: this.hasTs };
    this.resolveExit(leg, outcome);
  }

  /** Closes an unanswered leg as abandoned (caller hung up) or left (any other way out). */
  private resolveExit(leg: Leg, outcome: 'abandoned' | LeaveReason): void {
    this.s.pending.delete(leg.caller);
    this.s.legs.delete(`${leg.caller}|${leg.queue}`);
    this.clearRings(leg);
    const ab = leg.abandon;
    const exit = leg.pendingExit ?? { ctx: this.ctx, at: this.now, ts: this.hasTs };
    const ctx = ab?.ctx ?? exit.ctx;
    const at = ab?.at ?? exit.at;
    const endTs = ab ? ab.ts : exit.ts;
    const waitMs = Math.max(0, leg.ts && endTs ? at - leg.joinedAt : ab ? ab.holdS * 1000 : at - leg.joinedAt);
    if (outcome === 'abandoned') {
      this.emit(
        makeEvent('call.abandoned', ctx, { call_id: leg.callId }, {
          queue: leg.queue,
          leg_id: leg.id,
          wait_ms: waitMs,
          position: ab?.position ?? exit.position ?? 1,
          original_position: ab?.original,
        }),
      );
    } else {
      this.emit(
        makeEvent('call.left_queue', ctx, { call_id: leg.callId }, {
          queue: leg.queue,
          leg_id: leg.id,
          reason: outcome,
          wait_ms: waitMs,
          position: ab?.position ?? exit.position,
        }),
      );
    }
  }

  // ---- agents rung, connected, completed -------------------------------------------------

  private memberOf(h: Record<string, string>): { iface: string; agentId: string; name: string | undefined } | undefined {
    const iface = h.Interface ?? h.Member ?? h.Location ?? h.AgentCalled;
    if (!iface) return undefined;
    return { iface, agentId: agentIdFromInterface(iface), name: h.MemberName ?? h.Name ?? h.AgentName };
  }

  private agent(agentId: string, name?: string): Agent {
    let a = this.s.agents.get(agentId);
    if (!a) {
      a = { id: agentId, name, queues: new Map(), status: 0, inCall: false, rings: 0, segments: new Set(), directRings: 0, direct: new Set(), wrapUntil: 0, wrapKey: '', statusAt: 0, queueAt: 0, state: null, reason: undefined, lastAt: '', lastId: '' };
      this.s.agents.set(agentId, a);
    } else if (name) a.name = name;
    return a;
  }

  private agentCalled(h: Record<string, string>): TranslateOutcome | undefined {
    const m = this.memberOf(h);
    if (!m) return this.missing('AgentCalled', 'Interface');
    const leg = this.s.legs.get(`${h.Uniqueid}|${h.Queue}`);
    if (!leg) return undefined;
    const a = this.agent(m.agentId, m.name);
    const ring: Ring = { leg, agentId: m.agentId, at: this.now, ts: this.hasTs, dest: h.DestUniqueid };
    const prev = leg.rings.get(m.agentId);
    if (prev) this.dropRing(leg, prev);
    leg.rings.set(m.agentId, ring);
    if (ring.dest) this.s.ringsByDest.set(ring.dest, ring);
    a.rings++;
    this.emit(makeEvent('call.ringing', this.ctx, { call_id: leg.callId }, { agent_id: m.agentId, agent_name: m.name, queue: leg.queue, leg_id: leg.id }));
    this.updateAgent(a, leg.callId);
    return undefined;
  }

  private ringNoAnswer(h: Record<string, string>): TranslateOutcome | undefined {
    const m = this.memberOf(h);
    if (!m) return this.missing('AgentRingNoAnswer', 'Interface');
    const leg = this.s.legs.get(`${h.Uniqueid}|${h.Queue}`);
    const callId = leg?.callId ?? this.callIdOf(h);
    if (!callId) return this.missing('AgentRingNoAnswer', 'Uniqueid');
    const ring = leg?.rings.get(m.agentId);
    // RingTime on this event is in milliseconds (every other AMI duration is in seconds).
    const ringMs = h.RingTime !== undefined ? int(h.RingTime) : ring ? this.now - ring.at : 0;
    this.emit(
      makeEvent('call.ring_no_answer', this.ctx, { call_id: callId }, {
        agent_id: m.agentId,
        agent_name: m.name,
        queue: h.Queue || undefined,
        leg_id: leg?.id,
        ring_ms: Math.max(0, ringMs),
      }),
    );
    if (leg && ring) {
      this.dropRing(leg, ring);
      this.updateAgent(this.agent(m.agentId, m.name), callId);
    }
    return undefined;
  }

  private dropRing(leg: Leg, ring: Ring): void {
    leg.rings.delete(ring.agentId);
    if (ring.dest) this.s.ringsByDest.delete(ring.dest);
    const a = this.s.agents.get(ring.agentId);
    if (a && a.rings > 0) a.rings--;
    if (a) a.queueAt = this.s.frameNo;
  }

  /** A rung member channel stopped ringing (DialEnd of any status, or its hang-up). */
  private endRing(dest: string): void {
    const ring = this.s.ringsByDest.get(dest);
    if (!ring) return;
    this.dropRing(ring.leg, ring);
    const a = this.s.agents.get(ring.agentId);
    if (a) this.updateAgent(a, ring.leg.callId);
  }

  private clearRings(leg: Leg, except?: string): void {
    for (const ring of [...leg.rings.values()]) {
      if (ring.agentId === except) continue;
      this.dropRing(leg, ring);
      const a = this.s.agents.get(ring.agentId);
      if (a) this.updateAgent(a, leg.callId);
    }
  }

  private connect(h: Record<string, string>): TranslateOutcome | undefined {
    const m = this.memberOf(h);
    if (!m) return this.missing('AgentConnect', 'Interface');
    if (h.Uniqueid === undefined) return this.missing('AgentConnect', 'Uniqueid');
    if (!h.Queue) return this.missing('AgentConnect', 'Queue');
    const legKey = `${h.Uniqueid}|${h.Queue}`;
    let leg = this.s.legs.get(legKey);
    const holdS = int(h.HoldTime);
    if (!leg) {
      // Connected on a leg we never saw join (we were not connected then): HoldTime places it.
      const callId = this.callIdOf(h)!;
      this.trackChannel(h, callId, this.now);
      leg = { id: `${h.Uniqueid}:${h.Queue}:${h.Timestamp ?? this.ctx.vendor_key}`, queue: h.Queue, callId, caller: h.Uniqueid, joinedAt: this.now - holdS * 1000, ts: false, rings: new Map(), abandon: null, pendingExit: null };
    }
    this.s.legs.delete(legKey);
    this.s.pending.delete(leg.caller);
    const ring = leg.rings.get(m.agentId);
    this.clearRings(leg, m.agentId);
    if (ring) this.dropRing(leg, ring); // its state goes from ringing straight to on_call below
    const waitMs = leg.ts && this.hasTs ? this.now - leg.joinedAt : holdS * 1000;
    const ringMs = ring && ring.ts && this.hasTs ? this.now - ring.at : h.RingTime !== undefined ? int(h.RingTime) * 1000 : undefined;
    this.emit(
      makeEvent('call.answered', this.ctx, { call_id: leg.callId }, {
        agent_id: m.agentId,
        agent_name: m.name,
        queue: leg.queue,
        leg_id: leg.id,
        wait_ms: Math.max(0, waitMs),
        ring_ms: ringMs === undefined ? undefined : Math.max(0, ringMs),
      }),
    );
    const seg: Segment = { leg, agentId: m.agentId, agentName: m.name, iface: m.iface, connectedAt: this.now, ts: this.hasTs, dest: h.DestUniqueid, holdStart: 0, holdMs: 0 };
    this.s.segments.add(seg);
    if (seg.dest) this.s.segByDest.set(seg.dest, seg);
    this.s.segByCaller.set(leg.caller, seg);
    const call = this.s.calls.get(leg.callId);
    if (call) call.extension = m.agentId;
    const a = this.agent(m.agentId, m.name);
    a.segments.add(seg);
    a.queueAt = this.s.frameNo;
    a.wrapUntil = 0;
    this.s.wrapping.delete(a);
    this.updateAgent(a, leg.callId);
    return undefined;
  }

  private findSegment(h: Record<string, string>, iface: string): Segment | undefined {
    if (h.DestUniqueid !== undefined) {
      const s = this.s.segByDest.get(h.DestUniqueid);
      if (s) return s;
    }
    // AgentComplete may lack the channel snapshots (caller gone first): match queue + member.
    let best: Segment | undefined;
    for (const s of this.s.segments) {
      if (s.leg.queue !== h.Queue || s.iface !== iface) continue;
      if (h.Uniqueid !== undefined && s.leg.caller === h.Uniqueid) return s;
      if (!best || s.connectedAt < best.connectedAt) best = s;
    }
    return best;
  }

  private complete(h: Record<string, string>): TranslateOutcome | undefined {
    const m = this.memberOf(h);
    if (!m) return this.missing('AgentComplete', 'Interface');
    const seg = this.findSegment(h, m.iface);
    const callId = seg?.leg.callId ?? this.callIdOf(h);
    if (!callId) return dlq('AMI_UNMATCHED', `AgentComplete for ${m.iface} in queue ${h.Queue ?? '?'} matches no connected call and carries no Uniqueid (pbx ${this.opts.pbx_id})`);
    const queue = seg?.leg.queue ?? h.Queue;
    if (seg && seg.holdStart > 0) {
      seg.holdMs += this.now - seg.holdStart;
      seg.holdStart = 0;
    }
    const talkMs = seg && seg.ts && this.hasTs ? this.now - seg.connectedAt : int(h.TalkTime) * 1000;
    const reason = h.Reason === 'caller' || h.Reason === 'transfer' ? h.Reason : 'agent';
    const wrapMs = queue ? this.wrapUpMs(queue) : 0;
    this.emit(
      makeEvent('call.agent_completed', this.ctx, { call_id: callId }, {
        agent_id: m.agentId,
        agent_name: m.name,
        queue: queue || undefined,
        leg_id: seg?.leg.id,
        reason,
        talk_ms: Math.max(0, talkMs),
        hold_ms: seg ? seg.holdMs : undefined,
        wrap_ms: wrapMs > 0 ? wrapMs : undefined,
      }),
    );
    const a = this.agent(m.agentId, m.name);
    if (seg) {
      this.s.segments.delete(seg);
      if (seg.dest) this.s.segByDest.delete(seg.dest);
      if (this.s.segByCaller.get(seg.leg.caller) === seg) this.s.segByCaller.delete(seg.leg.caller);
      a.segments.delete(seg);
    }
    a.queueAt = this.s.frameNo;
    if (wrapMs > 0) {
      a.wrapUntil = this.now + wrapMs;
      a.wrapKey = this.ctx.vendor_key;
      this.s.wrapping.add(a);
    }
    this.updateAgent(a, callId);
    return undefined;
  }

  private expireWrapUps(now: number, meta: FrameMeta): void {
    // A wrap-up ends only once time has moved past its end: a frame at the very millisecond it
    // ends (a pause, a logout, the next ring) is then folded into the state first, so the
    // agent's last state change at that millisecond is the one the PBX caused. Two changes of
    // one agent at one millisecond would be ordered by event id downstream, not causally.
    for (const a of [...this.s.wrapping]) {
      if (a.wrapUntil >= now) continue;
      const at = a.wrapUntil;
      a.wrapUntil = 0;
      this.s.wrapping.delete(a);
      const ctx: EventContext = {
        tenant_id: this.opts.tenant_id,
        pbx_id: this.opts.pbx_id,
        source: this.source,
        occurred_at: isoMs(at),
        received_at: isoMs(meta.received_at),
        raw_ref: meta.raw_ref,
        vendor_key: `${a.wrapKey}|wrap-up-end`,
      };
      this.updateAgent(a, undefined, ctx);
    }
  }

  // ---- hold and transfers ----------------------------------------------------------------

  private hold(h: Record<string, string>, on: boolean): TranslateOutcome | undefined {
    const u = h.Uniqueid;
    if (u === undefined) return this.missing(on ? 'Hold' : 'Unhold', 'Uniqueid');
    const seg = this.s.segByDest.get(u) ?? this.s.segByCaller.get(u);
    if (seg) {
      if (on === seg.holdStart > 0) return undefined; // Unhold without Hold (e.g. at a transfer)
      if (on) seg.holdStart = this.now;
      else {
        seg.holdMs += this.now - seg.holdStart;
        seg.holdStart = 0;
      }
      const p = { agent_id: seg.agentId, leg_id: seg.leg.id };
      this.emit(on ? makeEvent('call.held', this.ctx, { call_id: seg.leg.callId }, p) : makeEvent('call.resumed', this.ctx, { call_id: seg.leg.callId }, p));
      this.updateAgent(this.agent(seg.agentId), seg.leg.callId);
      return undefined;
    }
    // A call that is not a queue leg (direct call): hold without an agent.
    const ch = this.s.channels.get(u);
    if (!ch) return undefined;
    if (on === this.s.heldChannels.has(u)) return undefined;
    if (on) this.s.heldChannels.set(u, this.now);
    else this.s.heldChannels.delete(u);
    const d = this.s.direct.get(u);
    if (d) {
      if (on) d.holdStart = this.now;
      else if (d.holdStart > 0) {
        d.holdMs += this.now - d.holdStart;
        d.holdStart = 0;
      }
    }
    const p = d ? { agent_id: d.agentId } : {};
    this.emit(on ? makeEvent('call.held', this.ctx, { call_id: ch.callId }, p) : makeEvent('call.resumed', this.ctx, { call_id: ch.callId }, p));
    if (d) this.updateAgent(this.agent(d.agentId), ch.callId);
    return undefined;
  }

  private blindTransfer(h: Record<string, string>): TranslateOutcome | undefined {
    if (h.Result !== 'Success') return undefined;
    const seg = this.segmentOfAny(h, ['Transferer', 'Transferee']);
    const callId = seg?.leg.callId ?? this.callIdOf(h, 'Transferee') ?? this.callIdOf(h, 'Transferer');
    if (!callId) return this.missing('BlindTransfer', 'TransfereeUniqueid');
    this.emit(
      makeEvent('call.transferred', this.ctx, { call_id: callId }, {
        kind: 'blind',
        from_agent_id: seg?.agentId,
        to: h.Extension ?? '',
        queue: seg?.leg.queue,
        leg_id: seg?.leg.id,
      }),
    );
    return undefined;
  }

  private attendedTransfer(h: Record<string, string>): TranslateOutcome | undefined {
    if (h.Result !== 'Success') return undefined;
    const seg = this.segmentOfAny(h, ['OrigTransferer', 'SecondTransferer', 'Transferee']);
    const callId = seg?.leg.callId ?? this.callIdOf(h, 'OrigTransferer') ?? this.callIdOf(h, 'Transferee');
    if (!callId) return this.missing('AttendedTransfer', 'OrigTransfererUniqueid');
    // METRICS.md handled: `transferred.to` names the agent when the target is one.
    const consult = h.TransferTargetUniqueid !== undefined ? this.s.direct.get(h.TransferTargetUniqueid) : undefined;
    const targetAgent = consult?.agentId ?? this.agentOfChannel(h.TransferTargetChannel ?? '');
    const target = targetAgent ?? (unknownToEmpty(h.TransferTargetCallerIDNum) || h.TransferTargetChannel || unknownToEmpty(h.SecondTransfererConnectedLineNum) || h.DestType || '');
    this.emit(
      makeEvent('call.transferred', this.ctx, { call_id: callId }, {
        kind: 'attended',
        from_agent_id: seg?.agentId,
        to: target,
        queue: seg?.leg.queue,
        leg_id: seg?.leg.id,
      }),
    );
    if (consult && !consult.credited) this.creditTarget(consult);
    return undefined;
  }

  /**
   * The target of an attended transfer receives the call now: it is credited with it and its
   * talk time from here (METRICS.md handled). Asterisk gives it no AgentConnect, so this is the
   * answer; its ring is the consultation's ring, and the call waited that long for this agent.
   */
  private creditTarget(d: DirectSegment): void {
    const ringMs = Math.max(0, d.answeredAt - d.rungAt);
    d.credited = true;
    d.answeredAt = this.now;
    d.ts = this.hasTs;
    d.holdMs = 0;
    if (d.holdStart > 0) d.holdStart = this.now;
    const call = this.s.calls.get(d.callId);
    if (call) call.extension = d.agentId;
    this.emit(makeEvent('call.answered', this.ctx, { call_id: d.callId }, { agent_id: d.agentId, agent_name: this.s.agents.get(d.agentId)?.name, wait_ms: ringMs, ring_ms: ringMs }));
  }

  private segmentOfAny(h: Record<string, string>, prefixes: string[]): Segment | undefined {
    for (const p of prefixes) {
      const u = h[`${p}Uniqueid`];
      if (u === undefined) continue;
      const s = this.s.segByDest.get(u) ?? this.s.segByCaller.get(u);
      if (s) return s;
    }
    return undefined;
  }

  // ---- queue members and agent state -----------------------------------------------------

  private member(name: string, h: Record<string, string>): TranslateOutcome | undefined {
    const m = this.memberOf(h);
    if (!m) return this.missing(name, 'Interface');
    if (!h.Queue) return this.missing(name, 'Queue');
    const a = this.agent(m.agentId, m.name);
    this.learnDevices(m.agentId, m.iface, h.StateInterface);
    if (!a.queues.has(h.Queue)) {
      a.queues.set(h.Queue, null);
      this.emit(
        makeEvent('agent.queue_joined', this.ctx, { agent_id: m.agentId }, {
          queue: h.Queue,
          agent_name: m.name,
          interface: m.iface,
          penalty: h.Penalty !== undefined ? Math.max(0, int(h.Penalty)) : undefined,
        }),
      );
    }
    if (h.Status !== undefined || h.InCall !== undefined) {
      if (h.Status !== undefined) a.status = int(h.Status);
      a.inCall = h.InCall === '1';
      a.statusAt = this.s.frameNo;
    }
    if (h.Paused !== undefined) a.queues.set(h.Queue, h.Paused === '1' ? (h.PausedReason ?? h.Reason ?? '') : null);
    this.resyncSet(h)?.members.add(`${m.agentId}|${h.Queue}`);
    this.updateAgent(a, undefined);
    return undefined;
  }

  private memberRemoved(h: Record<string, string>): TranslateOutcome | undefined {
    const m = this.memberOf(h);
    if (!m) return this.missing('QueueMemberRemoved', 'Interface');
    if (!h.Queue) return this.missing('QueueMemberRemoved', 'Queue');
    this.removeMembership(this.agent(m.agentId, m.name), h.Queue, this.ctx);
    return undefined;
  }

  private removeMembership(a: Agent, queue: string, ctx: EventContext): void {
    if (!a.queues.delete(queue)) return;
    this.emit(makeEvent('agent.queue_left', ctx, { agent_id: a.id }, { queue, agent_name: a.name }));
    this.updateAgent(a, undefined, ctx);
  }

  /** The agent's state from everything known about it; emits a change. */
  private deriveState(a: Agent): { state: AgentState; reason?: string } {
    // METRICS.md membership: removed from its last queue while on a call, the agent stays on
    // the call until it ends; so the call comes before membership.
    let held = false;
    for (const s of a.segments) if (s.holdStart > 0) held = true;
    for (const d of a.direct) if (d.holdStart > 0) held = true;
    if (a.segments.size > 0 || a.direct.size > 0) return { state: held ? 'on_hold' : 'on_call' };
    if (a.queues.size === 0) return { state: 'offline' };
    if (a.directRings > 0) return { state: 'ringing' };
    if (a.rings > 0) return { state: 'ringing' };
    if (a.status === 8) return { state: 'on_hold' };
    // Device in use without a queue call: a direct call (this ignores the brief INUSE that
    // Local-channel members report while they ring, which `rings` already covers).
    // The device status counts only when newer than the last queue-driven change: Asterisk
    // reports a Local-channel member INUSE from the moment it is rung until its channel is
    // gone, so after a ring or a queue call ends that status is stale until the next one.
    const fresh = a.statusAt > a.queueAt;
    if (fresh && (a.inCall || DEVICE_BUSY.has(a.status))) return { state: 'on_call' };
    if (fresh && DEVICE_RINGING.has(a.status)) return { state: 'ringing' };
    for (const r of a.queues.values()) if (r !== null) return { state: 'paused', reason: r };
    if (a.wrapUntil > 0) return { state: 'wrap_up' };
    if (DEVICE_GONE.has(a.status)) return { state: 'offline' };
    return { state: 'available' };
  }

  private updateAgent(a: Agent, callId: string | undefined, ctx = this.ctx): void {
    const next = this.deriveState(a);
    if (next.state === a.state && next.reason === a.reason) return;
    a.state = next.state;
    a.reason = next.reason;
    const payload = { state: next.state, reason: next.reason, agent_name: a.name, call_id: callId };
    let e = makeEvent('agent.state_changed', this.ctxPart(a.id, ctx), { agent_id: a.id }, payload);
    // Consumers order one agent's changes of one millisecond by event id (projections
    // orderEvents), and a ring that ends as the next one starts, or a pause at the moment a
    // wrap-up ends, gives two. The later change must sort last: a deterministic suffix of the
    // part is chosen so that it does (the same history still gives the same ids).
    if (e.occurred_at === a.lastAt) {
      for (let n = 1; e.event_id <= a.lastId; n++) e = makeEvent('agent.state_changed', this.ctxPart(`${a.id}|${n}`, ctx), { agent_id: a.id }, payload);
    }
    a.lastAt = e.occurred_at;
    a.lastId = e.event_id;
    this.emit(e);
  }

  // ---- resynchronisation (QueueStatus / CoreShowChannels replies) ------------------------

  private resyncSet(h: Record<string, string>): ResyncItems | undefined {
    const id = h.ActionID;
    if (id === undefined || !id.startsWith(RESYNC_ACTION_PREFIX)) return undefined;
    let s = this.s.resync.get(id);
    if (!s) {
      s = { members: new Set(), channels: new Set(), legs: new Set() };
      this.s.resync.set(id, s);
    }
    return s;
  }

  private queueEntry(h: Record<string, string>): TranslateOutcome | undefined {
    const u = h.Uniqueid;
    if (u === undefined || !h.Queue) return undefined;
    this.resyncSet(h)?.legs.add(`${u}|${h.Queue}`);
    if (this.s.legs.has(`${u}|${h.Queue}`)) return undefined;
    // A caller who joined while we were away: open the leg, placed in time by its Wait.
    const joinedAt = this.now - int(h.Wait) * 1000;
    const callId = this.s.channels.get(u)?.callId ?? u;
    const ctx = { ...this.ctx, occurred_at: isoMs(joinedAt), vendor_key: `resync|${u}|${h.Queue}` };
    this.trackChannel(h, callId, joinedAt, ctx);
    const leg: Leg = { id: `${u}:${h.Queue}:resync`, queue: h.Queue, callId, caller: u, joinedAt, ts: false, rings: new Map(), abandon: null, pendingExit: null };
    this.s.legs.set(`${u}|${h.Queue}`, leg);
    this.emit(makeEvent('call.queued', ctx, { call_id: callId }, { queue: h.Queue, leg_id: leg.id, position: Math.max(1, int(h.Position, 1)), caller_number: unknownToEmpty(h.CallerIDNum) || undefined }));
    return undefined;
  }

  private coreShowChannel(h: Record<string, string>): TranslateOutcome | undefined {
    const u = h.Uniqueid;
    if (u === undefined) return undefined;
    const rs = this.resyncSet(h);
    rs?.channels.add(u);
    if (this.s.channels.has(u)) return undefined;
    const [hh, mm, ss] = (h.Duration ?? '0:0:0').split(':').map((x) => int(x));
    const startedAt = this.now - ((hh ?? 0) * 3600 + (mm ?? 0) * 60 + (ss ?? 0)) * 1000;
    const callId = h.Linkedid || u;
    const ch = this.trackChannel(h, callId, startedAt, { ...this.ctx, occurred_at: isoMs(startedAt), vendor_key: `resync|${callId}` });
    if (h.ChannelState === '6') {
      const call = this.s.calls.get(ch.callId);
      if (call && call.answeredAt === 0) call.answeredAt = startedAt;
    }
    return undefined;
  }

  private resyncComplete(name: string, h: Record<string, string>): TranslateOutcome | undefined {
    const id = h.ActionID;
    if (id === undefined || !id.startsWith(RESYNC_ACTION_PREFIX)) return undefined;
    const rs = this.s.resync.get(id) ?? { members: new Set<string>(), channels: new Set<string>(), legs: new Set<string>() };
    this.s.resync.delete(id);
    // What the resync finds gone ended in the gap, at its start (the last moment it was known
    // alive), not now (METRICS.md "Gaps of the feed"). Without a gap (first login) it is now.
    const at = this.s.gapFrom ?? this.now;
    const gapCtx = (part: string): EventContext => ({ ...this.ctxPart(part), occurred_at: isoMs(at) });
    if (name === 'QueueStatusComplete') {
      // Members we believe in that the PBX no longer lists left while we were away.
      for (const a of this.s.agents.values()) {
        for (const q of [...a.queues.keys()]) if (!rs.members.has(`${a.id}|${q}`)) this.removeMembership(a, q, gapCtx(`resync-left|${q}`));
      }
      // Legs we believe are waiting but the PBX does not list: they ended unseen.
      for (const leg of [...this.s.legs.values()]) {
        if (!rs.legs.has(`${leg.caller}|${leg.queue}`)) this.resolveGone(leg, at);
      }
      return undefined;
    }
    // Channels that hung up while we were away; calls left with none have ended.
    const ended: Call[] = [];
    for (const [u, ch] of [...this.s.channels]) {
      if (rs.channels.has(u)) continue;
      this.s.channels.delete(u);
      this.endDial(u, false);
      const call = this.s.calls.get(ch.callId);
      if (!call) continue;
      call.channels.delete(u);
      if (call.channels.size === 0) ended.push(call);
    }
    for (const call of ended) {
      // In the order they happened: the caller left the queue, the agent's talk ended, the call
      // ended (a leg's exit must never come after its call's end).
      for (const leg of [...this.s.legs.values()]) if (leg.callId === call.id) this.resolveGone(leg, at);
      this.s.calls.delete(call.id);
    }
    // Agents talking on calls that ended unseen: their talk lasted until the gap began.
    for (const seg of [...this.s.segments]) {
      if (this.s.calls.has(seg.leg.callId)) continue;
      this.cutSegment(seg, at, gapCtx(`resync-free|${seg.leg.id}`));
    }
    for (const [u, d] of [...this.s.direct]) {
      if (!this.s.calls.has(d.callId)) this.directCompleted(u, d, 'agent', Math.max(at, d.answeredAt), gapCtx(`resync-free|${u}`));
    }
    for (const call of ended) this.endCall(call, gapCtx(`resync-ended|${call.id}`), this.s.gapFrom !== null);
    return undefined;
  }

  /** A queue agent's segment of a call that ended unseen in a gap: its talk runs to `at`. */
  private cutSegment(seg: Segment, at: number, ctx: EventContext): void {
    this.s.segments.delete(seg);
    if (seg.dest) this.s.segByDest.delete(seg.dest);
    if (this.s.segByCaller.get(seg.leg.caller) === seg) this.s.segByCaller.delete(seg.leg.caller);
    const end = Math.max(at, seg.connectedAt);
    if (seg.holdStart > 0) {
      seg.holdMs += Math.max(0, end - seg.holdStart);
      seg.holdStart = 0;
    }
    const wrapMs = this.wrapUpMs(seg.leg.queue);
    this.emit(
      makeEvent('call.agent_completed', ctx, { call_id: seg.leg.callId }, {
        agent_id: seg.agentId,
        agent_name: seg.agentName,
        queue: seg.leg.queue,
        leg_id: seg.leg.id,
        // Who hung up is unknown; Asterisk itself reports a restart's cut as the agent's.
        reason: 'agent',
        talk_ms: end - seg.connectedAt,
        hold_ms: seg.holdMs,
        wrap_ms: wrapMs > 0 ? wrapMs : undefined,
      }),
    );
    const a = this.s.agents.get(seg.agentId);
    if (!a) return;
    a.segments.delete(seg);
    a.queueAt = this.s.frameNo;
    this.updateAgent(a, seg.leg.callId, ctx);
  }

  private resolveGone(leg: Leg, at: number): void {
    leg.pendingExit = { ctx: { ...this.ctxPart(`resync-gone|${leg.id}`), occurred_at: isoMs(at) }, at, ts: false };
    this.resolveExit(leg, 'other');
  }
}

// Renders the model's timeline the way Asterisk 22 (AMI 11.0.0, timestampevents=yes) would:
// event names, header order, Local-channel ;1/;2 pairs, Uniqueid/Linkedid, Cdr rows and the
// quirks seen in ../shared/fixtures/ami/asterisk22 (RingTime in ms on AgentRingNoAnswer only,
// QueueCallerAbandon on timeouts too, Wrapuptime 0 on member events, ANSWERED CDRs for abandoned
// callers). Pure: a fold over actions that also keeps the live state QueueStatus and
// CoreShowChannels answer from. Noise events (VarSet, Newexten, CEL, DeviceStateChange) are not
// rendered except the QUEUESTATUS VarSet that tells a timeout from an abandon.
import type { Ledger } from './ledger.ts';
import type { SimAction } from './model.ts';

export type Headers = [string, string][];

export interface AmiFrame {
  /** Virtual time (UTC ms) the PBX emits the frame. */
  t: number;
  headers: Headers;
}

interface Chan {
  name: string;
  uniqueid: string;
  linkedid: string;
  state: number;
  context: string;
  exten: string;
  priority: number;
  cidNum: string;
  cidName: string;
  connNum: string;
  connName: string;
  created: number;
  app: string;
  appData: string;
  bridge: string;
}

interface Member {
  queue: string;
  agent: string;
  name: string;
  iface: string;
  callsTaken: number;
  lastCall: number;
  lastPause: number;
  loginTime: number;
  inCall: number;
  status: number;
  paused: number;
  reason: string;
}

interface CallCtx {
  caller1: Chan;
  caller2: Chan;
  /** agent -> that agent's ;1/;2 pair for the current ring or connection. */
  agentLegs: Map<string, [Chan, Chan]>;
  dialed: { agent: [Chan, Chan]; answered: boolean; from: number; to: number }[];
  bridge: string | null;
  leg: { queue: string; offered: number; origPos: number; connectedAt: number; agent: string } | null;
  /** An Atxfer consultation: the target's Local pair and the bridge the transferring agent's ;1 moved into. */
  consult: { one: Chan; two: Chan; bridge: string; agent: string; target: string } | null;
  outbound: { phone: Chan; trunk: Chan; answered: number | null } | null;
  /** The caller's hang-up requests were already sent (caller ended the call). */
  hungUp?: boolean;
}

const STATE_DESC: Record<number, string> = { 0: 'Down', 4: 'Ring', 5: 'Ringing', 6: 'Up' };
const PRIV_CALL = 'call,all';
const CALLING_PRES = '0 (Presentation Allowed, Not Screened)';
const PRIV_AGENT = 'agent,all';

export interface AmiRenderOptions {
  /** Queue strategy reported in QueueParams. */
  strategy?: string;
  serviceLevelS?: number;
  /**
   * How far the PBX's clock is off the true time (−90_000: 90 s behind). Every time the PBX
   * renders (event Timestamps, CDR times, member LastCall / LastPause / LoginTime) is shifted by
   * it; durations are not, and the ledger keeps the truth.
   */
  clockSkewMs?: number;
}

export class AmiRenderer {
  private readonly calls = new Map<string, CallCtx>();
  /** Agents talking on a queue call (from AgentConnect to AgentComplete). */
  private readonly onQueueCall = new Set<string>();
  private readonly channels = new Map<string, Chan>();
  private readonly members = new Map<string, Member>();
  private readonly waiting = new Map<string, { call: string; chan: Chan; since: number }[]>();
  private readonly stats = new Map<string, { completed: number; abandoned: number }>();
  private readonly callById: Map<string, Ledger['calls'][number]>;
  private readonly legById: Map<string, Ledger['legs'][number]>;
  private readonly agentName: Map<string, string>;
  private uid = 0;
  private localSeq = 0;
  private bridgeSeq = 0;
  private lastUsec = 0;
  private out: AmiFrame[] = [];

  constructor(
    private readonly ledger: Ledger,
    private readonly opts: AmiRenderOptions = {},
  ) {
    this.callById = new Map(ledger.calls.map((c) => [c.call_id, c]));
    this.legById = new Map(ledger.legs.map((l) => [l.leg_id, l]));
    this.agentName = new Map(ledger.agents.map((a) => [a.agent, a.name]));
    for (const q of ledger.queues) {
      this.waiting.set(q.queue, []);
      this.stats.set(q.queue, { completed: 0, abandoned: 0 });
    }
  }

  /** Renders one action; returns the frames in emission order. */
  render(a: SimAction): AmiFrame[] {
    this.out = [];
    this.step(a);
    return this.out;
  }

  // ---- helpers ------------------------------------------------------------------------------

  /** `sec.usec`, strictly increasing so frames of the same millisecond keep their order. */
  private stamp(t: number): string {
    let us = (t + (this.opts.clockSkewMs ?? 0)) * 1000;
    if (us <= this.lastUsec) us = this.lastUsec + 1;
    this.lastUsec = us;
    return `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}`;
  }

  private ev(t: number, name: string, priv: string, body: Headers): void {
    this.out.push({ t, headers: [['Event', name], ['Privilege', priv], ['Timestamp', this.stamp(t)], ...body] });
  }

  private newChan(t: number, name: string, state: number, context: string, exten: string, linkedid?: string): Chan {
    const uniqueid = `${Math.floor(t / 1000)}.${this.uid++}`;
    const c: Chan = {
      name, uniqueid, linkedid: linkedid ?? uniqueid, state, context, exten, priority: 1,
      cidNum: '<unknown>', cidName: '<unknown>', connNum: '<unknown>', connName: '<unknown>', created: t, app: 'AppDial', appData: '(Outgoing Line)', bridge: '',
    };
    this.channels.set(uniqueid, c);
    return c;
  }

  private localPair(t: number, who: string, context: string, linkedid?: string): [Chan, Chan] {
    const base = `Local/${who}@${context}-${(this.localSeq++).toString(16).padStart(8, '0')}`;
    const one = this.newChan(t, `${base};1`, 0, context, who, linkedid);
    const two = this.newChan(t, `${base};2`, 4, context, who, linkedid ?? one.uniqueid);
    return [one, two];
  }

  private snap(c: Chan, p = ''): Headers {
    return [
      [`${p}Channel`, c.name], [`${p}ChannelState`, String(c.state)], [`${p}ChannelStateDesc`, STATE_DESC[c.state] ?? 'Unknown'],
      [`${p}CallerIDNum`, c.cidNum], [`${p}CallerIDName`, c.cidName], [`${p}ConnectedLineNum`, c.connNum], [`${p}ConnectedLineName`, c.connName],
      [`${p}Language`, 'en'], [`${p}AccountCode`, ''], [`${p}Context`, c.context], [`${p}Exten`, c.exten], [`${p}Priority`, String(c.priority)],
      [`${p}Uniqueid`, c.uniqueid], [`${p}Linkedid`, c.linkedid],
    ];
  }

  private bridgeSnap(id: string, n: number, p = ''): Headers {
    return [
      [`${p}BridgeUniqueid`, id], [`${p}BridgeType`, 'basic'], [`${p}BridgeTechnology`, 'simple_bridge'], [`${p}BridgeCreator`, '<unknown>'],
      [`${p}BridgeName`, '<unknown>'], [`${p}BridgeNumChannels`, String(n)], [`${p}BridgeVideoSourceMode`, 'none'],
    ];
  }

  private newBridgeId(): string {
    // Deterministic stand-in for Asterisk's random UUIDs, in the same 8-4-4-4-12 form.
    const n = (this.bridgeSeq++).toString(16).padStart(12, '0');
    return `${this.ledger.pbx.padEnd(8, '0').slice(0, 8).replace(/[^0-9a-f]/g, 'b')}-0000-4000-8000-${n}`;
  }

  private setState(t: number, c: Chan, state: number): void {
    c.state = state;
    this.ev(t, 'Newstate', PRIV_CALL, this.snap(c));
  }

  private hangup(t: number, c: Chan, cause: number): void {
    const txt: Record<number, string> = { 0: 'Unknown', 16: 'Normal Clearing', 17: 'User busy', 19: 'User alerting, no answer', 26: 'Answered elsewhere' };
    this.ev(t, 'Hangup', PRIV_CALL, [...this.snap(c), ['Cause', String(cause)], ['Cause-txt', txt[cause] ?? 'Unknown']]);
    this.channels.delete(c.uniqueid);
  }

  private hangupRequest(t: number, c: Chan, cause: number, soft = false): void {
    this.ev(t, soft ? 'SoftHangupRequest' : 'HangupRequest', PRIV_CALL, [...this.snap(c), ['Cause', String(cause)]]);
  }

  private localBridge(t: number, one: Chan, two: Chan): void {
    this.ev(t, 'LocalBridge', PRIV_CALL, [...this.snap(one, 'LocalOne'), ...this.snap(two, 'LocalTwo'), ['Context', one.context], ['Exten', one.exten], ['LocalOptimization', 'Yes']]);
  }

  private fmtTime(ms: number | null): string {
    return ms === null ? '' : new Date(ms + (this.opts.clockSkewMs ?? 0)).toISOString().slice(0, 19).replace('T', ' ');
  }

  private cdr(t: number, f: { src: string; dst: string; dctx: string; cid: string; chan: Chan; dchan: string; app: string; data: string; start: number; answer: number | null; end: number; disposition: string }): void {
    const sec = (x: number): number => Math.floor(x / 1000);
    this.ev(t, 'Cdr', 'cdr,all', [
      ['AccountCode', ''], ['Source', f.src], ['Destination', f.dst], ['DestinationContext', f.dctx], ['CallerID', f.cid], ['Channel', f.chan.name],
      ['DestinationChannel', f.dchan], ['LastApplication', f.app], ['LastData', f.data], ['StartTime', this.fmtTime(f.start)], ['AnswerTime', this.fmtTime(f.answer)],
      ['EndTime', this.fmtTime(f.end)], ['Duration', String(sec(f.end) - sec(f.start))], ['BillableSeconds', String(f.answer === null ? 0 : sec(f.end) - sec(f.answer))],
      ['Disposition', f.disposition], ['AMAFlags', 'DOCUMENTATION'], ['UniqueID', f.chan.uniqueid], ['UserField', ''],
    ]);
  }

  private member(agent: string, queue: string): Member {
    const k = `${queue}\u0000${agent}`;
    let m = this.members.get(k);
    if (!m) {
      m = { queue, agent, name: this.agentName.get(agent) ?? `Agent ${agent}`, iface: `Local/${agent}@agents`, callsTaken: 0, lastCall: 0, lastPause: 0, loginTime: 0, inCall: 0, status: 1, paused: 0, reason: '' };
      this.members.set(k, m);
    }
    return m;
  }

  /** An epoch-seconds time as the PBX's clock shows it (0: never). */
  private epochS(s: number): string {
    return String(s === 0 ? 0 : s + Math.round((this.opts.clockSkewMs ?? 0) / 1000));
  }

  private memberBody(m: Member): Headers {
    return [
      ['Queue', m.queue], ['MemberName', m.name], ['Interface', m.iface], ['StateInterface', stateInterface(m.agent)], ['Membership', 'dynamic'], ['Penalty', '0'],
      ['CallsTaken', String(m.callsTaken)], ['LastCall', this.epochS(m.lastCall)], ['LastPause', this.epochS(m.lastPause)], ['LoginTime', this.epochS(m.loginTime)],
      ['InCall', String(m.inCall)], ['Status', String(m.status)], ['Paused', String(m.paused)], ['PausedReason', m.reason], ['Ringinuse', '0'], ['Wrapuptime', '0'],
    ];
  }

  private memberEvent(t: number, name: string, m: Member): void {
    this.ev(t, name, PRIV_AGENT, this.memberBody(m));
  }

  /** Member status across every queue the agent is logged into (device state is per interface). */
  private memberStatus(t: number, agent: string, status: number, only?: string): void {
    for (const m of this.members.values()) {
      if (m.agent !== agent || m.loginTime === 0 || (only && m.queue !== only)) continue;
      if (m.status === status) continue;
      m.status = status;
      this.memberEvent(t, 'QueueMemberStatus', m);
    }
  }

  private agentBody(ctx: CallCtx, agentOne: Chan, queue: string, agent: string): Headers {
    return [...this.snap(ctx.caller2), ...this.snap(agentOne, 'Dest'), ['Queue', queue], ['Interface', `Local/${agent}@agents`], ['MemberName', this.agentName.get(agent) ?? agent]];
  }

  private ctx(callId: string): CallCtx {
    const c = this.calls.get(callId);
    if (!c) throw new Error(`AMI renderer: action for unknown call ${callId} (PBX ${this.ledger.pbx})`);
    return c;
  }

  // ---- the fold ---------------------------------------------------------------------------

  private step(a: SimAction): void {
    const t = a.t;
    switch (a.kind) {
      case 'member_added': {
        const m = this.member(a.agent, a.queue);
        m.loginTime = Math.floor(t / 1000);
        // Re-added while on a call: in use, but InCall 0 (the call is not this membership's).
        m.status = this.onQueueCall.has(a.agent) ? 2 : 1;
        m.inCall = 0;
        m.paused = 0;
        m.reason = '';
        this.memberEvent(t, 'QueueMemberAdded', m);
        return;
      }
      case 'member_removed': {
        const m = this.member(a.agent, a.queue);
        this.memberEvent(t, 'QueueMemberRemoved', m);
        m.loginTime = 0;
        return;
      }
      case 'pause': {
        for (const m of this.members.values()) {
          if (m.agent !== a.agent || m.loginTime === 0) continue;
          m.paused = a.paused ? 1 : 0;
          m.reason = a.paused ? a.reason : '';
          if (a.paused) m.lastPause = Math.floor(t / 1000);
          this.memberEvent(t, 'QueueMemberPause', m);
        }
        return;
      }
      case 'call_in': {
        const call = this.callById.get(a.call_id)!;
        const [one, two] = this.localPair(t, call.number, 'callers');
        for (const c of [one, two]) {
          c.cidNum = c.connNum = call.number;
          c.cidName = c.connName = `Customer ${call.number}`;
        }
        this.calls.set(a.call_id, { caller1: one, caller2: two, agentLegs: new Map(), dialed: [], bridge: null, leg: null, consult: null, outbound: null });
        const unknown = { cidNum: '<unknown>', cidName: '<unknown>', connNum: '<unknown>', connName: '<unknown>' };
        this.ev(t, 'Newchannel', PRIV_CALL, this.snap({ ...one, ...unknown }));
        this.ev(t, 'Newchannel', PRIV_CALL, this.snap({ ...two, ...unknown }));
        // Originate sets the caller id after creating the pair (captures: NewCallerid, then
        // NewConnectedLine, per half), so call.started must not take the number from Newchannel.
        this.ev(t, 'NewCallerid', PRIV_CALL, [...this.snap({ ...one, connNum: '<unknown>', connName: '<unknown>' }), ['CID-CallingPres', CALLING_PRES]]);
        this.ev(t, 'NewConnectedLine', PRIV_CALL, this.snap(one));
        this.ev(t, 'NewCallerid', PRIV_CALL, [...this.snap(two), ['CID-CallingPres', CALLING_PRES]]);
        this.ev(t, 'NewConnectedLine', PRIV_CALL, this.snap(two));
        this.localBridge(t, one, two);
        this.ev(t, 'DialBegin', PRIV_CALL, [...this.snap(one, 'Dest'), ['DialString', `${call.number}@callers`]]);
        two.priority = 5;
        this.setState(t, two, 6);
        this.setState(t, one, 6);
        this.ev(t, 'DialEnd', PRIV_CALL, [...this.snap(one, 'Dest'), ['DialStatus', 'ANSWER']]);
        one.app = 'Wait';
        one.appData = '3600';
        two.app = 'Queue';
        return;
      }
      case 'queue_join': {
        const ctx = this.ctx(a.call_id);
        const w = this.waiting.get(a.queue)!;
        w.push({ call: a.call_id, chan: ctx.caller2, since: t });
        ctx.leg = { queue: a.queue, offered: t, origPos: w.length, connectedAt: 0, agent: '' };
        ctx.caller2.priority = 6;
        ctx.caller2.appData = `${a.queue},t`;
        this.ev(t, 'QueueCallerJoin', PRIV_AGENT, [...this.snap(ctx.caller2), ['Queue', a.queue], ['Position', String(w.length)], ['Count', String(w.length)]]);
        this.ev(t, 'MusicOnHoldStart', PRIV_CALL, [...this.snap(ctx.caller2), ['Class', 'default']]);
        return;
      }
      case 'ring': {
        const ctx = this.ctx(a.call_id);
        const [one, two] = this.localPair(t, a.agent, 'agents', ctx.caller1.uniqueid);
        ctx.agentLegs.set(a.agent, [one, two]);
        ctx.dialed.push({ agent: [one, two], answered: false, from: t, to: t });
        this.ev(t, 'Newchannel', PRIV_CALL, this.snap(one));
        this.ev(t, 'Newchannel', PRIV_CALL, this.snap(two));
        this.localBridge(t, one, two);
        for (const c of [one, two]) {
          c.cidNum = c.connNum = ctx.caller2.cidNum;
          c.cidName = c.connName = ctx.caller2.cidName;
        }
        this.ev(t, 'AgentCalled', PRIV_AGENT, this.agentBody(ctx, one, ctx.leg!.queue, a.agent));
        this.ev(t, 'DialBegin', PRIV_CALL, [...this.snap(ctx.caller2), ...this.snap(one, 'Dest'), ['DialString', `Local/${a.agent}@agents`]]);
        this.setState(t, one, 5);
        this.memberStatus(t, a.agent, 2);
        this.ev(t, 'DialState', PRIV_CALL, [...this.snap(ctx.caller2), ...this.snap(one, 'Dest'), ['DialStatus', 'RINGING']]);
        return;
      }
      case 'ring_end': {
        const ctx = this.ctx(a.call_id);
        const [one, two] = ctx.agentLegs.get(a.agent)!;
        ctx.agentLegs.delete(a.agent);
        const dialed = this.dialedOf(ctx, one);
        dialed.to = t;
        const noAnswer = a.outcome === 'no_answer';
        if (noAnswer) {
          this.ev(t, 'AgentRingNoAnswer', PRIV_AGENT, [...this.agentBody(ctx, one, ctx.leg!.queue, a.agent), ['RingTime', String(a.ring_ms)]]);
          this.ev(t, 'DialEnd', PRIV_CALL, [...this.snap(ctx.caller2), ...this.snap(one, 'Dest'), ['DialStatus', 'NOANSWER']]);
        }
        this.ev(t, 'DialEnd', PRIV_CALL, [...this.snap(ctx.caller2), ...this.snap(one, 'Dest'), ['DialStatus', 'CANCEL']]);
        const cause = noAnswer ? 0 : 26;
        const cdr = (disposition: string): void =>
          this.cdr(t, { src: ctx.caller2.cidNum, dst: a.agent, dctx: 'agents', cid: `"${ctx.caller2.cidName}" <${ctx.caller2.cidNum}>`, chan: two, dchan: '', app: 'Wait', data: '', start: dialed.from, answer: null, end: t, disposition });
        this.hangupRequest(t, two, cause);
        // A member that rang out: its row says FAILED, here before its Hangups (c_ringnoanswer).
        if (noAnswer) cdr('FAILED');
        this.hangup(t, one, cause);
        this.hangupRequest(t, two, 16, true);
        this.hangup(t, two, cause);
        if (!noAnswer) cdr('NO ANSWER');
        this.memberStatus(t, a.agent, 1);
        return;
      }
      case 'connect': {
        const ctx = this.ctx(a.call_id);
        const [one, two] = ctx.agentLegs.get(a.agent)!;
        const leg = ctx.leg!;
        this.setState(t, two, 6);
        this.setState(t, one, 6);
        this.ev(t, 'DialEnd', PRIV_CALL, [...this.snap(ctx.caller2), ...this.snap(one, 'Dest'), ['DialStatus', 'ANSWER']]);
        const losers = this.raceLost(t, ctx, a.losers ?? []);
        this.ev(t, 'MusicOnHoldStop', PRIV_CALL, this.snap(ctx.caller2));
        const pos = this.leaveWaiting(leg.queue, a.call_id);
        this.ev(t, 'QueueCallerLeave', PRIV_AGENT, [...this.snap(ctx.caller2), ['Queue', leg.queue], ['Position', String(pos)], ['Count', String(this.waiting.get(leg.queue)!.length)]]);
        const holdTime = Math.floor(t / 1000) - Math.floor(leg.offered / 1000);
        this.ev(t, 'AgentConnect', PRIV_AGENT, [...this.agentBody(ctx, one, leg.queue, a.agent), ['HoldTime', String(holdTime)], ['RingTime', String(Math.floor(a.ring_ms / 1000))]]);
        leg.connectedAt = t;
        leg.agent = a.agent;
        this.onQueueCall.add(a.agent);
        this.dialedOf(ctx, one).answered = true;
        for (const l of losers) this.memberStatus(t, l.agent, 1);
        const m = this.member(a.agent, leg.queue);
        m.inCall = 1;
        const bridge = this.newBridgeId();
        ctx.bridge = bridge;
        this.ev(t, 'BridgeCreate', PRIV_CALL, this.bridgeSnap(bridge, 0));
        one.bridge = ctx.caller2.bridge = bridge;
        this.ev(t, 'BridgeEnter', PRIV_CALL, [...this.bridgeSnap(bridge, 1), ...this.snap(one)]);
        // The losers' CDR rows come only now, after their Hangup (a_answered): by then the
        // caller is connected, and only the caller's side may decide the call's disposition.
        for (const l of losers) this.cdr(t, { src: ctx.caller2.cidNum, dst: l.agent, dctx: 'agents', cid: `"${ctx.caller2.cidName}" <${ctx.caller2.cidNum}>`, chan: l.two, dchan: '', app: 'Wait', data: '', start: l.from, answer: null, end: t, disposition: 'NO ANSWER' });
        this.ev(t, 'BridgeEnter', PRIV_CALL, [...this.bridgeSnap(bridge, 2), ...this.snap(ctx.caller2)]);
        one.app = two.app = 'Wait';
        return;
      }
      case 'abandon':
      case 'queue_timeout': {
        const ctx = this.ctx(a.call_id);
        const leg = ctx.leg!;
        const q = leg.queue;
        this.ev(t, 'MusicOnHoldStop', PRIV_CALL, this.snap(ctx.caller2));
        const pos = this.leaveWaiting(q, a.call_id);
        const holdTime = Math.floor(t / 1000) - Math.floor(leg.offered / 1000);
        this.ev(t, 'QueueCallerAbandon', PRIV_AGENT, [...this.snap(ctx.caller2), ['Queue', q], ['Position', String(pos)], ['OriginalPosition', String(leg.origPos)], ['HoldTime', String(holdTime)]]);
        this.ev(t, 'QueueCallerLeave', PRIV_AGENT, [...this.snap(ctx.caller2), ['Queue', q], ['Position', String(pos)], ['Count', String(this.waiting.get(q)!.length)]]);
        if (a.kind === 'abandon') this.stats.get(q)!.abandoned++;
        else {
          ctx.caller2.priority = 7;
          this.ev(t, 'VarSet', 'dialplan,all', [...this.snap(ctx.caller2), ['Variable', 'QUEUESTATUS'], ['Value', 'TIMEOUT']]);
        }
        ctx.leg = null;
        return;
      }
      case 'hold': {
        const ctx = this.ctx(a.call_id);
        const one = this.agentChan(ctx, a.agent);
        // AMI Atxfer plays the atxfer feature code (*2) into the agent's ;1, which holds the
        // caller, then dials the target's digits (captures h_attended_transfer).
        if (a.consult_to !== undefined) for (const d of '*2') this.dtmf(t, one, d);
        this.ev(t, 'Hold', PRIV_CALL, [...this.snap(one), ['MusicClass', 'default']]);
        this.ev(t, 'MusicOnHoldStart', PRIV_CALL, [...this.snap(ctx.caller2), ['Class', 'default']]);
        if (a.consult_to !== undefined) for (const d of a.consult_to) this.dtmf(t, one, d);
        return;
      }
      case 'unhold': {
        const ctx = this.ctx(a.call_id);
        const one = this.agentChan(ctx, a.agent);
        this.ev(t, 'Unhold', PRIV_CALL, this.snap(one));
        this.ev(t, 'MusicOnHoldStop', PRIV_CALL, this.snap(ctx.caller2));
        return;
      }
      case 'blind_transfer': {
        const ctx = this.ctx(a.call_id);
        const [one, two] = ctx.agentLegs.get(a.agent)!;
        const bridge = ctx.bridge!;
        this.ev(t, 'BlindTransfer', PRIV_CALL, [
          ['Result', 'Success'], ...this.snap(one, 'Transferer'), ...this.snap(ctx.caller2, 'Transferee'), ...this.bridgeSnap(bridge, 2),
          ['IsExternal', 'Yes'], ['Context', 'transfer'], ['Extension', a.to_queue],
        ]);
        this.ev(t, 'BridgeLeave', PRIV_CALL, [...this.bridgeSnap(bridge, 1), ...this.snap(one)]);
        this.hangupRequest(t, two, 16);
        this.agentComplete(t, ctx, a.agent, 'transfer');
        ctx.caller2.context = 'transfer';
        ctx.caller2.exten = a.to_queue;
        ctx.caller2.priority = 1;
        this.ev(t, 'BridgeLeave', PRIV_CALL, [...this.bridgeSnap(bridge, 0), ...this.snap(ctx.caller2)]);
        this.hangup(t, one, 16);
        this.hangupRequest(t, two, 16, true);
        this.hangup(t, two, 16);
        this.ev(t, 'BridgeDestroy', PRIV_CALL, this.bridgeSnap(bridge, 0));
        this.agentCdr(t, ctx, a.agent, two);
        ctx.agentLegs.delete(a.agent);
        ctx.bridge = null;
        ctx.caller2.bridge = '';
        return;
      }
      case 'consult_ring': {
        // The consultation is a Local pair to the target's queue-member interface with no
        // DialBegin and no caller channel on its DialState/DialEnd; the transferring agent's ;1
        // moves from the caller's bridge into the consultation bridge.
        const ctx = this.ctx(a.call_id);
        const [aOne] = ctx.agentLegs.get(a.agent)!;
        const [one, two] = this.localPair(t, a.target, 'agents', ctx.caller1.uniqueid);
        const bridge = this.newBridgeId();
        ctx.consult = { one, two, bridge, agent: a.agent, target: a.target };
        this.ev(t, 'Newchannel', PRIV_CALL, this.snap(one));
        this.ev(t, 'Newchannel', PRIV_CALL, this.snap(two));
        this.ev(t, 'BridgeCreate', PRIV_CALL, this.bridgeSnap(bridge, 0));
        two.cidNum = ctx.caller2.cidNum;
        two.cidName = ctx.caller2.cidName;
        this.ev(t, 'NewCallerid', PRIV_CALL, [...this.snap(two), ['CID-CallingPres', CALLING_PRES]]);
        this.localBridge(t, one, two);
        this.setState(t, one, 5);
        one.connNum = ctx.caller2.cidNum;
        one.connName = ctx.caller2.cidName;
        this.ev(t, 'NewConnectedLine', PRIV_CALL, this.snap(one));
        one.bridge = bridge;
        this.ev(t, 'BridgeEnter', PRIV_CALL, [...this.bridgeSnap(bridge, 1), ...this.snap(one)]);
        this.ev(t, 'DialState', PRIV_CALL, [...this.snap(one, 'Dest'), ['DialStatus', 'RINGING']]);
        this.memberStatus(t, a.target, 2);
        this.ev(t, 'BridgeLeave', PRIV_CALL, [...this.bridgeSnap(ctx.bridge!, 1), ...this.snap(aOne)]);
        aOne.bridge = bridge;
        this.ev(t, 'BridgeEnter', PRIV_CALL, [...this.bridgeSnap(bridge, 2), ...this.snap(aOne)]);
        this.ev(t, 'NewConnectedLine', PRIV_CALL, this.snap(aOne));
        return;
      }
      case 'consult_answer': {
        const c = this.ctx(a.call_id).consult!;
        this.setState(t, c.two, 6);
        this.setState(t, c.one, 6);
        this.ev(t, 'DialEnd', PRIV_CALL, [...this.snap(c.one, 'Dest'), ['DialStatus', 'ANSWER']]);
        return;
      }
      case 'consult_cancel': {
        // The agent hangs up the unanswered consultation: back in the caller's bridge, with an
        // Unhold this time, and a NO ANSWER CDR row for the target (captures: h3).
        const ctx = this.ctx(a.call_id);
        const c = ctx.consult!;
        const [aOne] = ctx.agentLegs.get(a.agent)!;
        const bridge = ctx.bridge!;
        this.ev(t, 'BridgeLeave', PRIV_CALL, [...this.bridgeSnap(c.bridge, 1), ...this.snap(c.one)]);
        this.hangupRequest(t, c.two, 16);
        this.ev(t, 'BridgeLeave', PRIV_CALL, [...this.bridgeSnap(c.bridge, 0), ...this.snap(aOne)]);
        this.cdr(t, { src: ctx.caller2.cidNum, dst: a.target, dctx: 'agents', cid: `"${ctx.caller2.cidName}" <${ctx.caller2.cidNum}>`, chan: c.two, dchan: '', app: 'Wait', data: '', start: c.one.created, answer: null, end: t, disposition: 'NO ANSWER' });
        aOne.bridge = bridge;
        this.ev(t, 'BridgeEnter', PRIV_CALL, [...this.bridgeSnap(bridge, 2), ...this.snap(aOne)]);
        this.hangupRequest(t, c.two, 16, true);
        this.hangup(t, c.two, 16);
        this.ev(t, 'MusicOnHoldStop', PRIV_CALL, this.snap(ctx.caller2));
        this.memberStatus(t, a.target, 1);
        this.ev(t, 'Unhold', PRIV_CALL, this.snap(aOne));
        this.ev(t, 'BridgeDestroy', PRIV_CALL, this.bridgeSnap(c.bridge, 0));
        this.hangup(t, c.one, 16);
        ctx.consult = null;
        return;
      }
      case 'attended_transfer': {
        // Completed by the transferring agent hanging up its leg: the consultation bridge merges
        // into the caller's, and the agent's queue leg completes with Reason transfer — no Unhold.
        const ctx = this.ctx(a.call_id);
        const c = ctx.consult!;
        const [one, two] = ctx.agentLegs.get(a.agent)!;
        const bridge = ctx.bridge!;
        this.hangupRequest(t, two, 16, true);
        this.hangupRequest(t, one, 0);
        this.ev(t, 'BridgeLeave', PRIV_CALL, [...this.bridgeSnap(c.bridge, 1), ...this.snap(one)]);
        this.ev(t, 'BridgeMerge', PRIV_CALL, [...this.bridgeSnap(bridge, 1, 'To'), ...this.bridgeSnap(c.bridge, 1, 'From')]);
        this.ev(t, 'BridgeLeave', PRIV_CALL, [...this.bridgeSnap(c.bridge, 0), ...this.snap(c.one)]);
        c.one.bridge = bridge;
        this.ev(t, 'BridgeEnter', PRIV_CALL, [...this.bridgeSnap(bridge, 2), ...this.snap(c.one)]);
        this.ev(t, 'MusicOnHoldStop', PRIV_CALL, this.snap(ctx.caller2));
        this.agentCdr(t, ctx, a.agent, two);
        this.ev(t, 'AttendedTransfer', PRIV_CALL, [
          ['Result', 'Success'], ...this.snap(one, 'OrigTransferer'), ...this.bridgeSnap(bridge, 2, 'Orig'), ...this.snap(one, 'SecondTransferer'),
          ...this.bridgeSnap(c.bridge, 0, 'Second'), ...this.snap(ctx.caller2, 'Transferee'), ...this.snap(c.one, 'TransferTarget'),
          ['IsExternal', 'No'], ['DestType', 'Bridge'], ['DestBridgeUniqueid', bridge],
        ]);
        this.hangup(t, two, 0);
        this.agentComplete(t, ctx, a.agent, 'transfer');
        this.ev(t, 'BridgeDestroy', PRIV_CALL, this.bridgeSnap(c.bridge, 0));
        this.hangup(t, one, 16);
        ctx.agentLegs.delete(a.agent);
        // The caller's side gets a CDR row towards the target, as for a queue member it dialled.
        ctx.dialed.push({ agent: [c.one, c.two], answered: true, from: t, to: t });
        return;
      }
      case 'agent_complete': {
        if (a.reason === 'transfer') return; // rendered with the transfer itself
        const ctx = this.ctx(a.call_id);
        const [one, two] = ctx.agentLegs.get(a.agent)!;
        const bridge = ctx.bridge!;
        if (a.reason === 'agent') {
          this.hangupRequest(t, two, 16, true);
          this.hangupRequest(t, one, 16);
          this.hangup(t, two, 16);
          this.agentComplete(t, ctx, a.agent, 'agent');
          this.ev(t, 'BridgeLeave', PRIV_CALL, [...this.bridgeSnap(bridge, 1), ...this.snap(one)]);
          this.ev(t, 'BridgeLeave', PRIV_CALL, [...this.bridgeSnap(bridge, 0), ...this.snap(ctx.caller2)]);
          this.hangup(t, one, 16);
        } else {
          this.hangupRequest(t, ctx.caller1, 16);
          this.hangupRequest(t, ctx.caller2, 16, true);
          ctx.hungUp = true;
          this.agentComplete(t, ctx, a.agent, 'caller');
          this.ev(t, 'BridgeLeave', PRIV_CALL, [...this.bridgeSnap(bridge, 1), ...this.snap(ctx.caller2)]);
          this.ev(t, 'BridgeLeave', PRIV_CALL, [...this.bridgeSnap(bridge, 0), ...this.snap(one)]);
          this.hangupRequest(t, one, 16, true);
          this.hangup(t, one, 16);
          this.hangup(t, two, 16);
        }
        this.ev(t, 'BridgeDestroy', PRIV_CALL, this.bridgeSnap(bridge, 0));
        this.agentCdr(t, ctx, a.agent, two);
        ctx.agentLegs.delete(a.agent);
        ctx.bridge = null;
        return;
      }
      case 'call_end': {
        const ctx = this.calls.get(a.call_id);
        if (!ctx) return;
        const call = this.callById.get(a.call_id)!;
        if (ctx.outbound) return; // outbound calls end in outbound_end
        if (ctx.consult && ctx.bridge) {
          // the transfer target hangs up the call it took over (captures: h2)
          const c = ctx.consult;
          this.hangupRequest(t, c.two, 16, true);
          this.hangupRequest(t, c.one, 0);
          this.ev(t, 'BridgeLeave', PRIV_CALL, [...this.bridgeSnap(ctx.bridge, 1), ...this.snap(c.one)]);
          this.ev(t, 'BridgeLeave', PRIV_CALL, [...this.bridgeSnap(ctx.bridge, 0), ...this.snap(ctx.caller2)]);
          this.ev(t, 'BridgeDestroy', PRIV_CALL, this.bridgeSnap(ctx.bridge, 0));
          this.hangup(t, c.two, 0);
          this.hangup(t, c.one, 16);
          this.memberStatus(t, c.target, 1);
          this.cdr(t, { src: '', dst: c.target, dctx: 'agents', cid: `"${ctx.caller2.cidName}" <${ctx.caller2.cidNum}>`, chan: c.one, dchan: '', app: '', data: '', start: c.one.created, answer: c.one.created, end: t, disposition: 'ANSWERED' });
        }
        if (!ctx.hungUp) {
          this.hangupRequest(t, ctx.caller2, 16, true);
          this.hangupRequest(t, ctx.caller1, 16);
        }
        if (this.channels.has(ctx.caller2.uniqueid)) this.hangup(t, ctx.caller2, 16);
        if (this.channels.has(ctx.caller1.uniqueid)) this.hangup(t, ctx.caller1, 16);
        const cid = `"${ctx.caller1.cidName}" <${ctx.caller1.cidNum}>`;
        for (const d of ctx.dialed) {
          // Towards a member that did not answer (rang out, lost a race) the row says NO ANSWER
          // (j_restart's cdr.csv); the caller's own ;1 row below decides the call.
          this.cdr(t, { src: call.number, dst: call.number, dctx: 'callers', cid, chan: ctx.caller2, dchan: d.agent[0].name, app: 'Queue', data: ctx.caller2.appData, start: call.started_at_ms, answer: call.started_at_ms, end: d.answered ? t : d.to, disposition: d.answered ? 'ANSWERED' : 'NO ANSWER' });
        }
        this.cdr(t, { src: call.number, dst: call.number, dctx: 'callers', cid, chan: ctx.caller1, dchan: '', app: 'Wait', data: '3600', start: call.started_at_ms, answer: call.started_at_ms, end: t, disposition: call.disposition });
        this.calls.delete(a.call_id);
        return;
      }
      case 'pbx_restart': {
        // `core restart now` (j_restart): a SoftHangupRequest on every channel first; the
        // abandons, completions and hang-ups of each call follow as their own actions.
        for (const c of this.channels.values()) this.hangupRequest(t, c, 4, true);
        return;
      }
      case 'pbx_shutdown':
        this.ev(t, 'Shutdown', 'system,all', [['Shutdown', 'Cleanly'], ['Restart', 'True']]);
        this.newProcess();
        return;
      case 'pbx_crash':
        // `kill -9`: not a frame more, not even for the calls it cut (the AMI server drops the
        // connections); the process that comes back is as empty as after a restart.
        this.newProcess();
        return;
      case 'pbx_up':
        // Nothing on the wire: the AMI server opens again, with a new banner and FullyBooted.
        return;
      case 'outbound_start': {
        const call = this.callById.get(a.call_id)!;
        const phone = this.newChan(t, `PJSIP/${a.agent}-${(this.localSeq++).toString(16).padStart(8, '0')}`, 4, 'from-internal', call.number);
        const trunk = this.newChan(t, `PJSIP/trunk-${(this.localSeq++).toString(16).padStart(8, '0')}`, 0, 'from-trunk', call.number, phone.uniqueid);
        phone.cidNum = trunk.connNum = a.agent;
        phone.cidName = trunk.connName = this.agentName.get(a.agent) ?? a.agent;
        trunk.cidNum = phone.connNum = call.number;
        trunk.cidName = phone.connName = call.number;
        phone.app = 'Dial';
        phone.appData = `PJSIP/${call.number}@trunk`;
        this.calls.set(a.call_id, { caller1: phone, caller2: trunk, agentLegs: new Map(), dialed: [], bridge: null, leg: null, consult: null, outbound: { phone, trunk, answered: null } });
        this.ev(t, 'Newchannel', PRIV_CALL, this.snap(phone));
        this.ev(t, 'Newchannel', PRIV_CALL, this.snap(trunk));
        this.ev(t, 'DialBegin', PRIV_CALL, [...this.snap(phone), ...this.snap(trunk, 'Dest'), ['DialString', `${call.number}@trunk`]]);
        this.memberStatus(t, a.agent, 2);
        this.setState(t, trunk, 5);
        return;
      }
      case 'outbound_answer': {
        const ctx = this.ctx(a.call_id);
        const o = ctx.outbound!;
        o.answered = t;
        this.setState(t, o.trunk, 6);
        this.setState(t, o.phone, 6);
        this.ev(t, 'DialEnd', PRIV_CALL, [...this.snap(o.phone), ...this.snap(o.trunk, 'Dest'), ['DialStatus', 'ANSWER']]);
        const bridge = this.newBridgeId();
        ctx.bridge = bridge;
        this.ev(t, 'BridgeCreate', PRIV_CALL, this.bridgeSnap(bridge, 0));
        this.ev(t, 'BridgeEnter', PRIV_CALL, [...this.bridgeSnap(bridge, 1), ...this.snap(o.phone)]);
        this.ev(t, 'BridgeEnter', PRIV_CALL, [...this.bridgeSnap(bridge, 2), ...this.snap(o.trunk)]);
        return;
      }
      case 'outbound_end': {
        const ctx = this.ctx(a.call_id);
        const o = ctx.outbound!;
        const call = this.callById.get(a.call_id)!;
        if (o.answered !== null) {
          this.hangupRequest(t, o.phone, 16);
          this.ev(t, 'BridgeLeave', PRIV_CALL, [...this.bridgeSnap(ctx.bridge!, 1), ...this.snap(o.phone)]);
          this.ev(t, 'BridgeLeave', PRIV_CALL, [...this.bridgeSnap(ctx.bridge!, 0), ...this.snap(o.trunk)]);
          this.ev(t, 'BridgeDestroy', PRIV_CALL, this.bridgeSnap(ctx.bridge!, 0));
          this.hangup(t, o.trunk, 16);
          this.hangup(t, o.phone, 16);
        } else {
          const busy = a.disposition === 'BUSY';
          this.ev(t, 'DialEnd', PRIV_CALL, [...this.snap(o.phone), ...this.snap(o.trunk, 'Dest'), ['DialStatus', busy ? 'BUSY' : 'NOANSWER']]);
          this.hangup(t, o.trunk, busy ? 17 : 19);
          this.hangup(t, o.phone, busy ? 17 : 19);
        }
        this.memberStatus(t, a.agent, 1);
        this.cdr(t, { src: a.agent, dst: call.number, dctx: 'from-internal', cid: `"${o.phone.cidName}" <${a.agent}>`, chan: o.phone, dchan: o.trunk.name, app: 'Dial', data: o.phone.appData, start: call.started_at_ms, answer: o.answered, end: t, disposition: a.disposition });
        this.calls.delete(a.call_id);
        return;
      }
    }
  }

  /**
   * The new process starts empty: no channel, no dynamic member (persistentmembers=no, and no
   * QueueMemberRemoved for them), its counters at 0, Uniqueids and Local channel numbers from the
   * start again under the new epoch.
   */
  private newProcess(): void {
    this.members.clear();
    this.onQueueCall.clear();
    this.channels.clear();
    this.calls.clear();
    for (const q of this.ledger.queues) {
      this.waiting.set(q.queue, []);
      this.stats.set(q.queue, { completed: 0, abandoned: 0 });
    }
    this.uid = 0;
    this.localSeq = 0;
  }

  private dtmf(t: number, c: Chan, digit: string): void {
    this.ev(t, 'DTMFEnd', 'dtmf,all', [...this.snap(c), ['Digit', digit], ['DurationMs', '0'], ['Direction', 'Received']]);
  }

  private agentChan(ctx: CallCtx, agent: string): Chan {
    const pair = ctx.agentLegs.get(agent);
    if (!pair) throw new Error(`AMI renderer: agent ${agent} has no channel on this call (PBX ${this.ledger.pbx})`);
    return pair[0];
  }

  private agentComplete(t: number, ctx: CallCtx, agent: string, reason: string): void {
    const leg = ctx.leg!;
    const [one] = ctx.agentLegs.get(agent)!;
    const holdTime = Math.floor(leg.connectedAt / 1000) - Math.floor(leg.offered / 1000);
    const talkTime = Math.floor(t / 1000) - Math.floor(leg.connectedAt / 1000);
    this.ev(t, 'AgentComplete', PRIV_AGENT, [...this.agentBody(ctx, one, leg.queue, agent), ['HoldTime', String(holdTime)], ['TalkTime', String(talkTime)], ['Reason', reason]]);
    this.stats.get(leg.queue)!.completed++;
    const m = this.member(agent, leg.queue);
    m.callsTaken++;
    m.lastCall = Math.floor(t / 1000);
    m.inCall = 0;
    this.onQueueCall.delete(agent);
    for (const x of this.members.values()) if (x.agent === agent && x.loginTime && x.queue !== leg.queue) x.lastCall = m.lastCall;
    m.status = 2; // forces the status event below, as Asterisk sends one after the stats update
    this.memberStatus(t, agent, 1, leg.queue);
    this.memberStatus(t, agent, 1);
    ctx.leg = null;
  }

  private dialedOf(ctx: CallCtx, one: Chan): CallCtx['dialed'][number] {
    const d = ctx.dialed.findLast((x) => x.agent[0] === one);
    if (!d) throw new Error(`AMI renderer: ${one.name} was never dialled (PBX ${this.ledger.pbx})`);
    return d;
  }

  /**
   * The members that lost a ring-all race, torn down as Asterisk 22 does when another member
   * answers (a_answered): two cancelled DialEnds each, the ;1 hung up with cause 26 (answered
   * elsewhere), then each ;2. Their CDR rows are left to the caller (after the Hangups).
   */
  private raceLost(t: number, ctx: CallCtx, agents: string[]): { agent: string; two: Chan; from: number }[] {
    const out: { agent: string; one: Chan; two: Chan; from: number }[] = [];
    for (const agent of agents) {
      const [one, two] = ctx.agentLegs.get(agent)!;
      ctx.agentLegs.delete(agent);
      const d = this.dialedOf(ctx, one);
      d.to = t;
      out.push({ agent, one, two, from: d.from });
      this.ev(t, 'DialEnd', PRIV_CALL, [...this.snap(ctx.caller2), ...this.snap(one, 'Dest'), ['DialStatus', 'CANCEL']]);
    }
    for (const l of out) {
      this.ev(t, 'DialEnd', PRIV_CALL, [...this.snap(ctx.caller2), ...this.snap(l.one, 'Dest'), ['DialStatus', 'CANCEL']]);
      this.hangupRequest(t, l.two, 26);
      this.hangup(t, l.one, 26);
    }
    for (const l of out) {
      this.hangupRequest(t, l.two, 16, true);
      this.hangup(t, l.two, 26);
    }
    return out;
  }

  private agentCdr(t: number, ctx: CallCtx, agent: string, two: Chan): void {
    const d = ctx.dialed.findLast((x) => x.agent[1] === two)!;
    d.to = t;
    this.cdr(t, { src: ctx.caller2.cidNum, dst: agent, dctx: 'agents', cid: `"${ctx.caller2.cidName}" <${ctx.caller2.cidNum}>`, chan: two, dchan: '', app: 'Hangup', data: '', start: d.from, answer: d.from, end: t, disposition: 'ANSWERED' });
  }

  private leaveWaiting(queue: string, callId: string): number {
    const w = this.waiting.get(queue)!;
    const i = w.findIndex((x) => x.call === callId);
    if (i >= 0) w.splice(i, 1);
    return i + 1;
  }

  // ---- resync: what QueueStatus / CoreShowChannels would answer now ------------------------

  queueStatus(t: number, actionId: string, queueFilter?: string): Headers[] {
    const items: Headers[] = [];
    const sl = this.opts.serviceLevelS ?? 20;
    for (const q of this.ledger.queues) {
      if (queueFilter && q.queue !== queueFilter) continue;
      const s = this.stats.get(q.queue)!;
      const w = this.waiting.get(q.queue)!;
      items.push([
        ['Event', 'QueueParams'], ['Queue', q.queue], ['Max', '0'], ['Strategy', this.opts.strategy ?? 'rrmemory'], ['Calls', String(w.length)], ['Holdtime', '0'],
        ['TalkTime', '0'], ['Completed', String(s.completed)], ['Abandoned', String(s.abandoned)], ['ServiceLevel', String(sl)], ['ServicelevelPerf', '0.0'],
        ['ServicelevelPerf2', '0.0'], ['Weight', '0'], ['ActionID', actionId],
      ]);
      for (const m of this.members.values()) {
        if (m.queue !== q.queue || m.loginTime === 0) continue;
        items.push([
          ['Event', 'QueueMember'], ['Queue', m.queue], ['Name', m.name], ['Location', m.iface], ['StateInterface', stateInterface(m.agent)], ['Membership', 'dynamic'],
          ['Penalty', '0'], ['CallsTaken', String(m.callsTaken)], ['LastCall', this.epochS(m.lastCall)], ['LastPause', this.epochS(m.lastPause)], ['LoginTime', this.epochS(m.loginTime)],
          ['InCall', String(m.inCall)], ['Status', String(m.status)], ['Paused', String(m.paused)], ['PausedReason', m.reason], ['Wrapuptime', '0'], ['ActionID', actionId],
        ]);
      }
      w.forEach((e, i) => {
        items.push([
          ['Event', 'QueueEntry'], ['Queue', q.queue], ['Position', String(i + 1)], ['Channel', e.chan.name], ['Uniqueid', e.chan.uniqueid],
          ['CallerIDNum', e.chan.cidNum], ['CallerIDName', e.chan.cidName], ['ConnectedLineNum', e.chan.connNum], ['ConnectedLineName', e.chan.connName],
          ['Wait', String(Math.floor((t - e.since) / 1000))], ['Priority', '0'], ['ActionID', actionId],
        ]);
      });
    }
    items.push([['Event', 'QueueStatusComplete'], ['ActionID', actionId], ['EventList', 'Complete'], ['ListItems', String(items.length)]]);
    return items;
  }

  coreShowChannels(t: number, actionId: string): Headers[] {
    const items: Headers[] = [];
    for (const c of this.channels.values()) {
      const d = Math.max(0, Math.floor((t - c.created) / 1000));
      const hms = [Math.floor(d / 3600), Math.floor(d / 60) % 60, d % 60].map((x) => String(x).padStart(2, '0')).join(':');
      items.push([['Event', 'CoreShowChannel'], ['ActionID', actionId], ...this.snap(c), ['Application', c.app], ['ApplicationData', c.appData], ['Duration', hms], ['BridgeId', c.bridge]]);
    }
    items.push([['Event', 'CoreShowChannelsComplete'], ['ActionID', actionId], ['EventList', 'Complete'], ['ListItems', String(items.length)]]);
    return items;
  }
}

/**
 * Members are reached through Local channels but watched through their phone, as FreePBX-style
 * setups do (`state_interface`): that is how Asterisk tells the queue an agent is busy on a call
 * that did not come from the queue (an outbound call, a transferred call).
 */
function stateInterface(agent: string): string {
  return `PJSIP/${agent}`;
}

/** Wire form: `Key: Value` lines, CRLF, a blank line closes the frame. */
export function frameToWire(h: Headers): string {
  return h.map(([k, v]) => `${k}: ${v}`).join('\r\n') + '\r\n\r\n';
}

/** Renders a whole run; convenient for tests and for files. */
export function renderAmi(ledger: Ledger, actions: readonly SimAction[], opts?: AmiRenderOptions): AmiFrame[] {
  const r = new AmiRenderer(ledger, opts);
  const out: AmiFrame[] = [];
  for (const a of actions) for (const f of r.render(a)) out.push(f);
  return out;
}

// Renders the model's timeline as a Yeastar S-Series PBX reports it (API v2.0.0 HTTP reports,
// ../shared/reference/yeastar.md §2): `CallStatus` with the whole member list of a call each
// time (`ext` / `inbound` / `outbound`, `memberstatus`, `callpath` = the queue number), `Tranfer`
// (sic) after a transfer, `NewCdr` with a PBX-local `timestart` and durations as strings, and
// `ExtensionStatus` as an extension's channels change (Ringing, Busy, Registered) or its phone
// signs on and off.
//
// The call model is the P-Series renderer's (yeastar-p-render.ts): both product lines list a
// call's members the same way and differ in wire form, so the P frames are rewritten in S form
// here rather than the call logic written twice. What the S-Series does not report is left out:
// it has no queue log-in, log-out or pause report (only QueueAutoPause), so an agent's first
// queue log-in is its phone registering, its last log-out the phone unregistering, and pauses
// are not seen at all. Like the P-Series, reports carry no event time: the adapter stamps
// receive time, so a live S-Series simulation must run in real time.
import type { Ledger } from './ledger.ts';
import type { SimAction } from './model.ts';
import { YeastarPRenderer, type YeastarPRenderOptions } from './yeastar-p-render.ts';
import { sCallStatus, sExtensionStatus, sTransfer, type SMember, type SMemberStatus } from './yeastar-s-pusher.ts';

export interface YeastarSReport {
  /** Model time (UTC ms) the PBX sends the report. */
  t: number;
  report: Record<string, unknown>;
}

export interface YeastarSRenderOptions extends YeastarPRenderOptions {
  /** The PBX's serial number, in every report. */
  sn?: string;
}

type ExtStatus = 'Ringing' | 'Busy' | 'Registered' | 'Unregistered';
type Json = Record<string, unknown>;

const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

export class YeastarSRenderer {
  private readonly p: YeastarPRenderer;
  private readonly sn: string;
  /** Per call: its extensions' phase now (a member gone is dropped). */
  private readonly calls = new Map<string, Map<string, 'ringing' | 'busy'>>();
  /** Queues each agent is logged in to (the phone is registered while there is one). */
  private readonly queues = new Map<string, number>();
  /** The last ExtensionStatus sent per extension. */
  private readonly sent = new Map<string, ExtStatus>();
  private out: YeastarSReport[] = [];

  constructor(ledger: Ledger, o: YeastarSRenderOptions) {
    this.p = new YeastarPRenderer(ledger, o);
    this.sn = o.sn ?? '369451090405';
  }

  render(a: SimAction): YeastarSReport[] {
    this.out = [];
    for (const push of this.p.render(a)) this.convert(push.t, push.type, push.msg);
    return this.out;
  }

  private convert(t: number, type: number, msg: Json): void {
    switch (type) {
      case 30011:
      case 30013: {
        const callId = str(msg.call_id);
        const members = (msg.members as Json[]).map(sMemberOf);
        // The caller's side says ANSWERED, the called side ANSWER (reference §2.4): an inbound
        // call's agents and an outbound call's far end are the called side.
        const inbound = members.some((m) => 'inbound' in m);
        for (const m of members) if (m.status === 'ANSWERED' && (inbound ? 'ext' in m : 'outbound' in m)) m.status = 'ANSWER';
        this.out.push({ t, report: type === 30011 ? sCallStatus(this.sn, callId, members) : sTransfer(this.sn, callId, members) });
        this.extensions(t, callId, members, type === 30013);
        return;
      }
      case 30012:
        this.out.push({ t, report: sCdrOf(this.sn, msg) });
        return;
      case 30029: {
        const agent = str(msg.agent_number);
        const status = str(msg.status).toLowerCase();
        const n = this.queues.get(agent) ?? 0;
        if (status === 'login') {
          this.queues.set(agent, n + 1);
          if (n === 0) this.extension(t, agent);
        } else if (status === 'logout') {
          this.queues.set(agent, Math.max(0, n - 1));
          if (n === 1) this.extension(t, agent);
        }
        return;
      }
    }
  }

  /** A call's members changed: the extensions whose status follows from it. */
  private extensions(t: number, callId: string, members: SMember[], transfer: boolean): void {
    const before = this.calls.get(callId) ?? new Map<string, 'ringing' | 'busy'>();
    const now = new Map<string, 'ringing' | 'busy'>();
    for (const m of members) {
      if (!('ext' in m)) continue;
      // A transfer lists its parties without a status: they are talking.
      const s = transfer ? 'ANSWER' : m.status;
      if (s === 'RING') now.set(m.ext, 'ringing');
      else if (s && s !== 'BYE') now.set(m.ext, 'busy');
    }
    if (now.size) this.calls.set(callId, now);
    else this.calls.delete(callId);
    for (const ext of new Set([...before.keys(), ...now.keys()])) this.extension(t, ext);
  }

  /** Sends ExtensionStatus when what the extension is doing changed. */
  private extension(t: number, ext: string): void {
    const phases = [...this.calls.values()].map((c) => c.get(ext));
    const status: ExtStatus = phases.includes('busy') ? 'Busy' : phases.includes('ringing') ? 'Ringing' : (this.queues.get(ext) ?? 0) > 0 ? 'Registered' : 'Unregistered';
    if (this.sent.get(ext) === status || (status === 'Unregistered' && !this.sent.has(ext))) return;
    this.sent.set(ext, status);
    this.out.push({ t, report: sExtensionStatus(this.sn, ext, status) });
  }
}

/** A P-Series member (wire form) as the S-Series lists it. */
function sMemberOf(m: Json): SMember {
  const [kind, v] = Object.entries(m)[0] as ['extension' | 'inbound' | 'outbound', Json];
  const common = { channel: str(v.channel_id), status: str(v.member_status) as SMemberStatus, callpath: str(v.call_path) };
  if (kind === 'extension') return { ext: str(v.number), ...common };
  const party = { from: str(v.from), to: str(v.to), trunk: str(v.trunk_name) };
  return kind === 'inbound' ? { inbound: party, ...common } : { outbound: party, ...common };
}

/** A P-Series 30012 CDR as the S-Series `NewCdr`: the v2 names (and misspellings), every number a string. */
function sCdrOf(sn: string, c: Json): Json {
  return {
    event: 'NewCdr',
    callid: str(c.call_id),
    timestart: str(c.time_start),
    callfrom: str(c.call_from),
    callto: str(c.call_to),
    callduraction: str(c.call_duration), // (sic)
    talkduraction: str(c.talk_duration), // (sic)
    srctrunkname: str(c.src_trunk_name),
    dsttrcunkname: str(c.dst_trunk_name), // (sic)
    pincode: '',
    status: str(c.status),
    type: str(c.type),
    recording: '',
    didnumber: str(c.did_number),
    agentringtime: str(c.agent_ring_time),
    sn,
  };
}

/** A whole run as reports, for files and tests. */
export function renderYeastarS(ledger: Ledger, actions: readonly SimAction[], o: YeastarSRenderOptions): YeastarSReport[] {
  const r = new YeastarSRenderer(ledger, o);
  return actions.flatMap((a) => r.render(a));
}

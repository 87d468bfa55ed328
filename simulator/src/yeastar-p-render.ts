// Renders the model's timeline as a Yeastar P-Series PBX reports it over its OpenAPI WebSocket:
// 30011 call-status snapshots (the whole member list of a call each time), 30013 transfers,
// 30012 CDRs with PBX-local start times, 30029 agent status (login, logout, pause). Pure fold;
// the message bodies come from the fake server's builders (yeastar-p-server.ts).
// Yeastar messages carry no event time: the adapter stamps receive time, so a live P-Series
// simulation must run in real time for its figures to match the model's clock.
import type { Ledger } from './ledger.ts';
import type { SimAction } from './model.ts';
import { pAgentStatus, pCallStatus, pCallTransfer, pNewCdr, type PMember } from './yeastar-p-server.ts';

export interface YeastarPush {
  /** Model time (UTC ms) the PBX sends the message. */
  t: number;
  type: number;
  msg: Record<string, unknown>;
}

export interface YeastarPRenderOptions {
  /** Yeastar queues are numbers: model queue name → queue number. */
  queueNumbers: Record<string, string>;
  /** DID the customers dial. */
  did?: string;
  trunk?: string;
}

interface CallCtx {
  id: string;
  members: Map<string, PMember>;
  caller: string;
  queue: string | null;
}

export class YeastarPRenderer {
  private readonly calls = new Map<string, CallCtx>();
  private readonly callById: Map<string, Ledger['calls'][number]>;
  private readonly queuesOf = new Map<string, Set<string>>();
  private chan = 0;
  private seq = 0;
  private out: YeastarPush[] = [];

  constructor(
    private readonly ledger: Ledger,
    private readonly o: YeastarPRenderOptions,
  ) {
    this.callById = new Map(ledger.calls.map((c) => [c.call_id, c]));
  }

  /** The Yeastar call id of a ledger call (`<epoch s>.<n>`, as the PBX numbers them). */
  private qn(queue: string): string {
    const n = this.o.queueNumbers[queue];
    if (!n) throw new Error(`Yeastar P renderer: no queue number for queue ${queue} (PBX ${this.ledger.pbx})`);
    return n;
  }

  private channel(who: string): string {
    return `PJSIP/${who}-${(this.chan++).toString(16).padStart(8, '0')}`;
  }

  /** Sends the member list; members that said BYE are listed once more, then forgotten. */
  private snapshot(t: number, c: CallCtx): void {
    this.out.push({ t, ...pCallStatus(c.id, [...c.members.values()]) });
    for (const [k, m] of c.members) if (m.status === 'BYE' && k !== 'caller') c.members.delete(k);
  }

  private setStatus(c: CallCtx, key: string, status: PMember['status']): void {
    const m = c.members.get(key);
    if (m) c.members.set(key, { ...m, status });
  }

  render(a: SimAction): YeastarPush[] {
    this.out = [];
    this.step(a);
    return this.out;
  }

  private ctx(id: string): CallCtx {
    const c = this.calls.get(id);
    if (!c) throw new Error(`Yeastar P renderer: action for unknown call ${id} (PBX ${this.ledger.pbx})`);
    return c;
  }

  private step(a: SimAction): void {
    const t = a.t;
    switch (a.kind) {
      case 'member_added':
      case 'member_removed': {
        const qs = this.queuesOf.get(a.agent) ?? new Set<string>();
        if (a.kind === 'member_added') qs.add(a.queue);
        else qs.delete(a.queue);
        this.queuesOf.set(a.agent, qs);
        this.out.push({ t, ...pAgentStatus(this.qn(a.queue), a.agent, a.kind === 'member_added' ? 'Login' : 'Logout') });
        return;
      }
      case 'pause':
        for (const q of this.queuesOf.get(a.agent) ?? []) this.out.push({ t, ...pAgentStatus(this.qn(q), a.agent, a.paused ? 'Paused' : 'Unpaused', a.paused ? a.reason : '') });
        return;
      case 'call_in': {
        const call = this.callById.get(a.call_id)!;
        const c: CallCtx = { id: `${Math.floor(t / 1000)}.${this.seq++}`, members: new Map(), caller: 'caller', queue: null };
        c.members.set('caller', { inbound: { from: call.number, to: this.o.did ?? '5000', trunk: this.o.trunk ?? 'trunk1' }, channel: this.channel(`trunk-${this.o.trunk ?? 'trunk1'}`), status: 'ANSWERED' });
        this.calls.set(a.call_id, c);
        return;
      }
      case 'queue_join': {
        const c = this.ctx(a.call_id);
        c.queue = this.qn(a.queue);
        c.members.set('caller', { ...c.members.get('caller')!, call_path: c.queue });
        this.snapshot(t, c);
        return;
      }
      case 'ring': {
        const c = this.ctx(a.call_id);
        c.members.set(a.agent, { extension: a.agent, channel: this.channel(a.agent), status: 'RING', call_path: c.queue ?? '' });
        this.snapshot(t, c);
        return;
      }
      case 'ring_end': {
        const c = this.ctx(a.call_id);
        if (a.outcome === 'no_answer') {
          // The ring timed out: the member leaves the list while the caller still waits.
          c.members.delete(a.agent);
          this.snapshot(t, c);
        } else {
          // Cancelled by what ends the attempt (caller gone, queue timeout): shown with that change.
          this.setStatus(c, a.agent, 'BYE');
        }
        return;
      }
      case 'connect': {
        const c = this.ctx(a.call_id);
        // Ring-all losers leave the member list with the answer (not verified against a capture).
        for (const l of a.losers ?? []) c.members.delete(l);
        this.setStatus(c, a.agent, 'ANSWERED');
        this.snapshot(t, c);
        return;
      }
      case 'abandon':
      case 'queue_timeout':
        // The caller's BYE (abandon) or the next queue (overflow) follows in its own action.
        return;
      case 'hold':
      case 'unhold': {
        const c = this.ctx(a.call_id);
        this.setStatus(c, a.agent, a.kind === 'hold' ? 'HOLD' : 'ANSWERED');
        this.snapshot(t, c);
        return;
      }
      case 'blind_transfer': {
        const c = this.ctx(a.call_id);
        c.members.delete(a.agent);
        c.queue = this.qn(a.to_queue);
        c.members.set('caller', { ...c.members.get('caller')!, call_path: c.queue });
        this.out.push({ t, ...pCallTransfer(c.id, [...c.members.values()]) });
        return;
      }
      case 'consult_ring': {
        const c = this.ctx(a.call_id);
        c.members.set(a.target, { extension: a.target, channel: this.channel(a.target), status: 'RING' });
        this.snapshot(t, c);
        return;
      }
      case 'consult_answer': {
        const c = this.ctx(a.call_id);
        this.setStatus(c, a.target, 'ANSWERED');
        this.snapshot(t, c);
        return;
      }
      case 'consult_cancel': {
        const c = this.ctx(a.call_id);
        c.members.delete(a.target);
        this.setStatus(c, a.agent, 'ANSWERED');
        this.snapshot(t, c);
        return;
      }
      case 'attended_transfer': {
        const c = this.ctx(a.call_id);
        c.members.delete(a.agent);
        this.out.push({ t, ...pCallTransfer(c.id, [...c.members.values()]) });
        return;
      }
      case 'agent_complete': {
        if (a.reason === 'transfer') return;
        const c = this.ctx(a.call_id);
        this.setStatus(c, a.agent, 'BYE');
        if (a.reason === 'caller') this.setStatus(c, 'caller', 'BYE');
        this.snapshot(t, c);
        c.members.delete(a.agent);
        return;
      }
      case 'call_end': {
        const c = this.calls.get(a.call_id);
        if (!c) return;
        const call = this.callById.get(a.call_id)!;
        if (call.direction !== 'inbound') return; // outbound calls end in outbound_end
        for (const k of c.members.keys()) this.setStatus(c, k, 'BYE');
        this.snapshot(t, c);
        this.cdr(t, c, call, 'Inbound', 'ANSWERED');
        this.calls.delete(a.call_id);
        return;
      }
      case 'outbound_start': {
        const call = this.callById.get(a.call_id)!;
        const c: CallCtx = { id: `${Math.floor(t / 1000)}.${this.seq++}`, members: new Map(), caller: a.agent, queue: null };
        c.members.set(a.agent, { extension: a.agent, channel: this.channel(a.agent), status: 'ALERT' });
        c.members.set('callee', { outbound: { from: a.agent, to: call.number, trunk: this.o.trunk ?? 'trunk1' }, channel: this.channel(`trunk-${this.o.trunk ?? 'trunk1'}`), status: 'RING' });
        this.calls.set(a.call_id, c);
        this.snapshot(t, c);
        return;
      }
      case 'outbound_answer': {
        const c = this.ctx(a.call_id);
        this.setStatus(c, a.agent, 'ANSWERED');
        this.setStatus(c, 'callee', 'ANSWERED');
        this.snapshot(t, c);
        return;
      }
      case 'outbound_end': {
        const c = this.ctx(a.call_id);
        const call = this.callById.get(a.call_id)!;
        for (const k of c.members.keys()) this.setStatus(c, k, 'BYE');
        this.snapshot(t, c);
        this.cdr(t, c, call, 'Outbound', a.disposition);
        this.calls.delete(a.call_id);
        return;
      }
    }
  }

  private cdr(t: number, c: CallCtx, call: Ledger['calls'][number], type: 'Inbound' | 'Outbound', status: string): void {
    this.out.push({
      t,
      ...pNewCdr({
        call_id: c.id,
        start: new Date(call.started_at_ms),
        timezone: this.ledger.timezone,
        call_from: type === 'Inbound' ? call.number : (call.agent ?? ''),
        call_to: type === 'Inbound' ? (this.o.did ?? '5000') : call.number,
        call_duration_s: call.duration_s,
        talk_duration_s: call.billsec_s,
        status,
        type,
        ...(type === 'Inbound' ? { src_trunk: this.o.trunk ?? 'trunk1' } : { dst_trunk: this.o.trunk ?? 'trunk1' }),
      }),
    });
  }
}

/** A whole run as pushes, for files and tests. */
export function renderYeastarP(ledger: Ledger, actions: readonly SimAction[], o: YeastarPRenderOptions): YeastarPush[] {
  const r = new YeastarPRenderer(ledger, o);
  const out: YeastarPush[] = [];
  for (const a of actions) out.push(...r.render(a));
  return out;
}

// The same call must give the same canonical facts on the Yeastar path as on the AMI path.
// Call a1 of the real Asterisk 22 capture (../shared/fixtures/ami/asterisk22/a_answered: queue
// "sales", ring-all to 1001/1002/1003, answered by 1001 after ~2 s, ended by the agent) is
// translated by the AMI translator; the same call is then told as Yeastar 30011 snapshots at the
// same instants, plus its 30012 CDR, and the facts are compared (ids, names and leg-id spelling
// aside, which are vendor-specific by design).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CanonicalEvent } from '@callboard/schemas';
import { translateAmiFile } from '../src/ami/offline.ts';
import type { Member, YeastarMessage } from '../src/yeastar/messages.ts';
import { YeastarTranslator } from '../src/yeastar/translate.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
const capture = join(repoRoot, '..', 'shared', 'fixtures', 'ami', 'asterisk22', 'a_answered', 'capture.ami');
const abandonCapture = join(repoRoot, '..', 'shared', 'fixtures', 'ami', 'asterisk22', 'b_abandon', 'capture.ami');
const CALL = '1795306506.0';

/** What must agree: type, agent, queue, whether a leg is named, reason, and the measured times. */
function facts(es: CanonicalEvent[]) {
  return es.map((e) => {
    const p = e.payload as Record<string, unknown>;
    return {
      type: e.type,
      // Asterisk stops the losing rings 2 ms before the answer; one Yeastar snapshot shows both at once.
      at: e.type === 'call.ended' || e.type === 'agent.state_changed' ? undefined : e.occurred_at,
      agent: 'agent_id' in e ? e.agent_id : p.agent_id,
      queue: p.queue,
      leg: p.leg_id !== undefined,
      state: p.state,
      reason: p.reason,
      wait_ms: p.wait_ms,
      ring_ms: p.ring_ms,
      talk_ms: p.talk_ms,
      hold_ms: p.hold_ms,
      disposition: p.disposition,
      billsec_ms: p.billsec_ms,
    };
  });
}

describe.skipIf(!existsSync(capture))('Yeastar and AMI agree on one call (needs ../shared/fixtures)', () => {
  it('queue call a1: queued, ring-all, answered by 1001, ended by the agent', async () => {
    const ami: CanonicalEvent[] = [];
    for await (const o of translateAmiFile(capture, { cfg: { queues: [] }, tenant_id: 'acme', pbx_id: 'pbx1', warn: () => {} }))
      if (o.kind === 'ok') ami.push(...o.events);
    // An agent's changes for this call: from the first that names it to the one that frees the
    // agent again, which names no call (the ended call does not cause an agent to be available).
    const names = (e: CanonicalEvent) => e.type === 'agent.state_changed' && e.payload.call_id === CALL;
    const agentChanges = (xs: CanonicalEvent[]) => {
      const out: CanonicalEvent[] = [];
      const changes = xs.filter((e) => e.type === 'agent.state_changed');
      for (const id of new Set(changes.filter(names).map((e) => (e as { agent_id: string }).agent_id))) {
        const mine = changes.filter((e) => (e as { agent_id: string }).agent_id === id);
        const first = mine.findIndex(names);
        const last = mine.findLastIndex(names);
        out.push(...mine.slice(first, last + 2));
      }
      return out;
    };
    const amiCall = [...ami.filter((e) => 'call_id' in e && e.call_id === CALL), ...agentChanges(ami)];
    const at = (type: string, agent?: string) =>
      amiCall.find((e) => e.type === type && (!agent || (e.payload as { agent_id?: string }).agent_id === agent))!.occurred_at;

    const inbound = (status: string, path: string): Member => ({
      role: 'inbound',
      number: '',
      from: '5551001',
      to: '5551001',
      trunk: '',
      channel_id: 'Local/5551001@callers-00000000;2',
      status,
      call_path: path,
    });
    const ext = (n: string, status: string): Member => ({
      role: 'extension',
      number: n,
      from: '',
      to: '',
      trunk: '',
      channel_id: `Local/${n}@agents-${n}`,
      status,
      call_path: 'sales',
    });
    const snap = (...members: Member[]): YeastarMessage => ({ kind: 'call_status', sn: 'x', call_id: CALL, members });
    const started = at('call.started');
    const queued = at('call.queued');
    const ring = at('call.ringing');
    const answered = at('call.answered');
    const completed = at('call.agent_completed');
    const ended = ami.find((e) => e.type === 'call.ended' && 'call_id' in e && e.call_id === CALL)!;
    const endPayload = ended.payload as { duration_ms: number; billsec_ms: number };
    const startMs = Date.parse(ended.occurred_at) - endPayload.duration_ms;
    const local = new Date(startMs).toISOString().slice(0, 19).replace('T', ' ');
    const yeastar: [string, YeastarMessage][] = [
      [started, snap(inbound('ALERT', ''))],
      [queued, snap(inbound('ANSWERED', 'sales'))],
      [ring, snap(inbound('ANSWERED', 'sales'), ext('1003', 'RING'), ext('1002', 'RING'), ext('1001', 'RING'))],
      [answered, snap(inbound('ANSWERED', 'sales'), ext('1001', 'ANSWER'))],
      [completed, snap(inbound('ANSWERED', 'sales'), ext('1001', 'BYE'))],
      [
        ended.occurred_at,
        {
          kind: 'cdr',
          sn: 'x',
          call_id: CALL,
          uid: '',
          time_start: local,
          call_from: '',
          call_to: '5551001',
          duration_s: endPayload.duration_ms / 1000,
          talk_s: endPayload.billsec_ms / 1000,
          src_trunk: '',
          dst_trunk: '',
          status: (ended.payload as { raw_disposition: string }).raw_disposition,
          type: 'Inbound',
        },
      ],
    ];
    const t = new YeastarTranslator({ tenant_id: 'acme', pbx_id: 'pbx1', source: 'yeastar-p', timezone: 'UTC', queues: ['sales'] });
    const ys: CanonicalEvent[] = [];
    for (const [when, m] of yeastar) {
      const o = t.translate(m, { received_at: when, raw_ref: null });
      if (o.kind === 'ok') ys.push(...o.events);
    }
    // The CDR carries whole seconds; compare durations at that precision.
    const round = (xs: ReturnType<typeof facts>) =>
      xs.map((f) => (f.type === 'call.ended' ? { ...f, billsec_ms: Math.round((f.billsec_ms as number) / 1000) } : f));
    const sorted = (xs: ReturnType<typeof facts>) => xs.map((f) => JSON.stringify(f)).sort();
    // Yeastar knows the caller at the start; Asterisk's dialplan sets it just after the first
    // channel (NewCallerid → call.caller_identified). What a consumer reads must agree.
    const callerOf = (xs: CanonicalEvent[]) =>
      xs.reduce((n, e) => (e.type === 'call.caller_identified' || (e.type === 'call.started' && n === undefined) ? e.payload.caller_number : n), undefined as string | undefined);
    expect(callerOf(ys)).toBe('5551001');
    expect(callerOf(amiCall)).toBe('5551001');
    const notCaller = (xs: CanonicalEvent[]) => xs.filter((e) => e.type !== 'call.caller_identified');
    expect(sorted(round(facts(ys)))).toEqual(sorted(round(facts(notCaller(amiCall)))));
    // Both paths: a change to available names no call; every ring and connect names this one.
    for (const xs of [ys, amiCall]) {
      const changes = xs.filter((e) => e.type === 'agent.state_changed').map((e) => e.payload as { state: string; call_id?: string });
      expect(changes.filter((p) => p.state === 'available')).toHaveLength(3);
      expect(changes.filter((p) => (p.state === 'available') === (p.call_id !== undefined))).toEqual([]);
    }
    // Call facts in the same order on both paths.
    const calls = (xs: CanonicalEvent[]) => xs.filter((e) => e.type.startsWith('call.')).map((e) => e.type);
    expect(calls(ys)).toEqual(calls(notCaller(amiCall)));
    expect(calls(ys)).toEqual([
      'call.started',
      'call.queued',
      'call.ringing',
      'call.ringing',
      'call.ringing',
      'call.answered',
      'call.agent_completed',
      'call.ended',
    ]);
  });

  it('abandons b2–b4: three callers wait in "sales" and hang up; positions move up as callers ahead leave', async () => {
    const ami: CanonicalEvent[] = [];
    for await (const o of translateAmiFile(abandonCapture, { cfg: { queues: [] }, tenant_id: 'acme', pbx_id: 'pbx1', warn: () => {} }))
      if (o.kind === 'ok') ami.push(...o.events);
    const abandoned = ami.filter((e) => e.type === 'call.abandoned').map((e) => (e as { call_id: string }).call_id);
    expect(abandoned).toHaveLength(3);
    const ofCall = (id: string) => ami.filter((e) => 'call_id' in e && e.call_id === id && ['call.started', 'call.queued', 'call.abandoned'].includes(e.type));
    // Every instant at which a snapshot of one of the calls changes, in time order.
    const timeline = abandoned
      .flatMap((id) => ofCall(id).map((e) => ({ id, type: e.type, at: e.occurred_at })))
      .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    const t = new YeastarTranslator({ tenant_id: 'acme', pbx_id: 'pbx1', source: 'yeastar-p', timezone: 'UTC', queues: ['sales'] });
    const ys: CanonicalEvent[] = [];
    for (const step of timeline) {
      const status = step.type === 'call.abandoned' ? 'BYE' : step.type === 'call.started' ? 'ALERT' : 'ANSWERED';
      const path = step.type === 'call.started' ? '' : 'sales';
      const m: YeastarMessage = {
        kind: 'call_status',
        sn: 'x',
        call_id: step.id,
        members: [{ role: 'inbound', number: '', from: '', to: '', trunk: '', channel_id: `in-${step.id}`, status, call_path: path }],
      };
      const o = t.translate(m, { received_at: step.at, raw_ref: null });
      if (o.kind === 'ok') ys.push(...o.events);
    }
    const pick = (xs: CanonicalEvent[]) =>
      xs
        .filter((e) => e.type === 'call.queued' || e.type === 'call.abandoned')
        .map((e) => {
          const { leg_id: _leg, caller_number: _c, ...p } = e.payload as Record<string, unknown>;
          return { type: e.type, call_id: (e as { call_id: string }).call_id, at: e.occurred_at, ...p } as Record<string, unknown>;
        });
    const amiFacts = pick(abandoned.flatMap(ofCall)).sort((a, b) => (String(a.at) < String(b.at) ? -1 : 1));
    expect(pick(ys)).toEqual(amiFacts);
    expect(amiFacts.filter((f) => f.type === 'call.abandoned').map((f) => [f.position, f.original_position])).toEqual([
      [1, 1],
      [1, 2],
      [1, 3],
    ]);
  });
});

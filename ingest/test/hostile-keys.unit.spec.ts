// Ids from the PBX become object keys in the translators' state. A key named `__proto__` once
// reached Object.prototype: a fuzzed Yeastar report with that call id set `cdr_seen` on every
// object of the process, and prom-client's GC histogram then refused its own labels. Such keys
// must stay keys.
import { afterEach, describe, expect, it } from 'vitest';
import { parseAll } from '../src/ami/parser.ts';
import { emptyState, type Cx } from '../src/yeastar/state.ts';
import { extensionStatus } from '../src/yeastar/handlers/agents.ts';
import { callStatus } from '../src/yeastar/handlers/calls.ts';

const T0 = Date.parse('2026-04-27T09:00:00.000Z');
const opts = { tenant_id: 't1', pbx_id: 'p1', source: 'yeastar-p' as const, timezone: 'Africa/Nairobi', queues: ['6400'] };
const cx = (atMs: number): Cx => ({ opts, meta: { received_at: new Date(atMs).toISOString(), raw_ref: null }, t: atMs, out: [] });
const HOSTILE = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];

const prototypeKeys = () => Object.getOwnPropertyNames(Object.prototype).sort();
const before = prototypeKeys();

afterEach(() => {
  // A polluted prototype would break every later test of this worker: say so here, then clean up.
  const added = prototypeKeys().filter((k) => !before.includes(k));
  for (const k of added) delete (Object.prototype as Record<string, unknown>)[k];
  expect(added).toEqual([]);
});

describe('keys named like Object.prototype members stay keys', () => {
  it.each(HOSTILE)('Yeastar call id and extension %s: the call is tracked and nothing reaches Object.prototype', (id) => {
    const st = emptyState();
    const member = (status: string) => ({ role: 'extension' as const, number: id, from: '', to: '', trunk: '', channel_id: id, status, call_path: '6400' });
    const trunk = { role: 'inbound' as const, number: '', from: '0722000111', to: '6400', trunk: 'Saf', channel_id: 'PJSIP/trunk-01', status: 'ALERT', call_path: '6400' };
    const ring = callStatus(st, { kind: 'call_status', sn: 'SN', call_id: id, members: [trunk, member('RING')] }, cx(T0));
    expect(ring.kind).toBe('ok');
    expect(Object.keys(st.calls)).toEqual([id]);
    expect(st.calls[id]!.call_id).toBe(id);
    const answer = callStatus(st, { kind: 'call_status', sn: 'SN', call_id: id, members: [{ ...trunk, status: 'ANSWERED' }, member('ANSWER')] }, cx(T0 + 5000));
    expect(answer.kind === 'ok' ? answer.events.map((e) => e.type) : answer).toContain('call.answered');
    extensionStatus(st, { kind: 'extension_status', sn: 'SN', extension: id, status: 'Busy' }, cx(T0 + 6000));
    expect(Object.keys(st.agents)).toContain(id);
    expect(({} as Record<string, unknown>).cdr_seen).toBeUndefined();
  });

  it.each(HOSTILE.filter((k) => k !== '__proto__'))('an AMI header %s given twice is kept as a repeated header, not a parse failure', (name) => {
    const [frame] = parseAll(`Event: Hostile\r\n${name}: a\r\n${name}: b\r\n\r\n`);
    expect(frame!.kind).toBe('event');
    expect(frame!.headers[name]).toBe('a');
    expect(frame!.repeated?.[name]).toEqual(['a', 'b']);
  });

  it('an AMI line `__proto__: …` is no header (the parser refuses that key) and is kept as the frame\'s text', () => {
    const [frame] = parseAll('Event: Hostile\r\n__proto__: a\r\n__proto__: b\r\n\r\n');
    expect(frame!.kind).toBe('event');
    expect(Object.keys(frame!.headers)).toEqual(['Event']);
    expect(frame!.text).toEqual(['__proto__: a', '__proto__: b']);
  });

});

// Every Yeastar fixture in ../shared/fixtures/yeastar, with the canonical facts it must give.
// Each vendor message is translated on its own (fresh translator) and in realistic sequences.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateEvent, type CanonicalEvent } from '@callboard/schemas';
import {
  cdrFromSearchRow,
  parseCallQuery,
  parsePFrame,
  parseQueueAgentStatus,
  parseSQueueStatus,
  parseSReport,
  parseYeastarText,
  P_SUBSCRIBE_TOPICS,
  type YeastarMessage,
} from '../src/yeastar/messages.ts';
import { YeastarTranslator, type TranslatorOptions } from '../src/yeastar/translate.ts';
import { subscribeAnswer, subscribeFrame } from '../src/yeastar/p-adapter.ts';
import { parseTokenAnswer, tokenRequestBody } from '../src/yeastar/p-openapi.ts';
import { loginBody, md5Hex, parseLoginAnswer } from '../src/yeastar/s-api.ts';
import { yeastarLocalToUtc } from '../src/yeastar/time.ts';
import type { TranslateOutcome } from '../src/pipeline.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
const dir = join(repoRoot, '..', 'shared', 'fixtures', 'yeastar');

const load = (f: string): unknown => JSON.parse(readFileSync(join(dir, f), 'utf8'));

// Zones from the evidence in the reference (§5): the call id epoch against time_start.
const ZONES: Record<string, string> = { '3651064E8358': 'Africa/Nairobi', '369451090405': 'Pacific/Pitcairn' };
const T0 = '2026-01-01T08:00:00.000Z';

function opts(source: 'yeastar-p' | 'yeastar-s', sn: string, queues?: string[]): TranslatorOptions {
  return { tenant_id: 'acme', pbx_id: 'pbx1', source, timezone: ZONES[sn] ?? 'Asia/Shanghai', ...(queues ? { queues } : {}) };
}

function msgOf(file: string): { source: 'yeastar-p' | 'yeastar-s'; message: YeastarMessage } {
  const source = file.startsWith('p-') ? 'yeastar-p' : 'yeastar-s';
  const r = source === 'yeastar-p' ? parsePFrame(load(file)) : parseSReport(load(file));
  if (!r.ok) throw new Error(`${file}: ${r.reason}`);
  return { source, message: r.message };
}

function one(file: string, at = T0): TranslateOutcome {
  const { source, message } = msgOf(file);
  return new YeastarTranslator(opts(source, message.sn)).translate(message, { received_at: at, raw_ref: null });
}

function events(o: TranslateOutcome): CanonicalEvent[] {
  if (o.kind !== 'ok') throw new Error(`expected events, got ${o.kind}: ${o.kind === 'dlq' ? o.reason : o.reason}`);
  for (const e of o.events) {
    const v = validateEvent(e);
    expect(v.ok, `${e.type} is valid: ${JSON.stringify(v)}`).toBe(true);
  }
  return o.events;
}

/** type + subject + payload, the facts without ids and times. */
const facts = (es: CanonicalEvent[]) =>
  es.map((e) => ({
    type: e.type,
    ...('call_id' in e ? { call_id: e.call_id } : {}),
    ...('agent_id' in e ? { agent_id: e.agent_id } : {}),
    payload: e.payload,
  }));

const DROPPED = [
  'p-series-30007-extension-registration.json',
  'p-series-30009-presence-status.json',
  'p-series-30010-trunk-registration.json',
  'p-series-30014-call-forward.json',
  'p-series-30035-system-event-warning.json',
  's-series-v1-bootup.json',
  's-series-v2-configchange.json',
  's-series-v2-forward.json',
  's-series-v2-satisfaction.json',
];

/** Expected facts per event fixture, translated alone. */
const EXPECTED: Record<string, ReturnType<typeof facts>> = {
  'p-series-30008-extension-call-status-ringing.json': [{ type: 'agent.state_changed', agent_id: '2002', payload: { state: 'ringing' } }],
  'p-series-30011-call-status-ringing.json': [
    { type: 'call.started', call_id: '1790197458.5215', payload: { direction: 'inbound', caller_number: '0111050596', called_number: '1002', trunk: 'Saf' } },
    { type: 'call.ringing', call_id: '1790197458.5215', payload: { agent_id: '1002' } },
    { type: 'agent.state_changed', agent_id: '1002', payload: { state: 'ringing', call_id: '1790197458.5215' } },
  ],
  'p-series-30011-call-status-answered.json': [
    { type: 'call.started', call_id: '1790197458.5215', payload: { direction: 'inbound', caller_number: '0111050596', called_number: '1002', trunk: 'Saf' } },
    { type: 'call.answered', call_id: '1790197458.5215', payload: { agent_id: '1002', wait_ms: 0 } },
    { type: 'agent.state_changed', agent_id: '1002', payload: { state: 'on_call', call_id: '1790197458.5215' } },
  ],
  'p-series-30011-call-status-hold.json': [
    { type: 'call.started', call_id: '1790197458.5215', payload: { direction: 'inbound', caller_number: '0111050596', called_number: '1002', trunk: 'Saf' } },
    { type: 'call.answered', call_id: '1790197458.5215', payload: { agent_id: '1002', wait_ms: 0 } },
    { type: 'call.held', call_id: '1790197458.5215', payload: { agent_id: '1002' } },
    { type: 'agent.state_changed', agent_id: '1002', payload: { state: 'on_hold', call_id: '1790197458.5215' } },
  ],
  // First seen already hung up: the call is known to have existed, nothing else.
  'p-series-30011-call-status-bye.json': [
    { type: 'call.started', call_id: '1790197458.5215', payload: { direction: 'inbound', caller_number: '0111050596', called_number: '1002', trunk: 'Saf' } },
  ],
  'p-series-30011-call-status-outbound-earlymedia.json': [
    {
      type: 'call.started',
      call_id: '1650012665.266',
      payload: { direction: 'outbound', caller_number: '1005', called_number: '+212661209845', extension: '1005', trunk: 'my-trunk' },
    },
    { type: 'agent.state_changed', agent_id: '1005', payload: { state: 'on_call', call_id: '1650012665.266' } },
  ],
  'p-series-30011-call-status-queue-inbound-ringing.json': [
    { type: 'call.started', call_id: '1777304494.97', payload: { direction: 'inbound', caller_number: '0745150974', called_number: '6400', trunk: 'Saf' } },
    { type: 'call.queued', call_id: '1777304494.97', payload: { queue: '6400', leg_id: '1777304494.97:6400:1', position: 1, caller_number: '0745150974' } },
    { type: 'call.ringing', call_id: '1777304494.97', payload: { agent_id: '1001', queue: '6400', leg_id: '1777304494.97:6400:1' } },
    { type: 'agent.state_changed', agent_id: '1001', payload: { state: 'ringing', call_id: '1777304494.97' } },
    { type: 'call.ringing', call_id: '1777304494.97', payload: { agent_id: '1002', queue: '6400', leg_id: '1777304494.97:6400:1' } },
    { type: 'agent.state_changed', agent_id: '1002', payload: { state: 'ringing', call_id: '1777304494.97' } },
  ],
  'p-series-30012-new-cdr-internal-msg-object.json': [
    { type: 'call.started', call_id: '1651057476.362', payload: { direction: 'internal', caller_number: '2005', called_number: '2002', extension: '2005' } },
    {
      type: 'call.ended',
      call_id: '1651057476.362',
      payload: { disposition: 'ANSWERED', raw_disposition: 'ANSWERED', duration_ms: 12000, billsec_ms: 8000, direction: 'internal', extension: '2005' },
    },
  ],
  'p-series-30012-new-cdr-voicemail-live.json': [
    { type: 'call.started', call_id: '1790197458.5215', payload: { direction: 'inbound', caller_number: '0111050596', called_number: '1002', trunk: 'Saf' } },
    {
      type: 'call.ended',
      call_id: '1790197458.5215',
      payload: { disposition: 'NO ANSWER', raw_disposition: 'VOICEMAIL', duration_ms: 11000, billsec_ms: 11000, direction: 'inbound', extension: '1002' },
    },
  ],
  'p-series-30013-call-transfer.json': [{ type: 'call.transferred', call_id: '1651113112.405', payload: { kind: 'blind', to: '2002' } }],
  'p-series-30015-call-failed.json': [
    { type: 'call.started', call_id: '1651113300.420', payload: { direction: 'internal', caller_number: '2005', called_number: '', extension: '2005' } },
    {
      type: 'call.ended',
      call_id: '1651113300.420',
      payload: { disposition: 'BUSY', raw_disposition: '486 Busy here', duration_ms: 0, billsec_ms: 0, direction: 'internal', extension: '2005' },
    },
  ],
  'p-series-30016-incoming-call-request.json': [
    { type: 'call.started', call_id: '1651113400.430', payload: { direction: 'inbound', caller_number: '5503301', called_number: '2002', trunk: 'sip-trunk' } },
  ],
  'p-series-30025-agent-auto-pause.json': [
    { type: 'agent.state_changed', agent_id: '2010', payload: { state: 'paused', reason: 'auto-pause (missed calls)', pause_reason: 'auto-pause (missed calls)' } },
  ],
  'p-series-30029-agent-status-changed.json': [{ type: 'agent.state_changed', agent_id: '1002', payload: { state: 'paused', reason: 'Lunch', pause_reason: 'Lunch' } }],
  's-series-v1-newcdr-inbound.json': [
    { type: 'call.started', call_id: '1505352445.265', payload: { direction: 'inbound', caller_number: '102', called_number: '1000', trunk: 'Apple_test' } },
    {
      type: 'call.ended',
      call_id: '1505352445.265',
      payload: { disposition: 'ANSWERED', raw_disposition: 'ANSWERED', duration_ms: 38000, billsec_ms: 29000, direction: 'inbound', extension: '1000' },
    },
  ],
  's-series-v1-newcdr-outbound.json': [
    {
      type: 'call.started',
      call_id: '1505352615.274',
      payload: { direction: 'outbound', caller_number: '1000', called_number: '91000', extension: '1000', trunk: 'Apple_test' },
    },
    {
      type: 'call.ended',
      call_id: '1505352615.274',
      payload: { disposition: 'ANSWERED', raw_disposition: 'ANSWERED', duration_ms: 29000, billsec_ms: 29000, direction: 'outbound', extension: '1000' },
    },
  ],
  's-series-v2-callfailed.json': [
    { type: 'call.started', call_id: '1573097568.15', payload: { direction: 'internal', caller_number: '1023', called_number: '', extension: '1023' } },
    {
      type: 'call.ended',
      call_id: '1573097568.15',
      payload: { disposition: 'FAILED', raw_disposition: 'NO Outbound Restriction', duration_ms: 0, billsec_ms: 0, direction: 'internal', extension: '1023' },
    },
  ],
  's-series-v2-callstatus-answered-inbound-queue.json': [
    { type: 'call.started', call_id: '1571901993.46', payload: { direction: 'inbound', caller_number: '12345678', called_number: '6700', trunk: 'siptrunk' } },
    { type: 'call.queued', call_id: '1571901993.46', payload: { queue: '6700', leg_id: '1571901993.46:6700:1', position: 1, caller_number: '12345678' } },
    { type: 'call.answered', call_id: '1571901993.46', payload: { agent_id: '1020', queue: '6700', leg_id: '1571901993.46:6700:1', wait_ms: 0 } },
    { type: 'agent.state_changed', agent_id: '1020', payload: { state: 'on_call', call_id: '1571901993.46' } },
  ],
  's-series-v2-callstatus-bye.json': [
    { type: 'call.started', call_id: '1571901993.46', payload: { direction: 'inbound', caller_number: '12345678', called_number: '6700', trunk: 'siptrunk' } },
  ],
  's-series-v2-callstatus-ringing-internal.json': [
    { type: 'call.started', call_id: '1571981311.105', payload: { direction: 'internal', caller_number: '2000', called_number: '1020', extension: '2000' } },
    { type: 'agent.state_changed', agent_id: '2000', payload: { state: 'on_call', call_id: '1571981311.105' } },
    { type: 'call.ringing', call_id: '1571981311.105', payload: { agent_id: '1020' } },
    { type: 'agent.state_changed', agent_id: '1020', payload: { state: 'ringing', call_id: '1571981311.105' } },
  ],
  's-series-v2-calltransfer.json': [{ type: 'call.transferred', call_id: '1571981311.105', payload: { kind: 'blind', to: '1020' } }],
  's-series-v2-extensionstatus-ringing.json': [{ type: 'agent.state_changed', agent_id: '1023', payload: { state: 'ringing' } }],
  's-series-v2-incoming.json': [
    { type: 'call.started', call_id: '1571897079.3', payload: { direction: 'inbound', caller_number: '2000', called_number: '1023', trunk: 'siptrunk' } },
  ],
  's-series-v2-invite.json': [
    { type: 'call.started', call_id: '1571896991.2', payload: { direction: 'inbound', caller_number: '2000', called_number: '1023', trunk: 'siptrunk' } },
  ],
  's-series-v2-newcdr-internal.json': [
    { type: 'call.started', call_id: '1571897930.5', payload: { direction: 'internal', caller_number: '1023', called_number: '2023', extension: '1023' } },
    {
      type: 'call.ended',
      call_id: '1571897930.5',
      payload: { disposition: 'ANSWERED', raw_disposition: 'ANSWERED', duration_ms: 19000, billsec_ms: 14000, direction: 'internal', extension: '1023' },
    },
  ],
  's-series-v2-queueautopause.json': [{ type: 'agent.state_changed', agent_id: '1000', payload: { state: 'paused', reason: 'auto-pause (missed calls)', pause_reason: 'auto-pause (missed calls)' } }],
};

/** Protocol fixtures (requests and answers around the events), each with its own check. */
const PROTOCOL: Record<string, () => void> = {
  'p-series-get-token-request.json': () => {
    const f = load('p-series-get-token-request.json') as { username: string; password: string };
    expect(tokenRequestBody(f.username, f.password)).toEqual(f);
  },
  'p-series-get-token-response.json': () => {
    const t = parseTokenAnswer(load('p-series-get-token-response.json') as Record<string, unknown>, 1_000_000);
    expect(t).toEqual({
      access: 'EXZMpZAO86mbrKm6rFtgeb3rfcpC9uqS',
      refresh: 'SCduGecwbG9jIusiS8FxFUVn3kf0Q9R8',
      access_expires_at: 1_000_000 + 1_800_000,
      refresh_expires_at: 1_000_000 + 86_400_000,
    });
  },
  'p-series-ws-subscribe-request.json': () => {
    expect(JSON.parse(subscribeFrame([30011, 30012]))).toEqual(load('p-series-ws-subscribe-request.json'));
    expect(P_SUBSCRIBE_TOPICS).toEqual(expect.arrayContaining([30008, 30011, 30012, 30013, 30014, 30015, 30025, 30029]));
    expect(P_SUBSCRIBE_TOPICS).not.toContain(30016);
  },
  'p-series-ws-subscribe-response.json': () => {
    expect(subscribeAnswer(JSON.stringify(load('p-series-ws-subscribe-response.json')))).toEqual({ ok: true });
    expect(subscribeAnswer('heartbeat response')).toBeNull();
    expect(subscribeAnswer('{"errcode":10004,"errmsg":"FAILURE"}')).toEqual({ ok: false, why: 'errcode 10004 FAILURE' });
  },
  'p-series-call-query-response.json': () => {
    const calls = parseCallQuery(load('p-series-call-query-response.json'));
    if (typeof calls === 'string') throw new Error(calls);
    expect(calls).toHaveLength(1);
    const t = new YeastarTranslator(opts('yeastar-p', ''));
    const out = t.reconcile({ calls, gap: { from: '2026-01-01T07:59:00.000Z', to: T0, reason: 'socket closed (1006)' } }, { received_at: T0, raw_ref: null });
    expect(facts(out)).toEqual([
      {
        type: 'call.started',
        call_id: '1650012665.266',
        payload: { direction: 'outbound', caller_number: '1005', called_number: '+212661209845', extension: '1005', trunk: 'my-trunk' },
      },
      { type: 'agent.state_changed', agent_id: '1005', payload: { state: 'on_call', call_id: '1650012665.266' } },
      { type: 'source.gap', payload: { from: '2026-01-01T07:59:00.000Z', to: T0, reason: 'socket closed (1006)' } },
    ]);
    for (const e of out) expect(validateEvent(e).ok).toBe(true);
  },
  'p-series-queue-agent-status-response.json': () => {
    const agents = parseQueueAgentStatus(load('p-series-queue-agent-status-response.json'));
    if (typeof agents === 'string') throw new Error(agents);
    const t = new YeastarTranslator(opts('yeastar-p', ''));
    const out = t.reconcile({ agents, gap: { from: T0, to: T0, reason: 'x' } }, { received_at: T0, raw_ref: null });
    expect(facts(out).filter((e) => e.type === 'agent.state_changed')).toEqual([
      { type: 'agent.state_changed', agent_id: '1000', payload: { state: 'available' } },
      { type: 'agent.state_changed', agent_id: '1001', payload: { state: 'paused', reason: 'Lunch', pause_reason: 'Lunch' } },
    ]);
  },
  'p-series-cdr-search-row-v2.json': () => {
    const row = load('p-series-cdr-search-row-v2.json') as { time: string; timestamp: number };
    const cdr = cdrFromSearchRow(row, '3651064E8358');
    if (typeof cdr === 'string') throw new Error(cdr);
    // The display-format local time and the Unix timestamp agree in the PBX's zone (UTC+3).
    expect(yeastarLocalToUtc(row.time, 'Africa/Nairobi')?.ms).toBe(row.timestamp * 1000);
    const out = events(new YeastarTranslator(opts('yeastar-p', '3651064E8358')).translate(cdr, { received_at: T0, raw_ref: null }));
    expect(facts(out)).toEqual([
      { type: 'call.started', call_id: '1777304494.97', payload: { direction: 'inbound', caller_number: '0745150974', called_number: '6400', trunk: 'Saf' } },
      {
        type: 'call.ended',
        call_id: '1777304494.97',
        payload: { disposition: 'ANSWERED', raw_disposition: 'ANSWERED', duration_ms: 62000, billsec_ms: 44000, direction: 'inbound', extension: '6400' },
      },
    ]);
    expect(out[0]!.occurred_at).toBe('2026-04-27T15:41:34.000Z');
    // Kept verbatim in pbx.raw.v1 by the back-fill, the row parses as a P-Series message again.
    const again = parseYeastarText(JSON.stringify(row), 'p');
    expect(again.ok && again.message).toEqual(cdrFromSearchRow(row));
    expect(out[1]!.occurred_at).toBe('2026-04-27T15:42:36.000Z');
  },
  's-series-v2-login-request.json': () => {
    const f = load('s-series-v2-login-request.json') as Record<string, string>;
    const body = loginBody('api', 'any-password', { port: '8260', version: '2.0.0' });
    expect(Object.keys(body).sort()).toEqual(Object.keys(f).sort());
    expect(body.password).toMatch(/^[0-9a-f]{32}$/);
    expect(md5Hex('password')).toBe('5f4dcc3b5aa765d61d8327deb882cf99');
  },
  's-series-v2-login-response.json': () => {
    expect(parseLoginAnswer(load('s-series-v2-login-response.json') as Record<string, unknown>)).toEqual({
      token: '48a7d7481a5355aa4fb5dc285edeb40e',
      transport: 'TCP',
    });
    expect(parseLoginAnswer({ status: 'Failed', errno: '20002' })).toBe('status Failed 20002');
  },
  's-series-v2-heartbeat-request.json': () => {
    // The session sends the same fields (ipaddr only when the report host is set).
    const f = load('s-series-v2-heartbeat-request.json') as Record<string, unknown>;
    expect(f).toEqual({ ipaddr: '192.168.6.24', port: 8260, version: '2.0.0' });
  },
  's-series-v1-queuestatus-response.json': () => {
    const q = parseSQueueStatus(load('s-series-v1-queuestatus-response.json'));
    if (typeof q === 'string') throw new Error(q);
    expect(q).toEqual([
      {
        queue: '6700',
        waiting: 0,
        agents: ['8034', '8033', '5007'].map((agent) => ({ agent, queue: '6700', name: '', pause_reason: '', call: 'idle', logged_in: true, paused: false })),
      },
    ]);
  },
};

describe.skipIf(!existsSync(dir))('Yeastar fixtures (needs ../shared/fixtures)', () => {
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .sort()
    : [];

  it('every fixture has an expectation here', () => {
    const covered = new Set([...DROPPED, ...Object.keys(EXPECTED), ...Object.keys(PROTOCOL)]);
    expect(files.filter((f) => !covered.has(f))).toEqual([]);
    expect([...covered].filter((f) => !files.includes(f))).toEqual([]);
  });

  for (const f of DROPPED) {
    it(`${f}: no canonical fact, dropped with a reason (raw is kept)`, () => {
      const o = one(f);
      expect(o.kind).toBe('drop');
      if (o.kind === 'drop') expect(o.reason.length).toBeGreaterThan(10);
    });
  }

  for (const [f, expected] of Object.entries(EXPECTED)) {
    it(`${f}: canonical facts`, () => {
      expect(facts(events(one(f)))).toEqual(expected);
    });
  }

  for (const [f, check] of Object.entries(PROTOCOL)) it(`${f}: protocol shape`, check);

  it('CDR times are PBX-local: converted with the PBX zone to the call id epoch', () => {
    const cases: [string, string][] = [
      ['p-series-30012-new-cdr-voicemail-live.json', '2026-09-23T21:04:18.000Z'], // Nairobi, UTC+3
      ['p-series-30012-new-cdr-internal-msg-object.json', '2022-04-27T11:04:36.000Z'], // UTC+8
      ['s-series-v2-newcdr-internal.json', '2019-10-24T06:18:50.000Z'], // UTC−8
      ['s-series-v1-newcdr-inbound.json', '2017-09-14T01:27:25.000Z'], // UTC+8
    ];
    for (const [f, startUtc] of cases) {
      const es = events(one(f));
      expect(es[0]!.occurred_at, f).toBe(startUtc);
      const { message } = msgOf(f);
      expect(Date.parse(startUtc) / 1000, f).toBe(Math.floor(Number((message as { call_id: string }).call_id)));
    }
  });

  it('msg as a JSON-encoded string and as an object give the same events', () => {
    const frame = load('p-series-30012-new-cdr-internal-msg-object.json') as { type: number; sn: string; msg: unknown };
    const asString = { ...frame, msg: JSON.stringify(frame.msg) };
    const tr = (f: unknown) => {
      const r = parsePFrame(f);
      if (!r.ok) throw new Error(r.reason);
      return events(new YeastarTranslator(opts('yeastar-p', frame.sn)).translate(r.message, { received_at: T0, raw_ref: null }));
    };
    expect(tr(asString)).toEqual(tr(frame));
  });

  it('a whole P-Series call: ring, answer, hold, resume, hang-up, CDR', () => {
    const t = new YeastarTranslator(opts('yeastar-p', '3651064E8358'));
    const seq = ['ringing', 'answered', 'hold', 'answered', 'bye']
      .map((s) => `p-series-30011-call-status-${s}.json`)
      .concat('p-series-30012-new-cdr-voicemail-live.json');
    const out = seq.flatMap((f, i) =>
      events(t.translate(msgOf(f).message, { received_at: new Date(Date.parse('2026-09-23T21:04:19.000Z') + i * 10_000).toISOString(), raw_ref: null })),
    );
    expect(out.map((e) => e.type)).toEqual([
      'call.started',
      'call.ringing',
      'agent.state_changed',
      'call.answered',
      'agent.state_changed',
      'call.held',
      'agent.state_changed',
      'call.resumed',
      'agent.state_changed',
      'call.agent_completed',
      'agent.state_changed',
      'call.ended',
    ]);
    expect(out.find((e) => e.type === 'call.answered')!.payload).toEqual({ agent_id: '1002', wait_ms: 10_000, ring_ms: 10_000 });
    expect(out.find((e) => e.type === 'call.agent_completed')!.payload).toEqual({ agent_id: '1002', reason: 'caller', talk_ms: 30_000, hold_ms: 10_000 });
    expect(out.filter((e) => e.type === 'agent.state_changed').map((e) => (e.payload as { state: string }).state)).toEqual([
      'ringing',
      'on_call',
      'on_hold',
      'on_call',
      'available',
    ]);
    // The call is done: the live state forgets it.
    expect(t.state.calls).toEqual({});
  });

  it('a re-sent or repeated report gives the same event ids and no new facts', () => {
    const f = 'p-series-30011-call-status-queue-inbound-ringing.json';
    const { source, message } = msgOf(f);
    const a = events(new YeastarTranslator(opts(source, message.sn)).translate(message, { received_at: T0, raw_ref: null }));
    const b = events(new YeastarTranslator(opts(source, message.sn)).translate(message, { received_at: T0, raw_ref: null }));
    expect(b).toEqual(a);
    const t = new YeastarTranslator(opts(source, message.sn));
    t.translate(message, { received_at: T0, raw_ref: null });
    expect(events(t.translate(message, { received_at: '2026-01-01T08:00:01.000Z', raw_ref: null }))).toEqual([]);
  });

  it('untranslatable input goes to the DLQ with a reason code and path', () => {
    const bad = (text: string, product: 'p' | 's') => {
      const r = parseYeastarText(text, product);
      return r.ok ? null : { code: r.reason_code, path: r.path };
    };
    expect(bad('{"type":30011,"sn":"x","msg":"{not json"}', 'p')).toEqual({ code: 'UNPARSEABLE_JSON', path: '/msg' });
    expect(bad('{"type":39999,"sn":"x","msg":"{}"}', 'p')).toEqual({ code: 'UNKNOWN_EVENT_TYPE', path: '/type' });
    expect(bad('{"type":30011,"sn":"x","msg":"{\\"members\\":[]}"}', 'p')).toEqual({ code: 'MISSING_FIELD', path: '/msg/call_id' });
    expect(bad('{"event":"Bogus"}', 's')).toEqual({ code: 'UNKNOWN_EVENT_TYPE', path: '/event' });
    expect(bad('{"event":"CallStatus","callid":"1.1","members":"x"}', 's')).toEqual({ code: 'INVALID_FIELD', path: '/members' });
    expect(bad('{ "event": ', 's')).toEqual({ code: 'UNPARSEABLE_JSON', path: '/' });
    const cdr = parseSReport({ ...(load('s-series-v2-newcdr-internal.json') as object), status: 'WEIRD' });
    if (!cdr.ok) throw new Error(cdr.reason);
    const o = new YeastarTranslator(opts('yeastar-s', '369451090405')).translate(cdr.message, { received_at: T0, raw_ref: null });
    // An unknown disposition still ends the call, as FAILED with the raw value kept (as on the AMI path).
    expect(o.kind === 'ok' && o.events.find((e) => e.type === 'call.ended')?.payload).toMatchObject({ disposition: 'FAILED', raw_disposition: 'WEIRD' });
    const st = parsePFrame({ type: 30029, sn: 'x', msg: { queue_number: 'queue-1', agent_number: '1', status: 'Dancing' } });
    if (!st.ok) throw new Error(st.reason);
    expect(new YeastarTranslator(opts('yeastar-p', '')).translate(st.message, { received_at: T0, raw_ref: null })).toMatchObject({
      kind: 'dlq',
      reason_code: 'UNKNOWN_STATUS',
    });
  });
});

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateEvent, type CanonicalEvent } from '@callboard/schemas';
import { CallIds, parseCdrLine, splitCsv } from '../src/import/cdr.ts';
import { Progress, progressLine } from '../src/import/progress.ts';
import { chunkDelays } from '../src/import/replay.ts';
import { parseQueueLogLine, zoneToUtc, type QueueLogLine } from '../src/import/queue-log.ts';
import { QueueLogTranslator } from '../src/import/translate.ts';

const FIXTURES = join(import.meta.dirname, '../../../shared/fixtures/ami/asterisk22');
const line = (text: string, n = 1): QueueLogLine => {
  const r = parseQueueLogLine(Buffer.from(text), n);
  if (r.kind !== 'line') throw new Error(r.reason);
  return r.line;
};

/** Translates lines in order; returns every event and the dead-letter reasons. */
function translateAll(lines: string[], t = new QueueLogTranslator({ tenant_id: 't1', pbx_id: 'p1', received_at: 0 })) {
  const events: CanonicalEvent[] = [];
  const dlq: string[] = [];
  lines.forEach((text, i) => {
    const o = t.translate(line(text, i + 1));
    if (o.kind === 'ok') events.push(...o.events);
    if (o.kind === 'dlq') dlq.push(`${o.reason_code} ${o.reason}`);
  });
  return { events, dlq, t };
}

const CALL = [
  '1795306503|MANAGER|sales|Local/1001@agents|ADDMEMBER|',
  '1795306506|1795306506.1|sales|NONE|ENTERQUEUE||5551001|1',
  '1795306507|1795306506.1|sales|Agent 1001|RINGNOANSWER|2000',
  '1795306508|1795306506.1|sales|Agent 1001|CONNECT|2|1795306506.6|2',
  '1795306529|1795306506.1|sales|Agent 1001|COMPLETEAGENT|2|21|1',
];

describe('queue_log parser', () => {
  it('reads the five fixed fields and the data fields', () => {
    const l = line('1795306508|1795306506.1|sales|Agent 1001|CONNECT|2|1795306506.6|2', 7);
    expect(l).toMatchObject({
      line: 7,
      at: 1795306508000,
      callid: '1795306506.1',
      queue: 'sales',
      agent: 'Agent 1001',
      verb: 'CONNECT',
      data: ['2', '1795306506.6', '2'],
    });
  });

  it.each([
    ['1795306508|1795306506.1|sal', 'MISSING_FIELD', /truncated \(3 of at least 5/],
    ['1795306508|1795306506.1|sales|Agent 1001|CONNECT|2', 'MISSING_FIELD', /CONNECT truncated \(1 of 3/],
    ['17953065xx|1795306506.1|sales|NONE|ENTERQUEUE||5551001|1', 'BAD_TIMESTAMP', /neither epoch seconds nor a date and time/],
    ['2026-11-31 00:15:06|1795306506.1|sales|NONE|ENTERQUEUE||5551001|1', 'BAD_TIMESTAMP', /neither/],
    ['1795306529|1795306506.1|sales|Agent 1001|COMPLETEAGENT|2|twenty|1', 'INVALID_FIELD', /data2 "twenty"/],
  ])('rejects %s as %s with its line number', (text, code, why) => {
    const r = parseQueueLogLine(Buffer.from(text), 12);
    expect(r).toMatchObject({ kind: 'reject', reason_code: code });
    if (r.kind === 'reject') {
      expect(r.reason).toMatch(/^line 12: /);
      expect(r.reason).toMatch(why);
    }
  });

  it('reads a queue_log table export: date and time in the PBX zone, extra empty data columns', () => {
    const text = '2026-11-22 01:15:06.5|1795306506.1|sales|NONE|ENTERQUEUE||5551001|1||';
    expect(parseQueueLogLine(Buffer.from(text), 1)).toMatchObject({
      kind: 'line',
      line: { at: Date.parse('2026-11-22T01:15:06.500Z'), verb: 'ENTERQUEUE', data: ['', '5551001', '1', '', ''] },
    });
    expect(parseQueueLogLine(Buffer.from(text), 1, zoneToUtc('Europe/Rome'))).toMatchObject({
      kind: 'line',
      line: { at: Date.parse('2026-11-22T00:15:06.500Z') },
    });
  });

  it('rejects a line that is not UTF-8 instead of replacing the byte', () => {
    const bytes = Buffer.concat([Buffer.from('1795306506|1795306506.1|sales|NONE|ENTERQUEUE||555'), Buffer.from([0xff]), Buffer.from('|1')]);
    expect(parseQueueLogLine(bytes, 3)).toEqual({ kind: 'reject', reason_code: 'UNPARSEABLE_FRAME', reason: 'line 3: not UTF-8 text' });
  });

  it('parses an unknown verb (the translator counts it)', () => {
    expect(line('1795306506|NONE|sales|NONE|SOMETHINGNEW|a|b').verb).toBe('SOMETHINGNEW');
  });
});

describe('queue_log translator', () => {
  it('turns one answered call into valid canonical events with the interface-derived agent id', () => {
    const { events, dlq } = translateAll(CALL);
    expect(dlq).toEqual([]);
    for (const e of events) expect(validateEvent(e)).toMatchObject({ ok: true });
    expect(events.map((e) => e.type)).toEqual([
      'agent.queue_joined',
      'agent.state_changed',
      'call.queued',
      'call.ring_no_answer',
      'call.answered',
      'agent.state_changed',
      'call.agent_completed',
      'agent.state_changed',
    ]);
    const answered = events.find((e) => e.type === 'call.answered')!;
    expect(answered).toMatchObject({
      call_id: '1795306506.1',
      occurred_at: '2026-11-22T00:15:08.000Z',
      payload: { agent_id: '1001', agent_name: 'Agent 1001', queue: 'sales', wait_ms: 2000, ring_ms: 2000 },
    });
    const done = events.find((e) => e.type === 'call.agent_completed')!;
    expect(done.payload).toMatchObject({ reason: 'agent', talk_ms: 21000 });
    expect(events.find((e) => e.type === 'call.ring_no_answer')!.payload).toMatchObject({ agent_id: '1001', ring_ms: 2000 });
  });

  it('gives the same ids on a second run, and distinct ids to identical lines of one input', () => {
    const a = translateAll(CALL).events.map((e) => e.event_id);
    const b = translateAll(CALL).events.map((e) => e.event_id);
    expect(b).toEqual(a);
    const pauses = [
      '1795305879|MANAGER|sales|Local/1002@agents|ADDMEMBER|',
      '1795305879|NONE|sales|Agent 1002|PAUSE|Training',
      '1795305879|NONE|sales|Agent 1002|UNPAUSE|',
      '1795305879|NONE|sales|Agent 1002|PAUSE|Training',
    ];
    const ids = translateAll(pauses).events.map((e) => e.event_id);
    expect(ids).toHaveLength(5);
    expect(new Set(ids).size).toBe(ids.length);
    // The same input twice in one stream (two overlapping files concatenated): the second copy
    // repeats ids of the first, so it counts nothing again.
    const concatenated = translateAll([...CALL, ...CALL]).events.map((e) => e.event_id);
    expect(new Set(concatenated)).toEqual(new Set(a));
  });

  it('orders two state changes of one agent in one second by event id, as projections read them', () => {
    const { events } = translateAll([
      ...CALL,
      '1795306529|1795306520.1|sales|NONE|ENTERQUEUE||5551009|1',
      '1795306529|1795306520.1|sales|Agent 1001|CONNECT|0|1795306520.6|0',
    ]);
    const same = events.filter((e) => e.type === 'agent.state_changed' && e.occurred_at === '2026-11-22T00:15:29.000Z');
    expect(same.map((e) => (e.payload as { state: string }).state)).toEqual(['available', 'on_call']);
    expect(same[0]!.event_id < same[1]!.event_id).toBe(true);
  });

  it('counts and dead-letters an unknown verb, and keeps going', () => {
    const { events, dlq, t } = translateAll([
      CALL[1]!,
      '1795306507|1795306506.1|sales|NONE|SOMETHINGNEW|x',
      '1795306510|1795306506.1|sales|NONE|ABANDON|1|1|4',
    ]);
    expect(dlq).toEqual(['UNKNOWN_EVENT_TYPE line 2: unknown queue_log verb SOMETHINGNEW']);
    expect(Object.fromEntries(t.unknownVerbs)).toEqual({ SOMETHINGNEW: 1 });
    expect(events.find((e) => e.type === 'call.abandoned')!.payload).toMatchObject({ queue: 'sales', wait_ms: 4000, position: 1, original_position: 1 });
  });

  it('with until, leaves later calls and agent lines to the live adapter but finishes calls already queued', () => {
    const { events, t } = translateAll(
      [...CALL.slice(0, 4), '1795306510|1795306510.1|sales|NONE|ENTERQUEUE||5551002|2', '1795306511|NONE|sales|Agent 1001|PAUSE|Lunch', CALL[4]!],
      new QueueLogTranslator({ tenant_id: 't1', pbx_id: 'p1', received_at: 0, until: Date.parse('2026-11-22T00:15:10Z') }),
    );
    expect(t.skipped).toBe(2);
    expect(events.filter((e) => e.type === 'call.queued').map((e) => e.call_id)).toEqual(['1795306506.1']);
    expect(events.some((e) => e.type === 'call.agent_completed')).toBe(true);
    expect(events.some((e) => e.type === 'agent.state_changed' && e.payload.state === 'paused')).toBe(false);
  });

  it('reports a pause taken on a call with pause_reason, on every change until the unpause', () => {
    const { events } = translateAll([
      ...CALL.slice(0, 4),
      '1795306510|NONE|sales|Agent 1001|PAUSE|Coaching',
      CALL[4]!,
      '1795306540|NONE|sales|Agent 1001|UNPAUSE|',
    ]);
    const changes = events
      .filter((e) => e.type === 'agent.state_changed')
      .map((e) => [e.occurred_at.slice(11, 19), e.payload.state, e.payload.pause_reason, e.payload.call_id]);
    // METRICS.md pause_time_by_reason: the pause runs 00:15:10 → 00:15:40 although the agent
    // talked until 00:15:29; the pause on the call still names the call.
    expect(changes).toEqual([
      ['00:15:03', 'available', undefined, undefined],
      ['00:15:08', 'on_call', undefined, '1795306506.1'],
      ['00:15:10', 'on_call', 'Coaching', '1795306506.1'],
      ['00:15:29', 'paused', 'Coaching', undefined],
      ['00:15:40', 'available', undefined, undefined],
    ]);
    for (const e of events) expect(validateEvent(e)).toMatchObject({ ok: true });
  });

  it('maps exits, transfers and pauses', () => {
    const { events } = translateAll([
      '1795300000|x|sales|NONE|ENTERQUEUE||1|1',
      '1795300030|x|sales|NONE|EXITWITHTIMEOUT|1|1|30',
      '1795300040|y|sales|NONE|ENTERQUEUE||2|1',
      '1795300041|y|sales|NONE|EXITWITHKEY|5|1',
      '1795300050|z|sales|NONE|ENTERQUEUE||3|1',
      '1795300052|z|sales|Agent 1002|CONNECT|2|z.2|1',
      '1795300060|z|sales|Agent 1002|BLINDTRANSFER|2000|transfer|2|8|1',
      '1795300061|NONE|NONE|Agent 1002|PAUSEALL|Lunch',
    ]);
    const left = events.filter((e) => e.type === 'call.left_queue').map((e) => e.payload);
    expect(left).toMatchObject([
      { reason: 'timeout', wait_ms: 30000 },
      { reason: 'key', wait_ms: 1000 },
    ]);
    expect(events.find((e) => e.type === 'call.transferred')!.payload).toMatchObject({ kind: 'blind', from_agent_id: 'Agent 1002', to: '2000@transfer' });
    expect(events.find((e) => e.type === 'call.agent_completed')!.payload).toMatchObject({ reason: 'transfer', talk_ms: 8000 });
    const pause = events.filter((e) => e.type === 'agent.state_changed').at(-1)!;
    // Never added to a queue in this input: an agent known only by name is offline, not paused.
    expect(pause.payload).toMatchObject({ state: 'offline' });
  });
});

describe('Master.csv', () => {
  it('splits quoted fields with doubled quotes and empty fields', () => {
    expect(splitCsv('"","a ""b"" <1>",,"x,y",3')).toEqual(['', 'a "b" <1>', '', 'x,y', '3']);
    expect(splitCsv('"open')).toBeNull();
  });

  it("follows a Local channel's ;2 half to its ;1 half: queue_log's call id becomes the Linkedid", () => {
    const rows = [
      '"","5551001","5551001","callers","""Customer 5551001"" <5551001>","Local/5551001@callers-00000000;1","","Wait","3600","2026-11-22 00:15:06","2026-11-22 00:15:06","2026-11-22 00:15:29",23,23,"ANSWERED","DOCUMENTATION","1795306506.0",""',
      '"","5551001","5551001","callers","""Customer 5551001"" <5551001>","Local/5551001@callers-00000000;2","Local/1001@agents-00000003;1","Queue","sales,t","2026-11-22 00:15:06","2026-11-22 00:15:06","2026-11-22 00:15:29",22,22,"ANSWERED","DOCUMENTATION","1795306506.1",""',
    ];
    const ids = new CallIds();
    rows.forEach((r, i) => {
      const p = parseCdrLine(r, i + 1);
      if (p.kind === 'row') ids.add(p.row);
    });
    expect(ids.callOf('1795306506.1')).toBe('1795306506.0');
    expect(ids.callOf('9999.1')).toBe('9999.1');
    const { events } = translateAll(CALL, new QueueLogTranslator({ tenant_id: 't1', pbx_id: 'p1', cdr: ids, received_at: 0 }));
    const calls = new Set(events.filter((e) => 'call_id' in e).map((e) => (e as { call_id: string }).call_id));
    expect([...calls]).toEqual(['1795306506.0']);
    const ended = events.find((e) => e.type === 'call.ended')!;
    expect(ended).toMatchObject({ occurred_at: '2026-11-22T00:15:29.000Z', payload: { disposition: 'ANSWERED', duration_ms: 23000, billsec_ms: 23000 } });
    expect(parseCdrLine('"","5551001"', 9)).toMatchObject({ kind: 'reject', reason: expect.stringMatching(/^line 9: truncated/) });
  });
});

describe.skipIf(!existsSync(FIXTURES))('asterisk22 queue_logs (../shared present)', () => {
  it.each(['a_answered', 'b_abandon', 'c_ringnoanswer', 'f_hold_transfer', 'h_attended_transfer', 'i_membership_midcall', 'j_restart'])(
    '%s translates without a dead letter',
    (s) => {
      const text = readFileSync(join(FIXTURES, s, 'queue_log'), 'utf8')
        .split('\n')
        .filter(Boolean);
      const { events, dlq } = translateAll(text);
      expect(dlq).toEqual([]);
      for (const e of events) expect(validateEvent(e)).toMatchObject({ ok: true });
      const queued = text.filter((l) => l.includes('|ENTERQUEUE|')).length;
      expect(events.filter((e) => e.type === 'call.queued')).toHaveLength(queued);
    },
  );
});

describe('progress bar', () => {
  it('shows percentage, lines, rate and ETA when the size is known, rate alone otherwise', () => {
    expect(progressLine(0.5, 100_000, 2, 10)).toBe('[#####.....]  50%  100,000 lines  50,000 lines/s  ETA 0:02');
    expect(progressLine(null, 1500, 3)).toBe('1,500 lines  500 lines/s');
  });

  it('draws on a terminal at most five times a second, and nothing when the output is not a terminal', () => {
    let t = 0;
    const drawn: string[] = [];
    const tty = new Progress({ out: { isTTY: true, columns: 200, write: (s: string) => drawn.push(s) > 0 }, total: 1000, now: () => t });
    for (t = 0; t <= 1000; t += 50) tty.update(t, t);
    tty.end();
    expect(drawn.length).toBe(5 + 1);
    expect(drawn[4]).toContain('100%');
    expect(drawn.at(-1)).toBe('\r\x1b[K');
    const piped: string[] = [];
    const pipe = new Progress({ out: { isTTY: false, write: (s: string) => piped.push(s) > 0 }, total: 1000, now: () => t });
    pipe.update(10, 10);
    pipe.end();
    expect(piped).toEqual([]);
  });
});

describe('replay pace', () => {
  it('divides the recorded gaps by the speed; max sends without waiting', () => {
    const chunks = [{ at: 1000 }, { at: 1500 }, { at: 3500 }];
    expect(chunkDelays(chunks, 1)).toEqual([0, 500, 2000]);
    expect(chunkDelays(chunks, 10)).toEqual([0, 50, 200]);
    expect(chunkDelays(chunks, Infinity)).toEqual([0, 0, 0]);
  });
});

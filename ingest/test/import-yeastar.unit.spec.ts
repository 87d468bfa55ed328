// `callboard import yeastar`: Yeastar CDR exports (P-Series "Standard View" CSV, S-Series and
// older header names) → the CDR view of each call. Given these rows, then these events. The
// P-Series row is the live cdr/search row of ../shared/fixtures/yeastar written as its export
// writes it; its `timestamp` (Unix seconds) checks the time-zone reading.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createLogger } from '@callboard/platform';
import { describe, expect, it } from 'vitest';
import { validateEvent, type CanonicalEvent, type DlqRecord, type EventOf } from '@callboard/schemas';
import { IngestPipeline } from '../src/pipeline.ts';
import { importYeastar } from '../src/import/yeastar-import.ts';
import { YeastarCdrTranslator, party, yeastarColumns, yeastarSeconds, yeastarTime } from '../src/import/yeastar.ts';

const FIXTURE = join(import.meta.dirname, '../../../shared/fixtures/yeastar/p-series-cdr-search-row-v2.json');
const P_HEADER =
  'ID,Time,Call From,Call To,Call Duration,Ring Duration,Talk Duration,Status,Reason,Source Trunk,Destination Trunk,Communication Type,DID/DDI,Outbound Caller ID,Caller IP Address,PIN Code,Recording File';
const S_HEADER = 'callid,timestart,callfrom,callto,callduraction,talkduraction,status,type,srctrunkname,desttrunkname,didnumber';

function translate(header: string, rows: string[], zone = 'Africa/Nairobi', order: 'MDY' | 'DMY' = 'MDY') {
  const t = new YeastarCdrTranslator({ tenant_id: 't1', pbx_id: 'y1', source: 'yeastar-p', zone, order, received_at: 0 });
  expect(t.header(header)).toEqual({ kind: 'ok' });
  const events: CanonicalEvent[] = [];
  const dlq: string[] = [];
  rows.forEach((r, i) => {
    const o = t.row(r, i + 2);
    if (o.kind === 'ok') events.push(...o.events);
    if (o.kind === 'dlq') dlq.push(`${o.reason_code} ${o.reason}`);
  });
  return { events, dlq };
}

describe('Yeastar CDR export columns', () => {
  it('finds the fields by their names in either series, ignoring case, spaces and a BOM', () => {
    expect(yeastarColumns(P_HEADER.split(','))).toMatchObject({
      kind: 'ok',
      columns: { id: 0, time: 1, from: 2, to: 3, duration: 4, ring: 5, talk: 6, status: 7, type: 11, did: 12 },
    });
    expect(yeastarColumns(S_HEADER.split(','))).toMatchObject({
      kind: 'ok',
      columns: { id: 0, time: 1, duration: 4, talk: 5, status: 6, type: 7, srcTrunk: 8 },
    });
    expect(yeastarColumns(['Time', 'Call From'])).toEqual({ kind: 'missing', fields: ['id', 'to', 'duration', 'status'] });
    const t = new YeastarCdrTranslator({ tenant_id: 't1', pbx_id: 'y1', source: 'yeastar-p', zone: 'UTC' });
    expect(t.header(`\uFEFF${P_HEADER}\r`)).toEqual({ kind: 'ok' });
    expect(t.header('1795306506|1795306506.1|sales|NONE|ENTERQUEUE||555|1')).toMatchObject({ kind: 'refused' });
  });

  it('reads the PBX display formats and durations in seconds or hh:mm:ss, in the PBX zone', () => {
    const nbo = 'Africa/Nairobi';
    const at = Date.parse('2026-04-27T15:41:34Z');
    expect(yeastarTime('04/27/2026 18:41:34', nbo)).toBe(at);
    expect(yeastarTime('27/04/2026 18:41:34', nbo, 'DMY')).toBe(at);
    expect(yeastarTime('2026-04-27 18:41:34', nbo)).toBe(at);
    expect(yeastarTime('2026/04/27 06:41:34 PM', nbo)).toBe(at);
    expect(yeastarTime('2026/04/27 12:05:00 AM', nbo)).toBe(Date.parse('2026-04-26T21:05:00Z'));
    expect(yeastarTime('1777304494', nbo)).toBe(at);
    // a DST zone: the same wall-clock time in winter and summer
    expect(yeastarTime('2026-01-15 09:00:00', 'Europe/Rome')).toBe(Date.parse('2026-01-15T08:00:00Z'));
    expect(yeastarTime('2026-07-15 09:00:00', 'Europe/Rome')).toBe(Date.parse('2026-07-15T07:00:00Z'));
    for (const bad of ['13/27/2026 18:41:34', '2026-04-27', 'yesterday', '2026/04/27 13:00:00 PM']) expect(yeastarTime(bad, nbo), bad).toBeNaN();
    expect([yeastarSeconds('62'), yeastarSeconds('00:01:02'), yeastarSeconds('1:02'), yeastarSeconds('')]).toEqual([62, 62, 62, 0]);
    expect(yeastarSeconds('1.5')).toBeNaN();
    expect(party('Queue Emergency<6400>')).toEqual({ number: '6400', name: 'Queue Emergency' });
    expect(party('0745150974<0745150974>')).toEqual({ number: '0745150974', name: undefined });
  });
});

describe.skipIf(!existsSync(FIXTURE))('Yeastar CDR rows → call.started, call.ended', () => {
  const f = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, string | number>;
  // The fixture's search row as the CSV export writes it (P-Series "Standard View" columns).
  const row = [
    f.call_id,
    f.time,
    f.call_from,
    f.call_to,
    f.duration,
    f.ring_duration,
    f.talk_duration,
    f.disposition,
    '',
    f.src_trunk,
    '',
    f.call_type,
    f.did,
    '',
    '',
    f.pin_code,
    '',
  ].join(',');

  it('gives the CDR view of the call, in UTC, valid against the contract', () => {
    const { events, dlq } = translate(P_HEADER, [row]);
    expect(dlq).toEqual([]);
    for (const e of events) expect(validateEvent(e).ok, JSON.stringify(e)).toBe(true);
    const [started, ended] = events as [EventOf<'call.started'>, EventOf<'call.ended'>];
    expect(started).toMatchObject({
      type: 'call.started',
      call_id: '1777304494.97',
      source: 'yeastar-p',
      occurred_at: new Date(Number(f.timestamp) * 1000).toISOString(),
    });
    expect(started.payload).toEqual({ direction: 'inbound', caller_number: '0745150974', called_number: '6400', trunk: 'Saf' });
    expect(ended.occurred_at).toBe(new Date((Number(f.timestamp) + 62) * 1000).toISOString());
    expect(ended.payload).toEqual({ disposition: 'ANSWERED', raw_disposition: 'ANSWERED', duration_ms: 62_000, billsec_ms: 44_000, direction: 'inbound' });
  });

  it('the same row gives the same ids in any file and at any line; another row other ids', () => {
    const a = translate(P_HEADER, [row]).events.map((e) => e.event_id);
    const b = translate(P_HEADER, [
      '1777304600.98,04/27/2026 18:43:20,Alice<1001>,0722000000,00:00:35,00:00:05,00:00:30,ANSWERED,,,Saf,Outbound,,,,,',
      row,
    ]).events.map((e) => e.event_id);
    expect(b.slice(2)).toEqual(a);
    expect(new Set([...a, ...b]).size).toBe(4);
  });

  it('maps every status Yeastar writes, the S-Series names, and outbound and internal calls', () => {
    const { events, dlq } = translate(
      S_HEADER,
      [
        '1505352445.265,2017-09-14 09:27:25,102,1000,38,29,ANSWERED,Inbound,Apple_test,,',
        '1547391782.318,2019-01-13 23:03:02,1001,1005,21,10,ANSWERD,Internal,,,',
        '1547392142.330,2019-01-13 23:09:02,1005,9283737733,6,0,NO ANSWERED,Outbound,,SPS-6-36,',
        '1547392142.331,2019-01-13 23:10:02,0722,6400,30,0,VOICEMAIL,Inbound,trunk,,',
        '1547392142.332,2019-01-13 23:11:02,1005,1006,2,0,BUSY,Callback,,,',
      ],
      'Asia/Shanghai',
    );
    expect(dlq).toEqual([]);
    const ended = events.filter((e): e is EventOf<'call.ended'> => e.type === 'call.ended');
    expect(ended.map((e) => [e.payload.direction, e.payload.disposition, e.payload.raw_disposition, e.payload.extension ?? null])).toEqual([
      ['inbound', 'ANSWERED', 'ANSWERED', '1000'],
      ['internal', 'ANSWERED', 'ANSWERD', '1001'],
      ['outbound', 'NO ANSWER', 'NO ANSWERED', '1005'],
      ['inbound', 'NO ANSWER', 'VOICEMAIL', '6400'],
      ['internal', 'BUSY', 'BUSY', '1005'],
    ]);
    // an answered call's billsec is its talk duration, an unanswered one has none
    expect(ended.map((e) => e.payload.billsec_ms)).toEqual([29_000, 10_000, 0, 0, 0]);
    expect(events[0]!.occurred_at).toBe('2017-09-14T01:27:25.000Z');
  });

  it('dead-letters a truncated row, a bad time, a bad duration and an unknown status by line, and keeps the rest', () => {
    const { events, dlq } = translate(P_HEADER, [
      row,
      '1777304900.101,04/27/2026 18:48:20,1001,1002',
      '1777304800.100,13/27/2026 18:46:40,0745150976,1002,10,10,0,BUSY,,Saf,,Inbound,,,,,',
      '1777304800.102,04/27/2026 18:46:40,0745150976,1002,ten,10,0,BUSY,,Saf,,Inbound,,,,,',
      '1777304800.103,04/27/2026 18:46:40,0745150976,1002,10,10,0,TRANSFERRED,,Saf,,Inbound,,,,,',
    ]);
    expect(events).toHaveLength(2);
    expect(dlq.map((d) => d.split(':')[0])).toEqual(['MISSING_FIELD line 3', 'BAD_TIMESTAMP line 4', 'INVALID_FIELD line 5', 'INVALID_FIELD line 6']);
  });
});

describe('import yeastar (the shell)', () => {
  it('reads a gzip export through the ingest shell: events validated, rejected rows dead-lettered with file and line, a summary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'callboard-yeastar-'));
    try {
      const file = join(dir, 'cdr.csv.gz');
      const rows = [
        '1777304494.97,04/27/2026 18:41:34,0745150974<0745150974>,Queue Emergency<6400>,62,18,44,ANSWERED,,Saf,,Inbound,,,,,',
        '1777304900.101,04/27/2026 18:48:20,1001,1002',
        Buffer.concat([
          Buffer.from('1777304600.98,04/27/2026 18:43:20,Al'),
          Buffer.from([0xc3, 0x28]),
          Buffer.from('<1001>,0722,35,5,30,ANSWERED,,,Saf,Outbound,,,,,'),
        ]).toString('latin1'),
        '1777304700.99,04/27/2026 18:45:00,0745150975,6400,40,40,0,NO ANSWER,,Saf,,Inbound,,,,,',
      ];
      writeFileSync(file, gzipSync(Buffer.concat([Buffer.from(`${P_HEADER}\r\n`), ...rows.map((r) => Buffer.from(`${r}\r\n`, 'latin1'))])));
      const events: CanonicalEvent[] = [];
      const dead: DlqRecord[] = [];
      const sink = {
        raw: async () => [],
        canonical: async (e: CanonicalEvent[]) => void events.push(...e),
        dlq: async (d: DlqRecord[]) => void dead.push(...d),
      };
      const pipeline = new IngestPipeline({ source: 'yeastar-p', tenant_id: 't1', pbx_id: 'y1', sink, log: createLogger('test', 'warn') });
      const summary = await importYeastar({ cdr: file, tenant_id: 't1', pbx_id: 'y1', series: 'p', timezone: 'Africa/Nairobi', pipeline, received_at: 0 });
      pipeline.close();
      expect(summary).toMatchObject({ lines: 5, events: 4, cdrRows: 2, rejectedCdrLines: [3, 4], invalidEvents: 0 });
      expect(events.map((e) => e.type)).toEqual(['call.started', 'call.ended', 'call.started', 'call.ended']);
      expect(dead.map((d) => [d.reason_code, d.reason.startsWith(`${file}: line `)])).toEqual([
        ['MISSING_FIELD', true],
        ['UNPARSEABLE_FRAME', true],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

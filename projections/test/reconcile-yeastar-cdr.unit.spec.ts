// The CDR side of `reconcile --yeastar-cdr`: what each Yeastar CDR row tells (queue by number or
// name, the answering extension of a direct call, talk capped at the call's duration), and the
// figures of a local day. Given these rows, then these figures.
import { describe, expect, it } from 'vitest';
import { YeastarCdrTranslator } from '@callboard/ingest/import/yeastar';
import { cdrCall, cdrFigures, type CdrCall } from '../src/reconcile/yeastar-cdr.ts';

const HEADER = 'ID,Time,Call From,Call To,Call Duration,Ring Duration,Talk Duration,Status,Reason,Source Trunk,Destination Trunk,Communication Type,DID/DDI';
const ZONE = 'Africa/Nairobi';

function calls(rows: string[], queues = ['6400']): CdrCall[] {
  const reader = new YeastarCdrTranslator({ tenant_id: '-', pbx_id: '-', source: 'yeastar-p', zone: ZONE });
  expect(reader.header(HEADER)).toEqual({ kind: 'ok' });
  return rows.map((text, i) => {
    const r = reader.parse(text, i + 2);
    if (r.kind !== 'row') throw new Error(`row ${i + 2} rejected`);
    return cdrCall(r.row, i + 2, (n, name) => queues.includes(n) || /\bqueue\b/i.test(name ?? ''));
  });
}

// 2026-09-24 local (UTC+3): 2026-09-23T21:00Z to 2026-09-24T21:00Z
const DAY = { date: '2026-09-24', start: Date.parse('2026-09-23T21:00:00Z'), end: Date.parse('2026-09-24T21:00:00Z') };

describe('Yeastar CDR rows as a reconciliation reads them', () => {
  const rows = calls([
    '1.1,2026-09-24 09:00:00,0711000001,Sales<6400>,100,12,88,ANSWERED,,Saf,,Inbound,',
    '1.2,2026-09-24 09:10:00,0711000002,Queue Support<6500>,40,40,0,NO ANSWER,,Saf,,Inbound,',
    '1.3,2026-09-24 09:20:00,0711000003,Queue Support<6500>,30,30,0,VOICEMAIL,,Saf,,Inbound,',
    '1.4,2026-09-24 09:30:00,0711000004,Anna<1002>,65,5,70,ANSWERED,,Saf,,Inbound,',
    '1.5,2026-09-24 09:40:00,1002,0722000000,20,5,15,ANSWERED,,,Saf,Outbound,',
    '1.6,2026-09-24 09:50:00,1001,1002,20,5,15,ANSWERED,,,,Internal,',
    '1.7,2026-09-25 00:00:01,0711000005,Sales<6400>,10,2,8,ANSWERED,,Saf,,Inbound,',
  ]);

  it('a queue by its configured number or a queue name; the agent of an answered inbound direct call only', () => {
    expect(rows.map((c) => [c.call_id, c.queue, c.agent, c.answered, c.talk_s])).toEqual([
      ['1.1', '6400', null, true, 88],
      ['1.2', '6500', null, false, 0],
      ['1.3', '6500', null, false, 0],
      // talk longer than the call is the call's duration
      ['1.4', null, '1002', true, 65],
      ['1.5', null, null, true, 15],
      ['1.6', null, null, true, 15],
      ['1.7', '6400', null, true, 8],
    ]);
  });

  it('the figures of a local day: offered, answered, unanswered, talk per queue; handled_direct per agent', () => {
    const f = cdrFigures(rows, DAY);
    expect(Object.fromEntries(f.queues)).toEqual({
      '6400': { offered: 1, answered: 1, unanswered: 0, talk: 88 },
      '6500': { offered: 2, answered: 0, unanswered: 2, talk: 0 },
    });
    expect(Object.fromEntries(f.agents)).toEqual({ '1002': 1 });
    // a second after local midnight (21:00:01 UTC) is the next day's
    const next = cdrFigures(rows, { date: '2026-09-25', start: DAY.end, end: DAY.end + 86_400_000 });
    expect(Object.fromEntries(next.queues)).toEqual({ '6400': { offered: 1, answered: 1, unanswered: 0, talk: 8 } });
  });
});

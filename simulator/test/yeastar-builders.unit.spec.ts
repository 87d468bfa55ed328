// The simulator's frame builders render exactly what the fixtures show the PBX sending.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pAgentStatus, pCallStatus, pNewCdr } from '../src/yeastar-p-server.ts';
import { sCallStatus, sNewCdr, sTransfer } from '../src/yeastar-s-pusher.ts';
import { parsePFrame } from '@callboard/ingest/yeastar/messages';

const repoRoot = join(import.meta.dirname, '..', '..');
const dir = join(repoRoot, '..', 'shared', 'fixtures', 'yeastar');
const load = (f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>;
const msgOf = (f: string) => {
  const m = load(f).msg;
  return typeof m === 'string' ? (JSON.parse(m) as unknown) : m;
};

describe.skipIf(!existsSync(dir))('Yeastar frame builders (needs ../shared/fixtures)', () => {
  it('P-Series 30011 snapshot as in the fixture', () => {
    const f = pCallStatus('1777304494.97', [
      { inbound: { from: '0745150974', to: '6400', trunk: 'Saf' }, channel: 'PJSIP/trunk-Saf-endpoint-00000b01', status: 'ANSWERED', call_path: '6400' },
      { extension: '1001', channel: 'PJSIP/1001-00000b02', status: 'RING', call_path: '6400' },
      { extension: '1002', channel: 'PJSIP/1002-00000b03', status: 'RING', call_path: '6400' },
    ]);
    expect(f.type).toBe(30011);
    expect(f.msg).toEqual(msgOf('p-series-30011-call-status-queue-inbound-ringing.json'));
  });

  it('P-Series 30012 with a PBX-local time_start from the UTC start and the zone', () => {
    const f = pNewCdr({
      call_id: '1790197458.5215',
      start: new Date(1790197458_000),
      timezone: 'Africa/Nairobi',
      call_from: '0111050596',
      call_to: '1002',
      call_duration_s: 11,
      talk_duration_s: 11,
      status: 'VOICEMAIL',
      type: 'Inbound',
      src_trunk: 'Saf',
    });
    const live = msgOf('p-series-30012-new-cdr-voicemail-live.json') as Record<string, unknown>;
    for (const k of [
      'call_id',
      'time_start',
      'call_from',
      'call_to',
      'call_duration',
      'talk_duration',
      'src_trunk_name',
      'dst_trunk_name',
      'status',
      'type',
      'agent_ring_time',
    ])
      expect(f.msg[k], k).toEqual(live[k]);
    expect(parsePFrame({ ...f, sn: 'x', msg: JSON.stringify(f.msg) }).ok).toBe(true);
  });

  it('P-Series 30029 as documented', () => {
    expect(pAgentStatus('6402', '1002', 'Paused', 'Lunch')).toEqual({ type: 30029, msg: load('p-series-30029-agent-status-changed.json').msg });
  });

  it('S-Series CallStatus, Tranfer and NewCdr as in the fixtures', () => {
    expect(
      sCallStatus('369451090405', '1571901993.46', [
        {
          inbound: { from: '12345678', to: '6700', trunk: 'siptrunk' },
          channel: 'PJSIP/trunk-siptrunk-endpoint-0000001c',
          status: 'ANSWERED',
          callpath: '6700',
        },
        { ext: '1020', channel: 'PJSIP/1020-0000001d', status: 'ANSWER', callpath: '6700' },
      ]),
    ).toEqual(load('s-series-v2-callstatus-answered-inbound-queue.json'));
    expect(
      sTransfer('369451090405', '1571981311.105', [
        { ext: '2000', channel: 'PJSIP/2000-00000025', status: 'ANSWERED' },
        { ext: '1020', channel: 'PJSIP/1020-00000026', status: 'ANSWER' },
      ]),
    ).toEqual(load('s-series-v2-calltransfer.json'));
    const cdr = sNewCdr('369451090405', {
      callid: '1571897930.5',
      start: new Date(1571897930_000),
      timezone: 'Pacific/Pitcairn',
      callfrom: '1023',
      callto: '2023',
      duration_s: 19,
      talk_s: 14,
      status: 'ANSWERED',
      type: 'Internal',
    });
    const fixture = load('s-series-v2-newcdr-internal.json');
    expect(Object.keys(cdr).sort()).toEqual(Object.keys(fixture).sort());
    expect({ ...cdr, recording: fixture.recording }).toEqual(fixture);
  });
});

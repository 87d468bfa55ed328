// The receive times a Yeastar replay stamps (replay-yeastar.ts): a raw record's own, a bare
// message one second after the line before and never before its call id's epoch — the rule of
// the offline translation, so a replay and `callboard translate` agree.
import { describe, expect, it } from 'vitest';
import { readYeastarCapture } from '../src/import/replay-yeastar.ts';

const status = (callId: string) => JSON.stringify({ type: 30011, sn: 'SN1', msg: JSON.stringify({ call_id: callId, members: [] }) });
const pause = JSON.stringify({ type: 30029, sn: 'SN1', msg: { queue_number: 'queue-6400', agent_number: '1001', status: 'Paused', reason: 'Lunch' } });

describe('readYeastarCapture', () => {
  it('stamps each message with its recorded arrival', () => {
    const text = [
      status('1790300000.1'),
      pause,
      status('1790300100.2'),
      '',
      JSON.stringify({ body: pause, received_at: '2026-09-24T06:10:00.250Z' }),
      'not json',
    ].join('\n');
    const m = readYeastarCapture(text, 'yeastar-p', 'Africa/Nairobi');
    expect(m.map((x) => [x.line, new Date(x.at).toISOString()])).toEqual([
      // the call id's epoch
      [1, '2026-09-25T01:33:20.000Z'],
      // no time of its own: a second after the line before
      [2, '2026-09-25T01:33:21.000Z'],
      // a later call id's epoch wins over the second after
      [3, '2026-09-25T01:35:00.000Z'],
      // a raw record keeps its own, even when earlier
      [5, '2026-09-24T06:10:00.250Z'],
      [6, '2026-09-24T06:10:01.250Z'],
    ]);
    expect(m[3]!.text).toBe(pause);
    expect(m[4]!.text).toBe('not json');
  });
});

// One morning of a Yeastar P-Series in Nairobi, as its live stream and as its CDR export: a queue
// call answered by 1001 (A), one not answered (B), a direct call answered at 1002 (C). Shared by
// the reconciliation tests of `reconcile --yeastar-cdr` and `import yeastar`.
import { pCallStatus, type PMember } from '@callboard/simulator/yeastar-p-server';

export const ZONE = 'Africa/Nairobi';
export const DAY = '2026-09-24';
// 2026-09-24 09:00:00 in Nairobi (UTC+3)
export const T0 = Date.parse('2026-09-24T06:00:00Z');
export const A = `${T0 / 1000}.41`;
export const B = `${T0 / 1000 + 200}.42`;
export const C = `${T0 / 1000 + 400}.43`;
const trunk = (to: string, status: 'ANSWERED' | 'BYE', path: string): PMember => ({
  inbound: { from: '0711000001', to, trunk: 'Saf' },
  channel: `PJSIP/trunk-${to}`,
  status,
  call_path: path,
});
const ext = (n: string, status: 'RING' | 'ANSWER' | 'BYE', path: string): PMember => ({ extension: n, channel: `PJSIP/${n}-1`, status, call_path: path });
const line = (f: { type: number; msg: unknown }, at: number) =>
  JSON.stringify({ body: JSON.stringify({ type: f.type, sn: 'SN1', msg: JSON.stringify(f.msg) }), received_at: new Date(at).toISOString() });

/** The live stream, as `pbx.raw.v1` NDJSON. */
export const STREAM = [
  line(pCallStatus(A, [trunk('6400', 'ANSWERED', '6400'), ext('1001', 'RING', '6400')]), T0),
  line(pCallStatus(A, [trunk('6400', 'ANSWERED', '6400'), ext('1001', 'ANSWER', '6400')]), T0 + 12_000),
  line(pCallStatus(A, [trunk('6400', 'BYE', '6400'), ext('1001', 'BYE', '6400')]), T0 + 100_000),
  line(pCallStatus(B, [trunk('6400', 'ANSWERED', '6400'), ext('1001', 'RING', '6400')]), T0 + 200_000),
  line(pCallStatus(B, [trunk('6400', 'BYE', '6400'), ext('1001', 'BYE', '6400')]), T0 + 230_000),
  line(pCallStatus(C, [trunk('1002', 'ANSWERED', ''), ext('1002', 'RING', '')]), T0 + 400_000),
  line(pCallStatus(C, [trunk('1002', 'ANSWERED', ''), ext('1002', 'ANSWER', '')]), T0 + 405_000),
  line(pCallStatus(C, [trunk('1002', 'BYE', ''), ext('1002', 'BYE', '')]), T0 + 465_000),
].join('\n');

export const HEADER = 'ID,Time,Call From,Call To,Call Duration,Ring Duration,Talk Duration,Status,Reason,Source Trunk,Destination Trunk,Communication Type,DID/DDI';
/** The export's rows of the same calls. */
export const ROWS = [
  `${A},2026-09-24 09:00:00,0711000001,Queue Sales<6400>,100,12,88,ANSWERED,,Saf,,Inbound,`,
  `${B},2026-09-24 09:03:20,0711000001,Queue Sales<6400>,30,30,0,NO ANSWER,,Saf,,Inbound,`,
  `${C},2026-09-24 09:06:40,0711000001,Anna<1002>,65,5,60,ANSWERED,,Saf,,Inbound,`,
];

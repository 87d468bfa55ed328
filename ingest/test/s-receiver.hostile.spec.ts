// Hostile input against the Yeastar S-Series push receiver on 127.0.0.1 (docs/hostile.md), with
// the real broker and the embedded ClickHouse:
//   broken encodings: malformed paths, headers and bodies are 4xx and the process keeps serving
//     (issue #19 item 1: a URIError used to stop the whole ingest process);
//   no silent loss: a NewCdr with an absurd duration is dead-lettered (item 7);
//   replays: a whole S-Series day re-sent after an ingest restart changes no event and no table
//     (item 4: re-sent reports used to get new receive times).
import { mkdtempSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse, createLogger, migrate, type CallboardConfig, type ClickHouse } from '@callboard/platform';
import type { CanonicalEvent, DlqRecord } from '@callboard/schemas';
import { ProjectionStore, touchedBy } from '@callboard/projections/store';
import { allMigrations } from '../../cli/migrations.ts';
import { eventually, testConfig, uniqueId } from '../../test/helpers.ts';
import { rawHttp } from '../../test/raw-http.ts';
import { captureKafka, type KafkaCapture } from './kafka-capture.ts';
import { YeastarPipeline } from '../src/yeastar/pipeline.ts';
import { ReportReceipts } from '../src/yeastar/receipts.ts';
import { reportPath, YeastarSReceiver } from '../src/yeastar/s-receiver.ts';
import { YeastarTranslator } from '../src/yeastar/translate.ts';
import type { IngestSink } from '../src/sink.ts';

const fixtures = join(import.meta.dirname, '..', '..', '..', 'shared', 'fixtures', 'yeastar');
const fixture = (f: string) => readFileSync(join(fixtures, f), 'utf8');
const log = createLogger('s-receiver-hostile', process.env.LOG_LEVEL ?? 'silent');
const secret = 'push-secret';

function post(port: number, path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const rq = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let b = '';
      res.on('data', (d) => (b += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
    });
    rq.on('error', reject);
    rq.end(body);
  });
}

let cfg: CallboardConfig;
let kafka: KafkaCapture;
let sink: IngestSink;
let events: CanonicalEvent[];
let dead: DlqRecord[];

beforeAll(async () => {
  cfg = testConfig();
  kafka = await captureKafka(cfg, log, 's-hostile');
  ({ sink, events, dead } = kafka);
});

afterAll(async () => kafka?.close());

/** A receiver for one PBX, as `callboard ingest` runs it, with its receipts in `dir`. */
async function startReceiver(pbxId: string, dir: string) {
  const pipeline = new YeastarPipeline(sink, new YeastarTranslator({ tenant_id: 'acme', pbx_id: pbxId, source: 'yeastar-s', timezone: 'Europe/Berlin' }), log);
  const receiver = new YeastarSReceiver({
    targets: [{ pbx_id: pbxId, secret, allow_from: ['127.0.0.1'], host: '127.0.0.1', pipeline }],
    log,
    receipts: new ReportReceipts(join(dir, 'yeastar-s.receipts'), log),
  });
  const port = await receiver.listen(0, '127.0.0.1');
  return { receiver, port, path: reportPath(pbxId, secret) };
}

describe('broken encodings, headers and bodies: 4xx, and the receiver keeps serving', () => {
  const pbxId = uniqueId('ys');
  let r: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => (r = await startReceiver(pbxId, mkdtempSync(join(tmpdir(), 'cb-s-')))));
  afterAll(async () => r?.receiver.close());

  it.each([
    ['broken percent-encoding in the PBX segment', '/yeastar-s/%E0%A4%A/x'],
    ['a lone percent sign', '/yeastar-s/%/x'],
    ['an encoded lone surrogate', '/yeastar-s/%ED%A0%80/x'],
  ])('%s → 400, then a valid report → 200', async (_what, path) => {
    const bad = await post(r.port, path, '{}');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ status: 'Failed', error: 'bad_request' });
    const good = await post(r.port, r.path, fixture('s-series-v2-extensionstatus-ringing.json'));
    expect(good.status).toBe(200);
  });

  it('malformed request lines and headers are refused by the HTTP parser (400/431), never reaching the handler', async () => {
    expect(await rawHttp(r.port, 'POST /yeastar-s/%%%/x HTTP/1.1\r\nHost: a\r\nBad Header Line\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect(await rawHttp(r.port, `POST ${r.path} HTTP/1.1\r\nHost: a\r\nX-Big: ${'h'.repeat(20_000)}\r\n\r\n`)).toMatch(/^HTTP\/1\.1 431/);
    expect(await rawHttp(r.port, `POST ${r.path} HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n12345`)).toMatch(/^HTTP\/1\.1 400/);
    expect((await post(r.port, r.path, fixture('s-series-v2-extensionstatus-ringing.json'))).status).toBe(200);
  });

  // 200 for JSON that is no report: kept raw and dead-lettered, the PBX must not re-send it.
  it.each([
    ['not JSON', 400, 'not json {'],
    ['a JSON bomb: 100k nested arrays', 200, '['.repeat(100_000) + ']'.repeat(100_000)],
    ['a lone surrogate escape', 200, '{"event":"ExtensionStatus","extension":"\\ud800","status":"Idle"}'],
    ['an array instead of a report', 200, '[1,2,3]'],
    ['over 1 MB', 413, JSON.stringify({ event: 'NewCdr', pad: 'p'.repeat(1_100_000) })],
  ])('body %s → %i', async (_what, status, body) => {
    const res = await post(r.port, r.path, body);
    expect(res.status).toBe(status);
    expect((await post(r.port, r.path, fixture('s-series-v2-extensionstatus-ringing.json'))).status).toBe(200);
  });

  it('a NewCdr with an absurd duration is answered 200 and dead-lettered, not lost', async () => {
    const cdr = JSON.parse(fixture('s-series-v2-newcdr-internal.json')) as Record<string, unknown>;
    const callid = `${Math.floor(Date.now() / 1000)}.${uniqueId('x').length}`;
    const res = await post(r.port, r.path, JSON.stringify({ ...cdr, callid, callduraction: '99999999999999' }));
    expect(res.status).toBe(200);
    const d = await eventually(() => dead.find((x) => x.pbx_id === pbxId && x.original.includes(callid)), 30_000, 'dead letter');
    expect(d).toMatchObject({ stage: 'translate', reason_code: 'INVALID_FIELD', path: '/call_duration' });
  });
});

describe('replays: a whole S-Series day re-sent after an ingest restart changes nothing', () => {
  let ch: ClickHouse;
  beforeAll(async () => {
    ch = await createClickHouse(cfg);
    await migrate(ch, allMigrations());
  });
  afterAll(async () => ch?.close());

  const day = [
    's-series-v2-invite.json',
    's-series-v2-incoming.json',
    's-series-v2-callstatus-ringing-internal.json',
    's-series-v2-callstatus-answered-inbound-queue.json',
    's-series-v2-extensionstatus-ringing.json',
    's-series-v2-calltransfer.json',
    's-series-v2-callstatus-bye.json',
    's-series-v2-callfailed.json',
    's-series-v2-queueautopause.json',
    's-series-v2-newcdr-internal.json',
    's-series-v1-newcdr-inbound.json',
  ];
  const tables = ['calls', 'queue_legs', 'agent_calls', 'agent_intervals'];

  async function project(batch: CanonicalEvent[], from: number) {
    const store = new ProjectionStore(ch);
    await store.writeEvents(batch.map((event, i) => ({ event, partition: 0, offset: from + i })));
    await store.derive(touchedBy(batch));
  }
  async function dump(): Promise<Record<string, unknown[]>> {
    const out: Record<string, unknown[]> = {};
    for (const t of tables) {
      const rs = await ch.client.query({ query: `SELECT * FROM ${ch.db}.${t} FINAL WHERE tenant_id = 'acme'`, format: 'JSONEachRow' });
      out[t] = ((await rs.json()) as Record<string, unknown>[]).map((row) => JSON.stringify(row)).sort();
    }
    return out;
  }
  const fact = (e: CanonicalEvent) => JSON.stringify({ ...e, raw_ref: null });

  it('same event ids, same times, same rows', async () => {
    const pbxId = uniqueId('day');
    const dir = mkdtempSync(join(tmpdir(), 'cb-s-day-'));
    const mine = () => events.filter((e) => e.pbx_id === pbxId);

    const first = await startReceiver(pbxId, dir);
    for (const f of day) expect((await post(first.port, first.path, fixture(f))).status).toBe(200);
    await first.receiver.close();
    await kafka.caughtUp();
    const firstRun = mine();
    await project(firstRun, 0);
    const before = await dump();
    expect(before.calls!.length).toBeGreaterThan(0);

    // The restart: a new process has a new translator and a new receiver; only the data dir stays.
    const second = await startReceiver(pbxId, dir);
    for (const f of day) expect((await post(second.port, second.path, fixture(f))).status).toBe(200);
    await second.receiver.close();
    await kafka.caughtUp();
    const secondRun = mine().slice(firstRun.length);
    expect(secondRun).toHaveLength(firstRun.length);

    const byId = new Map(firstRun.map((e) => [e.event_id, fact(e)]));
    for (const e of secondRun) expect(fact(e)).toBe(byId.get(e.event_id));
    await project(secondRun, firstRun.length);
    expect(await dump()).toEqual(before);
  });
});

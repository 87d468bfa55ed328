// Hostile input, class "oversized frames" (docs/hostile.md): an AMI peer sending a frame or a
// line of any size, and a raw record larger than the broker takes. Issue #19 item 3: the frame is
// dead-lettered cut with its size, memory stays bounded, the feed goes on, and no write is
// retried forever. The broker is the real one (test/global-setup.ts).
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@callboard/platform';
import type { DlqRecord } from '@callboard/schemas';
import { eventually, testConfig, uniqueId } from '../../test/helpers.ts';
import { AmiClient } from '../src/ami/client.ts';
import { AmiParser, type AmiFrame } from '../src/ami/parser.ts';
import { IngestPipeline, nothingSettled, ok, stuckFeeds } from '../src/pipeline.ts';
import type { IngestSink } from '../src/sink.ts';
import { captureKafka, type KafkaCapture } from './kafka-capture.ts';

const log = createLogger('oversized-hostile', process.env.LOG_LEVEL ?? 'silent');
const frame = (fields: Record<string, string>) => `${Object.entries(fields).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;

describe('AMI parser: frames and lines over the limit', () => {
  it('a 50 MB line without a newline holds at most the limit, is cut with its size, and the next frame is read', () => {
    const limit = 256 * 1024;
    const p = new AmiParser(limit);
    const chunk = 'x'.repeat(64 * 1024);
    const total = 50 * 1024 * 1024;
    const out: AmiFrame[] = [];
    let maxHeld = 0;
    out.push(...p.push('Event: FullyBooted\r\n\r\n'));
    for (let sent = 0; sent < total; sent += chunk.length) {
      out.push(...p.push(chunk));
      maxHeld = Math.max(maxHeld, p.buffered);
    }
    out.push(...p.push(`\r\n\r\n${frame({ Event: 'Hangup', Uniqueid: '1.2' })}`));
    expect(maxHeld).toBeLessThanOrEqual(limit + chunk.length);
    expect(out.map((f) => f.kind)).toEqual(['event', 'garbage', 'event']);
    expect(out[1]!.raw).toHaveLength(limit);
    expect(out[1]!.truncatedFrom).toBe(total + 4);
    expect(out[2]!.headers).toMatchObject({ Event: 'Hangup', Uniqueid: '1.2' });
    expect(p.buffered).toBe(0);
  });

  it('a frame of many lines over the limit is cut the same way, whatever the chunking', () => {
    const big = frame(Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`Var${i}`, 'v'.repeat(100)])));
    const text = `${frame({ Event: 'Newchannel', Uniqueid: '1.1' })}Event: Bloat\r\n${big}${frame({ Event: 'Hangup', Uniqueid: '1.1' })}`;
    for (const size of [1, 997, 65536, text.length]) {
      const p = new AmiParser(64 * 1024);
      const out: AmiFrame[] = [];
      for (let i = 0; i < text.length; i += size) out.push(...p.push(text.slice(i, i + size)));
      out.push(...p.end());
      expect(out.map((f) => `${f.kind}:${f.name}`)).toEqual(['event:Newchannel', 'garbage:', 'event:Hangup']);
      expect(out[1]!.truncatedFrom).toBe(`Event: Bloat\r\n${big}`.length);
    }
  });

  it('an oversized frame cut off by the end of the stream still comes out', () => {
    const p = new AmiParser(1024);
    const out = [...p.push(`Event: Big\r\nData: ${'y'.repeat(5000)}`), ...p.end()];
    expect(out).toMatchObject([{ kind: 'garbage', truncatedFrom: 5018 }]);
  });
});

describe('through a real AMI socket and the real broker', () => {
  let kafka: KafkaCapture;
  let sink: IngestSink;
  let dead: DlqRecord[];

  beforeAll(async () => {
    kafka = await captureKafka(testConfig(), log, 'oversized');
    ({ sink, dead } = kafka);
  });

  afterAll(async () => kafka?.close());

  it('the AMI client reads past a 20 MB frame with bounded memory and hands over the cut frame and the next ones', async () => {
    const sockets = new Set<Socket>();
    const server: Server = createServer((s) => {
      sockets.add(s);
      s.write('Asterisk Call Manager/9.0.0\r\n');
      let buf = '';
      s.on('data', (d) => {
        buf += d.toString();
        if (!buf.includes('\r\n\r\n')) return;
        const id = /ActionID: (.*)\r\n/.exec(buf)?.[1] ?? '';
        buf = '';
        s.write(frame({ Response: 'Success', ActionID: id, Message: 'Authentication accepted' }));
        if (!id.startsWith('callboard-login')) return;
        // The bomb: 20 MB in one line, written in pieces so the client parses as it goes.
        s.write('Event: Bomb\r\nPayload: ');
        const piece = 'z'.repeat(1024 * 1024);
        for (let i = 0; i < 20; i++) s.write(piece);
        s.write(`\r\n\r\n${frame({ Event: 'FullyBooted', Status: 'Fully Booted' })}`);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const frames: AmiFrame[] = [];
    const client = new AmiClient(
      { name: 'bomb', host: '127.0.0.1', port, tls: false, username: 'u', secret: () => 's', log, maxFrameChars: 256 * 1024, resyncTimeoutMs: 60_000 },
      { frames: (fs) => frames.push(...fs), ready: () => undefined, down: () => undefined },
    );
    const before = process.memoryUsage().rss;
    try {
      client.start();
      const booted = await eventually(() => frames.find((f) => f.name === 'FullyBooted'), 30_000, 'the frame after the bomb');
      expect(booted.headers.Status).toBe('Fully Booted');
      const cut = frames.find((f) => f.truncatedFrom !== undefined)!;
      expect(cut.raw).toHaveLength(256 * 1024);
      expect(cut.truncatedFrom).toBe('Event: Bomb\r\nPayload: '.length + 20 * 1024 * 1024 + 4);
      // The 20 MB were never held: well under what buffering them (2 bytes a character) costs.
      expect(process.memoryUsage().rss - before).toBeLessThan(40 * 1024 * 1024);
    } finally {
      await client.stop();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('the cut frame is dead-lettered OVERSIZED_FRAME with its size; its raw record fits the broker', async () => {
    const pbx = uniqueId('ami');
    const p = new IngestPipeline({ source: 'ami', tenant_id: 'acme', pbx_id: pbx, sink, log });
    const parser = new AmiParser(256 * 1024);
    const [cut] = [...parser.push(`Event: Bomb\r\nPayload: ${'q'.repeat(3 * 1024 * 1024)}\r\n\r\n`)];
    const [ref] = await p.writeRaw([p.rawRecord(cut!.raw, 'ami', 'c1', 0, new Date())]);
    expect(ref?.offset).toBeDefined();
    await p.write(p.settle(nothingSettled(), ok([]), { original: cut!.raw, ref: ref ?? null, label: cut!.name, truncatedFrom: cut!.truncatedFrom }));
    const d = await eventually(() => dead.find((r) => r.pbx_id === pbx), 30_000, 'dead letter');
    expect(d).toMatchObject({ stage: 'ingest', reason_code: 'OVERSIZED_FRAME' });
    expect(d.reason).toContain(String(3 * 1024 * 1024 + 'Event: Bomb\r\nPayload: '.length + 4));
    expect(d.original.length).toBeLessThanOrEqual(64 * 1024);
  });

  it('a raw record over the message limit is dead-lettered with its size at once, and the records around it are written', async () => {
    const pbx = uniqueId('raw');
    const p = new IngestPipeline({ source: 'yeastar-s', tenant_id: 'acme', pbx_id: pbx, sink, log });
    const at = new Date();
    // "At once" is counted, not timed: the write is not retried (a record over the broker's
    // limit never fits), the oversized one is dead-lettered and the others are written.
    const retried: string[] = [];
    const refs = await p.retrying(
      'pbx.raw.v1',
      () => p.writeRaw([p.rawRecord('{"a":1}', 'json', 'c', 0, at), p.rawRecord(`"${'b'.repeat(2_000_000)}"`, 'json', 'c', 1, at), p.rawRecord('{"c":3}', 'json', 'c', 2, at)]),
      { onRetry: (what, err) => retried.push(`${what}: ${err.message}`) },
    );
    expect(retried).toEqual([]);
    expect(refs.map((r) => r !== null)).toEqual([true, false, true]);
    const d = await eventually(() => dead.find((r) => r.pbx_id === pbx), 30_000, 'dead letter');
    expect(d).toMatchObject({ stage: 'ingest', reason_code: 'OVERSIZED_RECORD' });
    expect(d.reason).toMatch(/raw record of 20001\d\d bytes exceeds the broker's message limit of 1000000 bytes/);
    expect(stuckFeeds().filter((f) => f.pbx_id === pbx)).toEqual([]);
  });

  it('a record the broker itself refuses as too large (after compression) is split out and dead-lettered, not retried forever', async () => {
    const pbx = uniqueId('refused');
    // Our own check let through: only the broker's limit (1 MiB after GZIP) stops it.
    const p = new IngestPipeline({ source: 'yeastar-s', tenant_id: 'acme', pbx_id: pbx, sink, log, maxMessageBytes: 64 * 1024 * 1024 });
    const at = new Date();
    const incompressible = randomBytes(3 * 1024 * 1024).toString('base64');
    const refs = await p.retrying('pbx.raw.v1', () => p.writeRaw([p.rawRecord('{"a":1}', 'json', 'c', 0, at), p.rawRecord(`"${incompressible}"`, 'json', 'c', 1, at)]));
    expect(refs.map((r) => r !== null)).toEqual([true, false]);
    const d = await eventually(() => dead.find((r) => r.pbx_id === pbx), 30_000, 'dead letter');
    expect(d.reason_code).toBe('OVERSIZED_RECORD');
  });

  it('a flood of 2,000 garbage frames from one PBX (2 MB of dead letters on one partition) is split, not retried forever', async () => {
    const pbx = uniqueId('flood');
    const p = new IngestPipeline({ source: 'ami', tenant_id: 'acme', pbx_id: pbx, sink, log });
    const settled = nothingSettled();
    for (let i = 0; i < 2000; i++) p.settle(settled, { kind: 'dlq', reason_code: 'UNPARSEABLE_FRAME', reason: 'not an AMI frame' }, { original: `junk ${i} ${'j'.repeat(800)}`, ref: null });
    await p.retrying('cc.events.v1', () => p.write(settled));
    await eventually(() => (dead.filter((r) => r.pbx_id === pbx).length === 2000 ? true : undefined), 60_000, '2,000 dead letters');
    expect(stuckFeeds().filter((f) => f.pbx_id === pbx)).toEqual([]);
  });
});

describe('a feed stuck on a failing write is listed for readiness', () => {
  it('stuckFeeds names the PBX and topic while the write is retried, and forgets it once it goes through', async () => {
    let refusals = 2;
    const sink = {
      raw: async () => {
        if (refusals-- > 0) throw new Error('broker not available');
        return [{ topic: 'raw', partition: 0, offset: '1' }];
      },
      canonical: async () => undefined,
      dlq: async () => undefined,
    };
    const pbx = uniqueId('stuck');
    const p = new IngestPipeline({ source: 'ami', tenant_id: 'acme', pbx_id: pbx, sink, log });
    const write = p.retrying('pbx.raw.v1', () => p.writeRaw([p.rawRecord('Event: Ping', 'ami', 'c', 0, new Date())]));
    const stuck = await eventually(() => stuckFeeds().find((f) => f.pbx_id === pbx), 5_000, 'stuck feed');
    expect(stuck).toMatchObject({ source: 'ami', tenant_id: 'acme', what: 'pbx.raw.v1' });
    expect(stuckFeeds(60_000).find((f) => f.pbx_id === pbx)).toBeUndefined();
    await write;
    expect(stuckFeeds().find((f) => f.pbx_id === pbx)).toBeUndefined();
    p.close();
  });
});

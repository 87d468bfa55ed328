// The ingest spool against a fake Kafka in a temp dir: what Kafka refuses (or leaves pending) waits
// on disk and is replayed in order once Kafka takes writes again, never twice; a full spool makes
// the writer wait instead of dropping; an append that never completed leaves nothing behind.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, Health, loadConfig } from '@callboard/platform';
import type { CanonicalEvent, DlqRecord, RawRecord, RawRef } from '@callboard/schemas';
import { ConfigError } from '@callboard/platform';
import { Spool, SPOOL_LOCK, spoolWrites } from '../src/spool.ts';
import { eventually } from '../../test/helpers.ts';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'callboard-spool-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
/** The spool's files but its lock. */
const entriesIn = (dir: string) => readdirSync(dir).filter((n) => n !== SPOOL_LOCK);

const cfg = loadConfig({ env: { KAFKA_BROKERS: '127.0.0.1:1' }, file: {} });
const log = createLogger('spool-unit', 'silent');
const raw = (seq: number): RawRecord => ({
  tenant_id: 'acme',
  pbx_id: 'pbx1',
  source: 'ami',
  connection: 'c1',
  seq,
  received_at: '2026-01-01T00:00:00.000Z',
  format: 'ami',
  body: `Event: X\r\nSeq: ${seq}\r\n\r\n`,
});
const event = (n: number) => ({ event_id: `e${n}`, tenant_id: 'acme', pbx_id: 'pbx1' }) as unknown as CanonicalEvent;

/** A Kafka that refuses while `down`, can hold writes pending, and records what it took, in order. */
function fakeKafka() {
  const k = {
    down: false,
    hold: null as Promise<void> | null,
    taken: [] as string[],
    async raw(records: RawRecord[]): Promise<RawRef[]> {
      if (k.hold) await k.hold;
      if (k.down) throw new Error('Connection error: ECONNREFUSED');
      k.taken.push(...records.map((r) => `raw:${r.seq}`));
      return records.map((r, i) => ({ topic: 'pbx.raw.v1', partition: 0, offset: String(i), connection: r.connection, seq: r.seq }));
    },
    async canonical(events: CanonicalEvent[]): Promise<void> {
      if (k.hold) await k.hold;
      if (k.down) throw new Error('Connection error: ECONNREFUSED');
      k.taken.push(...events.map((e) => `event:${e.event_id}`));
    },
    async dlq(records: DlqRecord[]): Promise<void> {
      if (k.down) throw new Error('Connection error: ECONNREFUSED');
      k.taken.push(...records.map((r) => `dlq:${r.reason_code}`));
    },
  };
  return k;
}

describe('Spool (files)', () => {
  it('keeps entries in order across a reopen, counts their bytes, and deletes them on shift', () => {
    const dir = tempDir();
    const s = new Spool(dir, 1_000_000);
    s.append('raw', Spool.encode('raw', [raw(1)]));
    s.append('events', Spool.encode('events', [event(1)]));
    expect(s.entries).toBe(2);
    const again = new Spool(dir, 1_000_000);
    expect(again.usedBytes).toBe(s.usedBytes);
    expect(again.head()).toMatchObject({ topic: 'raw', records: [{ seq: 1 }] });
    again.shift();
    expect(again.head()).toMatchObject({ topic: 'events', records: [{ event_id: 'e1' }] });
    again.append('dlq', Spool.encode('dlq', []));
    again.shift();
    expect(again.head()?.topic).toBe('dlq');
    again.shift();
    expect(again.entries).toBe(0);
    expect(again.usedBytes).toBe(0);
    expect(entriesIn(dir)).toEqual([]);
  });

  it('an append that never completed (crash, full disk) is not an entry', () => {
    const dir = tempDir();
    writeFileSync(join(dir, '000000000001.raw.json.tmp'), '{"topic":"raw","rec');
    const s = new Spool(dir, 1000);
    expect(s.entries).toBe(0);
    expect(entriesIn(dir)).toEqual([]);
  });

  it('an unreadable entry is set aside, and the entries after it still go to Kafka', async () => {
    const dir = tempDir();
    const s = new Spool(dir, 1_000_000);
    s.append('raw', '{"topic":"raw","rec');
    s.append('raw', Spool.encode('raw', [raw(2)]));
    const kafka = fakeKafka();
    const { spooler } = spoolWrites(kafka, s, { cfg, afterMs: 5_000, log, maxReplayDelayMs: 20 });
    await spooler.drained();
    expect(kafka.taken).toEqual(['raw:2']);
    expect(entriesIn(dir)).toEqual(['000000000001.raw.json.bad']);
    await spooler.close();
  });

  it('fits within its bound only', () => {
    const s = new Spool(tempDir(), 100);
    expect(s.fits(100)).toBe(true);
    s.append('raw', 'x'.repeat(60));
    expect(s.fits(41)).toBe(false);
    expect(s.usedRatio).toBeCloseTo(0.6);
  });
});

describe('Spool lock (one process per spool)', () => {
  const lockOf = (dir: string) => readFileSync(join(dir, SPOOL_LOCK), 'utf8').trim();

  it('is taken with our PID and let go when the spooler closes', async () => {
    const dir = tempDir();
    const { spooler } = spoolWrites(fakeKafka(), new Spool(dir, 1000), { cfg, afterMs: 5_000, log });
    expect(lockOf(dir)).toBe(String(process.pid));
    await spooler.close();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a spool a live other process holds: a config error naming the setting and its PID', () => {
    const dir = tempDir();
    // Our parent is alive and is not us: it stands for the first ingest.
    writeFileSync(join(dir, SPOOL_LOCK), `${process.ppid}\n`);
    let err: unknown;
    try {
      new Spool(dir, 1000);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain('CALLBOARD_DATA_DIR');
    expect((err as Error).message).toContain(`PID ${process.ppid}`);
    expect((err as Error).message).not.toContain('\n');
    expect(lockOf(dir)).toBe(String(process.ppid));
  });

  it('takes over a lock whose process is gone (SIGKILLed ingest)', () => {
    const dir = tempDir();
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(join(dir, SPOOL_LOCK), `${dead}\n`);
    const s = new Spool(dir, 1000);
    expect(lockOf(dir)).toBe(String(process.pid));
    s.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('does not remove a lock another process took over', () => {
    const dir = tempDir();
    const s = new Spool(dir, 1000);
    writeFileSync(join(dir, SPOOL_LOCK), `${process.ppid}\n`);
    s.release();
    expect(lockOf(dir)).toBe(String(process.ppid));
  });
});

describe('spoolWrites', () => {
  const start = (maxBytes = 1_000_000, afterMs = 5_000) => {
    const kafka = fakeKafka();
    const health = new Health();
    const { sink, spooler } = spoolWrites(kafka, new Spool(tempDir(), maxBytes), { cfg, afterMs, log, health, maxReplayDelayMs: 20 });
    return { kafka, sink, spooler, health };
  };

  it('writes straight through while Kafka takes them', async () => {
    const { kafka, sink, spooler } = start();
    const refs = await sink.raw([raw(1)]);
    expect(refs[0]).toMatchObject({ partition: 0 });
    expect(kafka.taken).toEqual(['raw:1']);
    expect(spooler.spool.entries).toBe(0);
  });

  it('Kafka away: writes are acknowledged from disk, then replayed in order, once each, when it returns', async () => {
    const { kafka, sink, spooler, health } = start();
    kafka.down = true;
    const refs = await sink.raw([raw(1), raw(2)]);
    // No offset yet: the record is in the spool, not in Kafka.
    expect(refs).toEqual([
      { topic: cfg.kafka.topicPrefix + 'pbx.raw.v1', connection: 'c1', seq: 1 },
      { topic: cfg.kafka.topicPrefix + 'pbx.raw.v1', connection: 'c1', seq: 2 },
    ]);
    await sink.canonical([event(1)]);
    kafka.down = false;
    // Written while the spool still holds entries: it queues behind them.
    await sink.raw([raw(3)]);
    await sink.canonical([event(2)]);
    await spooler.drained();
    expect(kafka.taken).toEqual(['raw:1', 'raw:2', 'event:e1', 'raw:3', 'event:e2']);
    expect(health.get('spool')?.status).toBe('ok');
    await spooler.close();
  });

  it('a write pending past the bound is spooled; when it then goes through it is not sent again', async () => {
    const { kafka, sink, spooler, health } = start(1_000_000, 50);
    let release!: () => void;
    kafka.hold = new Promise<void>((r) => (release = r));
    const refs = await sink.raw([raw(1)]);
    expect(refs[0]!.partition).toBeUndefined();
    expect(health.get('spool')?.status).toBe('degraded');
    kafka.hold = null;
    await sink.canonical([event(1)]);
    release();
    await spooler.drained();
    expect(kafka.taken).toEqual(['raw:1', 'event:e1']);
    await spooler.close();
  });

  it('a full spool makes the writer wait (back-pressure), says so, and lets it go once Kafka takes the backlog', async () => {
    const one = Buffer.byteLength(Spool.encode('raw', [raw(1)]));
    const { kafka, sink, spooler, health } = start(one * 2);
    kafka.down = true;
    await sink.raw([raw(1)]);
    await sink.raw([raw(2)]);
    let third = false;
    const waiting = sink.raw([raw(3)]).then(() => (third = true));
    await eventually(() => (health.get('spool')?.status === 'error' ? true : undefined), 5_000, 'the spool to report itself full');
    expect(health.get('spool')?.detail).toMatch(/FULL/);
    expect(third).toBe(false);
    expect(spooler.spool.entries).toBe(2);
    kafka.down = false;
    await waiting;
    await spooler.drained();
    expect(kafka.taken).toEqual(['raw:1', 'raw:2', 'raw:3']);
    await spooler.close();
  });

  it('what is left on disk at start is replayed first', async () => {
    const dir = tempDir();
    const first = fakeKafka();
    first.down = true;
    const a = spoolWrites(first, new Spool(dir, 1_000_000), { cfg, afterMs: 5_000, log, maxReplayDelayMs: 20 });
    await a.sink.raw([raw(1)]);
    await a.spooler.close();
    const second = fakeKafka();
    const b = spoolWrites(second, new Spool(dir, 1_000_000), { cfg, afterMs: 5_000, log, maxReplayDelayMs: 20 });
    await b.sink.raw([raw(2)]);
    await b.spooler.drained();
    expect(second.taken).toEqual(['raw:1', 'raw:2']);
    await b.spooler.close();
  });

  it('a batch refused as too large is not spooled: the pipeline splits it', async () => {
    const kafka = fakeKafka();
    kafka.raw = async () => {
      throw Object.assign(new Error('too large'), { type: 'MESSAGE_TOO_LARGE' });
    };
    const { sink, spooler } = spoolWrites(kafka, new Spool(tempDir(), 1_000_000), { cfg, afterMs: 5_000, log });
    await expect(sink.raw([raw(1)])).rejects.toThrow('too large');
    expect(spooler.spool.entries).toBe(0);
  });
});

// Fault 6: the disk under the data dir refuses writes while Kafka is away. A tiny filesystem needs
// root, so the ingest process runs under `ulimit -f` (256 KiB per file): the larger spool entries
// fail with EFBIG, the same failed append a full disk gives (ENOSPC). It must say so clearly,
// leave no half-written entry, drop nothing (the refused batch waits in memory, the reader with
// it), and deliver every record once Kafka is back.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RawRecord } from '@callboard/schemas';
import { eventually, readLog, testConfig, toolKafka } from '../helpers.ts';
import { childEnv, killHard, record, ROOT, startChild, within, type Child } from './helpers.ts';

const CHILD = join(ROOT, 'test/faults/spool-child.ts');
let child: Child | undefined;
afterAll(async () => {
  if (child) await killHard(child);
});

describe('fault: a full disk under the spool while Kafka is away', () => {
  it('a clear error, no half-written entry, nothing lost once Kafka is back', { timeout: 300_000 }, async () => {
    const began = Date.now();
    const cfg = testConfig();
    const spoolDir = join(cfg.dataDir, 'ingest', 'spool');
    const env = childEnv(cfg, { FAULT_SPOOL_DIR: spoolDir, FAULT_BATCHES: '12' });
    child = startChild(CHILD, env, { captureStderr: true, fileSizeLimitKb: 256 });
    const code = await within(child.exited, 180_000, 'the spool child to finish');
    const stderr = child.stderr();
    expect(code, stderr.slice(-2000)).toBe(0);
    const summary = JSON.parse(child.stdout().trim().split('\n').pop()!) as { written: number; spooledWhileCut: number; refused: number };
    child = undefined;

    // Said plainly, once per episode, with the file system's own reason.
    expect(stderr).toMatch(/cannot write to the ingest spool \(disk full\?\)/);
    expect(stderr).toMatch(/EFBIG/);
    expect(summary.refused).toBeGreaterThan(0);
    expect(summary.spooledWhileCut).toBeGreaterThan(0);
    // Nothing half-written is left, and the spool emptied into Kafka.
    expect(readdirSync(spoolDir)).toEqual([]);

    const raw: RawRecord[] = [];
    const stopReader = await readLog(toolKafka(cfg), cfg, 'disk-reader', { raw });
    await eventually(() => (new Set(raw.map((r) => r.seq)).size >= summary.written ? true : undefined), 60_000, `all ${summary.written} records in pbx.raw.v1`);
    await stopReader();
    const unique = new Set(raw.map((r) => r.seq));
    const lost = [...Array(summary.written).keys()].filter((s) => !unique.has(s)).length;
    record({
      case: 'full disk under the spool while Kafka is away',
      events: summary.written,
      lost,
      doubled: 0,
      seconds: Math.round((Date.now() - began) / 1000),
      note: `the disk refused spool entries (EFBIG under ulimit -f 256), said in ${summary.refused} error line(s); ${summary.spooledWhileCut} batches were spooled meanwhile; ${raw.length - unique.size} records written twice to Kafka (same connection and seq: one row in raw_events)`,
    });
    expect(lost).toBe(0);
  });
});

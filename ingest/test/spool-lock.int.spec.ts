// Two ingest processes on one data dir must not share one spool (each would replay and delete the
// other's entries): the second stops at start with one config-error line (exit 78) naming the
// setting and the first one's PID; once the first is SIGKILLed, its stale lock is taken over.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, testConfig } from '../../test/helpers.ts';

const ROOT = join(import.meta.dirname, '../..');
const started: ChildProcess[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const c of started)
    if (c.exitCode === null && c.signalCode === null) {
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await gone;
    }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('ingest spool: one process per data dir', () => {
  it('the second ingest on the same data dir exits 78 naming CALLBOARD_DATA_DIR and the holder; a dead holder\'s lock is taken over', { timeout: 180_000 }, async () => {
    const cfg = testConfig();
    dirs.push(cfg.dataDir);
    const env = {
      ...process.env,
      KAFKA_BROKERS: cfg.kafka.brokers.join(','),
      KAFKA_TOPIC_PREFIX: cfg.kafka.topicPrefix,
      KAFKA_PARTITIONS: String(cfg.kafka.partitions),
      CALLBOARD_DATA_DIR: cfg.dataDir,
      CALLBOARD_CONFIG: '',
      INGEST_OPS_PORT: '0',
      LOG_LEVEL: 'error',
    };
    const ingest = () => {
      const c = spawn(process.execPath, [join(ROOT, 'bin/callboard.mjs'), 'ingest'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      started.push(c);
      let err = '';
      c.stderr!.on('data', (b: Buffer) => (err += b.toString()));
      c.stdout!.resume();
      const exited = new Promise<number | null>((r) => c.once('exit', (code) => r(code)));
      return { c, exited, stderr: () => err };
    };
    const lock = join(cfg.dataDir, 'ingest', 'spool', 'LOCK');
    const holderIs = (pid: number, what: string) =>
      eventually(
        () => {
          try {
            return readFileSync(lock, 'utf8').trim() === String(pid) ? true : undefined;
          } catch {
            return undefined;
          }
        },
        120_000,
        what,
      );

    const first = ingest();
    await Promise.race([holderIs(first.c.pid!, 'the first ingest to hold the spool'), first.exited.then((code) => Promise.reject(new Error(`first ingest exited ${code}: ${first.stderr()}`)))]);

    const second = ingest();
    expect(await second.exited).toBe(78);
    const lines = second.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('CALLBOARD_DATA_DIR');
    expect(lines[0]).toContain(`PID ${first.c.pid}`);
    expect(first.c.exitCode).toBeNull();

    first.c.kill('SIGKILL');
    await first.exited;
    const third = ingest();
    await Promise.race([holderIs(third.c.pid!, 'the third ingest to take over the dead one\'s lock'), third.exited.then((code) => Promise.reject(new Error(`third ingest exited ${code}: ${third.stderr()}`)))]);
    third.c.kill('SIGTERM');
    expect(await third.exited).toBe(0);
    // A clean stop lets go of the lock.
    expect(() => readFileSync(lock)).toThrow();
  });
});

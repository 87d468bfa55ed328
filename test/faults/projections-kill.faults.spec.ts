// Fault 1: a real projections process (projections/test/crash-child.ts, the crash test's: small fetches, a random pause between
// its ClickHouse writes and its offset commit) SIGKILLed 20 times at random moments once it is
// consuming, restarted each time, then let run to the end. Its tables must hold exactly
// what an uninterrupted fold of the same events gives: nothing lost, nothing counted twice.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createClickHouse, topicName, type ClickHouse } from '@callboard/platform';
import { eventually, testConfig, toolKafka, uniqueId } from '../helpers.ts';
import {
  childEnv,
  committedOffsets,
  compareTables,
  killHard,
  lostAndDoubled,
  missingEvents,
  produceEvents,
  queueDay,
  record,
  referenceFold,
  ROOT,
  startChild,
  within,
  type Child,
} from './helpers.ts';

const CHILD = join(ROOT, 'projections/test/crash-child.ts');
const KILLS = 20;
/** Enough that 20 restarts, each folding a few batches before its kill, do not reach the end. */
const CALLS = 1500;

let ch: ClickHouse | undefined;
let chDir: string | undefined;
let running: Child | undefined;
afterAll(async () => {
  if (running) await killHard(running);
  await ch?.close();
  if (chDir) rmSync(chDir, { recursive: true, force: true });
});

describe('fault: projections SIGKILLed while consuming', () => {
  it(`${KILLS} kills at random moments: the tables equal an uninterrupted fold, 0 lost, 0 doubled`, { timeout: 600_000 }, async () => {
    const began = Date.now();
    const cfg = testConfig();
    const tenant = uniqueId('kill');
    const events = queueDay(tenant, CALLS);

    const total = await produceEvents(cfg, events);
    const topic = topicName(cfg, 'events');
    const admin = toolKafka(cfg).admin();
    await admin.connect();

    const group = `${cfg.kafka.topicPrefix}proj`;
    chDir = mkdtempSync(join(tmpdir(), 'callboard-fault-kill-'));
    const chPath = join(chDir, 'clickhouse');
    const env = childEnv(cfg, { CRASH_CH_PATH: chPath, CRASH_GROUP: group });
    const committed = () => committedOffsets(admin, `${group}-events`, topic);

    const progress: number[] = [];
    const restartMs: number[] = [];
    let whileConsuming = 0;
    for (let k = 0; k < KILLS; k++) {
      // A consumer with nothing left to fold would never say `folding`: stop, and fail below.
      if ((progress[k - 1] ?? 0) >= total) break;
      running = startChild(CHILD, env);
      const folding = running.says('folding');
      await within(running.ready, 120_000, 'the projections child to start');
      // Recovery: from the restart to its first batch written (the next commit is due).
      await within(folding, 120_000, 'the restarted projections to fold a batch');
      restartMs.push(Date.now() - running.startedAt);
      // Then a random moment, not a condition: the kill must be able to land anywhere, mid-batch included.
      await new Promise((r) => setTimeout(r, Math.random() * 400));
      await killHard(running);
      running = undefined;
      const done = await committed();
      if (done < total) whileConsuming++;
      progress.push(done);
    }
    running = startChild(CHILD, env);
    await running.ready;
    await eventually(
      async () => {
        const n = await committed();
        if (n < total) throw new Error(`${n} of ${total} committed (after the kills: ${progress.join(', ')})`);
        return true;
      },
      300_000,
      'the restarted consumer to catch up',
    );
    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
    running = undefined;
    await admin.disconnect();

    ch = await createClickHouse(cfg, { embeddedPath: chPath });
    const ref = await referenceFold(ch, `${cfg.clickhouse.database}_ref`, events);
    const diffs = await compareTables(ch, ref);
    const { lost, doubled } = lostAndDoubled(diffs);
    const missing = await missingEvents(
      ch,
      events.map((e) => e.event_id),
    );
    record({
      case: 'projections SIGKILLed while consuming',
      kills: progress.length,
      survived: progress.length,
      events: events.length,
      lost: lost + missing,
      doubled,
      recovery_ms: { mean: Math.round(restartMs.reduce((a, b) => a + b, 0) / restartMs.length), max: Math.max(...restartMs) },
      seconds: Math.round((Date.now() - began) / 1000),
      note: `${whileConsuming} of ${KILLS} kills landed before the consumer had committed everything; committed after each kill: ${progress.join(', ')} of ${total}`,
    });
    expect(missing).toBe(0);
    expect(diffs.filter((d) => !d.same)).toEqual([]);
    expect(diffs.find((d) => d.table === 'queue_legs')!.rows).toBe(CALLS);
    expect(progress).toHaveLength(KILLS);
    // Most kills must land mid-stream, or the case proves nothing about consuming.
    expect(whileConsuming).toBeGreaterThanOrEqual(KILLS / 2);
  });
});

// Fault 4: ClickHouse unavailable. Embedded: another process holds the engine's lock while the
// projections service starts; the service waits, not ready, naming the holder, and once the lock
// is released it opens the engine and folds everything, as an uninterrupted fold would. Server:
// a CLICKHOUSE_URL whose port refuses keeps the projections waiting and not ready, not crashed
// (no ClickHouse server exists on this machine to come back, docs/reliability.md).
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Health, createClickHouse, createLogger, topicName, type ClickHouse } from '@callboard/platform';
import { startProjections } from '@callboard/projections/main';
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

/** How long the other process holds the engine after the service started. */
const HOLD_MS = 20_000;
const CALLS = 400;

let ch: ClickHouse | undefined;
let dataDir: string | undefined;
const children: Child[] = [];
afterAll(async () => {
  for (const c of children) await killHard(c);
  await ch?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** A port nothing listens on: taken from the kernel, then let go. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function readyz(port: number): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: res.status, body: await res.text() };
}

describe('fault: ClickHouse unavailable', () => {
  it(
    `embedded engine held by another process for ${HOLD_MS / 1000} s: projections wait, not ready, then fold everything, 0 lost, 0 doubled`,
    { timeout: 400_000 },
    async () => {
      const began = Date.now();
      const cfg = testConfig();
      const events = queueDay(uniqueId('lock'), CALLS);
      const total = await produceEvents(cfg, events);
      dataDir = mkdtempSync(join(tmpdir(), 'callboard-fault-lock-'));
      const opsPort = await closedPort();
      const env = childEnv(cfg, { CALLBOARD_DATA_DIR: dataDir, PROJECTIONS_OPS_PORT: String(opsPort), LOG_LEVEL: 'warn' });

      const holder = startChild(join(ROOT, 'test/faults/engine-holder-child.ts'), env);
      children.push(holder);
      await within(holder.ready, 120_000, 'the other process to open the engine');
      const service = startChild(join(ROOT, 'test/faults/projections-service-child.ts'), env, { captureStderr: true });
      children.push(service);

      // Not ready, saying why, from its first answer until the lock is released: probed throughout.
      const waiting = await eventually(
        async () => {
          if (service.child.exitCode !== null) throw new Error(`the service exited (${service.child.exitCode}): ${service.stderr().slice(-2000)}`);
          const r = await readyz(opsPort);
          return r.body.includes(`PID ${holder.child.pid}`) ? r : undefined;
        },
        120_000,
        'readiness to name the process holding the engine',
      ).catch((e: Error) => {
        throw new Error(`${e.message}\nservice log: ${service.stderr().slice(-2000)}`);
      });
      expect(waiting.status).toBe(503);
      // A probe after each of the service's attempts to open the engine (its backoff, 0.25 s to 5 s).
      const attempts = () => service.stderr().split('waiting for ClickHouse').length - 1;
      let probes = 0;
      while (Date.now() - service.startedAt < HOLD_MS) {
        expect(service.child.exitCode).toBeNull();
        expect((await readyz(opsPort)).status).toBe(503);
        probes++;
        const seen = attempts();
        await eventually(() => (attempts() > seen || service.child.exitCode !== null ? true : undefined), 30_000, 'the next attempt to open the engine');
      }
      holder.child.kill('SIGTERM');
      expect(await holder.exited).toBe(0);
      const released = Date.now();

      await eventually(async () => ((await readyz(opsPort)).status === 200 ? true : undefined), 180_000, 'the projections to be ready after the release');
      const recovery = Date.now() - released;
      const admin = toolKafka(cfg).admin();
      await admin.connect();
      const group = `${cfg.kafka.topicPrefix}callboard-projections-events`;
      await eventually(
        async () => {
          const n = await committedOffsets(admin, group, topicName(cfg, 'events'));
          if (n < total) throw new Error(`${n} of ${total} committed`);
          return true;
        },
        180_000,
        'the projections to fold every event',
      );
      await admin.disconnect();
      service.child.kill('SIGTERM');
      await service.exited;
      const log = service.stderr();

      ch = await createClickHouse(cfg, { embeddedPath: join(dataDir, 'clickhouse') });
      const ref = await referenceFold(ch, `${cfg.clickhouse.database}_ref`, events);
      const diffs = await compareTables(ch, ref);
      const { lost, doubled } = lostAndDoubled(diffs);
      const missing = await missingEvents(
        ch,
        events.map((e) => e.event_id),
      );
      record({
        case: 'embedded ClickHouse held by another process',
        events: events.length,
        lost: lost + missing,
        doubled,
        recovery_ms: recovery,
        seconds: Math.round((Date.now() - began) / 1000),
        note: `held ${Math.round((released - service.startedAt) / 1000)} s after the service started; not ready at all ${probes} probes meanwhile`,
      });
      expect(log).toMatch(new RegExp(`waiting for ClickHouse: the embedded ClickHouse at \\S+ is held by another process \\(PID ${holder.child.pid}`));
      expect(missing).toBe(0);
      expect(diffs.filter((d) => !d.same)).toEqual([]);
      expect(diffs.find((d) => d.table === 'queue_legs')!.rows).toBe(CALLS);
    },
  );

  it('a ClickHouse server that refuses: projections wait, not ready, and stop cleanly', { timeout: 60_000 }, async () => {
    const cfg = testConfig();
    const url = `http://127.0.0.1:${await closedPort()}`;
    const health = new Health();
    const stop = new AbortController();
    const started = startProjections({
      cfg: { ...cfg, clickhouse: { ...cfg.clickhouse, url } },
      log: createLogger('fault-refused', 'silent'),
      health,
      signal: stop.signal,
    });
    started.catch(() => {});
    const why = await eventually(() => health.get('clickhouse')?.detail?.match(/ECONNREFUSED/)?.input, 30_000, 'the refusal to show in readiness');
    expect(why).toContain(url);
    expect(health.ready()).toBe(false);
    stop.abort(new Error('shutdown'));
    await expect(started).rejects.toThrow('shutdown');
  });
});

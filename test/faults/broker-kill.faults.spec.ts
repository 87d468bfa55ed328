// Fault 2: the Kafka broker SIGKILLed mid-stream and restarted while ingest keeps reading a live
// simulated Asterisk (AMI over TCP). Ingest must keep reading through the outage (its spool holds
// what Kafka cannot take) and, once the broker is back, Kafka must hold every frame ingest read
// and every event they translate to: the tables folded from what reached Kafka equal the tables
// of an uninterrupted translation of the same frames.
//
// This case starts a broker of its own (the run's shared broker serves the other tests): a
// broker that is killed is the point of the case.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createClickHouse,
  createKafka,
  createLogger,
  ensureTopics,
  freePort,
  Health,
  registry,
  startLocalKafka,
  topicName,
  type ClickHouse,
  type KafkaProducer,
  type LocalKafka,
} from '@callboard/platform';
import { startIngest, type IngestService } from '@callboard/ingest/main';
import { Retranslation } from '../../ingest/src/retranslate.ts';
import { nothingSettled } from '@callboard/ingest/pipeline';
import { startAmiSimulator, type RunningSimulator } from '@callboard/simulator/run';
import { callCentreScenario, dayWindow } from '@callboard/simulator/scenarios';
import { eventually, readLog, testConfig, toolKafka, type LogInto } from '../helpers.ts';
import { compareTables, lostAndDoubled, record, referenceFold } from './helpers.ts';

const PBX = 'ast-fault';
const dirs: string[] = [];
let broker: LocalKafka | undefined;
let sim: RunningSimulator | undefined;
let svc: IngestService | undefined;
let producer: KafkaProducer | undefined;
let ch: ClickHouse | undefined;
afterAll(async () => {
  await svc?.stop();
  await producer?.disconnect().catch(() => {});
  await sim?.stop();
  await broker?.stop();
  await ch?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Frames the AMI adapter has read from the PBX (its own counter, in this process). */
async function framesRead(): Promise<number> {
  const m = registry.getSingleMetric('callboard_ami_frames_total');
  const v = m ? await m.get() : { values: [] };
  return v.values.filter((x) => x.labels.pbx === PBX).reduce((a, x) => a + x.value, 0);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('fault: the broker SIGKILLed and restarted while ingest reads the PBX', () => {
  it(
    'ingest keeps reading, spools, and replays: every frame and event reaches Kafka, tables equal an uninterrupted translation',
    { timeout: 600_000 },
    async () => {
      const began = Date.now();
      const log = createLogger('fault-broker', 'silent');
      const dir = mkdtempSync(join(tmpdir(), 'callboard-fault-broker-'));
      dirs.push(dir);
      let port = await freePort();
      while (port > 65000) port = await freePort();
      const brokerOpts = { port, controllerPort: await freePort(), dataDir: join(dir, 'kafka'), heap: '384m', stopWithProcess: true };
      broker = await startLocalKafka(brokerOpts);

      const w = dayWindow('2026-11-20', 'Africa/Nairobi', 0, 0);
      // Four hours of a busy morning played at 500x: about 30 s of wall time, a frame every few ms.
      const scenario = callCentreScenario({
        tenant: 'acme',
        pbx: PBX,
        timezone: 'Africa/Nairobi',
        seed: 11,
        volume: 3,
        from_ms: w.from_ms + 8 * 3600_000,
        to_ms: w.from_ms + 12 * 3600_000,
      });
      process.env.AMI_FAULT_SECRET = 'fault-secret';
      sim = await startAmiSimulator({ scenario, speed: 500, port: 0, username: 'callboard', secret: 'fault-secret' });
      const cfg = testConfig(
        {
          tenants: [{ id: 'acme', timezone: 'Africa/Nairobi' }],
          pbxes: [{ id: PBX, tenant: 'acme', kind: 'ami', host: '127.0.0.1', port: sim.port, username: 'callboard', secret_env: 'AMI_FAULT_SECRET' }],
        },
        { KAFKA_BROKERS: broker.brokers.join(','), INGEST_SPOOL_AFTER_MS: '1000' },
      );
      const kafka = createKafka(cfg, log);
      const admin = kafka.admin();
      await admin.connect();
      await ensureTopics(admin, cfg);
      await admin.disconnect();
      producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      svc = await startIngest(cfg, producer, log, new Health());
      const spool = svc.spooler!.spool;

      // Mid-stream: a fifth of the timeline played.
      await eventually(() => (sim!.progress().played > sim!.progress().total / 5 ? true : undefined), 120_000, 'a fifth of the simulated morning to be played');
      const killedAt = Date.now();
      const framesAtKill = await framesRead();
      process.kill(broker.pid, 'SIGKILL');
      await eventually(() => (alive(broker!.pid) ? undefined : true), 10_000, 'the broker to be gone');
      // The outage lasts until ingest has provably gone on reading and spooling without Kafka.
      let maxSpooled = 0;
      await eventually(
        async () => {
          maxSpooled = Math.max(maxSpooled, spool.usedBytes);
          return spool.entries > 0 && (await framesRead()) > framesAtKill + 2000 ? true : undefined;
        },
        120_000,
        'ingest to spool and go on reading the PBX while the broker is down',
      );
      const framesDuringOutage = (await framesRead()) - framesAtKill;
      broker = await startLocalKafka(brokerOpts);
      const restartedAt = Date.now();
      const watch = setInterval(() => (maxSpooled = Math.max(maxSpooled, spool.usedBytes)), 50);
      await svc.spooler!.drained();
      const recoveryMs = Date.now() - restartedAt;
      clearInterval(watch);
      await sim.done;

      // Everything ingest read must be in Kafka: wait until the raw topic holds every frame.
      const rawTopic = topicName(cfg, 'raw');
      const read: Required<Pick<LogInto, 'raw' | 'rawAt' | 'events'>> = { raw: [], rawAt: [], events: [] };
      const stopReader = await readLog(toolKafka(cfg), cfg, 'fault-reader', read);
      const { events } = read;
      const placed = () => read.raw.map((r, i) => ({ r, ...read.rawAt[i]! }));
      const frames = await eventually(
        async () => {
          const n = await framesRead();
          const have = new Set(placed().filter((x) => x.r.pbx_id === PBX).map((x) => `${x.r.connection}/${x.r.seq}`)).size;
          if (have < n) throw new Error(`${have} of ${n} frames in pbx.raw.v1`);
          return n;
        },
        120_000,
        'every frame read to be in pbx.raw.v1',
      );
      // The same frames translated without interruption, in stream order, once each.
      const seen = new Set<string>();
      const ordered = placed()
        .filter((x) => x.r.pbx_id === PBX && !seen.has(`${x.r.connection}/${x.r.seq}`) && seen.add(`${x.r.connection}/${x.r.seq}`))
        .sort((a, b) => (a.r.connection < b.r.connection ? -1 : a.r.connection > b.r.connection ? 1 : a.r.seq - b.r.seq));
      const retranslation = new Retranslation({ cfg, warn: () => {} });
      const expected = nothingSettled();
      for (const x of ordered) await retranslation.add(expected, JSON.stringify(x.r), { topic: rawTopic, partition: x.partition, offset: x.offset });
      const expectedIds = new Set(expected.events.map((e) => e.event_id));
      await eventually(
        () => {
          const got = new Set(events.map((e) => e.event_id));
          const missing = [...expectedIds].filter((id) => !got.has(id)).length;
          if (missing > 0) throw new Error(`${missing} of ${expectedIds.size} events not in cc.events.v1`);
          return true;
        },
        120_000,
        'every translated event to be in cc.events.v1',
      );
      await stopReader();
      const gotIds = new Set(events.map((e) => e.event_id));
      const unexpected = [...gotIds].filter((id) => !expectedIds.has(id));

      const chDir = mkdtempSync(join(tmpdir(), 'callboard-fault-broker-ch-'));
      dirs.push(chDir);
      ch = await createClickHouse(cfg, { embeddedPath: join(chDir, 'clickhouse') });
      // Every message as it is in Kafka, redeliveries included: the projections' dedup must hold.
      const faulted = await referenceFold(ch, `${cfg.clickhouse.database}_faulted`, events);
      const reference = await referenceFold(ch, `${cfg.clickhouse.database}_ref`, expected.events);
      const diffs = await compareTables(faulted, reference);
      const { lost, doubled } = lostAndDoubled(diffs);
      record({
        case: 'broker SIGKILLed and restarted mid-stream',
        kills: 1,
        survived: 1,
        events: expected.events.length,
        lost,
        doubled,
        recovery_ms: recoveryMs,
        seconds: Math.round((Date.now() - began) / 1000),
        note: `broker down ${Math.round((restartedAt - killedAt) / 1000)} s; ${framesDuringOutage} of ${frames} frames read while it was down; spool peak ${Math.round(maxSpooled / 1024)} KiB; in Kafka: ${read.raw.length - seen.size} raw and ${events.length - gotIds.size} canonical messages written twice (collapsed by the deterministic ids); recovery = broker back to spool empty`,
      });
      expect(framesDuringOutage).toBeGreaterThan(0);
      expect(maxSpooled).toBeGreaterThan(0);
      expect(unexpected).toEqual([]);
      expect(diffs.filter((d) => !d.same)).toEqual([]);
      expect(diffs.find((d) => d.table === 'calls')!.rows).toBeGreaterThan(50);
      expect(lost + doubled).toBe(0);
    },
  );
});

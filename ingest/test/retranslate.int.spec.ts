// `callboard retranslate` (retranslateRange) on the real broker, when its writes fail: a write
// that fails once is retried without feeding the translators the batch's frames again, and a
// write the broker can never take ends the command with an error naming the raw records and the
// cause, its consumer stopped and its producer disconnected.
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  classify,
  createKafka,
  createLogger,
  ensureTopics,
  EXIT,
  topicName,
  type CallboardConfig,
  type KafkaClient,
  type ProducerRecord,
} from '@callboard/platform';
import type { CanonicalEvent, RawRecord, RawRef } from '@callboard/schemas';
import { retranslateRange } from '../src/commands.ts';
import { Retranslation } from '../src/retranslate.ts';
import { IngestSink } from '../src/sink.ts';
import { frame } from './ami-test-server.ts';
import { eventually, testConfig, toolKafka } from '../../test/helpers.ts';

const log = createLogger('retranslate-int', 'warn');


/** Calls coming in on PBX pbx1: a Newchannel each, and a hangup for every other one. */
function rawRecords(calls: number): RawRecord[] {
  const bodies: string[] = [];
  for (let i = 0; i < calls; i++) {
    const linkedid = `1767225600.${i + 1}`;
    const ts = `${1767225600 + i}.000000`;
    bodies.push(
      frame({
        Event: 'Newchannel',
        Timestamp: ts,
        Channel: `PJSIP/trunk-${i}`,
        Uniqueid: linkedid,
        Linkedid: linkedid,
        CallerIDNum: '0712',
        Exten: '100',
        Context: 'from-trunk',
      }),
    );
    if (i % 2 === 0)
      bodies.push(
        frame({ Event: 'Hangup', Timestamp: `${1767225630 + i}.000000`, Channel: `PJSIP/trunk-${i}`, Uniqueid: linkedid, Linkedid: linkedid, Cause: '16' }),
      );
  }
  return bodies.map((body, seq) => ({
    tenant_id: 'acme',
    pbx_id: 'pbx1',
    source: 'ami',
    connection: 'c1',
    seq,
    received_at: new Date().toISOString(),
    format: 'ami',
    body,
  }));
}

/** Writes raw records to the topic `retranslate` reads; resolves to where they went. */
async function writeRaw(cfg: CallboardConfig, records: RawRecord[]): Promise<RawRef[]> {
  const kafka = createKafka(cfg, log);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, cfg);
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  try {
    return await new IngestSink(producer, cfg).raw(records);
  } finally {
    await producer.disconnect();
  }
}

/**
 * The services' Kafka client, its producer's sends first shown to `fault` (an error it returns is
 * thrown instead of sending); what it sent to cc.events.v1, and its disconnects, are recorded.
 */
function watchedKafka(cfg: CallboardConfig, fault: (r: ProducerRecord) => Error | undefined = () => undefined) {
  const real = createKafka(cfg, log, `${cfg.kafka.clientId}-retranslate`);
  const seen = { events: [] as CanonicalEvent[], disconnects: 0 };
  const kafka: KafkaClient = {
    connection: real.connection,
    admin: () => real.admin(),
    producer: (o) => {
      const p = real.producer(o);
      return {
        connect: () => p.connect(),
        send: async (r) => {
          const e = fault(r);
          if (e) throw e;
          const meta = await p.send(r);
          if (r.topic === topicName(cfg, 'events')) for (const m of r.messages) seen.events.push(JSON.parse(String(m.value)) as CanonicalEvent);
          return meta;
        },
        disconnect: async () => {
          seen.disconnects++;
          await p.disconnect();
        },
      };
    },
  };
  return { kafka, seen };
}

const byId = (events: CanonicalEvent[]) => new Map(events.map((e) => [e.event_id, e]));
const since = Date.now() - 1_000;
const range = () => ({ from: since, to: Date.now() + 60_000 });

afterEach(() => {
  vi.restoreAllMocks();
});

describe('retranslate when a write fails', () => {
  let cfg: CallboardConfig;
  let refs: RawRef[];

  beforeAll(async () => {
    cfg = testConfig();
    refs = await writeRaw(cfg, rawRecords(6));
  });

  it('translates a batch once when its write is retried: only the write is repeated', async () => {
    // Without a fault: what the range translates to.
    const clean = watchedKafka(cfg);
    await retranslateRange(clean.kafka, cfg, log, range());
    expect(clean.seen.events.length).toBeGreaterThan(0);

    // The translators are called through, and each raw record they are given is counted.
    const add = vi.spyOn(Retranslation.prototype, 'add');
    let failures = 0;
    const eventsTopic = topicName(cfg, 'events');
    // The first write of canonical events fails as a leader election would: a transient error.
    const faulty = watchedKafka(cfg, (r) =>
      r.topic === eventsTopic && failures++ === 0
        ? Object.assign(new Error('injected: NOT_LEADER_OR_FOLLOWER'), { apiId: 'NOT_LEADER_OR_FOLLOWER', canRetry: true })
        : undefined,
    );
    const done = await retranslateRange(faulty.kafka, cfg, log, range());

    expect(failures).toBeGreaterThan(1);
    // Every raw record went to the translators once, the retried batch's too.
    const given = add.mock.calls.map(([, , at]) => `${at.partition}:${at.offset}`);
    expect(given.sort()).toEqual(refs.map((r) => `${r.partition}:${r.offset}`).sort());
    // And the events written are those of the run without the fault, none missing.
    expect(byId(faulty.seen.events)).toEqual(byId(clean.seen.events));
    expect(done.emitted).toBe(clean.seen.events.length);
  });
});

describe('retranslate when a write can never be made', () => {
  let cfg: CallboardConfig;
  let refs: RawRef[];

  beforeAll(async () => {
    cfg = testConfig();
    // cc.events.v1 takes no message of more than 200 bytes, and every canonical event is larger:
    // the broker refuses it even alone, after the batch was split down to it.
    const admin = toolKafka(cfg).admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: topicName(cfg, 'events'), numPartitions: cfg.kafka.partitions, configEntries: [{ name: 'max.message.bytes', value: '200' }] }],
    });
    await admin.disconnect();
    refs = await writeRaw(cfg, rawRecords(6));
  });

  it('ends with an error naming the raw records and the cause, its consumer stopped and its producer disconnected', async () => {
    const { kafka, seen } = watchedKafka(cfg);
    let outcome: { error: unknown; disconnects: number } | undefined;
    // Without a bound the command would retry forever: it must end on its own.
    void retranslateRange(kafka, cfg, log, range()).then(
      () => (outcome = { error: null, disconnects: seen.disconnects }),
      (error: unknown) => (outcome = { error, disconnects: seen.disconnects }),
    );
    const { error, disconnects } = await eventually(() => outcome, 60_000, 'retranslate to end');

    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    const partition = refs[0]!.partition!;
    expect(new Set(refs.map((r) => r.partition))).toEqual(new Set([partition]));
    // The raw records the events came from, where they were to go, and the broker's reason.
    expect(message).toContain(`from ${topicName(cfg, 'raw')}[${partition}] offsets ${refs[0]!.offset}..${refs.at(-1)!.offset} to ${topicName(cfg, 'events')}`);
    expect(message).toMatch(/: MESSAGE_TOO_LARGE$/);
    // The records themselves are refused: exit 65 (data), not 69 (a service away).
    expect(classify(error)).toMatchObject({ exit: EXIT.dataRefused, internal: false });
    // Disconnected before the command ended.
    expect(disconnects).toBe(1);
    // The consumer left its group: every retranslate group of this process is without members.
    const admin = toolKafka(cfg).admin();
    await admin.connect();
    try {
      const mine = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(`callboard-retranslate-${process.pid}-`));
      expect(mine.length).toBeGreaterThan(0);
      const { groups } = await admin.describeGroups(mine);
      expect(groups.map((g) => [g.groupId, g.members.length])).toEqual(mine.map((g) => [g, 0]));
    } finally {
      await admin.disconnect();
    }
  });
});

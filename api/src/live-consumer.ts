// The thin Kafka shell around the live fold: each API instance reads cc.events.v1 in a consumer
// group of its own (every instance needs every event; nothing is committed), starting at the beginning of the
// earliest tenant's local day minus a look-back, and reports ready once it has caught up with
// the end of the log as it was at start (`ready` rejects if the consumer dies before that).
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { DateTime } from 'luxon';
import { ConsumerFailureLog, counter, createKafka, ensureTopics, gauge, histogram, isRetriableKafkaError, retryKafka, runBatches, topicName, type CallboardConfig, type Health, type Logger } from '@callboard/platform';
import { isAgentEvent, isCallEvent, parseEvent } from '@callboard/schemas';
import type { LiveStore } from './live.ts';
import type { PubSub, Topics } from './pubsub.ts';

const folded = counter('callboard_api_live_events_total', 'Canonical events folded into live state');
const invalid = counter('callboard_api_live_invalid_events_total', 'Records on cc.events.v1 the live fold could not read (left in the log; the projections consumer dead-letters them)', ['reason']);
const lagMs = histogram('callboard_api_live_event_lag_ms', 'From an event being appended to Kafka to its fold into live state', [], [1, 5, 10, 25, 50, 100, 250, 500, 1000, 5000]);
const catchingUp = gauge('callboard_api_live_rebuilding', '1 while the live state is being rebuilt from the log');

const ANY = '\u0000any';

export interface LiveConsumerDeps {
  cfg: CallboardConfig;
  log: Logger;
  health: Health;
  live: LiveStore;
  pubsub: PubSub<Topics>;
  lookbackHours: number;
  now?: () => number;
}

/** Earliest instant any tenant's "today" (minus the look-back) needs from the log. */
export function rebuildFrom(cfg: Pick<CallboardConfig, 'tenants'>, nowMs: number, lookbackHours: number): number {
  const zones = cfg.tenants.length ? cfg.tenants.map((t) => t.timezone) : ['UTC'];
  const starts = zones.map((zone) => DateTime.fromMillis(nowMs, { zone }).startOf('day').toMillis());
  return Math.min(...starts) - lookbackHours * 3_600_000;
}

export async function startLiveConsumer(d: LiveConsumerDeps): Promise<{ ready: Promise<void>; stop: () => Promise<void> }> {
  const now = d.now ?? Date.now;
  const topic = topicName(d.cfg, 'events');
  const groupId = `callboard-api-live-${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  const kafka = createKafka(d.cfg, d.log, `${d.cfg.kafka.clientId}-api`);
  const admin = kafka.admin();
  d.health.set('live', 'starting', 'rebuilding today from the log');
  catchingUp.set(1);
  await admin.connect();
  await ensureTopics(admin, d.cfg, ['events']);
  const from = rebuildFrom(d.cfg, now(), d.lookbackHours);
  // Right after topic creation a partition may still report NOT_LEADER: retry for a while.
  const { starts, ends } = await retryKafka(`reading the offsets of ${topic}`, async () => ({ starts: await admin.fetchTopicOffsetsByTimestamp(topic, from), ends: await admin.fetchTopicOffsets(topic) }));
  await admin.disconnect();

  // A partition with no event at or after `from` starts at its end.
  const startAt = new Map(ends.map((e) => [e.partition, BigInt(e.high)]));
  for (const st of starts) if (BigInt(st.offset) >= 0n) startAt.set(st.partition, BigInt(st.offset));
  // Caught up when every partition has been read to the end it had at start.
  const pending = new Map<number, bigint>();
  for (const e of ends) if (BigInt(e.high) > startAt.get(e.partition)!) pending.set(e.partition, BigInt(e.high));
  let resolveReady!: () => void;
  let rejectReady!: (e: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  let isReady = false;
  const markProgress = (partition: number, offset: string) => {
    const end = pending.get(partition);
    if (end !== undefined && BigInt(offset) + 1n >= end) pending.delete(partition);
    if (!isReady && pending.size === 0) {
      isReady = true;
      catchingUp.set(0);
      d.health.set('live', 'ok');
      d.log.info({ topic, from: new Date(from).toISOString(), groupId }, 'live state rebuilt from the log');
      resolveReady();
    }
  };
  markProgress(-1, '0');

  // A line now and then while reading fails, one when it reads again (health says it at every failure).
  const failures = new ConsumerFailureLog({ log: d.log, subject: `the live fold's consumer of ${topic}`, fields: { topic } });
  const consumer = await runBatches(kafka.connection, {
    groupId,
    topic,
    start: startAt,
    maxWaitMs: 50,
    sessionTimeout: 30_000,
    heartbeatInterval: 3_000,
    on: {
      failed: (e, what, partition) => {
        // A fault that retrying cannot mend (not a broker away or a leader moving) ends the
        // rebuild; otherwise the consumer retries on its own and the rebuild finishes once it reads.
        if (!isReady && !isRetriableKafkaError(e)) rejectReady(new Error(`the live state cannot be rebuilt: ${what}: ${e.message}`, { cause: e }));
        d.health.set('live', isReady ? 'degraded' : 'starting', `${what} failed, retrying: ${e.message}`);
        failures.failed(e, what, partition);
      },
      fetched: () => {
        if (isReady) d.health.set('live', 'ok');
        failures.fetched();
      },
      joined: (partitions) => failures.assigned(partitions),
      batchDone: (partition) => failures.batchDone(partition),
    },
    eachBatch: async (batch) => {
      const t = now();
      const touched = new Map<string, Set<string>>();
      for (const m of batch.messages) {
        const r = parseEvent(m.value?.toString('utf8') ?? '');
        if (!r.ok) {
          invalid.inc({ reason: r.errors[0]?.message.slice(0, 40) ?? 'invalid' });
          d.log.warn({ topic, partition: batch.partition, offset: m.offset, error: r.errors[0] }, 'live fold skipped an unreadable event');
          continue;
        }
        const e = r.value;
        const change = d.live.apply(e, t);
        folded.inc();
        if (isReady) lagMs.observe(Math.max(0, Date.now() - Number(m.timestamp)));
        if (change.kind !== 'none') {
          const qs = touched.get(e.tenant_id) ?? new Set<string>();
          if (change.kind === 'call') for (const q of change.queues) qs.add(q);
          else qs.add(ANY);
          touched.set(e.tenant_id, qs);
        }
        // Streams of single events are for live use: not replayed history.
        if (isReady) {
          if (isCallEvent(e)) d.pubsub.publish('callEvent', e.tenant_id, e);
          if (isAgentEvent(e) && change.kind === 'agent') d.pubsub.publish('agentState', e.tenant_id, { ...change.agent, agent_name: change.agent.agent_name ?? null, reason: change.agent.reason ?? null, call_id: change.agent.call_id ?? null });
        }
      }
      // An agent change touches no queue list: an empty list means "anything may have changed".
      for (const [tenant, qs] of touched) d.pubsub.publish('live', tenant, { queues: qs.has(ANY) ? [] : [...qs] });
      const lastOffset = batch.messages[batch.messages.length - 1]?.offset;
      if (lastOffset !== undefined) markProgress(batch.partition, lastOffset);
    },
  });

  const timer = setInterval(() => {
    for (const tenant of d.live.rolloverAll(now())) d.pubsub.publish('live', tenant, { queues: [] });
  }, 1000);
  timer.unref();

  return {
    ready,
    stop: async () => {
      clearInterval(timer);
      await consumer.stop();
    },
  };
}

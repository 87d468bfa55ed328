// Ingest's PBX link state for processes other than its own. `callboard start` runs ingest and the
// API in one process with one Health, so the board knows each link there; an API of its own
// (`callboard api`, several replicas) reads it from here instead: a small compacted Kafka topic,
// one record per PBX keyed by tenant and PBX, written on every change and as a heartbeat, so the
// latest record of each PBX is its state and a silent ingest shows as stale rather than as "up".
import { createKafka, errorFields, retryKafka, type CallboardConfig, type Health, type KafkaAdmin, type KafkaProducer, type Logger } from '@callboard/platform';
import { clockOffsets } from './pipeline.ts';

export const PBX_STATUS_TOPIC = 'callboard.pbx-status.v1';
/** Every record is re-sent this often, changed or not… */
export const PBX_STATUS_HEARTBEAT_MS = 10_000;
/** …so a state older than this says only that ingest went silent (stopped, cut off, gone). */
export const PBX_STATUS_STALE_MS = 3 * PBX_STATUS_HEARTBEAT_MS;

/** One PBX link as ingest last saw it. */
export interface PbxStatus {
  tenant_id: string;
  pbx_id: string;
  up: boolean;
  /** since when the link is in that state (ISO) */
  since: string;
  detail: string | null;
  /** PBX clock minus server clock (s), null until measured (pbx-clock.ts) */
  clock_offset_s: number | null;
  /** when ingest wrote this (ISO): the heartbeat */
  at: string;
}

export function pbxStatusTopic(cfg: Pick<CallboardConfig, 'kafka'>): string {
  return cfg.kafka.topicPrefix + PBX_STATUS_TOPIC;
}

/** Creates the status topic once: compacted (the latest record per PBX is all that matters), one partition. */
export async function ensurePbxStatusTopic(admin: Pick<KafkaAdmin, 'listTopics' | 'createTopics' | 'fetchTopicOffsets'>, cfg: Pick<CallboardConfig, 'kafka'>): Promise<void> {
  const topic = pbxStatusTopic(cfg);
  await retryKafka(`creating Kafka topic ${topic}`, async () => {
    if ((await admin.listTopics()).includes(topic)) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: 1, replicationFactor: cfg.kafka.replicationFactor, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
    });
  });
  await retryKafka(`waiting for the partition leader of ${topic}`, () => admin.fetchTopicOffsets(topic));
}

/** The statuses of the configured PBXes now, from ingest's Health and the shell's clock offsets. */
export function pbxStatuses(cfg: Pick<CallboardConfig, 'pbxes'>, health: Pick<Health, 'links'>, nowMs: number): PbxStatus[] {
  const links = health.links();
  const offsets = clockOffsets();
  return cfg.pbxes.flatMap((p) => {
    const l = links[p.id];
    if (!l) return [];
    const off = offsets.get(p.id);
    return [
      {
        tenant_id: p.tenant,
        pbx_id: p.id,
        up: l.up,
        since: l.since,
        detail: l.detail ?? null,
        clock_offset_s: off == null ? null : Math.round(off / 100) / 10,
        at: new Date(nowMs).toISOString(),
      },
    ];
  });
}

/** How long a stopping ingest gives its last status record. */
const STOP_WRITE_MS = 5_000;

async function settlesWithin(ms: number, p: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([p.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

export interface PbxStatusPublisher {
  /** Writes a last record per PBX (down: ingest stopped), then stops. */
  stop(): Promise<void>;
}

/**
 * Checks the links every `everyMs` and writes each PBX whose state changed (up/down, since, why,
 * the clock offset's whole seconds), and all of them every heartbeat. Nothing here waits for
 * Kafka: the topic is created in the background (ingest also starts with Kafka away, spooling),
 * and a failed write is logged and tried again at the next tick. The status must never hold up
 * the PBXes' events.
 */
export function startPbxStatusPublisher(o: {
  cfg: CallboardConfig;
  producer: Pick<KafkaProducer, 'send'>;
  health: Pick<Health, 'links'>;
  log: Logger;
  everyMs?: number;
  now?: () => number;
}): PbxStatusPublisher {
  const now = o.now ?? Date.now;
  const topic = pbxStatusTopic(o.cfg);
  let created = false;
  const creating = (async () => {
    const admin = createKafka(o.cfg, o.log, `${o.cfg.kafka.clientId}-pbx-status`).admin();
    await admin.connect();
    try {
      await ensurePbxStatusTopic(admin, o.cfg);
      created = true;
    } finally {
      await admin.disconnect();
    }
  })().catch((e: unknown) => o.log.warn({ ...errorFields(e), topic }, 'cannot create the PBX link status topic: other processes will not see the link state'));
  const sent = new Map<string, string>();
  let lastBeat = 0;
  let writing: Promise<void> | null = null;
  let failing = false;
  const send = (statuses: PbxStatus[]) =>
    o.producer.send({ topic, messages: statuses.map((s) => ({ key: `${s.tenant_id}:${s.pbx_id}`, value: JSON.stringify(s) })) });
  const tick = () => {
    // One write at a time: with Kafka away a send takes its retries, and ticks must not pile up.
    if (!created || writing) return;
    const t = now();
    const all = pbxStatuses(o.cfg, o.health, t);
    const beat = t - lastBeat >= PBX_STATUS_HEARTBEAT_MS;
    const sig = (s: PbxStatus) => `${s.up}|${s.since}|${s.detail}|${s.clock_offset_s === null ? '' : Math.round(s.clock_offset_s)}`;
    const due = beat || failing ? all : all.filter((s) => sent.get(s.pbx_id) !== sig(s));
    if (due.length === 0) return;
    if (beat) lastBeat = t;
    writing = send(due)
      .then(() => {
        for (const s of due) sent.set(s.pbx_id, sig(s));
        failing = false;
      })
      .catch((e: unknown) => {
        if (!failing) o.log.warn({ ...errorFields(e), topic }, 'cannot write the PBX link status; trying again');
        failing = true;
      })
      .finally(() => (writing = null));
  };
  void creating.then(tick);
  const timer = setInterval(tick, o.everyMs ?? 1000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      // With Kafka away a write waits out its retries: stopping ingest must not (the heartbeat
      // going stale says the same, later).
      if (
        !(await settlesWithin(
          STOP_WRITE_MS,
          (async () => {
            await creating;
            await writing;
            if (!created) return;
            const at = new Date(now()).toISOString();
            const last = pbxStatuses(o.cfg, o.health, now()).map((s) => ({ ...s, up: false, since: s.up ? at : s.since, detail: 'ingest stopped' }));
            if (last.length) await send(last);
          })().catch((e: unknown) => o.log.warn({ ...errorFields(e), topic }, 'cannot write the last PBX link status')),
        ))
      )
        o.log.warn({ topic }, `the last PBX link status was not written within ${STOP_WRITE_MS / 1000} s`);
    },
  };
}

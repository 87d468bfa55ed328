// The PBX link state an ingest in another process publishes (ingest/src/pbx-status.ts): read
// from the start of its compacted topic into the live store, so the board's feeds say which PBX
// is down and since when whether or not ingest runs in this process. Not needed for readiness:
// until the first record arrives a link is UNKNOWN, as it was before.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { ConsumerFailureLog, createKafka, runBatches, type CallboardConfig, type Logger } from '@callboard/platform';
import { ensurePbxStatusTopic, pbxStatusTopic, type PbxStatus } from '@callboard/ingest/pbx-status';
import type { LiveStore } from './live.ts';

/** A record as published, or null when it is not one (an older or foreign writer). */
export function parsePbxStatus(text: string): PbxStatus | null {
  try {
    const v = JSON.parse(text) as Partial<PbxStatus>;
    const str = (x: unknown): x is string => typeof x === 'string' && x.length > 0;
    if (
      !str(v.tenant_id) ||
      !str(v.pbx_id) ||
      typeof v.up !== 'boolean' ||
      !str(v.since) ||
      !str(v.at) ||
      Number.isNaN(Date.parse(v.since)) ||
      Number.isNaN(Date.parse(v.at))
    )
      return null;
    return {
      tenant_id: v.tenant_id,
      pbx_id: v.pbx_id,
      up: v.up,
      since: v.since,
      at: v.at,
      detail: typeof v.detail === 'string' ? v.detail : null,
      clock_offset_s: typeof v.clock_offset_s === 'number' ? v.clock_offset_s : null,
    };
  } catch {
    return null;
  }
}

export async function startPbxStatusReader(d: {
  cfg: CallboardConfig;
  log: Logger;
  live: Pick<LiveStore, 'noteLinkStatus'>;
}): Promise<{ stop: () => Promise<void> }> {
  const topic = pbxStatusTopic(d.cfg);
  const kafka = createKafka(d.cfg, d.log, `${d.cfg.kafka.clientId}-api-pbx-status`);
  const admin = kafka.admin();
  await admin.connect();
  let start: Map<number, bigint>;
  try {
    await ensurePbxStatusTopic(admin, d.cfg);
    // From the first record kept: every PBX's latest state is in the compacted log.
    start = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.low)]));
  } finally {
    await admin.disconnect();
  }
  const failures = new ConsumerFailureLog({ log: d.log, subject: `the PBX link status consumer of ${topic}`, fields: { topic } });
  // A reader of its own per instance: every API needs every PBX's state, from the start.
  const consumer = await runBatches(kafka.connection, {
    groupId: `callboard-api-pbx-status-${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`,
    topic,
    start,
    maxWaitMs: 200,
    on: failures.events(),
    eachBatch: async ({ messages }) => {
      for (const message of messages) {
        const s = parsePbxStatus(message.value?.toString('utf8') ?? '');
        if (s) d.live.noteLinkStatus(s);
        else d.log.warn({ topic, offset: message.offset }, 'skipped a PBX status record that is not one');
      }
    },
  });
  return { stop: () => consumer.stop() };
}

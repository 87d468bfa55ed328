// When the truth tests may compare: the projections have folded the whole log. That is a fact
// Kafka knows (committed offsets at the end of both topics), not a pause long enough to hope so.
// Read with the tests' own client (toolKafka): the services' client has no group-offset call.
import { topicName, type CallboardConfig } from '@callboard/platform';
import { toolKafka } from '../helpers.ts';

/**
 * A check, true once the projections' consumer groups (named as projections/src/main.ts does by
 * default) have committed every offset of pbx.raw.v1 and cc.events.v1, and neither topic has
 * grown since the previous check: ingest has stopped writing, so nothing is left to fold.
 */
export function logFolded(cfg: CallboardConfig): () => Promise<boolean> {
  let previousEnds = '';
  return async () => {
    const admin = toolKafka(cfg).admin();
    await admin.connect();
    try {
      const ends: Record<string, string[]> = {};
      let folded = true;
      for (const which of ['raw', 'events'] as const) {
        const topic = topicName(cfg, which);
        const end = await admin.fetchTopicOffsets(topic);
        ends[topic] = end.map((p) => `${p.partition}:${p.high}`).sort();
        const [committed] = await admin.fetchOffsets({ groupId: `${cfg.kafka.topicPrefix}callboard-projections-${which}`, topics: [topic] });
        const at = new Map((committed?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
        // An empty partition has nothing to commit (offset -1) and nothing to fold.
        if (end.some((p) => BigInt(p.high) > 0n && at.get(p.partition) !== BigInt(p.high))) folded = false;
      }
      const same = JSON.stringify(ends) === previousEnds;
      previousEnds = JSON.stringify(ends);
      return folded && same;
    } finally {
      await admin.disconnect();
    }
  };
}

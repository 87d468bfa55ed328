// Shared test plumbing: a config pointing at the run's broker, with a unique topic prefix and
// ClickHouse database per test so tests never see each other's data.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { loadConfig, type CallboardConfig } from '@callboard/platform';

let seq = 0;
export function uniqueId(prefix = 't'): string {
  return `${prefix}${process.pid}x${Date.now().toString(36)}x${(seq++).toString(36)}`;
}

/** A fresh config for one test: own topics (prefix), own database, own data dir. */
export function testConfig(file: Record<string, unknown> = {}, env: Record<string, string> = {}): CallboardConfig {
  const id = uniqueId();
  const clickhouseUrl = inject('clickhouseUrl');
  return loadConfig({
    env: {
      KAFKA_BROKERS: inject('kafkaBrokers').join(','),
      KAFKA_TOPIC_PREFIX: `${id}.`,
      KAFKA_PARTITIONS: '3',
      CLICKHOUSE_DATABASE: `cb_${id}`,
      CALLBOARD_DATA_DIR: mkdtempSync(join(tmpdir(), 'callboard-test-')),
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      ...(clickhouseUrl ? { CLICKHOUSE_URL: clickhouseUrl } : {}),
      ...env,
    },
    file,
  });
}

/** Polls until `check` returns a value other than undefined, or fails with the last state. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A TCP port nothing listens on right now: a refused port, or one to listen on (one helper, in platform). */
export { freePort } from '@callboard/platform';

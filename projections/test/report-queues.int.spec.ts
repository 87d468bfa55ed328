// `callboard report` passes the tenant's queues to the queue metrics (as the API passes the
// configured ones), so their thresholds apply in the engine: the report must be the same as when
// every threshold is applied in TypeScript (no queues given).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_QUEUE_SETTINGS, createClickHouse, migrate, readMigrations, type ClickHouse } from '@callboard/platform';
import { MIGRATIONS_DIR } from '../src/migrations-dir.ts';
import { listQueues } from '../src/read.ts';
import { loadEvents, report, type ReportOptions } from '../src/report.ts';
import { ProjectionStore } from '../src/store.ts';
import { testConfig, uniqueId } from '../../test/helpers.ts';
import { queuedCall, utc } from './given.ts';

let ch: ClickHouse;
beforeAll(async () => {
  ch = await createClickHouse(testConfig());
  await migrate(ch, readMigrations(MIGRATIONS_DIR));
});
afterAll(async () => ch?.close());

describe('callboard report: the queues passed to the queue metrics', () => {
  it('the same figures with the thresholds applied in the engine as in TypeScript, for every grouping', async () => {
    const tenant = uniqueId('rq');
    const outcomes = ['answered', 'abandoned', 'exited', 'answered'] as const;
    const events = Array.from({ length: 24 }, (_, i) =>
      queuedCall({
        tenant,
        call_id: `c${i}`,
        at: utc('2026-03-10T08:00:00Z') + i * 600_000,
        queue: i % 3 ? 'sales' : 'support',
        outcome: outcomes[i % 4]!,
        wait_s: (i * 7) % 40,
        agent: `10${(i % 3) + 1}`,
        talk_s: 60 + i,
      }),
    ).flat();
    await loadEvents(new ProjectionStore(ch), events);
    const o: Omit<ReportOptions, 'group_by'> = {
      tenant,
      timezone: 'UTC',
      week_start: 'monday',
      period: 'day',
      date: '2026-03-10',
      settings: { ...DEFAULT_QUEUE_SETTINGS, sl_threshold_s: 15, short_abandon_s: 6 },
    };
    // what report passes by default: the engine path is taken
    expect(await listQueues(ch, tenant)).toEqual(['sales', 'support']);
    for (const group_by of ['none', 'queue', 'agent'] as const) {
      const inEngine = await report(ch, { ...o, group_by });
      const inTs = await report(ch, { ...o, group_by, queues: [] });
      expect(inEngine.queue_metrics.length).toBeGreaterThan(0);
      expect(inEngine, group_by).toEqual(inTs);
    }
    const byAgent = await report(ch, { ...o, group_by: 'agent' });
    expect(byAgent.queue_metrics.reduce((n, r) => n + r.answered_within_sl, 0)).toBeGreaterThan(0);
  });
});

// METRICS.md pause_time_by_reason: wall time from each pause to its unpause, whatever the agent
// did meanwhile. Built from the real Asterisk 22 capture i_membership_midcall, where Agent 1002 is
// paused ("Coaching") 8 s into a call and unpaused 2.5 s after it ended: queue_log says PAUSE at
// 1796414354 and UNPAUSE at 1796414369, 15 s, while the paused *state* lasts only 2.485 s (on_call
// outranks paused). Needs ../shared.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_QUEUE_SETTINGS, createClickHouse, migrate, readMigrations, type ClickHouse } from '@callboard/platform';
import type { CanonicalEvent } from '@callboard/schemas';
import { translateAmiFile } from '@callboard/ingest/ami/offline';
import { MIGRATIONS_DIR } from '../src/migrations-dir.ts';
import { agentMetrics } from '../src/queries.ts';
import { loadEvents } from '../src/report.ts';
import { ProjectionStore } from '../src/store.ts';
import { testConfig, uniqueId } from '../../test/helpers.ts';
import { agentState, utc } from './given.ts';

const CAPTURE = join(import.meta.dirname, '../../../shared/fixtures/ami/asterisk22/i_membership_midcall/capture.ami');

let ch: ClickHouse;
beforeAll(async () => {
  ch = await createClickHouse(testConfig());
  await migrate(ch, readMigrations(MIGRATIONS_DIR));
});
afterAll(async () => ch?.close());

const byAgent = (tenant: string, date: string, now: string) =>
  agentMetrics(ch, {
    tenant_id: tenant,
    timezone: 'UTC',
    week_start: 'monday',
    period: { kind: 'DAY', date },
    group_by: 'agent',
    settings: () => DEFAULT_QUEUE_SETTINGS,
    now: new Date(now),
  });

describe.skipIf(!existsSync(CAPTURE))('pause_time_by_reason (needs ../shared)', () => {
  it('i_membership_midcall: a pause taken on a call counts from the pause to the unpause', async () => {
    const tenant = uniqueId('p');
    const events: CanonicalEvent[] = [];
    for await (const o of translateAmiFile(CAPTURE, { cfg: { queues: [] }, tenant_id: tenant, pbx_id: 'pbx1', warn: () => {} })) if (o.kind === 'ok') events.push(...o.events);
    await loadEvents(new ProjectionStore(ch), events, { rollupVersion: 'now' });
    const rows = await byAgent(tenant, '2026-12-04', '2026-12-04T20:00:00Z');
    const a1002 = rows.find((r) => r.agent_id === '1002')!;
    // QueueMemberPause 19:59:14.105 → QueueMemberPause Paused 0 at 19:59:29.105 (PBX clock).
    expect(a1002.pause_time_by_reason).toEqual({ Coaching: 15 });
    // The state timeline keeps its precedence: paused only after the call ended.
    expect(a1002.state_time.paused).toBeCloseTo(2.485, 3);
    expect(rows.find((r) => r.agent_id === '1001')!.pause_time_by_reason).toEqual({});
  });

  it('events written before pause_reason existed still count their paused state', async () => {
    const tenant = uniqueId('p');
    const t = utc('2026-12-04T10:00:00Z');
    await loadEvents(new ProjectionStore(ch), [agentState(tenant, '7', t, 'paused', 'Lunch'), agentState(tenant, '7', t + 60_000, 'available')], { rollupVersion: 'now' });
    const [row] = await byAgent(tenant, '2026-12-04', '2026-12-04T11:00:00Z');
    expect(row!.pause_time_by_reason).toEqual({ Lunch: 60 });
  });
});

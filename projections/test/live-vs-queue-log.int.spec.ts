// The live AMI path against the PBX's own queue_log: each asterisk22 capture translated by the
// live adapter's translator and folded by the projections, then reconciled with that scenario's
// queue_log and Master.csv. Live and imported history name calls alike (Linkedid, via the CDR's
// Local ;2 → ;1), so legs match and every difference has a named cause. Needs ../shared.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_QUEUE_SETTINGS, createClickHouse, migrate, readMigrations, type ClickHouse } from '@callboard/platform';
import type { CanonicalEvent } from '@callboard/schemas';
import { translateAmiFile } from '@callboard/ingest/ami/offline';
import { nothingSettled, settle } from '@callboard/ingest/pipeline';
import { MIGRATIONS_DIR } from '../src/migrations-dir.ts';
import { runReconcile, renderTable } from '../src/reconcile/run.ts';
import { loadEvents } from '../src/report.ts';
import { ProjectionStore } from '../src/store.ts';
import { testConfig, uniqueId } from '../../test/helpers.ts';

const FIXTURES = join(import.meta.dirname, '../../../shared/fixtures/ami/asterisk22');
// j_restart spans two captures (before and after the restart); the others are one each.
const SCENARIOS = ['a_answered', 'b_abandon', 'c_ringnoanswer', 'f_hold_transfer', 'h_attended_transfer', 'i_membership_midcall'];
const present = existsSync(FIXTURES);
if (!present) console.warn(`live-vs-queue-log.int.spec.ts skipped: ${FIXTURES} (../shared) is absent`);
const firstDay = (s: string) => new Date(Number(readFileSync(join(FIXTURES, s, 'queue_log'), 'utf8').split('|')[0]) * 1000).toISOString().slice(0, 10);
describe.skipIf(!present)('the live AMI path against the same scenario\'s queue_log', () => {
  let live: ClickHouse;
  beforeAll(async () => {
    live = await createClickHouse(testConfig());
    await migrate(live, readMigrations(MIGRATIONS_DIR));
  });
  afterAll(async () => live?.close());

  it.each(SCENARIOS)('%s: no difference of unknown cause', async (s) => {
    const tenant = uniqueId(s.slice(0, 1));
    const events: CanonicalEvent[] = [];
    for await (const o of translateAmiFile(join(FIXTURES, s, 'capture.ami'), { cfg: { queues: [] }, tenant_id: tenant, pbx_id: 'pbx1', warn: () => {} })) {
      events.push(...settle(nothingSettled(), o, { source: 'ami' }, { original: '', ref: null }).events);
    }
    await loadEvents(new ProjectionStore(live), events, { rollupVersion: 'now' });
    const r = await runReconcile(live, { tenant_id: tenant, timezone: 'UTC', week_start: 'monday', period: 'day', date: firstDay(s), queueLog: join(FIXTURES, s, 'queue_log'), cdr: join(FIXTURES, s, 'cdr.csv'), settings: () => DEFAULT_QUEUE_SETTINGS });
    expect(r.byClass.missing, renderTable(r)).toBe(0);
    expect(r.unknown, renderTable(r)).toBe(0);
  });
});

// The link state published by an ingest in another process (api/src/pbx-status.ts, boards.ts
// pbxFeeds): used while fresh, UNKNOWN once ingest went silent, the in-process Health first.
import { describe, expect, it } from 'vitest';
import { DEFAULT_QUEUE_SETTINGS, loadConfig, type LinkHealth } from '@callboard/platform';
import { PBX_STATUS_STALE_MS, type PbxStatus } from '@callboard/ingest/pbx-status';
import { pbxFeeds } from '../src/boards.ts';
import { LiveStore } from '../src/live.ts';
import { parsePbxStatus } from '../src/pbx-status.ts';

const NOW = Date.parse('2026-12-05T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const cfg = loadConfig({
  env: {},
  file: { tenants: [{ id: 'acme', timezone: 'UTC' }], pbxes: [{ id: 'acme-pbx', tenant: 'acme', kind: 'ami', username: 'u', secret_env: 'X' }] },
});
const store = () => new LiveStore({ zoneOf: () => 'UTC', settingsOf: () => DEFAULT_QUEUE_SETTINGS, formulaOf: () => DEFAULT_QUEUE_SETTINGS.sl_formula });
const status = (over: Partial<PbxStatus>): PbxStatus => ({
  tenant_id: 'acme',
  pbx_id: 'acme-pbx',
  up: false,
  since: iso(NOW - 60_000),
  detail: 'connect ECONNREFUSED',
  clock_offset_s: null,
  at: iso(NOW),
  ...over,
});

describe('published PBX link state', () => {
  it('shows the published state while fresh, and UNKNOWN once ingest has been silent for longer than the bound', () => {
    const s = store();
    s.noteLinkStatus(status({}));
    expect(pbxFeeds(cfg, s, undefined, 'acme', NOW + 1000)[0]).toMatchObject({
      link: 'DOWN',
      link_since: iso(NOW - 60_000),
      link_detail: 'connect ECONNREFUSED',
    });
    expect(pbxFeeds(cfg, s, undefined, 'acme', NOW + PBX_STATUS_STALE_MS + 1)[0]).toMatchObject({ link: 'UNKNOWN', link_since: null, link_detail: null });
  });

  it('keeps the latest heartbeat when records come out of order, and prefers the Health of an ingest in this process', () => {
    const s = store();
    s.noteLinkStatus(status({ up: true, since: iso(NOW - 5_000), at: iso(NOW) }));
    s.noteLinkStatus(status({ at: iso(NOW - 10_000) }));
    expect(pbxFeeds(cfg, s, undefined, 'acme', NOW)[0]).toMatchObject({ link: 'UP', link_since: iso(NOW - 5_000), link_detail: null });
    const local: Record<string, LinkHealth> = { 'acme-pbx': { up: false, detail: 'auth', since: iso(NOW - 1_000) } };
    expect(pbxFeeds(cfg, s, { links: () => local }, 'acme', NOW)[0]).toMatchObject({ link: 'DOWN', link_detail: 'auth' });
  });

  it('reads only records that are link states', () => {
    const good = status({ clock_offset_s: -90 });
    expect(parsePbxStatus(JSON.stringify(good))).toEqual(good);
    expect(parsePbxStatus('{"tenant_id":"acme"}')).toBeNull();
    expect(parsePbxStatus(JSON.stringify({ ...good, since: 'yesterday' }))).toBeNull();
    expect(parsePbxStatus('not json')).toBeNull();
  });
});

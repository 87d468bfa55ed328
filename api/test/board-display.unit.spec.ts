// What a board update carries besides the live state (api/src/boards.ts, the feed and handled
// parts of api/src/live.ts): catching up while history replays, link state and gaps, handled
// today, configured queue and agent names.
import { describe, expect, it } from 'vitest';
import { DEFAULT_QUEUE_SETTINGS, loadConfig, type LinkHealth } from '@callboard/platform';
import { agentDisplayName, boardQueueList, pbxFeeds } from '../src/boards.ts';
import { isCatchingUp, LiveStore } from '../src/live.ts';
import type { CanonicalEvent } from '@callboard/schemas';
import { ev, queueCall } from './events.ts';

/** The event as ingest received it at `atMs` (a replay delivers old PBX times now). */
const receivedAt = (e: CanonicalEvent, atMs: number): CanonicalEvent => ({ ...e, received_at: new Date(atMs).toISOString() });

const store = () =>
  new LiveStore({ zoneOf: () => 'Africa/Nairobi', settingsOf: () => DEFAULT_QUEUE_SETTINGS, formulaOf: () => DEFAULT_QUEUE_SETTINGS.sl_formula });
const NOW = Date.parse('2026-03-10T12:00:00.000Z');
const a = { agent_id: '1001' };

const cfg = loadConfig({
  env: {},
  file: {
    tenants: [{ id: 'acme', timezone: 'Africa/Nairobi' }],
    queues: [
      { tenant: 'acme', queue: 'sales', name: 'Sales floor', sl_threshold_s: 30, interval_sl_min_legs: 8, colour: '#cc79a7' },
      { tenant: 'acme', queue: 'support', name: 'Support' },
    ],
    pbxes: [{ id: 'acme-pbx', tenant: 'acme', kind: 'ami', username: 'u', secret_env: 'X' }],
    agents: [
      { tenant: 'acme', agent: '2001', name: 'Yusuf Kamau' },
      { tenant: 'acme', agent: '1001', name: 'Config name' },
    ],
  },
});

describe('feeds: catching up while history replays', () => {
  it('is catching up while events arrive far behind their PBX time, and not once they are current', () => {
    const s = store();
    // History at replay speed: events of 09:40 received at 12:00.
    s.apply(receivedAt(ev('agent.state_changed', '2026-03-10T09:40:00.000Z', a, { state: 'available' }), NOW), NOW);
    const [f] = s.feeds('acme');
    expect(f).toMatchObject({ pbx_id: 'acme-pbx', data_until_ms: Date.parse('2026-03-10T09:40:00.000Z') });
    expect(isCatchingUp(f!, NOW + 1000)).toBe(true);
    expect(pbxFeeds(cfg, s, undefined, 'acme', NOW + 1000)[0]).toMatchObject({ catching_up: true, data_until: '2026-03-10T09:40:00.000Z', link: 'UNKNOWN' });
    // Caught up: the newest event is a second old.
    s.apply(receivedAt(ev('agent.state_changed', new Date(NOW + 1000).toISOString(), a, { state: 'paused', reason: 'Lunch' }), NOW + 1500), NOW + 2000);
    expect(isCatchingUp(s.feeds('acme')[0]!, NOW + 2000)).toBe(false);
  });

  it('a feed that stopped arriving is quiet, not catching up', () => {
    const s = store();
    s.apply(receivedAt(ev('agent.state_changed', '2026-03-10T09:40:00.000Z', a, { state: 'available' }), NOW), NOW);
    expect(isCatchingUp(s.feeds('acme')[0]!, NOW + 60_000)).toBe(false);
  });

  it('an API rebuilding from the log is not catching up: those events were received in their time', () => {
    const s = store();
    s.apply(ev('agent.state_changed', '2026-03-10T09:40:00.000Z', a, { state: 'available' }), NOW);
    expect(isCatchingUp(s.feeds('acme')[0]!, NOW)).toBe(false);
  });

  it('keeps the latest source.gap of each PBX', () => {
    const s = store();
    s.apply(ev('source.gap', '2026-03-10T11:05:00.000Z', {} as never, { from: '2026-03-10T11:00:00.000Z', to: '2026-03-10T11:05:00.000Z', reason: 'ECONNRESET' }), NOW);
    s.apply(ev('source.gap', '2026-03-10T10:05:00.000Z', {} as never, { from: '2026-03-10T10:00:00.000Z', to: '2026-03-10T10:05:00.000Z', reason: 'older, redelivered' }), NOW);
    expect(pbxFeeds(cfg, s, undefined, 'acme', NOW)[0]!.last_gap).toEqual({ pbx_id: 'acme-pbx', from: '2026-03-10T11:00:00.000Z', to: '2026-03-10T11:05:00.000Z', reason: 'ECONNRESET' });
  });

  it('takes the link state from the Health ingest reports into, when it runs in this process', () => {
    const s = store();
    const links: Record<string, LinkHealth> = { 'acme-pbx': { up: false, detail: 'connect ECONNREFUSED', since: '2026-03-10T11:59:00.000Z' } };
    expect(pbxFeeds(cfg, s, { links: () => links }, 'acme', NOW)).toEqual([
      { pbx_id: 'acme-pbx', link: 'DOWN', link_since: '2026-03-10T11:59:00.000Z', link_detail: 'connect ECONNREFUSED', data_until: null, catching_up: false, last_gap: null, clock_offset_s: null },
    ]);
    links['acme-pbx'] = { up: true, since: '2026-03-10T12:00:00.000Z' };
    expect(pbxFeeds(cfg, s, { links: () => links }, 'acme', NOW)[0]).toMatchObject({ link: 'UP', link_detail: null });
  });
});

describe('agents: handled today and the PBX each is on', () => {
  it('counts each call an agent answered today once, redelivery included', () => {
    const s = store();
    const calls = [
      ...queueCall({ call: 'c1', queue: 'sales', at: '2026-03-10T06:00:00.000Z', waitS: 5, outcome: 'answered', agent: '1001' }),
      ...queueCall({ call: 'c2', queue: 'sales', at: '2026-03-10T06:10:00.000Z', waitS: 5, outcome: 'answered', agent: '1001' }),
      ...queueCall({ call: 'c3', queue: 'sales', at: '2026-03-10T06:20:00.000Z', waitS: 5, outcome: 'answered', agent: '1002' }),
      // yesterday in Nairobi: not today's
      ...queueCall({ call: 'c0', queue: 'sales', at: '2026-03-09T20:00:00.000Z', waitS: 5, outcome: 'answered', agent: '1001' }),
    ];
    const agents = [ev('agent.state_changed', '2026-03-10T05:00:00.000Z', a, { state: 'available' }), ev('agent.state_changed', '2026-03-10T05:00:00.000Z', { agent_id: '1002' }, { state: 'available' })];
    for (const e of [...agents, ...calls, ...calls]) s.apply(e, NOW);
    const snap = s.snapshot('acme', NOW);
    expect(snap.agents.map((x) => [x.agent_id, x.handled_today, x.pbx_id])).toEqual([
      ['1001', 2, 'acme-pbx'],
      ['1002', 1, 'acme-pbx'],
    ]);
    expect(snap.waiting_calls).toEqual([]);
  });

  it('names the PBX of a waiting call', () => {
    const s = store();
    for (const e of queueCall({ call: 'w', queue: 'sales', at: '2026-03-10T11:59:00.000Z', waitS: 0, outcome: 'waiting' })) s.apply(e, NOW);
    expect(s.snapshot('acme', NOW).waiting_calls[0]!.pbx_id).toBe('acme-pbx');
  });
});

describe('names', () => {
  it('lists the board queues with their configured names, settings and colours, every configured queue when the board names none', () => {
    const always = { open: true, opens_at: null, closes_at: null };
    expect(boardQueueList(cfg, 'acme', [], { queues: [{ queue: '6400' } as never], waiting_calls: [] }, NOW)).toEqual([
      { queue: '6400', name: '6400', sl_threshold_s: 20, interval_sl_min_legs: 5, colour: null, ...always },
      { queue: 'sales', name: 'Sales floor', sl_threshold_s: 30, interval_sl_min_legs: 8, colour: '#cc79a7', ...always },
      { queue: 'support', name: 'Support', sl_threshold_s: 20, interval_sl_min_legs: 5, colour: null, ...always },
    ]);
    expect(boardQueueList(cfg, 'acme', ['support'], null, NOW).map((q) => q.name)).toEqual(['Support']);
  });

  it("takes the PBX's agent name first, the configured one where the PBX gives none", () => {
    expect(agentDisplayName(cfg, 'acme', '1001', 'Amina (MemberName)')).toBe('Amina (MemberName)');
    expect(agentDisplayName(cfg, 'acme', '2001', null)).toBe('Yusuf Kamau');
    expect(agentDisplayName(cfg, 'other', '2001', null)).toBeNull();
  });

  it('refuses a mistyped agents entry like every other config key', () => {
    expect(() => loadConfig({ env: {}, file: { tenants: [{ id: 'acme', timezone: 'UTC' }], agents: [{ tenant: 'acme', agent: '1', nmae: 'x' }] } })).toThrow(/agents\[0\]\.nmae/);
  });
});

// The board's open/closed state per queue and the KPI tiles' comparison, with a fixed clock.
import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_QUEUE_SETTINGS, type CallboardConfig, type ScheduleConfig } from '@callboard/platform';
import type { PbxStatus } from '@callboard/ingest/pbx-status';
import { boardQueueList, openAtFrom, openState, tileComparisons, tilesToday, validateBoard, watchFeeds, type Tile } from '../src/boards.ts';
import type { History } from '../src/history.ts';
import { LiveStore } from '../src/live.ts';
import { MemoryPubSub, type Topics } from '../src/pubsub.ts';
import { queueCall } from './events.ts';

const hm = (h: number, m = 0) => h * 60 + m;
const weekday = [{ from: hm(8), to: hm(13) }, { from: hm(14), to: hm(17) }];
const office: ScheduleConfig = {
  tenant: 'acme',
  name: 'office',
  weekly: [weekday, weekday, weekday, weekday, weekday, [{ from: hm(9), to: hm(13) }], []],
  holidays: [{ date: '2026-12-25', name: 'Christmas Day' }, { date: '2026-12-26', name: 'Boxing Day' }],
  exceptions: [{ date: '2026-12-24', hours: [{ from: hm(8), to: hm(12) }] }],
};
const at = (iso: string) => Date.parse(iso);
const NAIROBI = 'Africa/Nairobi';

describe('openState', () => {
  it('is open in the morning and closes for lunch', () => {
    // Thursday 2026-12-03 10:00 in Nairobi (UTC+3).
    expect(openState(office, NAIROBI, at('2026-12-03T07:00:00Z'))).toEqual({ open: true, opens_at: null, closes_at: '2026-12-03T10:00:00.000Z' });
  });

  it('is closed over lunch and opens again at 14:00', () => {
    expect(openState(office, NAIROBI, at('2026-12-03T10:30:00Z'))).toEqual({ open: false, opens_at: '2026-12-03T11:00:00.000Z', closes_at: null });
    // The instant the lunch break starts is closed; the instant it ends is open.
    expect(openState(office, NAIROBI, at('2026-12-03T10:00:00Z')).open).toBe(false);
    expect(openState(office, NAIROBI, at('2026-12-03T11:00:00Z')).open).toBe(true);
  });

  it('skips the holidays: closed after the short Christmas Eve until Monday', () => {
    // Thursday 24 December 13:00 local: the exception closed at 12:00; 25th and 26th are holidays, 27th a Sunday.
    expect(openState(office, NAIROBI, at('2026-12-24T10:00:00Z'))).toEqual({ open: false, opens_at: '2026-12-28T05:00:00.000Z', closes_at: null });
    expect(openState(office, NAIROBI, at('2026-12-24T08:00:00Z')).closes_at).toBe('2026-12-24T09:00:00.000Z');
  });

  it('reads the wall clock across a DST change', () => {
    // New York springs forward on Sunday 2026-03-08: a weekday-only schedule closed on Friday
    // evening (EST) next opens Monday 08:00 EDT, 12:00 UTC (13:00 had the clock not changed).
    const ny: ScheduleConfig = { ...office, tenant: 'ny', weekly: [weekday, weekday, weekday, weekday, weekday, [], []] };
    expect(openState(ny, 'America/New_York', at('2026-03-06T23:00:00Z'))).toEqual({ open: false, opens_at: '2026-03-09T12:00:00.000Z', closes_at: null });
    // With Saturday mornings, Saturday 09:00 is still EST: 14:00 UTC.
    expect(openState(office, 'America/New_York', at('2026-03-06T23:00:00Z')).opens_at).toBe('2026-03-07T14:00:00.000Z');
  });

  it('is always open without a schedule, and says no opening when none comes within the horizon', () => {
    expect(openState(null, NAIROBI, at('2026-12-03T07:00:00Z'))).toEqual({ open: true, opens_at: null, closes_at: null });
    const never: ScheduleConfig = { ...office, weekly: [[], [], [], [], [], [], []] };
    expect(openState(never, NAIROBI, at('2026-12-03T07:00:00Z'))).toEqual({ open: false, opens_at: null, closes_at: null });
  });

  it('keeps a queue open across midnight when 24:00 meets 00:00', () => {
    const allDay = [{ from: 0, to: hm(24) }];
    const round: ScheduleConfig = { ...office, weekly: [allDay, allDay, [], [], [], [], []], holidays: [], exceptions: [] };
    // Monday 23:00 local: open until Tuesday's end, not until Monday midnight.
    expect(openState(round, NAIROBI, at('2026-11-30T20:00:00Z')).closes_at).toBe('2026-12-01T21:00:00.000Z');
  });
});

describe('boardQueueList', () => {
  const cfg = {
    tenants: [{ id: 'acme', name: 'Acme', timezone: NAIROBI, week_start: 'monday', locale: 'en-KE', schedule: 'office' }],
    queues: [
      { tenant: 'acme', queue: 'sales', name: 'Sales', sl_threshold_s: 20, short_abandon_s: 5, sl_formula: 'answered_within_T_over_offered_excl_short', wrap_up_s: 0 },
      { tenant: 'acme', queue: 'night', name: 'Night line', schedule: 'night', sl_threshold_s: 20, short_abandon_s: 5, sl_formula: 'answered_within_T_over_offered_excl_short', wrap_up_s: 0 },
    ],
    schedules: [office, { tenant: 'acme', name: 'night', weekly: Array.from({ length: 7 }, () => [{ from: hm(17), to: hm(24) }]), holidays: [], exceptions: [] }],
  } as unknown as CallboardConfig;

  it("uses the queue's own schedule, else the tenant's default", () => {
    const qs = boardQueueList(cfg, 'acme', [], null, at('2026-12-03T10:30:00Z'));
    expect(qs.map((q) => [q.queue, q.open, q.opens_at])).toEqual([
      ['night', false, '2026-12-03T14:00:00.000Z'],
      ['sales', false, '2026-12-03T11:00:00.000Z'],
    ]);
  });
});

describe('KPI tile comparisons', () => {
  const tile = (over: Partial<Tile> & { id: string }): Tile => ({ kind: 'KPI', title: null, x: 0, y: 0, w: 1, h: 1, metric: 'service_level', queues: [], interval: null, thresholds: [], ...over });

  it('validates compare: a Comparison, on KPI tiles, not for the live-only waiting', () => {
    const base = { id: 'k', kind: 'KPI' as const, x: 0, y: 0, w: 1, h: 1, metric: 'service_level' };
    expect(validateBoard({ name: 'b', tiles: [{ ...base, compare: 'PREVIOUS' }] }).tiles[0]!.compare).toBe('PREVIOUS');
    expect(validateBoard({ name: 'b', tiles: [base] }).tiles[0]).not.toHaveProperty('compare');
    expect(() => validateBoard({ name: 'b', tiles: [{ ...base, compare: 'LAST_CENTURY' }] })).toThrow(/tiles\[0\]\.compare "LAST_CENTURY" is not PREVIOUS/);
    expect(() => validateBoard({ name: 'b', tiles: [{ ...base, metric: 'waiting', compare: 'PREVIOUS' }] })).toThrow(/live-only/);
    expect(() => validateBoard({ name: 'b', tiles: [{ ...base, kind: 'AGENT_GRID', compare: 'PREVIOUS' }] })).toThrow(/only KPI tiles/);
  });

  it("asks the history for the tile's queues over all hours and reads the tile's metric from the comparison", async () => {
    const asked: unknown[] = [];
    const history: Pick<History, 'metrics'> = {
      metrics: async (...args) => {
        asked.push(args);
        return { comparison: { period: { kind: 'DAY', from: '2026-12-02' }, rows: [{ queue_metrics: { service_level: 0.75, offered: 40 } }] } };
      },
    };
    const t = { id: 'acme', name: 'Acme', timezone: NAIROBI, week_start: 'monday' as const, locale: 'en-KE' };
    const noReuse = (_: string, read: () => Promise<unknown>) => read();
    const out = await tileComparisons(history, 'acme', t, [tile({ id: 'sl', compare: 'PREVIOUS', queues: ['sales'] }), tile({ id: 'plain' }), tile({ id: 'off', metric: 'offered', compare: 'SAME_DAY_LAST_WEEK' })], noReuse);
    expect(out).toEqual([
      { tile_id: 'sl', compare: 'PREVIOUS', period: { kind: 'DAY', from: '2026-12-02' }, value: 0.75 },
      { tile_id: 'off', compare: 'SAME_DAY_LAST_WEEK', period: { kind: 'DAY', from: '2026-12-02' }, value: 40 },
    ]);
    expect(asked[0]).toEqual(['acme', t, { kind: 'TODAY' }, 'TENANT', { queues: ['sales'] }, { compare: 'PREVIOUS' }]);
  });

  it('leaves out a tile whose comparison cannot be read, so the live board still updates', async () => {
    const history: Pick<History, 'metrics'> = { metrics: async () => Promise.reject(new Error('engine busy')) };
    const t = { id: 'acme', name: 'Acme', timezone: NAIROBI, week_start: 'monday' as const, locale: 'en-KE' };
    expect(await tileComparisons(history, 'acme', t, [tile({ id: 'sl', compare: 'PREVIOUS' })], (_, read) => read())).toEqual([]);
  });

  it('gives null for a null ratio', async () => {
    const history: Pick<History, 'metrics'> = { metrics: async () => ({ comparison: { period: {}, rows: [{ queue_metrics: { service_level: null } }] } }) };
    const t = { id: 'acme', name: 'Acme', timezone: NAIROBI, week_start: 'monday' as const, locale: 'en-KE' };
    const [c] = await tileComparisons(history, 'acme', t, [tile({ id: 'sl', compare: 'PREVIOUS' })], (_, read) => read());
    expect(c!.value).toBeNull();
  });
});

describe('watchFeeds', () => {
  // The PBX link of an ingest in another process, as the API reads it from the status topic.
  const cfg = { tenants: [{ id: 'acme', timezone: 'UTC' }], pbxes: [{ id: 'far', tenant: 'acme', kind: 'ami' }] } as unknown as CallboardConfig;
  const status = (up: boolean, atMs: number): PbxStatus => ({ tenant_id: 'acme', pbx_id: 'far', up, since: new Date(atMs).toISOString(), detail: up ? null : 'connect ECONNREFUSED', clock_offset_s: null, at: new Date(atMs).toISOString() });

  it('marks the boards dirty when a link changes, the change before its first look included', () => {
    vi.useFakeTimers();
    try {
      const t0 = Date.parse('2026-12-06T08:00:00Z');
      vi.setSystemTime(t0);
      const live = new LiveStore({ zoneOf: () => 'UTC', settingsOf: () => DEFAULT_QUEUE_SETTINGS, formulaOf: () => DEFAULT_QUEUE_SETTINGS.sl_formula });
      const pubsub = new MemoryPubSub<Topics>();
      const dirty: number[] = [];
      pubsub.subscribe('live', 'acme', () => dirty.push(Date.now() - t0));
      live.noteLinkStatus(status(true, t0));
      const stop = watchFeeds({ cfg, live, now: Date.now, pubsub });
      // A screen got its first board (link UP) before the watcher's first look; the link goes
      // down within that second. The first look must say so, or the screen shows UP for good.
      live.noteLinkStatus(status(false, t0 + 500));
      vi.advanceTimersByTime(1000);
      expect(dirty).toEqual([1000]);
      // Nothing moved: nothing published.
      vi.advanceTimersByTime(3000);
      expect(dirty).toEqual([1000]);
      live.noteLinkStatus(status(true, t0 + 4200));
      vi.advanceTimersByTime(1000);
      expect(dirty).toEqual([1000, 5000]);
      stop();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('tilesToday', () => {
  it('gives each KPI tile naming queues its figures over them as one, ratios over in-hours legs, which adding up the queue rows cannot give', () => {
    // Sales open (no schedule), support on the office schedule: closed on Sunday 6 December.
    const cfg = { tenants: [{ id: 'acme', timezone: NAIROBI }], schedules: [office], queues: [{ tenant: 'acme', queue: 'support', schedule: 'office' }] } as unknown as CallboardConfig;
    const live = new LiveStore({ zoneOf: () => NAIROBI, settingsOf: () => DEFAULT_QUEUE_SETTINGS, formulaOf: () => DEFAULT_QUEUE_SETTINGS.sl_formula, openAt: openAtFrom(cfg) });
    const evs = [
      ...queueCall({ call: 's1', queue: 'sales', at: '2026-12-06T07:00:00.000Z', waitS: 5, outcome: 'answered' }),
      ...queueCall({ call: 'p1', queue: 'support', at: '2026-12-06T07:10:00.000Z', waitS: 60, outcome: 'abandoned' }),
      ...queueCall({ call: 'p2', queue: 'support', at: '2026-12-06T07:20:00.000Z', waitS: 90, outcome: 'answered' }),
    ];
    const now = at('2026-12-06T08:00:00Z');
    for (const e of evs) live.apply(e, now);
    const kpi = (id: string, queues: string[], kind: Tile['kind'] = 'KPI') => ({ id, kind, queues, metric: 'service_level', x: 0, y: 0, w: 1, h: 1, thresholds: [] }) as unknown as Tile;
    const asked: string[][] = [];
    const snapshotOf = (queues: string[]) => (asked.push(queues), live.snapshot('acme', now, queues));
    const out = tilesToday(snapshotOf, [kpi('both', ['sales', 'support']), kpi('all', []), kpi('one', ['sales']), kpi('table', ['sales', 'support'], 'QUEUE_TABLE'), kpi('again', ['support', 'sales'])]);
    // KPI tiles of two or more queues only (one queue is its row; none is live.today), each set
    // asked for in one order so the shared snapshot cache serves a set once.
    expect(out.map((t) => t.tile_id)).toEqual(['both', 'again']);
    expect(asked).toEqual([['sales', 'support'], ['sales', 'support']]);
    // Three legs, two of them support's out of hours: the service level is sales' one leg, 100 %.
    expect(out[0]!.today).toMatchObject({ offered: 3, answered: 2, abandoned: 1, closed: 2, service_level: 1, abandon_rate: 0, asa: 5 });
    expect(out[1]!.today).toEqual(out[0]!.today);
    // The queue rows added up by their counts would say 1 of 3 (33 %): what the screen showed before.
    const rows = live.snapshot('acme', now, ['sales', 'support']).queues.map((q) => q.today);
    expect(rows.reduce((n, r) => n + r.answered_within_sl, 0) / rows.reduce((n, r) => n + r.offered, 0)).toBeCloseTo(1 / 3, 10);
  });
});

import { describe, expect, it } from 'vitest';
import { agentCounts, agentsFor, combineQueueMetrics, drillRequest, kpiValue, longestWaitS, pauseReasons, periodRange, queueRows, thresholdFor, tileTitle } from '../src/lib/board.ts';
import { agentStanding, feedView, liveFiguresUnknown } from '../src/lib/feeds.ts';
import type { PbxFeed } from '../src/lib/model.ts';
import { formatRatio, formatRatioBeside, formatSecondsBeside } from '../src/lib/format.ts';
import { levelOf } from '../src/lib/thresholds.ts';
import { agent, live, qm } from './fixtures.ts';

const tile = (metric: string, queues: string[] = []) => ({ metric, queues });

describe('KPI values', () => {
  const snapshot = live({
    today: qm({ offered: 30, answered: 20, service_level: 0.7, asa: 12 }),
    queues: [
      { queue: 'sales', waiting: 1, max_wait: 40, today: qm({ offered: 10, answered: 8, answered_within_sl: 6, short_abandoned: 0, waiting: 1, asa: 10, abandoned: 1 }) },
      { queue: 'support', waiting: 0, max_wait: null, today: qm({ offered: 20, answered: 12, answered_within_sl: 8, short_abandoned: 2, asa: 20, abandoned: 6 }) },
    ],
    agents: [agent('1', 'available'), agent('2', 'on_call'), agent('3', 'on_hold'), agent('4', 'paused', { queues: ['support'] }), agent('5', 'offline')],
  });

  it('reads tenant-wide KPIs from today when the tile names no queue', () => {
    expect(kpiValue(tile('service_level'), { live: snapshot, period: 'TODAY', periodRows: null })).toBe(0.7);
    expect(kpiValue(tile('offered'), { live: snapshot, period: 'TODAY', periodRows: null })).toBe(30);
  });

  it('combines several queues from their counts, never by averaging ratios', () => {
    const m = kpiValue(tile('service_level', ['sales', 'support']), { live: snapshot, period: 'TODAY', periodRows: null });
    // (6 + 8) / (30 − 2 short − 1 waiting)
    expect(m).toBeCloseTo(14 / 27, 10);
    const asa = kpiValue(tile('asa', ['sales', 'support']), { live: snapshot, period: 'TODAY', periodRows: null });
    expect(asa).toBeCloseTo((10 * 8 + 20 * 12) / 20, 10);
  });

  it('takes a tile over several queues from the API where it sent the tile\'s figures (ratios over in-hours legs), keeping waiting and the longest wait of the queues now', () => {
    // The API's row for the tile: every leg counted, but its ratios over the legs offered in
    // hours, which the queues' rows cannot give (support was closed all day: no ratio from it).
    const tilesToday = [{ tile_id: 'sl', today: qm({ offered: 30, answered: 20, answered_within_sl: 14, service_level: 6 / 9, abandon_rate: 1 / 9, asa: 10, waiting: 1 }) }];
    const input = { live: snapshot, period: 'TODAY' as const, periodRows: null, tilesToday };
    expect(kpiValue({ id: 'sl', ...tile('service_level', ['sales', 'support']) }, input)).toBe(6 / 9);
    expect(kpiValue({ id: 'sl', ...tile('abandon_rate', ['sales', 'support']) }, input)).toBe(1 / 9);
    expect(kpiValue({ id: 'sl', ...tile('offered', ['sales', 'support']) }, input)).toBe(30);
    expect(kpiValue({ id: 'sl', ...tile('waiting', ['sales', 'support']) }, input)).toBe(1);
    // A tile the API sent nothing for (a designer's unsaved tile) is added up from the queues.
    expect(kpiValue({ id: 'new', ...tile('service_level', ['sales', 'support']) }, input)).toBeCloseTo(14 / 27, 10);
  });

  it('keeps a zero denominator null when combining', () => {
    expect(combineQueueMetrics([qm(), qm()])!.service_level).toBeNull();
    expect(combineQueueMetrics([])).toBeNull();
  });

  it('counts agents by state, within the tile queues', () => {
    // Every METRICS.md state on its own; staffed = logged in and not paused.
    expect(agentCounts(snapshot.agents)).toEqual({
      agents_available: 1, agents_ringing: 0, agents_on_call: 1, agents_on_hold: 1, agents_wrap_up: 0, agents_paused: 1, agents_offline: 1, agents_logged_in: 4, agents_staffed: 3,
    });
    expect(kpiValue(tile('agents_paused', ['sales']), { live: snapshot, period: 'TODAY', periodRows: null })).toBe(0);
    expect(kpiValue(tile('agents_on_call'), { live: snapshot, period: 'TODAY', periodRows: null })).toBe(1);
  });

  it('takes period KPIs from the period metrics, live-only KPIs from the live state', () => {
    const periodRows = [
      { key: 'sales', queue_metrics: qm({ offered: 500, service_level: 0.91 }) },
      { key: 'support', queue_metrics: qm({ offered: 700 }) },
    ];
    expect(kpiValue(tile('offered'), { live: snapshot, period: 'THIS_WEEK', periodRows })).toBe(1200);
    expect(kpiValue(tile('service_level', ['sales']), { live: snapshot, period: 'THIS_WEEK', periodRows })).toBe(0.91);
    expect(kpiValue(tile('waiting'), { live: snapshot, period: 'THIS_WEEK', periodRows })).toBe(0);
    expect(kpiValue(tile('waiting', ['sales']), { live: snapshot, period: 'THIS_WEEK', periodRows })).toBe(1);
  });

  it('ticks the longest wait from the waiting calls', () => {
    const s = live({
      server_time: '2026-03-29T07:15:00.000Z',
      waiting_calls: [
        { call_id: 'a', queue: 'sales', leg_id: 'l1', caller_number: null, position: 1, wait_start: '2026-03-29T07:14:00.000Z', pbx_id: null },
        { call_id: 'b', queue: 'support', leg_id: 'l2', caller_number: null, position: 1, wait_start: '2026-03-29T07:10:00.000Z', pbx_id: null },
      ],
    });
    const at = Date.parse('2026-03-29T07:15:10.000Z');
    expect(longestWaitS(s, [], 0, at)).toBe(310);
    expect(longestWaitS(s, ['sales'], 0, at)).toBe(70);
    expect(longestWaitS(s, ['nobody'], 0, at)).toBeNull();
    expect(kpiValue(tile('max_wait', ['sales']), { live: s, period: 'TODAY', periodRows: null, offsetMs: 5_000, nowMs: at })).toBe(75);
  });

  it('ages a snapshot max_wait when the waiting calls are not listed', () => {
    const s = live({ queues: [{ queue: 'sales', waiting: 2, max_wait: 30, today: qm() }] });
    expect(longestWaitS(s, [], 0, Date.parse(s.server_time) + 4_000)).toBe(34);
  });
});

describe('queue rows', () => {
  it('one sorted row per queue: waiting from live, metrics from the period', () => {
    const s = live({ queues: [{ queue: 'support', waiting: 3, max_wait: 10, today: qm({ offered: 5 }) }, { queue: 'sales', waiting: 0, max_wait: null, today: qm({ offered: 2 }) }] });
    const today = queueRows(tile(''), { live: s, period: 'TODAY', periodRows: null });
    expect(today.map((r) => [r.queue, r.waiting, r.offered])).toEqual([
      ['sales', 0, 2],
      ['support', 3, 5],
    ]);
    const month = queueRows(tile('', ['support']), { live: s, period: 'THIS_MONTH', periodRows: [{ key: 'support', queue_metrics: qm({ offered: 321 }) }] });
    expect(month).toHaveLength(1);
    expect(month[0]).toMatchObject({ queue: 'support', waiting: 3, offered: 321 });
  });
});

describe('queue rows by configured name', () => {
  it('lists every queue of the board, by its name, before any call arrived', () => {
    const boardQueues = [
      { queue: '6400', name: 'Sales', sl_threshold_s: 20, interval_sl_min_legs: 5, colour: null, open: true, opens_at: null, closes_at: null },
      { queue: '6401', name: 'Support', sl_threshold_s: 20, interval_sl_min_legs: 5, colour: null, open: false, opens_at: '2026-03-30T06:00:00.000Z', closes_at: null },
    ];
    const rows = queueRows(tile(''), { live: live(), period: 'TODAY', periodRows: null, boardQueues });
    expect(rows.map((r) => [r.queue, r.name, r.waiting, r.offered, r.open, r.opens_at])).toEqual([
      ['6400', 'Sales', 0, null, true, null],
      ['6401', 'Support', 0, null, false, '2026-03-30T06:00:00.000Z'],
    ]);
    expect(tileTitle({ title: null, metric: 'asa', queues: ['6401'] }, boardQueues)).toBe('ASA · Support');
  });
});

describe('pause reasons', () => {
  it('counts paused agents per reason, most first', () => {
    const agents = [agent('1', 'paused', { reason: 'Lunch' }), agent('2', 'paused', { reason: 'Training' }), agent('3', 'paused', { reason: 'Lunch' }), agent('4', 'paused'), agent('5', 'available', { reason: 'Lunch' })];
    expect(pauseReasons(agents)).toEqual([
      { reason: 'Lunch', n: 2 },
      { reason: 'no reason', n: 1 },
      { reason: 'Training', n: 1 },
    ]);
  });
});

describe('feeds', () => {
  const feed = (over: Partial<PbxFeed>): PbxFeed => ({ pbx_id: 'p1', link: 'UP', link_since: null, link_detail: null, data_until: null, catching_up: false, clock_offset_s: null, last_gap: null, ...over });
  const now = Date.parse('2026-03-29T18:46:00.000Z');

  it('says how far a replaying feed has got, the slowest one when several are', () => {
    const v = feedView([feed({ catching_up: true, data_until: '2026-03-29T09:40:00.000Z' }), feed({ pbx_id: 'p2', catching_up: true, data_until: '2026-03-29T12:40:00.000Z' }), feed({ pbx_id: 'p3' })], now);
    expect(v.catchingUp).toEqual({ pbx_id: 'p1', data_until: '2026-03-29T09:40:00.000Z' });
    expect(agentStanding({ pbx_id: 'p2' }, v)).toBe('behind');
    expect(agentStanding({ pbx_id: 'p3' }, v)).toBe('now');
    expect(liveFiguresUnknown(v)).toBe(false);
  });

  it("makes a down PBX's agents and the live figures unknown", () => {
    const v = feedView([feed({ link: 'DOWN', link_since: '2026-03-29T18:40:00.000Z' }), feed({ pbx_id: 'p2' })], now);
    expect(v.down.map((f) => f.pbx_id)).toEqual(['p1']);
    expect(agentStanding({ pbx_id: 'p1' }, v)).toBe('unknown');
    expect(agentStanding({ pbx_id: 'p2' }, v)).toBe('now');
    expect(agentStanding({ pbx_id: null }, v)).toBe('now');
    expect(liveFiguresUnknown(v)).toBe(true);
  });

  it('mentions a gap for a quarter of an hour after it ended', () => {
    const gap = { from: '2026-03-29T18:30:00.000Z', to: '2026-03-29T18:35:00.000Z', reason: 'ECONNRESET' };
    expect(feedView([feed({ last_gap: gap })], now).recentGaps).toEqual([{ pbx_id: 'p1', ...gap }]);
    expect(feedView([feed({ last_gap: gap })], Date.parse('2026-03-29T18:51:00.000Z')).recentGaps).toEqual([]);
  });
});

describe('agents on a grid', () => {
  it('busiest first, then by name; offline last', () => {
    const list = agentsFor([agent('1', 'offline', { agent_name: 'Ann' }), agent('2', 'available', { agent_name: 'Zed' }), agent('3', 'on_call', { agent_name: 'Bob' }), agent('4', 'available', { agent_name: 'Cy' })], []);
    expect(list.map((a) => a.agent_id)).toEqual(['3', '4', '2', '1']);
  });
});

describe('thresholds from the board definition', () => {
  const t = { thresholds: [{ metric: 'service_level', direction: 'BELOW' as const, warn: 0.8, critical: 0.6 }] };

  it('maps the API threshold (critical) to the tile level (alert)', () => {
    const th = thresholdFor(t, 'service_level');
    expect(levelOf(0.5, th).label).toBe('ALERT');
    expect(levelOf(0.7, th).label).toBe('WARN');
    expect(levelOf(0.95, th).label).toBe('OK');
    expect(thresholdFor(t, 'asa')).toBeNull();
    expect(levelOf(0.5, null).level).toBe('none');
  });

  it('a threshold with only a warn level never alerts', () => {
    expect(levelOf(0, { direction: 'below', warn: 0.8 }).level).toBe('warn');
  });
});

describe('periods for drill-down', () => {
  // 2026-03-29 is a Sunday, and the night Europe/Berlin moves to summer time.
  const now = Date.parse('2026-03-29T10:00:00.000Z');

  it('today is the local day, 23 hours long on a spring-forward day', () => {
    expect(periodRange('TODAY', now, 'Europe/Berlin')).toEqual({ from: '2026-03-28T23:00:00.000Z', to: '2026-03-29T22:00:00.000Z' });
  });

  it('this week starts on the tenant week start', () => {
    expect(periodRange('THIS_WEEK', now, 'Africa/Nairobi', 'MONDAY')).toEqual({ from: '2026-03-22T21:00:00.000Z', to: '2026-03-29T21:00:00.000Z' });
    expect(periodRange('THIS_WEEK', now, 'Africa/Nairobi', 'SUNDAY').from).toBe('2026-03-28T21:00:00.000Z');
    expect(periodRange('THIS_WEEK', Date.parse('2026-03-25T10:00:00.000Z'), 'Africa/Nairobi', 'SUNDAY').from).toBe('2026-03-21T21:00:00.000Z');
  });

  it('this month is the calendar month, never 30 days', () => {
    expect(periodRange('THIS_MONTH', now, 'Africa/Nairobi')).toEqual({ from: '2026-02-28T21:00:00.000Z', to: '2026-03-31T21:00:00.000Z' });
  });

  it('a drill-down asks for the calls behind the number', () => {
    const range = { from: 'a', to: 'b' };
    expect(drillRequest('x', 'abandon_rate', ['sales'], range).filter).toEqual({ queues: ['sales'], outcome: ['ABANDONED'], from: 'a', to: 'b' });
    expect(drillRequest('x', 'offered', [], range).filter).toEqual({ from: 'a', to: 'b' });
    expect(drillRequest('x', 'answered', [], range).filter.outcome).toEqual(['ANSWERED']);
  });
});

describe('locale formatting', () => {
  it('uses the tenant locale for percentages', () => {
    expect(formatRatio(0.875, 'de-DE')).toBe('87,5\u00a0%');
    expect(formatRatio(0.875, 'en-KE')).toBe('87.5%');
  });
  it('never rounds a ratio onto the limit it is shown beside', () => {
    expect(formatRatioBeside(0.5996, 0.6, 'en-KE')).toBe('59.96%');
    expect(formatRatioBeside(0.59996, 0.6, 'en-KE')).toBe('59.996%');
    expect(formatRatioBeside(0.1004, 0.1, 'de-DE')).toBe('10,04\u00a0%');
    expect(formatRatioBeside(0.55, 0.6, 'en-KE')).toBe('55.0%');
    expect(formatRatioBeside(0.6, 0.6, 'en-KE')).toBe('60.0%');
    expect(formatRatioBeside(null, 0.6, 'en-KE')).toBe('—');
    // beside two limits (an alert's level and where it clears): apart from both
    expect(formatRatioBeside(0.6299, [0.6, 0.63], 'en-KE')).toBe('62.99%');
    expect(formatRatioBeside(0.6, [0.6, 0.63], 'en-KE')).toBe('60.0%');
  });
  it('never floors seconds onto the limit they are shown beside', () => {
    expect(formatSecondsBeside(19.5, [20, 19])).toBe('0:19.5');
    expect(formatSecondsBeside(19.5, [20])).toBe('0:19');
    expect(formatSecondsBeside(19, [20, 19])).toBe('0:19');
    expect(formatSecondsBeside(79.96, [80])).toBe('1:19');
    expect(formatSecondsBeside(80.04, [80, 76])).toBe('1:20.0');
    expect(formatSecondsBeside(null, [20])).toBe('—');
  });
});

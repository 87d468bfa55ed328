import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import AgentGrid from '../src/tiles/AgentGrid.svelte';
import FeedBanner from '../src/tiles/FeedBanner.svelte';
import IntradayChart from '../src/tiles/IntradayChart.svelte';
import KpiTile from '../src/tiles/KpiTile.svelte';
import PeriodSwitch from '../src/tiles/PeriodSwitch.svelte';
import QueueTable from '../src/tiles/QueueTable.svelte';
import StaleBanner from '../src/tiles/StaleBanner.svelte';
import { agent } from './fixtures.ts';

const SL = { direction: 'below' as const, warn: 0.8, alert: 0.6 };

function kpi(props: Record<string, unknown>) {
  const { container } = render(KpiTile, { props: { locale: 'en-GB', ...props } as never });
  const tile = container.querySelector('[data-testid="kpi"]') as HTMLElement;
  return { tile, value: within(tile).getByTestId('value').textContent!.trim() };
}

describe('KpiTile', () => {
  it('formats a ratio as a percentage with one decimal', () => {
    expect(kpi({ metric: 'service_level', value: 0.8734 }).value).toBe('87.3%');
  });

  it('shows a null ratio (zero denominator) as "—", never 0 % or NaN', () => {
    const { tile, value } = kpi({ metric: 'service_level', value: null, threshold: SL });
    expect(value).toBe('—');
    expect(tile.dataset.level).toBe('none');
    expect(within(tile).queryByTestId('level')).toBeNull();
  });

  it('formats seconds as m:ss and counts in the locale', () => {
    expect(kpi({ metric: 'asa', value: 83.4 }).value).toBe('1:23');
    expect(kpi({ metric: 'offered', value: 12345, locale: 'de-DE' }).value).toBe('12.345');
    expect(kpi({ metric: 'offered', value: 12345, locale: 'en-US' }).value).toBe('12,345');
  });

  it.each([
    [0.85, 'ok', 'OK', '●'],
    [0.8, 'ok', 'OK', '●'],
    [0.79, 'warn', 'WARN', '▲'],
    [0.6, 'warn', 'WARN', '▲'],
    [0.59, 'alert', 'ALERT', '■'],
  ])('service level %f against 80 %% / 60 %% is %s, shown with the word and the shape', (v, level, label, shape) => {
    const { tile } = kpi({ metric: 'service_level', value: v, threshold: SL });
    expect(tile.dataset.level).toBe(level);
    expect(tile.classList.contains(`level-${level}`)).toBe(true);
    const badge = within(tile).getByTestId('level').textContent!;
    expect(badge).toContain(label);
    expect(badge).toContain(shape);
  });

  it('reads "above" thresholds the other way round (longest wait)', () => {
    const t = { direction: 'above' as const, warn: 30, alert: 60 };
    expect(kpi({ metric: 'max_wait', value: 12, threshold: t }).tile.dataset.level).toBe('ok');
    expect(kpi({ metric: 'max_wait', value: 45, threshold: t }).tile.dataset.level).toBe('warn');
    expect(kpi({ metric: 'max_wait', value: 61, threshold: t }).tile.dataset.level).toBe('alert');
  });

  it('says what it counts: the METRICS.md name and definition', () => {
    const { tile } = kpi({ metric: 'abandon_rate', value: 0.05 });
    expect(tile.getAttribute('title')).toMatch(/^abandon_rate: \(abandoned − short_abandoned\) \/ \(offered − short_abandoned − waiting\)/);
    const desc = document.getElementById(tile.getAttribute('aria-describedby')!)!;
    expect(desc.textContent).toContain('abandon_rate');
    expect(within(tile).getByText('abandon_rate').tagName).toBe('CODE');
  });

  it('uses the board title when given, the metric label otherwise', () => {
    expect(within(kpi({ metric: 'waiting', value: 3 }).tile).getByRole('heading').textContent).toContain('Waiting now');
    expect(within(kpi({ metric: 'waiting', value: 3, title: 'In queue' }).tile).getByRole('heading').textContent).toContain('In queue');
  });

  it('is a keyboard-reachable button when it can drill down', async () => {
    const ondrill = vi.fn();
    const { tile } = kpi({ metric: 'answered', value: 7, ondrill });
    const button = within(tile).getByRole('button');
    expect(button.getAttribute('aria-label')).toMatch(/Answered: 7\. Show the calls/);
    await fireEvent.click(button);
    expect(ondrill).toHaveBeenCalledOnce();
  });
});

describe('QueueTable', () => {
  const row = {
    queue: 'sales',
    name: 'Sales floor',
    waiting: 2,
    max_wait: 75,
    offered: 120,
    answered: 100,
    abandoned: 10,
    service_level: 0.55,
    asa: 18,
    abandon_rate: null,
    open: true,
    opens_at: null,
  };

  it('shows one row per queue with formatted cells and "—" for null ratios', () => {
    const { container } = render(QueueTable, { props: { rows: [row, { ...row, queue: 'support', service_level: 0.9 }], locale: 'en' } });
    const tr = container.querySelector('tr[data-queue="sales"]')!;
    const cell = (c: string) => tr.querySelector(`[data-col="${c}"] .v`)!.textContent;
    expect(cell('waiting')).toBe('2');
    expect(cell('max_wait')).toBe('1:15');
    expect(cell('service_level')).toBe('55.0%');
    expect(cell('asa')).toBe('0:18');
    expect(cell('abandon_rate')).toBe('—');
    expect(container.querySelectorAll('tbody tr')).toHaveLength(2);
  });

  it('marks cells past a threshold with a shape and a label, not colour alone', () => {
    const { container } = render(QueueTable, { props: { rows: [row], thresholds: { service_level: SL }, locale: 'en' } });
    const td = container.querySelector('[data-col="service_level"]') as HTMLElement;
    expect(td.dataset.level).toBe('alert');
    expect(td.querySelector('.mark')!.textContent).toContain('■');
    expect(td.querySelector('.mark')!.getAttribute('aria-label')).toBe('ALERT');
  });

  it('column headers carry the METRICS.md definitions', () => {
    render(QueueTable, { props: { rows: [row] } });
    expect(screen.getByText('SL').getAttribute('title')).toMatch(/^service_level: answered_within_sl/);
  });

  it('opens a queue drill-down from the row', async () => {
    const ondrill = vi.fn();
    render(QueueTable, { props: { rows: [row], ondrill } });
    await fireEvent.click(screen.getByRole('button', { name: /calls of queue Sales floor/ }));
    expect(ondrill).toHaveBeenCalledWith('sales');
  });
});

describe('AgentGrid', () => {
  it('shows name, state, pause reason and time in state ticking from the server clock', async () => {
    const serverNow = Date.parse('2026-03-29T07:15:00.000Z');
    const agents = [
      agent('1001', 'on_call', { state_start: '2026-03-29T07:13:30.000Z', agent_name: 'Amina' }),
      agent('1002', 'paused', { reason: 'Lunch', state_start: '2026-03-29T06:15:00.000Z', agent_name: 'Brian' }),
    ];
    // Client clock 10 s behind the server.
    const { container, rerender } = render(AgentGrid, { props: { agents, offsetMs: 10_000, now: serverNow - 10_000 } });
    const card = (id: string) => container.querySelector(`[data-agent="${id}"]`) as HTMLElement;
    expect(card('1001').textContent).toContain('Amina');
    expect(card('1001').textContent).toContain('On call');
    expect(within(card('1001')).getByTestId('time-in-state').textContent).toBe('1:30');
    expect(card('1002').textContent).toContain('Lunch');
    expect(within(card('1002')).getByTestId('time-in-state').textContent).toBe('1:00:00');
    await rerender({ agents, offsetMs: 10_000, now: serverNow - 10_000 + 5_000 });
    expect(within(card('1001')).getByTestId('time-in-state').textContent).toBe('1:35');
  });

  it('counts every state, logged in and staffed, and paused agents by reason', () => {
    const agents = [
      agent('1', 'available'), agent('2', 'on_call'), agent('3', 'on_hold'), agent('4', 'paused', { reason: 'Break' }), agent('5', 'offline'),
      agent('6', 'ringing'), agent('7', 'wrap_up'), agent('8', 'paused', { reason: 'Break' }),
    ];
    const { container } = render(AgentGrid, { props: { agents, offsetMs: 0, now: 0 } });
    const count = (m: string) => container.querySelector(`[data-testid="agent-counts"] [data-metric="${m}"] [data-testid="value"]`)!.textContent;
    const metrics = ['agents_available', 'agents_ringing', 'agents_on_call', 'agents_on_hold', 'agents_wrap_up', 'agents_paused', 'agents_offline', 'agents_logged_in', 'agents_staffed'];
    expect(metrics.map(count)).toEqual(['1', '1', '1', '1', '1', '2', '1', '7', '5']);
    expect(screen.getByTestId('pause-reasons').textContent).toContain('2 Break');
  });

  it('shows handled today per agent', () => {
    render(AgentGrid, { props: { agents: [agent('1', 'available', { handled_today: 12 })], offsetMs: 0, now: 0 } });
    expect(screen.getByTestId('handled').textContent).toBe('12 handled');
  });

  it("shows a down PBX's agents as unknown and a replaying PBX's agents without a time", () => {
    const serverNow = Date.parse('2026-03-29T07:15:00.000Z');
    const agents = [agent('1', 'on_call', { pbx_id: 'down' }), agent('2', 'available', { pbx_id: 'behind' }), agent('3', 'available', { pbx_id: 'ok' })];
    const { container } = render(AgentGrid, { props: { agents, offsetMs: 0, now: serverNow, feeds: { unknown: new Set(['down']), behind: new Set(['behind']) } } });
    const card = (id: string) => container.querySelector(`[data-agent="${id}"]`) as HTMLElement;
    expect(card('1').dataset.standing).toBe('unknown');
    expect(card('1').textContent).toContain('Unknown');
    expect(card('1').textContent).not.toContain('On call');
    expect(within(card('2')).getByTestId('time-in-state').textContent).toBe('—');
    expect(within(card('3')).getByTestId('time-in-state').textContent).toBe('15:00');
  });

  it('shows no time for an agent never seen changing state (no "490,000 hours")', () => {
    const { container } = render(AgentGrid, { props: { agents: [agent('1', 'offline', { state_start: '1970-01-01T00:00:00.000Z' })], offsetMs: 0, now: Date.now() } });
    expect(container.querySelector('[data-testid="time-in-state"]')!.textContent).toBe('—');
  });

  it('says so when nobody is logged in', () => {
    render(AgentGrid, { props: { agents: [], offsetMs: 0, now: 0 } });
    expect(screen.getByText('No agents logged in')).toBeTruthy();
  });
});

describe('IntradayChart', () => {
  const point = (hhmm: string, offered: number, sl: number | null, business_hours: 'OPEN' | 'CLOSED' | 'PARTLY_OPEN' | null = 'OPEN') => ({
    start: `2026-03-29T${hhmm}:00.000Z`,
    local_time: hhmm,
    business_hours,
    queue_metrics: { offered, answered: offered, service_level: sl },
  });

  it('draws a bar per interval and breaks the SL line where SL is null', () => {
    const points = [point('09:00', 4, 0.9), point('09:15', 0, null), point('09:30', 8, 0.5), point('09:45', 2, 0.75)];
    const { container } = render(IntradayChart, { props: { points, slTarget: 0.8 } });
    expect(container.querySelectorAll('rect.bar')).toHaveLength(4);
    const lines = container.querySelectorAll('polyline.sl');
    expect(lines).toHaveLength(2);
    expect(lines[1]!.getAttribute('points')!.split(' ')).toHaveLength(2);
    expect(container.querySelector('line.target')).not.toBeNull();
    expect(container.textContent).toContain('offered 14');
    expect(container.querySelector('rect.bar title')!.textContent).toBe('09:00: offered 4, service_level 90.0%');
  });

  it('greys the SL of intervals with fewer legs than the queue setting, and takes the legend total from the live state', () => {
    const points = [point('09:00', 6, 0.9), point('09:15', 1, 0), point('09:30', 7, 0.5)];
    const { container } = render(IntradayChart, { props: { points, slTarget: 0.8, minLegs: 5, offeredTotal: 15 } });
    // 09:15 (one call, SL 0 %) neither drawn in the line nor joined to it.
    expect(container.querySelectorAll('polyline.sl')).toHaveLength(2);
    expect(container.querySelectorAll('line.thin')).toHaveLength(1);
    expect(screen.getByTestId('offered-total').textContent).toBe('15');
    expect(screen.getByTestId('intraday-key').textContent).toContain('target 80.0%');
  });
});

describe('PeriodSwitch and StaleBanner', () => {
  it('marks the selected period and reports a change', async () => {
    const onchange = vi.fn();
    render(PeriodSwitch, { props: { value: 'TODAY', onchange } });
    expect(screen.getByRole('button', { name: 'Today' }).getAttribute('aria-pressed')).toBe('true');
    await fireEvent.click(screen.getByRole('button', { name: 'This month' }));
    expect(onchange).toHaveBeenCalledWith('THIS_MONTH');
  });

  it('shows "stale — last update N s ago" only when stale', () => {
    const { container, rerender } = render(StaleBanner, { props: { seconds: null, retrying: false } });
    expect(container.querySelector('[data-testid="stale"]')).toBeNull();
    rerender({ seconds: 12, retrying: true });
    const banner = screen.getByRole('alert');
    expect(banner.textContent).toMatch(/Stale — last update 12 s ago/);
    expect(banner.textContent).toContain('reconnecting');
  });
});

describe('AgentGrid paging (a TV cannot scroll)', () => {
  it('shows every agent when paging is off', () => {
    const agents = Array.from({ length: 30 }, (_, i) => agent(String(i), 'available'));
    const { container } = render(AgentGrid, { props: { agents, offsetMs: 0, now: 0 } });
    expect(container.querySelectorAll('[data-agent]')).toHaveLength(30);
    expect(container.querySelector('[data-testid="agent-page"]')).toBeNull();
  });
});

describe('unknown figures and the feed strip', () => {
  it('a KPI whose value is unknown shows "?" and says why, never the stale number or a level', () => {
    render(KpiTile, { props: { metric: 'waiting', value: 4, threshold: { direction: 'above', warn: 2, alert: 5 }, unknown: 'PBX acme-ami link down' } });
    expect(screen.getByTestId('value').textContent).toBe('?');
    expect(screen.getByTestId('unknown').textContent).toBe('UNKNOWN');
    expect(screen.queryByTestId('level')).toBeNull();
  });

  it('the queue table shows waiting and longest wait as "?" when unknown, the period figures as they are', () => {
    const row = { queue: 'sales', name: 'Sales', waiting: 2, max_wait: 75, offered: 120, answered: 100, abandoned: 10, service_level: 0.55, asa: 18, abandon_rate: null, open: true, opens_at: null };
    const { container } = render(QueueTable, { props: { rows: [row], liveUnknown: 'PBX p1 link down' } });
    const cell = (c: string) => container.querySelector(`[data-col="${c}"] .v`)!.textContent;
    expect([cell('waiting'), cell('max_wait'), cell('offered')]).toEqual(['?', '?', '120']);
  });

  it('says "catching up" with the replayed time, and which PBX is down since when', () => {
    const loc = { locale: 'en-GB', timezone: 'UTC' };
    const down = { pbx_id: 'acme-ami', link: 'DOWN' as const, link_since: '2026-03-29T21:40:05.000Z', link_detail: 'ECONNREFUSED', data_until: null, catching_up: false, clock_offset_s: null, last_gap: null };
    const view = { catchingUp: { pbx_id: 'p2', data_until: '2026-03-29T12:40:00.000Z' }, down: [down], recentGaps: [], unknown: new Set(['acme-ami']), behind: new Set(['p2']), clockOff: [] };
    render(FeedBanner, { props: { view, nowMs: Date.parse('2026-03-29T21:46:00.000Z'), loc } });
    expect(screen.getByTestId('catching-up').textContent!.replace(/\s+/g, ' ')).toContain('Catching up: 12:40 of 21:46');
    expect(screen.getByTestId('link-down').textContent!.replace(/\s+/g, ' ')).toContain('PBX acme-ami link down since 21:40:05');
  });
});

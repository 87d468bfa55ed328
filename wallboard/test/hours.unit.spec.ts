// Business hours and comparisons on the board: the words, the arrows and the shading.
import { render, screen, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { closedLabel, formatWhen, kpiChange, tileComparison } from '../src/lib/hours.ts';
import IntradayChart from '../src/tiles/IntradayChart.svelte';
import KpiTile from '../src/tiles/KpiTile.svelte';
import QueueTable from '../src/tiles/QueueTable.svelte';

const NAIROBI = { locale: 'en-GB', timezone: 'Africa/Nairobi' };
// Thursday 2026-12-03 13:30 in Nairobi: lunch break.
const LUNCH = Date.parse('2026-12-03T10:30:00Z');

describe('closedLabel', () => {
  it('says nothing for an open queue, and when a closed one opens, in the tenant zone', () => {
    expect(closedLabel({ open: true, opens_at: null }, LUNCH, NAIROBI)).toBe('');
    expect(closedLabel({ open: false, opens_at: '2026-12-03T11:00:00.000Z' }, LUNCH, NAIROBI)).toBe('Closed · opens 14:00');
    expect(closedLabel({ open: false, opens_at: null }, LUNCH, NAIROBI)).toBe('Closed');
    expect(closedLabel(undefined, LUNCH, NAIROBI)).toBe('');
  });

  it("names the weekday when the opening is not today's (the local day, not UTC's)", () => {
    // Friday 22:30 local is still Friday 19:30 UTC; Monday 08:00 local is Monday 05:00 UTC.
    expect(formatWhen('2026-12-07T05:00:00.000Z', Date.parse('2026-12-04T19:30:00Z'), NAIROBI)).toBe('Mon 08:00');
    // 00:30 local on Friday is Thursday 21:30 UTC: an opening at 08:00 local is the same local day.
    expect(formatWhen('2026-12-04T05:00:00.000Z', Date.parse('2026-12-03T21:30:00Z'), NAIROBI)).toBe('08:00');
  });
});

describe('kpiChange', () => {
  it('gives ratios in percentage points, durations as m:ss, counts as numbers, with the direction', () => {
    expect(kpiChange('service_level', 0.82, 0.78, 'PREVIOUS', 'en')).toEqual({ arrow: '▲', text: '+4.0 pt', label: '+4.0 pt against yesterday (78.0%)' });
    expect(kpiChange('asa', 12, 19, 'SAME_DAY_LAST_WEEK', 'en')).toEqual({ arrow: '▼', text: '−0:07', label: '−0:07 against same day last week (0:19)' });
    expect(kpiChange('offered', 40, 40, 'PREVIOUS', 'en')!.arrow).toBe('=');
    expect(kpiChange('offered', 1234, 34, 'PREVIOUS', 'en')!.text).toBe('+1,200');
  });

  it('is null when either side is unknown (a null ratio has nothing to compare)', () => {
    expect(kpiChange('service_level', null, 0.8, 'PREVIOUS', 'en')).toBeNull();
    expect(kpiChange('service_level', 0.8, null, 'PREVIOUS', 'en')).toBeNull();
    expect(kpiChange('service_level', 0.8, undefined, 'PREVIOUS', 'en')).toBeNull();
  });

  it("finds a tile's comparison in the board update", () => {
    const c = { tile_id: 'sl', compare: 'PREVIOUS' as const, value: 0.7, period: { from: '2026-12-02', to: '2026-12-02' } };
    expect(tileComparison('sl', [c])).toBe(c);
    expect(tileComparison('other', [c])).toBeNull();
    expect(tileComparison('sl', undefined)).toBeNull();
  });
});

describe('KpiTile with a comparison', () => {
  it('shows the arrow and the change next to the value, leaving the threshold level to the live value', () => {
    const change = kpiChange('service_level', 0.55, 0.7, 'PREVIOUS', 'en-GB');
    const { container } = render(KpiTile, { props: { metric: 'service_level', value: 0.55, threshold: { direction: 'below', warn: 0.8, alert: 0.6 }, change, locale: 'en-GB' } });
    const tile = container.querySelector('[data-testid="kpi"]') as HTMLElement;
    const ch = within(tile).getByTestId('kpi-change');
    expect(ch.dataset.arrow).toBe('▼');
    expect(ch.textContent!.trim()).toBe('▼ −15.0 pt');
    expect(ch.getAttribute('title')).toBe('−15.0 pt against yesterday (70.0%)');
    expect(tile.dataset.level).toBe('alert');
  });

  it('shows no change while the value is unknown', () => {
    render(KpiTile, { props: { metric: 'max_wait', value: 4, unknown: 'PBX p1 link down', change: kpiChange('max_wait', 4, 2, 'PREVIOUS', 'en') } });
    expect(screen.queryByTestId('kpi-change')).toBeNull();
  });
});

describe('QueueTable business hours', () => {
  const row = { queue: 'sales', name: 'Sales', waiting: 0, max_wait: null, offered: 12, answered: 11, abandoned: 1, service_level: 0.9, asa: 8, abandon_rate: 0.08, open: true, opens_at: null };

  it('marks a closed queue and says when it opens; an open one carries no word', () => {
    const rows = [row, { ...row, queue: 'support', name: 'Support', open: false, opens_at: '2026-12-03T11:00:00.000Z' }];
    const { container } = render(QueueTable, { props: { rows, locale: 'en-GB', timezone: 'Africa/Nairobi', nowMs: LUNCH } });
    const closed = container.querySelector('tr[data-queue="support"]') as HTMLElement;
    expect(closed.dataset.open).toBe('false');
    expect(within(closed).getByTestId('queue-closed').textContent).toBe('Closed · opens 14:00');
    expect(within(container.querySelector('tr[data-queue="sales"]') as HTMLElement).queryByTestId('queue-closed')).toBeNull();
  });
});

describe('IntradayChart closed hours', () => {
  const point = (hhmm: string, business_hours: 'OPEN' | 'CLOSED' | 'PARTLY_OPEN' | null) => ({
    start: `2026-12-03T${hhmm}:00.000Z`,
    local_time: hhmm,
    business_hours,
    queue_metrics: { offered: 1, answered: 1, service_level: 1 },
  });

  it('shades closed intervals, lighter where the queue opens or closes inside one, and keys them', () => {
    const points = [point('07:00', 'CLOSED'), point('07:45', 'PARTLY_OPEN'), point('08:00', 'OPEN'), point('13:00', 'CLOSED'), point('14:00', null)];
    const { container } = render(IntradayChart, { props: { points } });
    const shaded = [...container.querySelectorAll('rect.closed')];
    expect(shaded.map((r) => [r.getAttribute('x'), r.classList.contains('partly')])).toEqual([
      ['0', false],
      [String(960 / 5), true],
      [String((3 * 960) / 5), false],
    ]);
    expect(container.querySelector('[data-testid="intraday-key"]')!.textContent).toContain('closed');
  });

  it('shades nothing and has no key when every interval is open', () => {
    const { container } = render(IntradayChart, { props: { points: [point('08:00', 'OPEN')] } });
    expect(container.querySelectorAll('rect.closed')).toHaveLength(0);
    expect(container.querySelector('[data-testid="intraday-key"]')!.textContent).not.toContain('closed');
  });
});

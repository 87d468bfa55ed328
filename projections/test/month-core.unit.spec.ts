// The per-agent month rollup (migration 0016) holds a UTC month's core, days 2 to last − 1, on
// the claim that every local month of a real zone covers that core whole: its edges lie within a
// day of the UTC month's. If a zone broke it, the month by agent would lose the core's legs
// (read/agent-rollup.ts only uses a core inside the period's whole UTC days).
import { describe, expect, it } from 'vitest';
import { DAY_MS, inMonthCore, monthStartDay, nextMonthStartDay } from '../src/metrics/index.ts';
import { resolvePeriod } from '../src/periods.ts';

const ZONES = ['Pacific/Kiritimati', 'Pacific/Chatham', 'Asia/Kathmandu', 'Asia/Kolkata', 'Africa/Nairobi', 'Europe/Berlin', 'UTC', 'America/St_Johns', 'America/New_York', 'Pacific/Honolulu', 'Pacific/Pago_Pago'];

describe('UTC month cores', () => {
  it('are days 2 to last − 1, in leap and short months', () => {
    const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`) / DAY_MS;
    expect([day('2024-02-01'), day('2024-02-02'), day('2024-02-28'), day('2024-02-29')].map(inMonthCore)).toEqual([false, true, true, false]);
    expect(monthStartDay(day('2025-12-31'))).toBe(day('2025-12-01'));
    expect(nextMonthStartDay(day('2025-12-31'))).toBe(day('2026-01-01'));
  });

  it('lie inside the whole UTC days of every local month, in zones from UTC−11 to UTC+14', () => {
    for (const timezone of ZONES) {
      for (let m = 0; m < 24; m++) {
        const date = new Date(Date.UTC(2025, m, 15)).toISOString().slice(0, 10);
        const p = resolvePeriod({ kind: 'MONTH', date }, { timezone, week_start: 'monday' }, new Date('2030-01-01T00:00:00Z'));
        const firstDay = Math.ceil(p.start.getTime() / DAY_MS);
        const endDay = Math.floor(p.end.getTime() / DAY_MS);
        const month = monthStartDay(Date.parse(`${date}T00:00:00Z`) / DAY_MS);
        // The core [month + 1, next − 1) within [firstDay, endDay).
        expect(month + 1 >= firstDay && nextMonthStartDay(month) - 1 <= endDay, `${timezone} ${date}`).toBe(true);
      }
    }
  });
});

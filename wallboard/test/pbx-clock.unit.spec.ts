// The board names a PBX whose clock is off by more than 2 s (lib/feeds.ts clockOff, FeedBanner).
import { render, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { clockOffText, feedView } from '../src/lib/feeds.ts';
import type { PbxFeed } from '../src/lib/model.ts';
import FeedBanner from '../src/tiles/FeedBanner.svelte';

const feed = (over: Partial<PbxFeed>): PbxFeed => ({ pbx_id: 'p1', link: 'UP', link_since: null, link_detail: null, data_until: null, catching_up: false, clock_offset_s: null, last_gap: null, ...over });
const now = Date.parse('2026-12-05T10:00:00.000Z');
const loc = { locale: 'en-GB', timezone: 'UTC' };

describe('PBX clock warning', () => {
  it('lists PBX clocks off by more than 2 s, not while their history replays nor before they are measured', () => {
    const v = feedView(
      [
        feed({ pbx_id: 'slow', clock_offset_s: -90 }),
        feed({ pbx_id: 'fast', clock_offset_s: 2.6 }),
        feed({ pbx_id: 'fine', clock_offset_s: -1.9 }),
        feed({ pbx_id: 'new' }),
        feed({ pbx_id: 'replaying', clock_offset_s: -3600, catching_up: true }),
      ],
      now,
    );
    expect(v.clockOff).toEqual([
      { pbx_id: 'slow', offset_s: -90 },
      { pbx_id: 'fast', offset_s: 2.6 },
    ]);
  });

  it('says how far, and which way', () => {
    expect(clockOffText(-90)).toBe('90 s behind');
    expect(clockOffText(2.6)).toBe('3 s ahead');
    expect(clockOffText(-400)).toBe('7 min behind');
    expect(clockOffText(3 * 3600 + 300)).toBe('3 h 5 min ahead');
  });

  it('shows "PBX slow clock 90 s behind" in the feed banner, and nothing when every clock is right', () => {
    const { unmount } = render(FeedBanner, { props: { view: feedView([feed({ pbx_id: 'acme-ami', clock_offset_s: -90 })], now), nowMs: now, loc } });
    const line = screen.getByTestId('pbx-clock');
    expect(line.dataset.pbx).toBe('acme-ami');
    expect(line.textContent!.replace(/\s+/g, ' ')).toContain('PBX acme-ami clock 90 s behind');
    unmount();
    render(FeedBanner, { props: { view: feedView([feed({ clock_offset_s: 0.4 })], now), nowMs: now, loc } });
    expect(screen.queryByTestId('feed-banner')).toBeNull();
  });
});

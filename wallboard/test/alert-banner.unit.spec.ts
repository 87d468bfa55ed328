// The alert banner against a stand-in server stream: it shows what the `alerts` subscription
// raised (queue, figure, level crossed), drops what it cleared, and asks for the board on screen.
import { render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import AlertBanner from '../src/AlertBanner.svelte';
import { createClient } from '../src/lib/client.ts';

const base = { board_id: 'b1', tile_id: 'sl', tile_title: null, raised_at: '2026-12-05T09:00:00.000Z' };
const slCritical = { ...base, id: 'al_1', state: 'RAISED', level: 'CRITICAL', metric: 'service_level', queue: null, queues: ['sales'], direction: 'BELOW', threshold: 0.6, value: 0.5, clear_level: 0.63 };
const waitingWarn = { ...base, id: 'al_2', state: 'RAISED', level: 'WARN', tile_id: 'q', metric: 'waiting', queue: 'support', queues: [], direction: 'ABOVE', threshold: 5, value: 7, clear_level: 4.75 };

/** A fetch whose one response is an SSE stream the test writes `next` frames into. */
function sseServer() {
  let push!: (alert: object) => void;
  const requests: { body: { variables: Record<string, unknown> }; auth: string | null }[] = [];
  const f = vi.fn(async (_url: string, init: RequestInit) => {
    requests.push({ body: JSON.parse(String(init.body)), auth: new Headers(init.headers).get('authorization') });
    const enc = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(enc.encode(':\n\n'));
        push = (alert) => c.enqueue(enc.encode(`event: next\ndata: ${JSON.stringify({ data: { alerts: alert } })}\n\n`));
      },
    });
    return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
  });
  return { f, requests, push: (a: object) => push(a) };
}

afterEach(() => vi.unstubAllGlobals());

describe('AlertBanner', () => {
  it('shows each raised alert with its queue, figure and level, and removes it when cleared', async () => {
    const server = sseServer();
    vi.stubGlobal('fetch', server.f);
    render(AlertBanner, { props: { client: createClient('http://api.test/graphql', 'cb_token'), boardId: 'b1', locale: 'en-GB' } });
    await waitFor(() => expect(server.requests).toHaveLength(1));
    expect(server.requests[0]).toMatchObject({ body: { variables: { board_id: 'b1' } }, auth: 'Bearer cb_token' });
    expect(screen.queryByTestId('alert-banner')).toBeNull();

    server.push(slCritical);
    server.push(waitingWarn);
    await waitFor(() => expect(screen.getByTestId('alert-banner').querySelectorAll('[data-alert-id]')).toHaveLength(2));
    const rows = [...screen.getByTestId('alert-banner').querySelectorAll('[data-alert-id]')].map((p) => p.textContent!.replace(/\s+/g, ' ').trim());
    expect(rows).toEqual(['■ ALERT · sales · Service level 50.0% (under 60.0%)', '▲ WARN · support · Waiting now 7 (over 5)']);

    // The same tile's warn, raised too (past critical is past warn): one row, the worse level.
    server.push({ ...slCritical, id: 'al_3', level: 'WARN', threshold: 0.8 });
    await waitFor(() => expect(screen.getByTestId('alert-banner').querySelectorAll('[data-alert-id]')).toHaveLength(2));
    expect(screen.getByTestId('alert-banner').querySelector('[data-alert-id="al_3"]')).toBeNull();
    server.push({ ...slCritical, state: 'CLEARED', value: 0.65 });
    await waitFor(() => expect(screen.getByTestId('alert-banner').querySelector('[data-alert-id="al_3"]')).not.toBeNull());
    expect(screen.getByTestId('alert-banner').textContent).toContain('under 80.0%');
    server.push({ ...slCritical, id: 'al_3', level: 'WARN', threshold: 0.8, state: 'CLEARED', value: 0.85 });
    await waitFor(() => expect(screen.getByTestId('alert-banner').querySelectorAll('[data-alert-id]')).toHaveLength(1));
    expect(screen.getByTestId('alert-banner').textContent).toContain('support');
    server.push({ ...waitingWarn, state: 'CLEARED', value: 4 });
    await waitFor(() => expect(screen.queryByTestId('alert-banner')).toBeNull());
  });

  it('shows a ratio just past its limit with the decimals that tell them apart (seen in the demo: "60.0% (under 60.0%)")', async () => {
    const server = sseServer();
    vi.stubGlobal('fetch', server.f);
    render(AlertBanner, { props: { client: createClient('http://api.test/graphql', 'cb_token'), boardId: 'b1', locale: 'en-GB' } });
    await waitFor(() => expect(server.requests).toHaveLength(1));
    server.push({ ...slCritical, value: 0.5996 });
    await waitFor(() => expect(screen.getByTestId('alert-banner').querySelectorAll('[data-alert-id]')).toHaveLength(1));
    const row = screen.getByTestId('alert-banner').querySelector('[data-alert-id]')!.textContent!.replace(/\s+/g, ' ').trim();
    expect(row).toBe('■ ALERT · sales · Service level 59.96% (under 60.0%)');
  });

  it('says where an alert held by hysteresis clears, once its figure is back past the level (seen in the demo: "60.04% (under 60.0%)")', async () => {
    const server = sseServer();
    vi.stubGlobal('fetch', server.f);
    render(AlertBanner, { props: { client: createClient('http://api.test/graphql', 'cb_token'), boardId: 'b1', locale: 'en-GB' } });
    await waitFor(() => expect(server.requests).toHaveLength(1));
    const rowText = () => screen.getByTestId('alert-banner').querySelector('[data-alert-id]')!.textContent!.replace(/\s+/g, ' ').trim();
    // The figure moved back over the level, not yet to the clear level: still raised.
    server.push({ ...slCritical, current: 0.6004 });
    await waitFor(() => expect(rowText()).toBe('■ ALERT · sales · Service level 60.04% (under 60.0% · clears at 63.0%)'));
    // At the level exactly is not past it either (the board colours compare strictly); a count
    // clears at 4.75 or fewer, so at 4 (not a rounded 5), and an abandon rate over 5 % at 4.7 %.
    server.push({ ...waitingWarn, current: 5 });
    await waitFor(() => expect(screen.getByTestId('alert-banner').textContent).toContain('Waiting now 5 (over 5 · clears at 4)'));
    server.push({ ...waitingWarn, id: 'al_4', tile_id: 'ab', metric: 'abandon_rate', threshold: 0.05, value: 0.06, current: 0.049, clear_level: 0.0475 });
    await waitFor(() => expect(screen.getByTestId('alert-banner').textContent).toContain('(over 5.0% · clears at 4.7%)'));
    // Just short of where it clears: the figure gets the decimals that set it apart from both limits.
    server.push({ ...slCritical, current: 0.6299 });
    await waitFor(() => expect(rowText()).toBe('■ ALERT · sales · Service level 62.99% (under 60.0% · clears at 63.0%)'));
    // Seconds print as m:ss, which drops the fraction: 19.5 s beside a clear level of 19 s gets tenths.
    server.push({ ...waitingWarn, id: 'al_5', tile_id: 'mw', metric: 'max_wait', threshold: 20, value: 25, current: 19.5, clear_level: 19 });
    await waitFor(() => expect(screen.getByTestId('alert-banner').textContent).toContain('Longest wait now 0:19.5 (over 0:20 · clears at 0:19)'));
    // Beyond the level again: the clear level is not shown.
    server.push({ ...slCritical, current: 0.55 });
    await waitFor(() => expect(rowText()).toBe('■ ALERT · sales · Service level 55.0% (under 60.0%)'));
  });
});

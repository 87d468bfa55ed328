import { describe, expect, it } from 'vitest';
import { parseLaunch, resolveSettings, STORAGE, urlWithoutToken } from '../src/lib/launch.ts';
import { SseParser } from '../src/lib/sse.ts';
import { describeEvent } from '../src/lib/timeline.ts';

describe('SseParser', () => {
  it('parses graphql-yoga frames split anywhere, with keep-alive comments', () => {
    const stream = ':\n\nevent: next\ndata: {"data":{"a":1}}\n\n:\n\nevent: complete\ndata:\n\n';
    for (let cut = 1; cut < stream.length; cut++) {
      const p = new SseParser();
      const a = p.feed(stream.slice(0, cut));
      const b = p.feed(stream.slice(cut));
      const all = [...a.messages, ...b.messages];
      expect(all.map((m) => m.event)).toEqual(['next', 'complete']);
      expect(all[0]!.data).toBe('{"data":{"a":1}}');
    }
  });

  it('reports a keep-alive comment as a sign of life without a message', () => {
    const r = new SseParser().feed(':\n\n');
    expect(r.messages).toEqual([]);
    expect(r.sawLine).toBe(true);
  });

  it('handles CRLF, a CR split from its LF, multi-line data and the default event name', () => {
    const p = new SseParser();
    const a = p.feed('data: one\r');
    const b = p.feed('\ndata: two\r\n\r\n');
    expect([...a.messages, ...b.messages]).toEqual([{ event: 'message', data: 'one\ntwo' }]);
  });
});

describe('launch parameters', () => {
  it('reads token, boards, rotation and theme; a token or rotation means TV mode', () => {
    expect(parseLaunch('?token=abc&boards=floor,sales&rotate=30&theme=contrast')).toEqual({
      token: 'abc',
      boards: ['floor', 'sales'],
      rotateS: 30,
      theme: 'contrast',
      tv: true,
      tz: null,
      locale: null,
    });
    expect(parseLaunch('?board=floor&tv=0')).toMatchObject({ boards: ['floor'], tv: false, rotateS: 0, token: null });
  });

  it('takes the tenant zone and locale for tokens that may not read the tenant', () => {
    expect(parseLaunch('?tz=Africa/Nairobi&locale=sw-KE')).toMatchObject({ tz: 'Africa/Nairobi', locale: 'sw-KE' });
    expect(parseLaunch('?tz=Mars/Olympus&locale=')).toMatchObject({ tz: null, locale: null });
  });

  it('ignores malformed values instead of failing the screen', () => {
    expect(parseLaunch('?boards=ok,<script>,&rotate=-3&theme=pink')).toMatchObject({ boards: ['ok'], rotateS: 0, theme: null });
    expect(parseLaunch('?rotate=2').rotateS).toBe(0);
  });

  it('removes the token from the address, keeping everything else', () => {
    expect(urlWithoutToken('http://tv.local/?token=s3cret&boards=a,b&rotate=30#x')).toBe('/?boards=a%2Cb&rotate=30#x');
    expect(urlWithoutToken('http://tv.local/?token=s3cret')).toBe('/');
  });

  it('moves the token into storage and remembers the boards for the next start', () => {
    const mem = new Map<string, string>();
    const store = { getItem: (k: string) => mem.get(k) ?? null, setItem: (k: string, v: string) => void mem.set(k, v), removeItem: (k: string) => void mem.delete(k) };
    const first = resolveSettings(parseLaunch('?token=t1&boards=a,b&rotate=20'), store, true);
    expect(first).toMatchObject({ token: 't1', boards: ['a', 'b'], rotateS: 20, tv: true, theme: 'dark' });
    expect(mem.get(STORAGE.token)).toBe('t1');
    // After a reboot the kiosk opens the bare URL.
    expect(resolveSettings(parseLaunch(''), store, false)).toEqual(first);
  });
});

describe('call timeline', () => {
  it('describes canonical events in words', () => {
    expect(describeEvent({ type: 'call.answered', payload: { agent_id: '1001', agent_name: 'Amina', wait_ms: 12_500 } })).toBe('Answered by Amina after waiting 0:12');
    expect(describeEvent({ type: 'call.ended', payload: { disposition: 'ANSWERED', raw_disposition: 'NORMAL', duration_ms: 65_000, billsec_ms: 50_000 } })).toBe(
      'Call ended: ANSWERED (PBX said NORMAL), duration 1:05',
    );
    expect(describeEvent({ type: 'source.gap', payload: {} })).toBe('source.gap');
  });
});

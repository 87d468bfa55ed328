// The SSE side of shared board subscriptions (src/shared-subscriptions.ts) through a real yoga
// instance and its fetch handler (no sockets): one execution and one frame per update for every
// screen of a key, separate ones per tenant, the latest frame for a late joiner, latest-wins
// behind a screen that does not read, the source's error to every screen, and the source ended
// when the last screen leaves.
import { createSchema, createYoga } from 'graphql-yoga';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../src/errors.ts';
import { bounded, MemoryPubSub } from '../src/pubsub.ts';
import { sharedSubscriptions } from '../src/shared-subscriptions.ts';
import type { Auth } from '../src/tokens.ts';

interface Update {
  n: number;
  fail?: boolean;
}

function setup() {
  const ps = new MemoryPubSub<{ live: Update }>();
  const counts = { subscribe: 0, executions: 0, returned: 0 };
  const plugin = sharedSubscriptions();
  const yoga = createYoga<{ auth: Auth }>({
    schema: createSchema<{ auth: Auth }>({
      typeDefs: 'type Query { ok: Boolean } type Board { n: Int! tenant: String! } type Subscription { board(id: ID!): Board! }',
      resolvers: {
        Board: {
          n: (b: { n: number }) => {
            counts.executions++;
            return b.n;
          },
        },
        Subscription: {
          board: {
            subscribe: (_: unknown, __: unknown, ctx: { auth: Auth }) => {
              counts.subscribe++;
              const tenant = ctx.auth.tenant_id;
              const src = bounded<Update>((push) => ps.subscribe('live', tenant, push), 100);
              const it = {
                async next() {
                  const r = await src.next();
                  if (!r.done && r.value.fail) throw new ApiError('NOT_FOUND', 'board b1 was deleted');
                  return r.done ? r : { value: { board: { n: r.value.n, tenant } }, done: false };
                },
                async return() {
                  counts.returned++;
                  return src.return(undefined);
                },
                [Symbol.asyncIterator]() {
                  return it;
                },
              };
              return it;
            },
          },
        },
      },
    }),
    logging: false,
    plugins: [plugin],
  });
  return { ps, counts, plugin, yoga };
}

const auth = (tenant: string): Auth => ({ tenant_id: tenant, role: 'display', board_id: 'b1', token_hash: `h-${tenant}`, label: '' });
const QUERY = 'subscription($id: ID!) { board(id: $id) { n tenant } }';

/** One SSE screen: its `next` frames as raw text, read only once `reading` is true. */
async function screen(yoga: ReturnType<typeof setup>['yoga'], tenant: string, opts: { read?: boolean } = {}) {
  const ac = new AbortController();
  const res = await yoga.fetch(
    'http://local/graphql',
    { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' }, body: JSON.stringify({ query: QUERY, variables: { id: 'b1' } }), signal: ac.signal },
    { auth: auth(tenant) },
  );
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const s = { frames: [] as string[], events: [] as string[], ended: false, read: () => {}, close: () => ac.abort() };
  const pump = async () => {
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const frame = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const event = /^event: (\w+)/.exec(frame)?.[1];
        if (event) s.events.push(event);
        if (event === 'next') s.frames.push(frame);
      }
    }
    s.ended = true;
  };
  if (opts.read === false) s.read = () => void pump();
  else void pump();
  return s;
}

const data = (frame: string) => JSON.parse(frame.slice(frame.indexOf('data: ') + 6)) as { data?: { board: { n: number; tenant: string } }; errors?: { message: string; extensions?: { code?: string } }[] };
const until = (f: () => boolean) => vi.waitFor(() => expect(f()).toBe(true), { timeout: 10_000, interval: 5 });

describe('shared board subscriptions over SSE', () => {
  const open: { close: () => void }[] = [];
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
  });

  it('screens of one key share one execution and receive the same frame; another tenant gets its own', async () => {
    const { ps, counts, yoga } = setup();
    const a = [await screen(yoga, 'acme'), await screen(yoga, 'acme'), await screen(yoga, 'acme')];
    const b = await screen(yoga, 'beta');
    open.push(...a, b);
    expect(counts.subscribe).toBe(2);
    const stringify = vi.spyOn(JSON, 'stringify');
    for (let n = 1; n <= 3; n++) {
      ps.publish('live', 'acme', { n });
      await until(() => a.every((s) => s.frames.length === n));
    }
    const serialised = stringify.mock.calls.filter(([v]) => (v as { data?: unknown } | null)?.data !== undefined).length;
    stringify.mockRestore();
    // one execution and one serialisation per update, not one per screen
    expect(counts.executions).toBe(3);
    expect(serialised).toBe(3);
    for (const s of a) expect(s.frames).toEqual(a[0]!.frames);
    expect(a[0]!.frames.map((f) => data(f).data!.board)).toEqual([1, 2, 3].map((n) => ({ n, tenant: 'acme' })));
    ps.publish('live', 'beta', { n: 7 });
    await until(() => b.frames.length === 1);
    expect(data(b.frames[0]!).data!.board).toEqual({ n: 7, tenant: 'beta' });
    expect(a.every((s) => s.frames.length === 3)).toBe(true);
  });

  it('a late joiner gets the latest frame at once; a screen that does not read gets only the latest when it does', async () => {
    const { ps, yoga } = setup();
    const first = await screen(yoga, 'acme');
    const stalled = await screen(yoga, 'acme', { read: false });
    open.push(first, stalled);
    for (let n = 1; n <= 5; n++) {
      ps.publish('live', 'acme', { n });
      await until(() => first.frames.length === n);
    }
    const late = await screen(yoga, 'acme');
    open.push(late);
    await until(() => late.frames.length === 1);
    expect(late.frames[0]).toBe(first.frames[4]);
    stalled.read();
    await until(() => stalled.frames.at(-1) === first.frames[4]);
    // at most one frame it was already sent, then the latest: nothing in between queued up for it
    const got = stalled.frames.map((f) => data(f).data!.board.n);
    expect(got.length).toBeLessThanOrEqual(2);
    expect(got.at(-1)).toBe(5);
  });

  it("the source's error reaches every screen, then complete, and the streams end", async () => {
    const { ps, yoga } = setup();
    const s = [await screen(yoga, 'acme'), await screen(yoga, 'acme')];
    open.push(...s);
    ps.publish('live', 'acme', { n: 1, fail: true });
    await until(() => s.every((x) => x.ended));
    for (const x of s) {
      expect(x.events).toEqual(['next', 'complete']);
      expect(data(x.frames[0]!).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }
  });

  it('the source is ended when the last screen leaves, not before', async () => {
    const { ps, counts, plugin, yoga } = setup();
    const one = await screen(yoga, 'acme');
    const two = await screen(yoga, 'acme');
    ps.publish('live', 'acme', { n: 1 });
    await until(() => one.frames.length === 1 && two.frames.length === 1);
    one.close();
    ps.publish('live', 'acme', { n: 2 });
    await until(() => two.frames.length === 2);
    expect(plugin.hubs()).toBe(1);
    two.close();
    await until(() => plugin.hubs() === 0);
    await until(() => counts.returned >= 1);
    expect(ps.listeners()).toBe(0);
  });
});

// Shared execution of identical board subscriptions. A wallboard is typically shown on many
// screens with one display token: executing the same selection set over the same snapshot once
// per screen would cost CPU linear in screens. Subscriptions with the same operation, variables
// and the same authorisation (tenant, role, token's board) share one source and one execution;
// each subscriber keeps only the latest result it has not read yet (latest wins, nothing queues),
// and a late joiner gets the latest result at once.
//
// Over SSE the shared result is also serialised once: yoga's SSE writer stringifies, encodes and
// streams each result per subscriber through a web stream (at 1,000 screens that was most of the
// API's CPU per update, bench/api-fanout.ts). The SSE screens of one key instead read one of
// their streams (after yoga's per-operation hooks, so errors are masked as for any subscriber),
// serialise each update once and write the same Buffer to every socket; one timer pings them all.
import { Readable } from 'node:stream';
import type { ExecutionArgs, ExecutionResult, GraphQLError } from 'graphql';
import { maskError, processRegularResult, type Plugin } from 'graphql-yoga';
import { graphql } from './graphql.ts';
import type { Auth } from './tokens.ts';

type Source = AsyncGenerator<ExecutionResult> | AsyncIterableIterator<ExecutionResult>;

interface Hub {
  key: string;
  source: Source;
  subs: Set<Sub>;
  last: ExecutionResult | null;
  done: boolean;
  closing: boolean;
  error: unknown;
}

interface Sub {
  pending: ExecutionResult | null;
  wake: (() => void) | null;
  closed: boolean;
}

function isIterator(x: unknown): x is Source {
  return typeof x === 'object' && x !== null && typeof (x as Source)[Symbol.asyncIterator] === 'function';
}

/** The sharing key of a subscription, or null when it is not shared (only `board` is). */
export function boardShareKey(args: ExecutionArgs): string | null {
  const auth = (args.contextValue as { auth?: Auth } | undefined)?.auth;
  if (!auth) return null;
  const ops = args.document.definitions.filter((d) => d.kind === graphql.Kind.OPERATION_DEFINITION);
  const op = args.operationName ? ops.find((o) => o.name?.value === args.operationName) : ops.length === 1 ? ops[0] : undefined;
  if (!op || op.operation !== 'subscription') return null;
  const fields = op.selectionSet.selections;
  if (fields.length !== 1 || fields[0]!.kind !== graphql.Kind.FIELD || fields[0]!.name.value !== 'board') return null;
  return [auth.tenant_id, auth.role, auth.board_id ?? '', args.operationName ?? '', graphql.print(args.document), JSON.stringify(args.variableValues ?? {})].join('\u0000');
}

const PING = Buffer.from(':\n\n');
const COMPLETE = Buffer.from('event: complete\ndata:\n\n');
// yoga's own SSE writer pings every 12 s (300 ms under NODE_ENV=test); a client (the wallboard)
// reads the pings as "the server is alive" on a quiet board, so ours keep the same pace.
const PING_MS = globalThis.process?.env?.NODE_ENV === 'test' ? 300 : 12_000;
const SSE_HEADERS = { 'Content-Type': 'text/event-stream', Connection: 'keep-alive', 'Cache-Control': 'no-cache', 'Content-Encoding': 'none' };

type FetchAPI = Parameters<typeof processRegularResult>[1];

async function frameOf(r: ExecutionResult, fetchAPI: FetchAPI): Promise<Buffer> {
  // A result with errors goes through yoga's own serialiser, which strips internal extensions
  // (http status, `unexpected`); a plain result is the same JSON either way.
  const json = r.errors?.length || r.extensions?.http ? await (await processRegularResult(r, fetchAPI, 'application/json')).text() : JSON.stringify(r);
  return Buffer.from(`event: next\ndata: ${json}\n\n`);
}

/** What the stream sends when its source throws (a deleted board): the error, masked unless typed. */
function errorResult(e: unknown): ExecutionResult {
  return { errors: [e instanceof graphql.GraphQLError ? e : (maskError(e, 'Unexpected error.') as GraphQLError)] };
}

const pinged = new Set<SseScreen>();
let pinger: ReturnType<typeof setInterval> | null = null;

/**
 * One screen's SSE body. A frame is written at once while the socket keeps up; behind a slow
 * socket it waits, and a newer frame replaces it (latest wins, as for every board subscriber), so
 * a screen holds at most one frame besides what the socket buffers.
 */
class SseScreen extends Readable {
  private pending: Buffer | null = null;
  // Node asked for data and nothing is buffered: the next frame goes out at once.
  private wanted = false;

  constructor(private readonly onClose: () => void) {
    // A one-byte mark: any frame the socket has not taken yet makes push() say "enough".
    super({ highWaterMark: 1 });
    // Some browsers hold a fetch until the first bytes arrive.
    this.push(PING);
    pinged.add(this);
    pinger ??= setInterval(() => {
      for (const s of pinged) if (s.wanted) s.wanted = s.push(PING);
    }, PING_MS).unref();
  }

  offer(frame: Buffer): void {
    if (this.destroyed || this.readableEnded) return;
    if (this.wanted) this.wanted = this.push(frame);
    else this.pending = frame;
  }

  /** The last frames (an error, `complete`), then the end of the response. */
  finish(frames: Buffer[]): void {
    if (this.destroyed) return;
    this.stopPinging();
    if (this.pending) this.push(this.pending);
    this.pending = null;
    for (const f of frames) this.push(f);
    this.push(null);
  }

  override _read(): void {
    const f = this.pending;
    this.pending = null;
    this.wanted = f ? this.push(f) : true;
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    this.stopPinging();
    this.onClose();
    cb(err);
  }

  private stopPinging(): void {
    pinged.delete(this);
    if (pinged.size === 0 && pinger) {
      clearInterval(pinger);
      pinger = null;
    }
  }
}

/**
 * The SSE side of a hub: one subscriber's stream, after yoga's per-operation hooks (error
 * masking), serialised once per update into a frame every screen of the key is sent.
 */
interface FrameHub {
  key: string;
  source: AsyncIterator<ExecutionResult>;
  screens: Set<SseScreen>;
  last: Buffer | null;
  ended: boolean;
}

export function sharedSubscriptions(keyOf: (args: ExecutionArgs) => string | null = boardShareKey): Plugin & { hubs(): number } {
  const hubs = new Map<string, Promise<Hub | ExecutionResult>>();
  // HTTP requests whose subscription is attached to a hub, with its key: their SSE responses are
  // screens of a frame hub.
  const sharedRequests = new WeakMap<object, string>();
  const frameHubs = new Map<string, FrameHub>();

  function pumpFrames(fh: FrameHub, fetchAPI: FetchAPI): void {
    void (async () => {
      let last: Buffer[];
      try {
        for (;;) {
          const r = await fh.source.next();
          if (r.done) break;
          const f = await frameOf(r.value, fetchAPI);
          fh.last = f;
          for (const s of fh.screens) s.offer(f);
        }
        last = [COMPLETE];
      } catch (e) {
        last = [await frameOf(errorResult(e), fetchAPI), COMPLETE];
      }
      fh.ended = true;
      if (frameHubs.get(fh.key) === fh) frameHubs.delete(fh.key);
      for (const s of fh.screens) s.finish(last);
    })();
  }

  function sseResponse(key: string, stream: Source, request: Request, fetchAPI: FetchAPI): Response {
    let fh = frameHubs.get(key);
    if (fh && !fh.ended) {
      // The hub's frames already carry this key's updates: this request's own stream is not read.
      void Promise.resolve(stream.return?.(undefined)).catch(() => {});
    } else {
      fh = { key, source: stream, screens: new Set(), last: null, ended: false };
      frameHubs.set(key, fh);
      pumpFrames(fh, fetchAPI);
    }
    const hub = fh;
    const screen: SseScreen = new SseScreen(() => {
      hub.screens.delete(screen);
      if (hub.screens.size || hub.ended) return;
      hub.ended = true;
      if (frameHubs.get(key) === hub) frameHubs.delete(key);
      void Promise.resolve(hub.source.return?.(undefined)).catch(() => {});
    });
    hub.screens.add(screen);
    if (hub.last) screen.offer(hub.last);
    // A response the server never started to send is never read either: its screen leaves when
    // the client goes.
    request.signal?.addEventListener('abort', () => screen.destroy(), { once: true });
    return new fetchAPI.Response(screen as never, { status: 200, headers: SSE_HEADERS });
  }

  function pump(hub: Hub): void {
    void (async () => {
      try {
        for (;;) {
          const r = await hub.source.next();
          if (r.done) break;
          hub.last = r.value;
          for (const s of hub.subs) {
            s.pending = r.value;
            s.wake?.();
          }
        }
      } catch (e) {
        hub.error = e;
      }
      hub.done = true;
      if (hubs.get(hub.key) && !hub.closing) hubs.delete(hub.key);
      for (const s of hub.subs) s.wake?.();
    })();
  }

  function attach(hub: Hub): AsyncGenerator<ExecutionResult> {
    const sub: Sub = { pending: hub.last, wake: null, closed: false };
    hub.subs.add(sub);
    const detach = async () => {
      if (sub.closed) return;
      sub.closed = true;
      hub.subs.delete(sub);
      sub.wake?.();
      if (hub.subs.size === 0 && !hub.closing) {
        hub.closing = true;
        hubs.delete(hub.key);
        await hub.source.return?.(undefined);
      }
    };
    const it: AsyncGenerator<ExecutionResult> = {
      async next() {
        for (;;) {
          if (sub.pending) {
            const value = sub.pending;
            sub.pending = null;
            return { value, done: false };
          }
          if (hub.error && !sub.closed) {
            await detach();
            throw hub.error;
          }
          if (sub.closed || hub.done) return { value: undefined, done: true };
          await new Promise<void>((r) => (sub.wake = r));
          sub.wake = null;
        }
      },
      async return() {
        await detach();
        return { value: undefined, done: true };
      },
      async throw(e: unknown) {
        await detach();
        throw e;
      },
      [Symbol.asyncIterator]() {
        return it;
      },
      async [Symbol.asyncDispose]() {
        await detach();
      },
    } as AsyncGenerator<ExecutionResult>;
    return it;
  }

  return {
    hubs: () => hubs.size,
    onSubscribe({ subscribeFn, setSubscribeFn }) {
      setSubscribeFn((async (args: ExecutionArgs) => {
        const key = keyOf(args);
        if (!key) return subscribeFn(args);
        for (;;) {
          let p = hubs.get(key);
          if (!p) {
            p = (async () => {
              const src = await subscribeFn(args);
              if (!isIterator(src)) return src as ExecutionResult;
              const hub: Hub = { key, source: src, subs: new Set(), last: null, done: false, closing: false, error: null };
              pump(hub);
              return hub;
            })();
            hubs.set(key, p);
          }
          const hub = await p;
          // An error result (FORBIDDEN, NOT_FOUND) is answered, not shared: the next try starts afresh.
          if (!('subs' in hub)) {
            if (hubs.get(key) === p) hubs.delete(key);
            return hub;
          }
          if (hub.closing || hub.done) {
            if (hubs.get(key) === p) hubs.delete(key);
            continue;
          }
          const request = (args.contextValue as { request?: object } | undefined)?.request;
          if (request) sharedRequests.set(request, key);
          return attach(hub);
        }
      }) as never);
    },
    onResultProcess({ request, result, resultProcessor, setResultProcessor }) {
      const key = sharedRequests.get(request);
      // yoga has already chosen: for a subscription's stream the only processor it sets is SSE.
      if (!resultProcessor || key === undefined || !isIterator(result)) return;
      setResultProcessor((r, fetchAPI) => sseResponse(key, r as Source, request, fetchAPI), 'text/event-stream');
    },
  };
}

// Shared execution of identical board subscriptions. A wallboard is typically shown on many
// screens with one display token: executing the same selection set over the same snapshot once
// per screen would cost CPU linear in screens. Subscriptions with the same operation, variables
// and the same authorisation (tenant, role, token's board) share one source and one execution;
// each subscriber keeps only the latest result it has not read yet (latest wins, nothing queues),
// and a late joiner gets the latest result at once.
import type { ExecutionArgs, ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
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

export function sharedSubscriptions(keyOf: (args: ExecutionArgs) => string | null = boardShareKey): Plugin & { hubs(): number } {
  const hubs = new Map<string, Promise<Hub | ExecutionResult>>();

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
          return attach(hub);
        }
      }) as never);
    },
  };
}

// Test clients for the API: GraphQL over HTTP, subscriptions over SSE (fetch, like curl -N) and
// over WebSocket (graphql-ws).
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface GqlResult<T = Record<string, unknown>> {
  status: number;
  data?: T;
  errors?: { message: string; extensions?: { code?: string } }[];
}

export async function gql<T = Record<string, unknown>>(url: string, token: string | null, query: string, variables: Record<string, unknown> = {}): Promise<GqlResult<T>> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as Omit<GqlResult<T>, 'status'>;
  return { status: res.status, ...body };
}

export const codes = (r: GqlResult) => (r.errors ?? []).map((e) => e.extensions?.code);

/** An SSE subscription: collects every `next` payload; close() ends it. */
export function sse<T = Record<string, unknown>>(url: string, token: string, query: string, variables: Record<string, unknown> = {}) {
  const ac = new AbortController();
  const received: T[] = [];
  const errors: unknown[] = [];
  let status = 0;
  const done = (async () => {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
      signal: ac.signal,
    });
    status = res.status;
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done: end } = await reader.read();
      if (end) break;
      buf += dec.decode(value, { stream: true });
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const frame = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = frame
          .split('\n')
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).trim())
          .join('\n');
        if (!data) continue;
        const msg = JSON.parse(data) as { data?: T; errors?: unknown[] };
        if (msg.errors) errors.push(...msg.errors);
        if (msg.data) received.push(msg.data);
      }
    }
  })().catch((e: unknown) => {
    if ((e as Error).name !== 'AbortError') errors.push(e);
  });
  return {
    received,
    errors,
    status: () => status,
    close: async () => {
      ac.abort();
      await done;
    },
  };
}

export function wsClient(url: string, token: string | null): Client {
  return createClient({
    url: `${url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: true,
  });
}

/** A WebSocket subscription: collects every payload. */
export function wsSubscribe<T = Record<string, unknown>>(client: Client, query: string, variables: Record<string, unknown> = {}) {
  const received: T[] = [];
  const errors: unknown[] = [];
  let completed = false;
  const stop = client.subscribe<T>(
    { query, variables },
    {
      next: (v) => {
        if (v.errors) errors.push(...v.errors);
        if (v.data) received.push(v.data as T);
      },
      error: (e) => errors.push(e),
      complete: () => (completed = true),
    },
  );
  return { received, errors, completed: () => completed, stop };
}

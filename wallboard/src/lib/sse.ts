// A small Server-Sent Events client over fetch + ReadableStream. EventSource cannot send an
// Authorization header, and the token must not sit in a URL, so the stream is read by hand.
// graphql-yoga's "distinct connections" SSE protocol: POST the operation with
// Accept: text/event-stream; the server answers with `event: next` / `event: complete` frames
// and comment lines (":") as keep-alives.

export interface SseMessage {
  event: string;
  data: string;
}

/** Incremental parser for text/event-stream (WHATWG rules: CRLF/LF/CR, multi-line data, comments). */
export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];

  /** Feeds a decoded chunk; returns complete messages and whether any line (comments too) arrived. */
  feed(chunk: string): { messages: SseMessage[]; sawLine: boolean } {
    this.buffer += chunk;
    const messages: SseMessage[] = [];
    let sawLine = false;
    for (;;) {
      const m = /\r\n|\n|\r/.exec(this.buffer);
      if (!m) break;
      // A lone CR at the very end may be the first half of CRLF: wait for the next chunk.
      if (m[0] === '\r' && m.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      sawLine = true;
      if (line === '') {
        if (this.data.length > 0) messages.push({ event: this.event || 'message', data: this.data.join('\n') });
        this.event = '';
        this.data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') this.event = value;
      else if (field === 'data') this.data.push(value);
    }
    return { messages, sawLine };
  }
}

export interface GraphQLError {
  message: string;
  extensions?: { code?: string } & Record<string, unknown>;
}

export interface ExecutionResult<T> {
  data?: T | null;
  errors?: GraphQLError[];
}

export class GraphQLRequestError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'GraphQLRequestError';
  }
}

export interface StreamHandlers<T> {
  /** Each `next` result. */
  onNext(result: ExecutionResult<T>): void;
  /** Any bytes from the server, keep-alive comments included: the connection is alive. */
  onAlive(): void;
}

/**
 * Runs one subscription until the server completes it, the stream breaks or `signal` aborts.
 * Resolves on a clean `complete`; rejects on network, HTTP or GraphQL errors (with the code
 * from extensions when the server gives one) so the caller can decide to reconnect.
 */
export async function streamSubscription<T>(
  url: string,
  token: string | null,
  body: { query: string; variables?: Record<string, unknown> },
  handlers: StreamHandlers<T>,
  signal: AbortSignal,
): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'text/event-stream',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
    signal,
    cache: 'no-store',
  });
  if (!res.ok || !res.body) {
    const text = await res.text().catch(() => '');
    const err = firstError(text);
    throw new GraphQLRequestError(`subscription refused: HTTP ${res.status}${err ? `: ${err.message}` : ''}`, err?.extensions?.code ?? `HTTP_${res.status}`, res.status);
  }
  const type = res.headers.get('content-type') ?? '';
  if (!type.includes('text/event-stream')) {
    // The server answered with one JSON result instead of a stream: an error before execution.
    const err = firstError(await res.text());
    throw new GraphQLRequestError(`subscription refused: ${err?.message ?? `unexpected ${type}`}`, err?.extensions?.code ?? 'BAD_RESPONSE', res.status);
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SseParser();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new GraphQLRequestError('subscription stream closed by the server', 'STREAM_CLOSED');
      const { messages, sawLine } = parser.feed(value);
      if (sawLine || value.length > 0) handlers.onAlive();
      for (const m of messages) {
        if (m.event === 'complete') return;
        if (m.event !== 'next' && m.event !== 'message') continue;
        const result = JSON.parse(m.data) as ExecutionResult<T>;
        if (result.errors?.length && !result.data) {
          const e = result.errors[0]!;
          throw new GraphQLRequestError(e.message, e.extensions?.code ?? 'GRAPHQL_ERROR');
        }
        handlers.onNext(result);
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

function firstError(text: string): GraphQLError | undefined {
  try {
    const j = JSON.parse(text) as ExecutionResult<unknown>;
    return j.errors?.[0];
  } catch {
    return undefined;
  }
}

/** One query or mutation over HTTP POST; throws with the server's error code on any error. */
export async function graphqlRequest<T>(
  url: string,
  token: string | null,
  query: string,
  variables: Record<string, unknown> = {},
  signal?: AbortSignal,
): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
    signal,
    cache: 'no-store',
  });
  const text = await res.text();
  let j: ExecutionResult<T>;
  try {
    j = JSON.parse(text) as ExecutionResult<T>;
  } catch {
    throw new GraphQLRequestError(`HTTP ${res.status} from ${url}: not a GraphQL response`, `HTTP_${res.status}`, res.status);
  }
  if (j.errors?.length) {
    const e = j.errors[0]!;
    throw new GraphQLRequestError(e.message, e.extensions?.code ?? `HTTP_${res.status}`, res.status);
  }
  if (!j.data) throw new GraphQLRequestError(`HTTP ${res.status}: empty GraphQL response`, `HTTP_${res.status}`, res.status);
  return j.data;
}

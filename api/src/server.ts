// The HTTP server: GraphQL (graphql-yoga) at /graphql over HTTP and SSE, graphql-ws on the same
// path over WebSocket, ops endpoints (/healthz, /readyz, /metrics) and the built wallboard at /.
// Authentication and the per-token rate limit run before GraphQL does, for both transports.
//
// Hostile input (docs/hostile.md): no request throws past the handler (a malformed path is a
// 400, anything else a logged 503); request bodies and graphql-ws messages are bounded by
// settings.maxRequestBytes (413 / close 1009) before anything is parsed; a bad operation on a
// graphql-ws socket errors that operation, not the socket; URLs are logged without their query
// string, which may carry a display token.
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionArgs } from 'graphql';
import { graphql } from './graphql.ts';
import { createSchema, createYoga, maskError, type Plugin } from 'graphql-yoga';
import type { Context as WsServerContext, SubscribePayload } from 'graphql-ws';
import { useServer, type Extra as WsExtra } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { counter, gauge, histogram, serveOps, type Health, type Logger } from '@callboard/platform';
import { ApiError, errorBody, unauthenticated } from './errors.ts';
import { limitsRule, RateLimiter, requestLimits } from './limits.ts';
import { createResolvers, type Ctx, type ResolverDeps } from './resolvers.ts';
import { sharedSubscriptions } from './shared-subscriptions.ts';
import { bearer, type Auth, type TokenStore } from './tokens.ts';

export const SCHEMA_PATH = fileURLToPath(new URL('../schema.graphql', import.meta.url));

const requests = counter('callboard_api_requests_total', 'GraphQL requests by transport and result', ['transport', 'result']);
const requestMs = histogram('callboard_api_request_duration_ms', 'GraphQL HTTP request duration', ['transport'], [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000]);
const openSockets = gauge('callboard_api_websockets', 'Open graphql-ws connections');

export interface ServerDeps extends ResolverDeps {
  health: Health;
  tokens: TokenStore;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

/** A request URL as it may be logged: the query string can carry a token. */
export function loggableUrl(url: string | undefined): string {
  const path = (url ?? '/').split('?')[0]!;
  return path.length > 200 ? `${path.slice(0, 200)}…` : path;
}

/** An error response for HTTP statuses ERROR_STATUS has no code for (411, 413). */
function sendStatus(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
  res.end(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
}

function send(res: ServerResponse, e: ApiError, headers: Record<string, string> = {}): void {
  res.writeHead(e.extensions.http && typeof e.extensions.http === 'object' ? ((e.extensions.http as { status: number }).status ?? 400) : 400, { 'content-type': 'application/json', ...headers });
  res.end(errorBody(e));
}

/** Static files of the built wallboard; unknown paths get index.html (client-side routes). */
function serveWallboard(dist: string, req: IncomingMessage, res: ServerResponse): void {
  const index = join(dist, 'index.html');
  if (!existsSync(index)) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`The wallboard is not built (${index} is missing): run \`npm run build -w wallboard\`. GraphQL is at /graphql.\n`);
    return;
  }
  const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
  const file = normalize(join(dist, path));
  const inside = file.startsWith(dist + sep) && existsSync(file) && statSync(file).isFile();
  const target = inside ? file : index;
  res.writeHead(200, {
    'content-type': MIME[extname(target)] ?? 'application/octet-stream',
    'cache-control': target === index ? 'no-cache' : 'public, max-age=31536000, immutable',
  });
  if (req.method === 'HEAD') res.end();
  else createReadStream(target).pipe(res);
}

export function createApiServer(d: ServerDeps & { log: Logger }): { server: Server; close: () => Promise<void> } {
  const limiter = new RateLimiter(d.settings.ratePerSecond, d.settings.rateBurst);
  const limits = limitsRule(d.settings.maxDepth, d.settings.maxCost);

  // Introspection is for people who write queries (admin, analyst); limits apply to everyone.
  const rules: Plugin<{ auth?: Auth }> = {
    onValidate({ context, addValidationRule }) {
      addValidationRule(limits);
      const role = context.auth?.role;
      if (role !== 'admin' && role !== 'analyst') addValidationRule(graphql.NoSchemaIntrospectionCustomRule);
    },
  };

  const yoga = createYoga<{ auth: Auth }>({
    schema: createSchema<Ctx>({ typeDefs: readFileSync(SCHEMA_PATH, 'utf8'), resolvers: createResolvers(d) as never }),
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: false,
    logging: false,
    // GraphQLErrors (typed ApiErrors) pass through; anything else becomes "Unexpected error."
    // with the cause logged, never leaked.
    maskedErrors: {
      maskError: (error, message, isDev) => {
        const masked = maskError(error, message, isDev);
        if (masked !== error) d.log.error({ err: (error as { originalError?: unknown }).originalError ?? error }, 'request failed inside a resolver');
        return masked;
      },
    },
    plugins: [rules, requestLimits(d.settings), sharedSubscriptions()],
  });

  const server = createServer((req, res) => {
    const started = Date.now();
    void (async () => {
      if (await serveOps(d.health, req, res)) return;
      const path = (req.url ?? '/').split('?')[0];
      if (path !== '/graphql') return serveWallboard(d.settings.wallboardDist, req, res);
      if (req.method === 'POST') {
        // Refused before the body is read: yoga would buffer any size.
        const length = req.headers['content-length'];
        if (length === undefined) return sendStatus(res, 411, 'LENGTH_REQUIRED', 'a GraphQL POST needs a Content-Length header');
        if (Number(length) > d.settings.maxRequestBytes)
          return sendStatus(res, 413, 'PAYLOAD_TOO_LARGE', `request body of ${length} bytes exceeds the limit of ${d.settings.maxRequestBytes} bytes`);
      }
      const token = bearer(req.headers.authorization);
      if (!token) {
        requests.inc({ transport: 'http', result: 'unauthenticated' });
        return send(res, unauthenticated('no API token'), { 'www-authenticate': 'Bearer' });
      }
      const auth = await d.tokens.authenticate(token);
      if (!auth) {
        requests.inc({ transport: 'http', result: 'unauthenticated' });
        return send(res, unauthenticated('the API token is unknown or revoked'), { 'www-authenticate': 'Bearer' });
      }
      const rl = limiter.take(auth.token_hash);
      if (!rl.ok) {
        requests.inc({ transport: 'http', result: 'rate_limited' });
        return send(res, new ApiError('RATE_LIMITED', `too many requests for this token (${d.settings.ratePerSecond}/s, burst ${d.settings.rateBurst}): retry in ${rl.retryAfterS} s`, { retry_after_s: rl.retryAfterS }), { 'retry-after': String(rl.retryAfterS) });
      }
      requests.inc({ transport: 'http', result: 'accepted' });
      // The adapter's request listener form: handleNodeRequestAndResponse never ends the
      // response with @whatwg-node/server 0.11 when given a server context.
      await (yoga as unknown as (rq: IncomingMessage, rs: ServerResponse, c: { auth: Auth }) => Promise<void>)(req, res, { auth });
      requestMs.observe({ transport: 'http' }, Date.now() - started);
    })().catch((e: unknown) => {
      if (e instanceof URIError) {
        d.log.warn({ url: loggableUrl(req.url), err: e.message }, 'malformed request path');
        if (!res.headersSent) return send(res, new ApiError('BAD_INPUT', 'the path is not a valid URL (broken percent-encoding)'));
      } else d.log.error({ err: e, url: loggableUrl(req.url) }, 'request failed');
      if (!res.headersSent) send(res, new ApiError('UNAVAILABLE', 'the request failed inside the server; it was logged; retry shortly'));
      else res.end();
    });
  });

  // ws reads messages up to 100 MiB by default, before graphql-ws has authenticated anyone.
  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: d.settings.maxRequestBytes });
  const ws = useServer<Record<string, unknown>, { auth?: Auth }>(
    {
      execute: (args: unknown) => (args as { rootValue: { execute: (a: ExecutionArgs) => unknown } }).rootValue.execute(args as ExecutionArgs) as never,
      subscribe: (args: unknown) => (args as { rootValue: { subscribe: (a: ExecutionArgs) => unknown } }).rootValue.subscribe(args as ExecutionArgs) as never,
      onConnect: async (ctx) => {
        const p = ctx.connectionParams ?? {};
        const token = bearer(p.authorization ?? p.Authorization ?? p.token) ?? bearer(ctx.extra.request.headers.authorization);
        const auth = token ? await d.tokens.authenticate(token) : null;
        if (!auth) {
          requests.inc({ transport: 'ws', result: 'unauthenticated' });
          return false; // graphql-ws closes with 4403 Forbidden
        }
        ctx.extra.auth = auth;
        openSockets.inc();
        return true;
      },
      onClose: (ctx) => {
        if (ctx.extra.auth) openSockets.dec();
      },
      // graphql-ws closes the whole socket when onSubscribe throws (4500): a syntax error or any
      // other failure of one operation is returned as that operation's errors instead.
      onSubscribe: async (ctx, id, payload) => {
        try {
          return await subscribeArgs(ctx, payload);
        } catch (e) {
          if (e instanceof graphql.GraphQLError) return [e];
          d.log.error({ err: e, operation: id }, 'graphql-ws operation failed before it ran');
          return [new ApiError('UNAVAILABLE', 'the operation failed inside the server; it was logged; retry shortly')];
        }
      },
    },
    wss,
  );

  async function subscribeArgs(ctx: WsServerContext<Record<string, unknown>, WsExtra & { auth?: Auth }>, payload: SubscribePayload) {
    const auth = ctx.extra.auth!;
    const rl = limiter.take(auth.token_hash);
    if (!rl.ok) {
      requests.inc({ transport: 'ws', result: 'rate_limited' });
      return [new ApiError('RATE_LIMITED', `too many operations for this token: retry in ${rl.retryAfterS} s`, { retry_after_s: rl.retryAfterS })];
    }
    requests.inc({ transport: 'ws', result: 'accepted' });
    const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({ ...ctx, req: ctx.extra.request, socket: ctx.extra.socket, params: payload, auth });
    const args = {
      schema,
      operationName: payload.operationName,
      document: parse(payload.query),
      variableValues: payload.variables,
      contextValue: await contextFactory(),
      rootValue: { execute, subscribe },
    };
    const errors = validate(args.schema, args.document);
    if (errors.length) return errors;
    return args;
  }

  return {
    server,
    close: async () => {
      await ws.dispose();
      await new Promise<void>((r) => wss.close(() => r()));
      server.closeAllConnections?.();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

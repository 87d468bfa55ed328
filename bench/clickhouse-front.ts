// The one embedded ClickHouse engine served over the ClickHouse HTTP interface, so that several
// projections processes can write to one engine — what a ClickHouse server is in production.
//
// Why it exists: the embedded engine (chdb) is one process's (it locks its data path), and this
// machine has no ClickHouse server of a version the project targets. The scale-out runs
// (bench/scale-out.ts, projections/test/scale-out.int.spec.ts) need N real `callboard
// projections` processes writing one set of tables, because the fold re-derives a call from
// *all* its events in `events`: a partition that moves to another process after a crash must
// find the call's earlier events there. Separate engines per process would each hold a part.
//
// It serves the subset @clickhouse/client uses: `GET /ping`; `POST /?query=…` with the body
// appended (inserts) or the body as the query; `param_*` bound parameters; every other
// parameter a setting (`insert_deduplication_token` among them). Errors answer 500 with
// ClickHouse's `Code: N. DB::Exception: …` text, which the client parses. Not a product part:
// no auth (access-control DDL is acknowledged without effect), no compression, 127.0.0.1 only, and every statement runs in this one process — so
// the engine's work is not spread over processes, only the consumers' (BENCHMARKS.md says what
// that bounds).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { Readable } from 'node:stream';
import type { ClickHouse } from '@callboard/platform';

/**
 * Access-control DDL (the projections' per-tenant BI users, projections/src/bi-access.ts). The
 * embedded engine has no users, so there is nothing for it to act on: acknowledged, no effect,
 * as on the embedded path where the service skips it. BI access is not what a scale-out tests.
 */
const ACCESS_DDL = /^\s*(CREATE\s+(ROW\s+POLICY|USER|ROLE)|ALTER\s+USER|GRANT|REVOKE|DROP\s+(USER|ROW\s+POLICY|ROLE))\b/i;

/** URL parameters of the HTTP interface that are not settings. */
const NOT_SETTINGS = new Set(['query', 'query_id', 'database', 'session_id', 'role']);

export interface ClickHouseFront {
  url: string;
  /** Statements served so far. */
  statements(): number;
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Serves `ch` (an open embedded engine) on 127.0.0.1 at a free port. */
export async function serveClickHouse(ch: ClickHouse): Promise<ClickHouseFront> {
  let served = 0;
  // A query's bound parameters travel in the URL; the server accepts 1 MiB of it
  // (http_max_uri_size), Node only 16 KiB of headers by default.
  const server: Server = createServer({ maxHeaderSize: 1024 * 1024 }, (req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname === '/ping') {
        res.end('Ok.\n');
        return;
      }
      const text = await body(req);
      const inUrl = url.searchParams.get('query');
      // As the server does: a query in the URL is followed by the body (an insert's rows).
      const query = inUrl === null ? text : text ? `${inUrl}\n${text}` : inUrl;
      const clickhouse_settings: Record<string, string | number> = {};
      for (const [k, v] of url.searchParams) {
        // A bound parameter arrives as the server's escaped text (`['a','b\'c']`); chdb's own
        // binder takes values, not text, and escapes them again. `SET param_x` takes the text as
        // the server does; the connection doubles quotes in it, so backslashes are doubled here.
        if (k.startsWith('param_')) clickhouse_settings[k] = v.replace(/\\/g, '\\\\');
        else if (!NOT_SETTINGS.has(k)) clickhouse_settings[k] = /^\d+$/.test(v) ? Number(v) : v;
      }
      if (ACCESS_DDL.test(query)) {
        res.end();
        return;
      }
      try {
        const r = await ch.client.exec({ query, clickhouse_settings });
        served++;
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=UTF-8', 'X-ClickHouse-Query-Id': url.searchParams.get('query_id') ?? '' });
        Readable.from(r.stream).pipe(res);
      } catch (e) {
        const err = e as Error & { code?: string };
        const message = /^Code: \d+/.test(err.message) ? err.message : `Code: ${Number(err.code) || 1000}. DB::Exception: ${err.message}`;
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=UTF-8', 'X-ClickHouse-Exception-Code': String(Number(err.code) || 1000) });
        res.end(message);
      }
    })().catch((e: unknown) => {
      res.writeHead(500);
      res.end(`Code: 1000. DB::Exception: ${String(e)}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    statements: () => served,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

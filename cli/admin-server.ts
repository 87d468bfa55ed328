// The admin endpoint: how `callboard token`, `callboard board` and `callboard rebuild` reach
// ClickHouse while another process holds the embedded engine (it is one process's). The process
// that holds it (`callboard start`, `callboard api`) serves the operator's actions on
// 127.0.0.1 only, on a port the system picks, and advertises where and with which secret in
// `<data dir>/admin.json` (mode 0600: who can read the data dir's engine files can read it, no
// one else). The secret is new at every start and never leaves the machine; nothing is committed.
//
// Who may call: the holder of that secret (every tenant, and rebuild), or an admin token of a
// tenant (that tenant's tokens and boards only). Any other token is refused (403), no or a wrong
// credential too (401). One request is one action of AdminOps, so both paths do the same.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { CallboardConfig, ClickHouse, Logger } from '@callboard/platform';
import { bearer, TokenStore, type Auth } from '@callboard/api/tokens';
import { asOpError, directOps, OP_STATUS, OpError, type AdminOps } from './admin-ops.ts';

export const ADMIN_FILE = 'admin.json';

/** What `<data dir>/admin.json` holds. */
export interface AdminEndpoint {
  url: string;
  secret: string;
  pid: number;
  started_at: string;
}

/**
 * The tenant each action acts on (from its arguments), or null for one that concerns the whole
 * machine (rebuild), which only the secret's holder may run.
 */
export const ACTIONS: Record<keyof AdminOps, (args: unknown[]) => unknown> = {
  createToken: (a) => (a[0] as { tenant?: unknown } | undefined)?.tenant,
  listTokens: (a) => a[0],
  revokeToken: (a) => a[0],
  listBoards: (a) => a[0],
  exportBoard: (a) => a[0],
  importBoard: (a) => a[0],
  rebuild: () => null,
};

/** Board files are small; a body larger than this is refused before it is read. */
const MAX_BODY = 1 << 20;

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export interface RunningAdmin {
  url: string;
  /** Where the endpoint is advertised. */
  file: string;
  stop(): Promise<void>;
}

export async function startAdminEndpoint(o: { cfg: CallboardConfig; ch: ClickHouse; log: Logger }): Promise<RunningAdmin> {
  const ops = directOps(o.ch, o.cfg, o.log);
  const tokens = new TokenStore(o.ch);
  const secret = `cba_${randomBytes(32).toString('base64url')}`;
  const secretDigest = digest(secret);
  let rebuilding = false;

  /** 'operator' for the secret, the token's grant for a tenant's admin token. */
  async function authorize(req: IncomingMessage): Promise<'operator' | Auth> {
    const given = bearer(req.headers.authorization);
    if (!given) throw new OpError('UNAUTHENTICATED', `no credential: send "Authorization: Bearer <secret from ${ADMIN_FILE}>"`);
    if (timingSafeEqual(digest(given), secretDigest)) return 'operator';
    const auth = await tokens.authenticate(given);
    if (!auth) throw new OpError('UNAUTHENTICATED', `the credential is neither this process's admin secret nor a live API token`);
    if (auth.role !== 'admin')
      throw new OpError('FORBIDDEN', `a ${auth.role} token may not use the admin endpoint (admin tokens of a tenant, or the secret in ${ADMIN_FILE})`);
    return auth;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const action = /^\/v1\/(\w+)$/.exec((req.url ?? '').split('?')[0]!)?.[1];
    if (req.method !== 'POST' || !action || !Object.hasOwn(ACTIONS, action))
      return reply(res, 404, { error: { code: 'NOT_FOUND', message: `no admin action ${req.method} ${req.url}` } });
    const who = await authorize(req);
    const args = await readArgs(req);
    const tenant = ACTIONS[action as keyof AdminOps](args);
    if (who !== 'operator' && tenant !== who.tenant_id) {
      throw new OpError(
        'FORBIDDEN',
        tenant === null
          ? `${action} concerns every tenant: only the secret in ${ADMIN_FILE} may run it`
          : `an admin token of tenant ${who.tenant_id} acts on that tenant only, not on ${JSON.stringify(tenant)}`,
      );
    }
    if (action === 'rebuild') {
      if (rebuilding) throw new OpError('CONFLICT', 'a rebuild is already running in this process: wait for it to finish');
      rebuilding = true;
    }
    try {
      o.log.info({ action, by: who === 'operator' ? 'operator' : `admin token of ${who.tenant_id}` }, 'admin action');
      const result = await (ops[action as keyof AdminOps] as (...a: unknown[]) => Promise<unknown>)(...args);
      reply(res, 200, { result });
    } finally {
      if (action === 'rebuild') rebuilding = false;
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      const op = asOpError(e);
      if (!op) o.log.error({ err: e, url: req.url }, 'admin action failed');
      const code = op?.code ?? 'UNAVAILABLE';
      if (!res.headersSent)
        reply(res, OP_STATUS[code], {
          error: { code, message: op?.message ?? `the action failed inside the server (${(e as Error)?.message ?? e}); it was logged` },
        });
      else res.end();
    });
  });
  // The operator's tools only: never on an interface another machine can reach.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const file = join(o.cfg.dataDir, ADMIN_FILE);
  const endpoint: AdminEndpoint = { url, secret, pid: process.pid, started_at: new Date().toISOString() };
  mkdirSync(o.cfg.dataDir, { recursive: true });
  // Written aside and renamed: a reader never sees half a file, nor the secret under looser modes.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(endpoint)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  o.log.info({ url, file }, 'admin endpoint listening (callboard token, board, rebuild)');
  return {
    url,
    file,
    stop: async () => {
      // Another process may have started on this data dir since (a server ClickHouse): its file stays.
      try {
        if ((JSON.parse(readFileSync(file, 'utf8')) as AdminEndpoint).secret === secret) rmSync(file, { force: true });
      } catch {
        // already gone
      }
      server.closeAllConnections?.();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readArgs(req: IncomingMessage): Promise<unknown[]> {
  if (Number(req.headers['content-length'] ?? 0) > MAX_BODY) throw new OpError('BAD_INPUT', `the request is larger than ${MAX_BODY} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY) throw new OpError('BAD_INPUT', `the request is larger than ${MAX_BODY} bytes`);
    chunks.push(c);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    throw new OpError('BAD_INPUT', 'the request body is not JSON');
  }
  const args = (body as { args?: unknown } | null)?.args ?? [];
  if (!Array.isArray(args)) throw new OpError('BAD_INPUT', 'the request body is {"args": [...]}');
  return args;
}

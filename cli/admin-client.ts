// How an operator command reaches ClickHouse: through the running Callboard process when one
// advertises its admin endpoint in the data dir (it holds the embedded engine, which is one
// process's), else by opening ClickHouse here. An advertisement left by a process that died is
// recognised (its pid is gone, or its port refuses) and ignored: the engine is free again then.
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { classify, createClickHouse, EXIT, processAlive, ServiceUnavailable, UsageError, type CallboardConfig, type Logger } from '@callboard/platform';
import { directOps, OP_STATUS, OpError, type AdminOps, type OpCode } from './admin-ops.ts';
import { ACTIONS, ADMIN_FILE, type AdminEndpoint } from './admin-server.ts';
import { migrateAll } from './migrations.ts';

/** The endpoint advertised in `dataDir`, or null when none is (or its process is gone). */
export function advertised(dataDir: string): AdminEndpoint | null {
  let ep: AdminEndpoint;
  try {
    ep = JSON.parse(readFileSync(join(dataDir, ADMIN_FILE), 'utf8')) as AdminEndpoint;
  } catch {
    return null;
  }
  if (typeof ep?.url !== 'string' || typeof ep.secret !== 'string' || !Number.isInteger(ep.pid)) return null;
  return processAlive(ep.pid) ? ep : null;
}

/** Nothing listens at the advertised address: the request never reached a process. */
class Refused extends Error {}

function call(ep: AdminEndpoint, credential: string, action: string, args: unknown[]): Promise<unknown> {
  const body = JSON.stringify({ args });
  return new Promise((resolve, reject) => {
    const req = request(
      `${ep.url}/v1/${action}`,
      { method: 'POST', headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          let parsed: { result?: unknown; error?: { code?: string; message?: string } };
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof parsed;
          } catch {
            return reject(
              new ServiceUnavailable(`the admin endpoint at ${ep.url} answered ${res.statusCode} with something that is not JSON: is it Callboard?`),
            );
          }
          if (res.statusCode === 200) return resolve(parsed.result);
          const code = (parsed.error?.code && parsed.error.code in OP_STATUS ? parsed.error.code : 'UNAVAILABLE') as OpCode;
          reject(new OpError(code, parsed.error?.message ?? `HTTP ${res.statusCode}`));
        });
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'ECONNREFUSED' ? new Refused(e.message) : new ServiceUnavailable(`the admin endpoint at ${ep.url} (pid ${ep.pid}) failed: ${e.message}`),
      ),
    );
    req.end(body);
  });
}

/** The actions, each a request to the running process's admin endpoint. */
export function remoteOps(ep: AdminEndpoint, credential = ep.secret): AdminOps {
  return Object.fromEntries(Object.keys(ACTIONS).map((action) => [action, (...args: unknown[]) => call(ep, credential, action, args)])) as unknown as AdminOps;
}

export type Via = 'admin endpoint' | 'direct';

/**
 * Runs `fn` with the operator's actions: through the admin endpoint advertised in the data dir,
 * or, when none answers, on ClickHouse opened (and migrated) here. An embedded engine held by a
 * process that serves no admin endpoint is one line, exit 69.
 */
export async function withOps<T>(cfg: CallboardConfig, fn: (ops: AdminOps, via: Via) => Promise<T>, log?: Logger): Promise<T> {
  const ep = advertised(cfg.dataDir);
  if (ep) {
    try {
      return await fn(remoteOps(ep), 'admin endpoint');
    } catch (e) {
      // Refused before anything ran: the advertising process is gone; go direct below.
      if (!(e instanceof Refused)) throw e;
    }
  }
  const ch = await createClickHouse(cfg).catch((e: unknown) => {
    const f = classify(e);
    if (f.exit !== EXIT.unavailable || !cfg.dataDir || cfg.clickhouse.url) throw e;
    throw new ServiceUnavailable(
      `the embedded ClickHouse in ${join(cfg.dataDir, 'clickhouse')} is held by another process that serves no admin endpoint (no live ${join(cfg.dataDir, ADMIN_FILE)}): run this while \`callboard start\` or \`callboard api\` holds it, or stop that process`,
    );
  });
  try {
    await migrateAll(ch);
    return await fn(directOps(ch, cfg, log), 'direct');
  } finally {
    await ch.close();
  }
}

/**
 * An action's refusal as the CLI convention wants it: an unknown tenant is a usage error (2), a
 * refused credential or a failing server is unavailability (69); the rest (bad input, no such
 * token or board, a version conflict) is returned for the command to report as a failed check.
 */
export function cliError(e: unknown): OpError {
  if (!(e instanceof OpError)) throw e;
  if (e.code === 'UNKNOWN_TENANT') throw new UsageError(e.message);
  if (e.code === 'UNAUTHENTICATED' || e.code === 'FORBIDDEN') throw new ServiceUnavailable(`the admin endpoint refused: ${e.message}`);
  if (e.code === 'UNAVAILABLE') throw new ServiceUnavailable(`the running Callboard process could not do it: ${e.message}`);
  return e;
}

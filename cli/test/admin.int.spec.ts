// The operator's commands while Callboard runs: `callboard api` in a child holds the embedded
// ClickHouse (one process's), and `callboard token`, `board` and `rebuild`, each a child process
// of the real CLI, go through its admin endpoint. Then the same commands once nothing runs.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually, uniqueId } from '../../test/helpers.ts';

const BIN = fileURLToPath(new URL('../../bin/callboard.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'callboard-admin-test-'));
const dataDir = join(dir, 'data');
const adminFile = join(dataDir, 'admin.json');
const configFile = join(dir, 'callboard.yaml');
writeFileSync(configFile, 'tenants:\n  - { id: acme, timezone: UTC }\n  - { id: globex, timezone: Europe/London }\n');

const id = uniqueId();
const clickhouseUrl = inject('clickhouseUrl');
const env: Record<string, string> = {
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? dir,
  TMPDIR: tmpdir(),
  CALLBOARD_CONFIG: configFile,
  CALLBOARD_DATA_DIR: dataDir,
  KAFKA_BROKERS: inject('kafkaBrokers').join(','),
  KAFKA_TOPIC_PREFIX: `${id}.`,
  CLICKHOUSE_DATABASE: `cb_${id}`,
  LOG_LEVEL: 'warn',
  ...(clickhouseUrl ? { CLICKHOUSE_URL: clickhouseUrl } : {}),
};

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function callboard(args: string[], input?: string): Promise<Ran> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { env, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (err as { code?: number }).code : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

async function ok(args: string[], input?: string): Promise<Ran> {
  const r = await callboard(args, input);
  expect(r.code, `callboard ${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r;
}

let api: ChildProcess;
let apiUrl: string;
let apiErr = '';
let endpoint: { url: string; secret: string; pid: number };

const graphql = (token: string, query: string, variables: Record<string, unknown> = {}) =>
  fetch(`${apiUrl}/graphql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });

const admin = (action: string, args: unknown[], credential?: string) =>
  fetch(`${endpoint.url}/v1/${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(credential ? { authorization: `Bearer ${credential}` } : {}) },
    body: JSON.stringify({ args }),
  });

beforeAll(async () => {
  api = spawn(process.execPath, [BIN, 'api', '--port', '0'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  api.stderr!.on('data', (c: Buffer) => (apiErr += c.toString()));
  apiUrl = await eventually(
    () => {
      if (api.exitCode !== null) throw new Error(`callboard api exited ${api.exitCode}: ${apiErr}`);
      return /Callboard API on (http:\/\/\S+)/.exec(apiErr)?.[1];
    },
    150_000,
    'callboard api to listen',
  );
  endpoint = JSON.parse(readFileSync(adminFile, 'utf8')) as typeof endpoint;
});

afterAll(() => {
  if (api.exitCode === null) api.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

// Each command is a child process of the real CLI (a few seconds each on a loaded machine).
describe('operator commands while `callboard api` holds the embedded ClickHouse', { timeout: 300_000 }, () => {
  it('advertises the admin endpoint on 127.0.0.1 in a file only its user can read', () => {
    expect(statSync(adminFile).mode & 0o777).toBe(0o600);
    expect(endpoint.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(endpoint.pid).toBe(api.pid);
    expect(endpoint.secret).toMatch(/^cba_[\w-]{40,}$/);
  });

  it('token create → a working token; list shows it under its tenant only; revoke → 401 at once', async () => {
    const created = await ok(['token', 'create', '--tenant', 'acme', '--role', 'analyst', '--label', 'ops test']);
    const token = created.stdout.trim();
    expect(token).toMatch(/^cb_/);
    const before = await graphql(token, '{ boards { id } }');
    expect(before.status).toBe(200);
    expect(await before.json()).toEqual({ data: { boards: [] } });

    const acme = (await ok(['token', 'list', '--tenant', 'acme'])).stdout;
    expect(acme).toContain('ops test');
    const hash = acme
      .split('\n')
      .find((l) => l.includes('ops test'))!
      .split(/\s+/)[0]!;
    expect((await ok(['token', 'list', '--tenant', 'globex'])).stdout).not.toContain(hash);

    const revoked = await ok(['token', 'revoke', '--tenant', 'acme', '--hash', hash]);
    expect(revoked.stderr).toContain('the running API refuses it from now on');
    // The API had the token cached as valid (the query above); the revoke went through this process.
    expect((await graphql(token, '{ boards { id } }')).status).toBe(401);
    expect((await ok(['token', 'list', '--tenant', 'acme'])).stdout).not.toContain(hash);
  });

  it('refuses a request without the admin secret, with a wrong one, and with a non-admin token', async () => {
    expect((await admin('listTokens', ['acme'])).status).toBe(401);
    expect((await admin('listTokens', ['acme'], `cba_${'x'.repeat(43)}`)).status).toBe(401);
    const supervisor = (await ok(['token', 'create', '--tenant', 'acme', '--role', 'supervisor'])).stdout.trim();
    const refused = await admin('createToken', [{ tenant: 'acme', role: 'admin' }], supervisor);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN');
    expect((await admin('listTokens', ['acme'], endpoint.secret)).status).toBe(200);
  });

  it('an admin token of a tenant acts on that tenant only, and never rebuilds', async () => {
    const acmeAdmin = (await ok(['token', 'create', '--tenant', 'acme', '--role', 'admin'])).stdout.trim();
    const mine = await admin('createToken', [{ tenant: 'acme', role: 'analyst', label: 'by acme admin' }], acmeAdmin);
    expect(mine.status).toBe(200);
    const other = await admin('createToken', [{ tenant: 'globex', role: 'admin' }], acmeAdmin);
    expect(other.status).toBe(403);
    expect((await admin('rebuild', [], acmeAdmin)).status).toBe(403);
    expect((await ok(['token', 'list', '--tenant', 'acme'])).stdout).toContain('by acme admin');
    expect((await ok(['token', 'list', '--tenant', 'globex'])).stdout).not.toContain('by acme admin');
    // An unknown tenant is refused by the running process too: a usage error, exit 2.
    const unknown = await admin('listTokens', ['nobody'], endpoint.secret);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('UNKNOWN_TENANT');
  });

  it('board export, then import it back (version checked); another tenant cannot see it', async () => {
    const supervisor = (await ok(['token', 'create', '--tenant', 'acme', '--role', 'supervisor'])).stdout.trim();
    const made = await graphql(supervisor, 'mutation($i: BoardInput!) { createBoard(input: $i) { id version } }', {
      i: { name: 'Floor', columns: 12, tiles: [{ id: 'sl', kind: 'KPI', x: 0, y: 0, w: 3, h: 2, metric: 'service_level' }] },
    });
    const board = ((await made.json()) as { data: { createBoard: { id: string } } }).data.createBoard.id;
    expect((await ok(['board', 'list', '--tenant', 'acme'])).stdout).toMatch(new RegExp(`^${board}  v1  1 tiles`, 'm'));

    const file = join(dir, 'board.json');
    await ok(['board', 'export', '--tenant', 'acme', '--board', board, '--out', file]);
    const exported = JSON.parse(readFileSync(file, 'utf8')) as { format: string; id: string; version: number; tiles: unknown[] };
    expect(exported).toMatchObject({ format: 'callboard.board.v1', id: board, version: 1, name: 'Floor', columns: 12 });

    const back = await ok(['board', 'import', '--tenant', 'acme', file]);
    expect(back.stderr).toContain(`board ${board} of tenant acme updated: now at version 2`);
    // The file says version 1; the board is at 2 now: an edit since the export is not overwritten.
    const stale = await callboard(['board', 'import', '--tenant', 'acme', file]);
    expect([stale.code, stale.stderr.trim()]).toEqual([
      1,
      `callboard board import: board ${board} is at version 2, the file was exported at version 1: someone edited it since; export it again, or import with --force to overwrite`,
    ]);
    expect((await ok(['board', 'import', '--tenant', 'acme', '--force', '-'], readFileSync(file, 'utf8'))).stderr).toContain('now at version 3');

    const invalid = await callboard(
      ['board', 'import', '--tenant', 'acme', '-'],
      JSON.stringify({ ...exported, version: 3, tiles: [{ id: 'x', kind: 'KPI', x: 0, y: 0, w: 3, h: 2, metric: 'speed' }] }),
    );
    expect([invalid.code, invalid.stderr]).toEqual([
      1,
      expect.stringMatching(/^callboard board import: tiles\[0\]\.metric "speed" is not a METRICS\.md queue metric/),
    ]);

    const elsewhere = await callboard(['board', 'export', '--tenant', 'globex', '--board', board]);
    expect([elsewhere.code, elsewhere.stderr.trim()]).toEqual([
      1,
      `callboard board export: tenant globex has no board "${board}" (\`callboard board list --tenant globex\`)`,
    ]);
    // Imported into globex it is globex's own copy; acme's stays at version 3.
    expect((await ok(['board', 'import', '--tenant', 'globex', file])).stderr).toContain('created: now at version 1');
    const acmeBoard = await graphql(supervisor, 'query($id: ID!) { board(id: $id) { version } }', { id: board });
    expect(await acmeBoard.json()).toEqual({ data: { board: { version: 3 } } });
  });

  it('rebuild runs in the running process', async () => {
    const r = await ok(['rebuild']);
    expect(r.stderr).toContain('rebuilding in the running Callboard process');
    expect(JSON.parse(r.stdout)).toMatchObject({ events: expect.any(Number), calls: expect.any(Number) });
  });

  it('once the process is gone (SIGKILL: its file stays behind), the commands open ClickHouse themselves', async () => {
    api.kill('SIGKILL');
    await eventually(() => (api.exitCode !== null || api.signalCode !== null ? true : undefined), 30_000, 'callboard api to exit');
    expect(existsSync(adminFile)).toBe(true);
    const list = await ok(['token', 'list', '--tenant', 'acme']);
    expect(list.stdout).toContain('by acme admin');
    const bad = await callboard(['token', 'list', '--tenant', 'nobody']);
    expect([bad.code, bad.stderr.split('\n')[0]]).toEqual([2, 'callboard token: --tenant nobody: unknown tenant (configured tenants: acme, globex)']);
  });

  it.skipIf(clickhouseUrl)('69, one line, when the engine is held by a process that serves no admin endpoint', async () => {
    const projections = spawn(process.execPath, [BIN, 'projections', '--ops-port', '0'], {
      env: { ...env, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let out = '';
    projections.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    try {
      await eventually(
        () => (projections.exitCode === null ? (out.includes('projections consuming') ? true : undefined) : Promise.reject(new Error(out))),
        120_000,
        'callboard projections to start',
      );
      const r = await callboard(['token', 'list', '--tenant', 'acme']);
      expect(r.code).toBe(69);
      // chdb prints its own error block first; ours is the last line, and the only one of ours.
      expect(r.stderr.trim().split('\n').at(-1)).toBe(
        `callboard token: the embedded ClickHouse in ${join(dataDir, 'clickhouse')} is held by another process that serves no admin endpoint (no live ${adminFile}): run this while \`callboard start\` or \`callboard api\` holds it, or stop that process`,
      );
    } finally {
      projections.kill('SIGKILL');
    }
  });
});

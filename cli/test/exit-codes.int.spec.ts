// The CLI convention, through the real `callboard` (bin/callboard.mjs in a child process): exit 0
// ok, 1 a failed check, 2 a usage error (one line, then the usage), 69 a service unavailable, 78
// a configuration error; one line and no stack trace for a user's mistake unless --debug.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queuedCall, utc } from '../../projections/test/given.ts';

const BIN = fileURLToPath(new URL('../../bin/callboard.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'callboard-cli-test-'));

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  first: string;
}

/** Runs the CLI with only the environment given (nothing from the test runner's own). */
function callboard(args: string[], env: Record<string, string> = {}): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, CALLBOARD_DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'warn', ...env },
        timeout: 90_000,
      },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? null) : 0;
        resolve({ code: typeof code === 'number' ? code : null, stdout, stderr, first: stderr.split('\n')[0]! });
      },
    );
  });
}

const STACK = /\n\s+at /;

function listen(port = 0): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(port, '0.0.0.0', () => resolve(s));
  });
}

let events: string;
let held: Server;
let heldPort: number;
let closedPort: number;

beforeAll(async () => {
  events = join(dir, 'events.ndjson');
  writeFileSync(
    events,
    `${queuedCall({ call_id: 'c1', at: utc('2026-03-10T08:00:00Z'), outcome: 'answered', wait_s: 10, talk_s: 60 })
      .map((e) => JSON.stringify(e))
      .join('\n')}\n`,
  );
  held = await listen();
  heldPort = (held.address() as { port: number }).port;
  // A port nothing listens on: bound, read, released.
  const probe = await listen();
  closedPort = (probe.address() as { port: number }).port;
  await new Promise((r) => probe.close(r));
});

afterAll(async () => {
  await new Promise((r) => held.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const config = (name: string, yaml: string) => {
  const f = join(dir, name);
  writeFileSync(f, yaml);
  return f;
};

describe('callboard exit codes', () => {
  it('2 for a mistyped option, naming the nearest one, then the usage, without a stack trace', async () => {
    const r = await callboard(['report', '--evnts', events]);
    expect([r.code, r.first]).toEqual([2, 'callboard report: unknown option --evnts, did you mean --events?']);
    expect(r.stderr.split('\n')[1]).toMatch(/^usage: callboard report --events FILE/);
    expect(r.stderr).not.toMatch(STACK);
  });

  it('2 for a missing option, named (never "--date=undefined")', async () => {
    const r = await callboard(['report', '--events', events, '--tenant', 'acme', '--tz', 'UTC', '--period', 'day']);
    expect([r.code, r.first]).toEqual([2, 'callboard report: --date is required']);
  });

  it('2 for a missing input file, said as such (not "invalid configuration")', async () => {
    const r = await callboard(['report', '--events', join(dir, 'nope.ndjson'), '--tenant', 'acme', '--tz', 'UTC', '--period', 'day', '--date', '2026-03-10']);
    expect([r.code, r.first]).toEqual([2, `callboard report: --events ${join(dir, 'nope.ndjson')}: cannot read it (no such file)`]);
    const v = await callboard(['validate', join(dir, 'nope.ndjson')]);
    expect([v.code, v.first]).toEqual([2, `callboard validate: cannot read ${join(dir, 'nope.ndjson')}: no such file`]);
  });

  it('2 for an unknown command, with the nearest one and the list of commands', async () => {
    const r = await callboard(['repot']);
    expect([r.code, r.first]).toEqual([2, 'callboard: unknown command "repot", did you mean "report"?']);
    expect(r.stderr).toContain('Commands:');
  });

  it('2 for a tenant the report file does not hold, instead of zeros', async () => {
    const r = await callboard(['report', '--events', events, '--tenant', 'nobody', '--tz', 'UTC', '--period', 'day', '--date', '2026-03-10']);
    expect([r.code, r.first, r.stdout]).toEqual([2, `callboard report: --tenant nobody: unknown tenant (tenants in ${events}: acme)`, '']);
    const ok = await callboard(['report', '--events', events, '--tenant', 'acme', '--tz', 'UTC', '--period', 'day', '--date', '2026-03-10']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).queue_metrics[0]).toMatchObject({ offered: 1, answered: 1 });
  });

  it('2 for a tenant the configuration does not have (token, translate), before anything is opened', async () => {
    const cfg = config('tenants.yaml', 'tenants:\n  - { id: acme, timezone: UTC }\n  - { id: globex, timezone: Europe/London }\n');
    const r = await callboard(['token', 'list', '--tenant', 'nobody'], { CALLBOARD_CONFIG: cfg });
    expect([r.code, r.first]).toEqual([2, 'callboard token: --tenant nobody: unknown tenant (configured tenants: acme, globex)']);
    const t = await callboard(['translate', '--source', 'ami', '--tenant', 'acmee', events], { CALLBOARD_CONFIG: cfg });
    expect([t.code, t.first]).toEqual([2, 'callboard translate: --tenant acmee: unknown tenant, did you mean acme?']);
  });

  it('1 for a check that found problems, 0 when it found none', async () => {
    const bad = config('bad.ndjson', '{"type":"call.started"}\n');
    expect((await callboard(['validate', bad])).code).toBe(1);
    expect((await callboard(['validate', events])).code).toBe(0);
  });

  it('78 for a configuration error: a typo in the file, a missing file; --debug adds the stack', async () => {
    const typo = config('typo.yaml', 'tenants:\n  - { id: acme, timezone: UTC }\nqueues:\n  - { tenant: acme, queue: sales, sl_treshold_s: 30 }\n');
    const r = await callboard(['migrate'], { CALLBOARD_CONFIG: typo });
    expect([r.code, r.first]).toEqual([
      78,
      'callboard migrate: invalid configuration: `queues[0].sl_treshold_s`: unknown setting, did you mean `sl_threshold_s`?',
    ]);
    expect(r.stderr).not.toMatch(STACK);
    const missing = await callboard(['migrate'], { CALLBOARD_CONFIG: join(dir, 'nope.yaml') });
    expect([missing.code, missing.first]).toEqual([
      78,
      `callboard migrate: invalid configuration: \`CALLBOARD_CONFIG\`: cannot read ${join(dir, 'nope.yaml')}: no such file`,
    ]);
    const debug = await callboard(['migrate', '--debug'], { CALLBOARD_CONFIG: typo });
    expect(debug.code).toBe(78);
    expect(debug.stderr).toMatch(STACK);
  });

  it('78 naming the setting when an ops port is taken; 2 naming the flag', async () => {
    const r = await callboard(['projections'], { PROJECTIONS_OPS_PORT: String(heldPort) });
    expect([r.code, r.first]).toEqual([
      78,
      `callboard projections: invalid configuration: PROJECTIONS_OPS_PORT=${heldPort}: expected a free port (127.0.0.1:${heldPort} is in use by another process)`,
    ]);
    const bad = await callboard(['projections', '--ops-port', 'abc']);
    expect([bad.code, bad.first]).toEqual([2, 'callboard projections: --ops-port abc: expected a TCP port (0 for any free port)']);
    const flag = await callboard(['projections', '--ops-port', String(heldPort)]);
    expect([flag.code, flag.first]).toEqual([2, `callboard projections: --ops-port ${heldPort}: 127.0.0.1:${heldPort} is in use by another process`]);
  });

  it('69 when ClickHouse cannot be reached', async () => {
    const r = await callboard(['migrate'], { CLICKHOUSE_URL: `http://127.0.0.1:${closedPort}` });
    expect(r.code).toBe(69);
    // The ClickHouse client logs the failed request itself first; ours is the last line.
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/^callboard migrate: service unavailable: .*ECONNREFUSED/);
    expect(r.stderr).not.toMatch(/\n\s+at .*\.ts:\d+/);
  });

  it('0 for --help, which lists every option of start', async () => {
    const r = await callboard(['start', '--help']);
    expect(r.code).toBe(0);
    for (const o of ['--no-simulator', '--history-days', '--speed', '--seed', '--port']) expect(r.stdout).toContain(o);
  });
});

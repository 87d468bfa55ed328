// `callboard start` (`npm start`): the whole product on one machine. Starts what is not given
// from outside (Kafka unless KAFKA_BROKERS, embedded ClickHouse unless CLICKHOUSE_URL), the PBX
// simulator with a day of history (unless --no-simulator), ingest, projections and the API with
// the wallboard, then prints the wallboard URL with a display token and an analyst token, and
// how to make an admin token (through the admin endpoint it serves, admin-server.ts).
// Ctrl-C stops everything it started, in reverse order.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DateTime } from 'luxon';
import { createLogger, freePort, installSignalHandlers, loadConfig, loadConfigFile, onShutdown, parseOptions, portFlag, portInUse, UsageError, type CallboardConfig, type ClickHouse, type Logger, type PbxConfig } from '@callboard/platform';
import { startAdminEndpoint } from './admin-server.ts';
import { demoBoard } from './demo-board.ts';
import { startStack, type RunningSimulatedPbx } from './stack.ts';

export const DEMO_CONFIG = fileURLToPath(new URL('../demo/demo.yaml', import.meta.url));
/** Every option, for the parser and for the test that `--help` lists them all. */
export const options = {
  'no-simulator': { type: 'boolean' },
  'history-days': { type: 'string', default: '1' },
  speed: { type: 'string', default: '1' },
  seed: { type: 'string', default: '1' },
  port: { type: 'string' },
} as const;

interface StartOptions {
  simulator: boolean;
  historyDays: number;
  speed: number;
  seed: number;
  port: number | null;
}

function parse(argv: string[]): StartOptions {
  const { values } = parseOptions(argv, options);
  const historyDays = Number(values['history-days']);
  if (!Number.isInteger(historyDays) || historyDays < 0 || historyDays > 31) throw new UsageError(`--history-days ${values['history-days']}: expected 0–31`);
  const speed = Number(values.speed);
  if (!(speed > 0)) throw new UsageError(`--speed ${values.speed}: expected a positive number`);
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed ${values.seed}: expected an integer`);
  const port = portFlag('port', values.port) ?? null;
  return { simulator: !values['no-simulator'], historyDays, speed, seed, port };
}

/**
 * The simulated PBX of every AMI, Yeastar P-Series and S-Series entry of the demo config. `raw`
 * is the config file as written: `simulator_queues` (a Yeastar's queue numbers) is for the
 * simulator only and has no place in the typed config.
 */
function demoSimulators(raw: Record<string, unknown>, o: StartOptions) {
  return async (cfg: CallboardConfig, log: Logger): Promise<RunningSimulatedPbx[]> => {
    const out: RunningSimulatedPbx[] = [];
    for (const p of cfg.pbxes) {
      const tz = cfg.tenants.find((t) => t.id === p.tenant)!.timezone;
      const rawPbx = ((raw.pbxes ?? []) as Record<string, unknown>[]).find((r) => r.id === p.id);
      const queueNumbers = rawPbx?.simulator_queues as Record<string, string> | undefined;
      if (p.kind === 'yeastar-p') {
        out.push(await startYeastarP(p, tz, o, queueNumbers ?? { sales: '6400', support: '6401' }, log));
        continue;
      }
      if (p.kind === 'yeastar-s') {
        out.push(await startYeastarS(p, tz, o, queueNumbers ?? { sales: '6700', support: '6701' }, log));
        continue;
      }
      out.push(await startAmi(p, tz, o, log));
    }
    return out;
  };
}

async function startAmi(p: PbxConfig, tz: string, o: StartOptions, log: Logger): Promise<RunningSimulatedPbx> {
  const { startAmiSimulator } = await import('@callboard/simulator/run');
  const { callCentreScenario } = await import('@callboard/simulator/scenarios');
  const now = Date.now();
  // History from local midnight N days ago, then live until tomorrow night.
  const today = DateTime.fromMillis(now, { zone: tz }).startOf('day');
  const scenario = callCentreScenario({
    tenant: p.tenant,
    pbx: p.id,
    timezone: tz,
    seed: o.seed,
    from_ms: today.minus({ days: o.historyDays }).toMillis(),
    to_ms: today.plus({ days: 2 }).toMillis(),
  });
  // Ingest reads a PBX secret from the variable its config entry names; the demo's is made here.
  const secret = demoSecret(p);
  const sim = await startAmiSimulator({ scenario, speed: o.speed, catchUpTo: now, catchUpRate: 150, port: 0, username: p.username, secret, log: log.child({ component: 'simulator', pbx: p.id }) });
  // done also settles when the simulator is stopped (Ctrl-C): only a day played out is "finished".
  let stopping = false;
  void sim.done.then(() => log.info({ pbx: p.id }, stopping ? 'simulator stopped' : 'simulated day finished: restart for a new one'));
  const t0 = Date.now();
  void sim.done.catch(() => undefined);
  const timer = setInterval(() => {
    const { played, total } = sim.progress();
    if (sim.now() >= now) {
      log.info({ pbx: p.id, history_s: Math.round((Date.now() - t0) / 1000), played }, 'history replayed; the simulator now runs live');
      clearInterval(timer);
    } else log.info({ pbx: p.id, played, total }, 'replaying history');
  }, 5000);
  timer.unref();
  return {
    pbx: p.id,
    at: { host: '127.0.0.1', port: sim.port },
    stop: async () => {
      stopping = true;
      clearInterval(timer);
      await sim.stop();
    },
  };
}

// Yeastar events carry no time of their own (the adapter stamps receive time), so history cannot
// be replayed: the simulated P-Series starts now and runs in real time.
async function startYeastarP(p: PbxConfig, tz: string, o: StartOptions, queueNumbers: Record<string, string>, log: Logger): Promise<RunningSimulatedPbx> {
  const { startYeastarPSimulator } = await import('@callboard/simulator/run');
  const scenario = await liveScenario(p, tz, o.seed + 1, 2001, '07700');
  const sim = await startYeastarPSimulator({ scenario, queueNumbers, clientId: p.username, clientSecret: demoSecret(p), speed: 1, log: log.child({ component: 'simulator', pbx: p.id }) });
  return { pbx: p.id, at: { base_url: sim.base_url }, stop: () => sim.stop() };
}

// The S-Series, like the P-Series, reports no event time: it starts now and runs in real time.
// Ingest logs in to its fake API and listens for its reports on a free port of this machine.
async function startYeastarS(p: PbxConfig, tz: string, o: StartOptions, queueNumbers: Record<string, string>, log: Logger): Promise<RunningSimulatedPbx> {
  const { startYeastarSSimulator } = await import('@callboard/simulator/run');
  const sim = await startYeastarSSimulator({
    scenario: await liveScenario(p, tz, o.seed + 2, 3001, '065'),
    queueNumbers,
    username: p.username,
    password: demoSecret(p),
    speed: 1,
    log: log.child({ component: 'simulator', pbx: p.id }),
  });
  return { pbx: p.id, at: { base_url: sim.base_url, port: await freePort() }, stop: () => sim.stop() };
}

/** A scenario from now until tomorrow night, for a simulated PBX that cannot replay history. */
async function liveScenario(p: PbxConfig, tz: string, seed: number, firstExtension: number, numberPrefix: string) {
  const { callCentreScenario } = await import('@callboard/simulator/scenarios');
  const now = Date.now();
  return callCentreScenario({
    tenant: p.tenant,
    pbx: p.id,
    timezone: tz,
    seed,
    from_ms: now,
    to_ms: DateTime.fromMillis(now, { zone: tz }).startOf('day').plus({ days: 2 }).toMillis(),
    first_extension: firstExtension,
    number_prefix: numberPrefix,
  });
}

/** A new random secret for a simulated PBX at every start, in the variable its config names: none is in the repo. */
function demoSecret(p: PbxConfig): string {
  const secret = randomBytes(18).toString('base64url');
  process.env[p.secret_env] = secret;
  return secret;
}

async function demoTokens(cfg: CallboardConfig, ch: ClickHouse, tenant: string): Promise<{ board: string; display: string; analyst: string }> {
  const { BoardStore, validateBoard } = await import('@callboard/api/boards');
  const { createToken } = await import('@callboard/api/tokens');
  const queues = cfg.queues.filter((q) => q.tenant === tenant).map((q) => q.queue);
  const board = 'demo';
  // An S-Series reports no queue log-in, so its agents are in no queue: the agent grid lists them all.
  const sSeries = cfg.pbxes.some((p) => p.tenant === tenant && p.kind === 'yeastar-s');
  const def = validateBoard(demoBoard(queues, { agentsByQueue: !sSeries }));
  await new BoardStore(ch).put(tenant, board, def, 1);
  const display = (await createToken(ch, { tenant_id: tenant, role: 'display', board_id: board, label: 'demo display' })).token;
  const analyst = (await createToken(ch, { tenant_id: tenant, role: 'analyst', label: 'demo analyst' })).token;
  return { board, display, analyst };
}

const WALLBOARD = fileURLToPath(new URL('../wallboard', import.meta.url));

/** What the wallboard is built from: a change to any of them makes a built copy stale. */
const WALLBOARD_SOURCES = ['src', 'index.html', 'vite.config.ts', 'package.json', 'tsconfig.json', '../package-lock.json'];

/** The newest modification time (ms) of the files at `paths`, directories walked (links not followed); 0 for none. */
export function newestMtime(paths: readonly string[]): number {
  let newest = 0;
  for (const p of paths) {
    if (!existsSync(p)) continue;
    const st = lstatSync(p);
    if (st.isDirectory()) newest = Math.max(newest, newestMtime(readdirSync(p).map((n) => join(p, n))));
    else if (st.isFile()) newest = Math.max(newest, st.mtimeMs);
  }
  return newest;
}

/**
 * Why the wallboard in `dist` must be built before serving it, or null: missing (a fresh clone:
 * it is built, not committed), or, for the tree's own `wallboard/dist` (`ownBuild`), older than
 * its sources (a pull or an edit since it was built, which would otherwise serve yesterday's
 * screens against today's API). A WALLBOARD_DIST of the operator's is theirs: never rebuilt.
 */
export function wallboardBuildNeeded(dist: string, sourceDir: string, ownBuild = true): string | null {
  const index = join(dist, 'index.html');
  if (!existsSync(index)) return 'not built yet';
  if (!ownBuild) return null;
  const sources = newestMtime(WALLBOARD_SOURCES.map((s) => join(sourceDir, s)));
  return sources > lstatSync(index).mtimeMs ? 'its sources changed since it was built' : null;
}

function ensureWallboardBuilt(dist: string, log: Logger): void {
  const why = wallboardBuildNeeded(dist, WALLBOARD, resolve(dist) === resolve(WALLBOARD, 'dist'));
  if (!why) return;
  log.info({ dist }, `building the wallboard: ${why}`);
  const vite = join(dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin', 'vite.js');
  try {
    execFileSync(process.execPath, [vite, 'build', '--logLevel', 'warn', '--outDir', dist, '--emptyOutDir'], { cwd: WALLBOARD, stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (e) {
    // An edit that does not build must not stop a start that has a wallboard to serve (vite
    // leaves the old one when the build fails before writing).
    if (why === 'not built yet' || !existsSync(join(dist, 'index.html'))) throw e;
    log.warn({ dist, err: (e as Error).message }, 'the wallboard does not build from its sources: serving the one built before');
  }
}

export async function run(argv: string[]): Promise<number> {
  const o = parse(argv);
  const started = Date.now();
  // Bad settings stop start-up before anything is started.
  const cfg0 = loadConfig({ ...(o.simulator ? { defaultFile: DEMO_CONFIG } : {}), overrides: { PORT: o.port === null ? undefined : String(o.port) } });
  const log = createLogger('start', cfg0.logLevel);
  installSignalHandlers(log);
  ensureWallboardBuilt(cfg0.api.wallboardDist, log);
  if (!o.simulator && cfg0.pbxes.length === 0) log.warn('--no-simulator and no pbxes in CALLBOARD_CONFIG: nothing will be ingested');

  const raw = o.simulator && cfg0.configFile ? loadConfigFile(cfg0.configFile) : {};
  const stack = await startStack(
    cfg0,
    { ...(o.simulator ? { simulators: demoSimulators(raw, o) } : {}), kafkaTopics: true, clickhouse: true, projections: true, api: true, ingest: true },
    { log, stopOnSignal: true },
  ).catch((e: unknown) => {
    throw portInUse(e, { ...(o.port === null ? { PORT: cfg0.port } : { '--port': cfg0.port }) });
  });
  const { cfg, ch } = stack;
  const api = stack.api!;
  // This process holds ClickHouse (the embedded engine is one process's): operator commands come through it.
  const admin = await startAdminEndpoint({ cfg, ch: ch!, log });
  onShutdown('admin endpoint', () => admin.stop());

  const tenant = cfg.tenants[0]?.id;
  const lines = [`Callboard is up after ${((Date.now() - started) / 1000).toFixed(1)} s.`];
  if (tenant) {
    const t = await demoTokens(cfg, ch!, tenant);
    lines.push(`  Wallboard:      ${api.url}/?token=${t.display}&board=${t.board}`);
    // Every other tenant's demo board too (each PBX kind the demo simulates has a tenant of its own).
    for (const other of cfg.tenants.slice(1)) {
      const d = await demoTokens(cfg, ch!, other.id);
      const kinds = [...new Set(cfg.pbxes.filter((p) => p.tenant === other.id).map((p) => p.kind))].join(', ') || 'no PBX';
      lines.push(`  Wallboard ${other.id} (${kinds}): ${api.url}/?token=${d.display}&board=${d.board}`);
    }
    lines.push(
      `  GraphQL:        ${api.url}/graphql   (Authorization: Bearer <analyst token>)`,
      `  Display token:  ${t.display}   (tenant ${tenant}, board ${t.board})`,
      `  Analyst token:  ${t.analyst}`,
      // No admin token is printed: it could edit boards and mint tokens. The secret that lets the CLI
      // make one is new at every start, in a file only this user can read.
      `  Admin or supervisor token: in another terminal, from this folder${process.env.CALLBOARD_DATA_DIR ? ' with the same CALLBOARD_DATA_DIR' : ''}:`,
      `                  node bin/callboard.mjs token create --tenant ${tenant} --role admin   (or --role supervisor)`,
      `                  (reaches this process through ${admin.file}, readable by you only)`,
    );
  } else {
    lines.push(`  API: ${api.url}/graphql (no tenant configured: create tokens with \`callboard token\`)`);
  }
  if (o.simulator) lines.push(`  Simulator: replaying ${o.historyDays} day(s) of history, then live at speed ${o.speed}.`);
  lines.push('  Ctrl-C stops everything.');
  process.stdout.write(lines.join('\n') + '\n');
  await new Promise(() => {});
  return 0;
}

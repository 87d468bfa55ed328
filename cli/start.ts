// `callboard start` (`npm start`): the whole product on one machine. Starts what is not given
// from outside (Kafka unless KAFKA_BROKERS, embedded ClickHouse unless CLICKHOUSE_URL), the PBX
// simulator with a day of history (unless --no-simulator), ingest, projections and the API with
// the wallboard, then prints the wallboard URL with a display token and an analyst token.
// Ctrl-C stops everything it started, in reverse order.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DateTime } from 'luxon';
import {
  createClickHouse,
  createKafka,
  createLogger,
  ensureTopics,
  Health,
  installSignalHandlers,
  loadConfig,
  loadConfigFile,
  migrate,
  onShutdown,
  resolveBrokers,
  shutdown,
  type CallboardConfig,
  type Logger,
} from '@callboard/platform';
import { allMigrations } from './migrations.ts';

export const DEMO_CONFIG = fileURLToPath(new URL('../demo/demo.yaml', import.meta.url));
const USAGE = 'callboard start [--no-simulator] [--history-days N] [--speed X] [--seed N] [--port N]';

interface StartOptions {
  simulator: boolean;
  historyDays: number;
  speed: number;
  seed: number;
  port: number | null;
}

function parse(argv: string[]): StartOptions | string {
  const { values } = parseArgs({
    args: argv,
    options: {
      'no-simulator': { type: 'boolean' },
      'history-days': { type: 'string', default: '1' },
      speed: { type: 'string', default: '1' },
      seed: { type: 'string', default: '1' },
      port: { type: 'string' },
    },
  });
  const historyDays = Number(values['history-days']);
  if (!Number.isInteger(historyDays) || historyDays < 0 || historyDays > 31) return `--history-days ${values['history-days']}: expected 0–31`;
  const speed = Number(values.speed);
  if (!(speed > 0)) return `--speed ${values.speed}: expected a positive number`;
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) return `--seed ${values.seed}: expected an integer`;
  const port = values.port === undefined ? null : Number(values.port);
  if (port !== null && (!Number.isInteger(port) || port < 0 || port > 65535)) return `--port ${values.port}: expected a TCP port`;
  return { simulator: !values['no-simulator'], historyDays, speed, seed, port };
}

/** Starts the simulated PBX of every AMI entry of the demo config; returns the config with real ports. */
async function startSimulators(file: Record<string, unknown>, o: StartOptions, log: Logger): Promise<Record<string, unknown>> {
  const { startAmiSimulator } = await import('@callboard/simulator/run');
  const { callCentreScenario } = await import('@callboard/simulator/scenarios');
  const tenants = file.tenants as { id: string; timezone: string }[];
  const pbxes = (file.pbxes as Record<string, unknown>[]).map((p) => ({ ...p }));
  for (const p of pbxes) {
    const tz = tenants.find((t) => t.id === p.tenant)!.timezone;
    if (p.kind === 'yeastar-p') {
      await startYeastarP(p, tz, o, log);
      continue;
    }
    if (p.kind !== 'ami') {
      log.warn({ pbx: p.id, kind: p.kind }, 'no simulator for this PBX kind yet: it stays configured but silent');
      continue;
    }
    const now = Date.now();
    // History from local midnight N days ago, then live until tomorrow night.
    const today = DateTime.fromMillis(now, { zone: tz }).startOf('day');
    const scenario = callCentreScenario({
      tenant: String(p.tenant),
      pbx: String(p.id),
      timezone: tz,
      seed: o.seed,
      from_ms: today.minus({ days: o.historyDays }).toMillis(),
      to_ms: today.plus({ days: 2 }).toMillis(),
    });
    const secret = randomBytes(18).toString('base64url');
    process.env[String(p.secret_env)] = secret;
    const sim = await startAmiSimulator({ scenario, speed: o.speed, catchUpTo: now, catchUpRate: 150, port: 0, username: String(p.username), secret, log: log.child({ component: 'simulator', pbx: p.id }) });
    onShutdown(`simulator ${p.id}`, () => sim.stop());
    p.host = '127.0.0.1';
    p.port = sim.port;
    void sim.done.then(() => log.info({ pbx: p.id }, 'simulated day finished: restart for a new one'));
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
    onShutdown(`simulator ${p.id} progress`, () => clearInterval(timer));
  }
  return { ...file, pbxes };
}

// Yeastar events carry no time of their own (the adapter stamps receive time), so history cannot
// be replayed: the simulated P-Series starts now and runs in real time.
async function startYeastarP(p: Record<string, unknown>, tz: string, o: StartOptions, log: Logger): Promise<void> {
  const { startYeastarPSimulator } = await import('@callboard/simulator/run');
  const { callCentreScenario } = await import('@callboard/simulator/scenarios');
  const now = Date.now();
  const scenario = callCentreScenario({
    tenant: String(p.tenant),
    pbx: String(p.id),
    timezone: tz,
    seed: o.seed + 1,
    from_ms: now,
    to_ms: DateTime.fromMillis(now, { zone: tz }).startOf('day').plus({ days: 2 }).toMillis(),
    first_extension: 2001,
    number_prefix: '07700',
  });
  const secret = randomBytes(18).toString('base64url');
  process.env[String(p.secret_env)] = secret;
  const sim = await startYeastarPSimulator({
    scenario,
    queueNumbers: (p.simulator_queues as Record<string, string> | undefined) ?? { sales: '6400', support: '6401' },
    clientId: String(p.username),
    clientSecret: secret,
    speed: 1,
    log: log.child({ component: 'simulator', pbx: p.id }),
  });
  onShutdown(`simulator ${p.id}`, () => sim.stop());
  p.base_url = sim.base_url;
  delete p.simulator_queues;
}

async function demoTokens(cfg: CallboardConfig, ch: Awaited<ReturnType<typeof createClickHouse>>, tenant: string): Promise<{ board: string; display: string; analyst: string }> {
  const { BoardStore, validateBoard } = await import('@callboard/api/boards');
  const { createToken } = await import('@callboard/api/tokens');
  const queues = cfg.queues.filter((q) => q.tenant === tenant).map((q) => q.queue);
  const board = 'demo';
  const def = validateBoard({
    name: 'Demo floor',
    columns: 12,
    tiles: [
      { id: 'sl', kind: 'KPI', title: 'Service level', x: 0, y: 0, w: 3, h: 2, metric: 'service_level', queues, thresholds: [{ metric: 'service_level', direction: 'BELOW', warn: 0.8, critical: 0.6 }] },
      { id: 'waiting', kind: 'KPI', title: 'Waiting', x: 3, y: 0, w: 3, h: 2, metric: 'waiting', queues },
      { id: 'asa', kind: 'KPI', title: 'ASA', x: 6, y: 0, w: 3, h: 2, metric: 'asa', queues },
      { id: 'abandon', kind: 'KPI', title: 'Abandon rate', x: 9, y: 0, w: 3, h: 2, metric: 'abandon_rate', queues },
      { id: 'queues', kind: 'QUEUE_TABLE', title: 'Queues', x: 0, y: 2, w: 6, h: 4, queues },
      { id: 'agents', kind: 'AGENT_GRID', title: 'Agents', x: 6, y: 2, w: 6, h: 4, queues },
      { id: 'intraday', kind: 'INTRADAY_CHART', title: 'Today', x: 0, y: 6, w: 12, h: 3, metric: 'offered', queues, interval: 'MIN_30' },
    ],
  });
  await new BoardStore(ch).put(tenant, board, def, 1);
  const display = (await createToken(ch, { tenant_id: tenant, role: 'display', board_id: board, label: 'demo display' })).token;
  const analyst = (await createToken(ch, { tenant_id: tenant, role: 'analyst', label: 'demo analyst' })).token;
  return { board, display, analyst };
}

const WALLBOARD = fileURLToPath(new URL('../wallboard', import.meta.url));

/** A fresh clone has no wallboard/dist (it is built, not committed): build it once, here. */
function ensureWallboardBuilt(log: Logger): void {
  const dist = process.env.WALLBOARD_DIST ?? join(WALLBOARD, 'dist');
  if (existsSync(join(dist, 'index.html'))) return;
  log.info({ dist }, 'building the wallboard (first start only)');
  const vite = join(dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin', 'vite.js');
  execFileSync(process.execPath, [vite, 'build', '--logLevel', 'warn', '--outDir', dist, '--emptyOutDir'], { cwd: WALLBOARD, stdio: ['ignore', 'inherit', 'inherit'] });
}

export async function run(argv: string[]): Promise<number> {
  const o = parse(argv);
  if (typeof o === 'string') {
    process.stderr.write(`callboard start: ${o}\nusage: ${USAGE}\n`);
    return 2;
  }
  const started = Date.now();
  const log = createLogger('start', process.env.LOG_LEVEL ?? 'info');
  installSignalHandlers(log);
  const health = new Health();
  ensureWallboardBuilt(log);

  let file: Record<string, unknown> | undefined;
  if (o.simulator) {
    const demo = loadConfigFile(process.env.CALLBOARD_CONFIG ?? DEMO_CONFIG);
    // Bad settings stop start-up before anything is started.
    loadConfig({ file: demo });
    file = await startSimulators(demo, o, log);
  }
  const cfg0 = loadConfig(file ? { file } : {});
  if (!o.simulator && cfg0.pbxes.length === 0) log.warn('--no-simulator and no pbxes in CALLBOARD_CONFIG: nothing will be ingested');

  const { cfg: cfgK, local } = await resolveBrokers(cfg0, log);
  if (local) onShutdown('kafka', () => local.stop());
  const cfg: CallboardConfig = { ...cfgK, port: o.port ?? cfgK.port };
  const kafka = createKafka(cfg, log);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, cfg);
  await admin.disconnect();

  const ch = await createClickHouse(cfg);
  onShutdown('clickhouse', () => ch.close());
  await migrate(ch, allMigrations());
  log.info({ brokers: cfg.kafka.brokers, clickhouse: ch.embedded ? 'embedded' : cfg.clickhouse.url, local_kafka: !!local }, 'platform ready');

  const { startProjections } = await import('@callboard/projections/main');
  const projections = await startProjections({ cfg, log: log.child({ service: 'projections' }), health, ch });
  onShutdown('projections', () => projections.stop());

  const { startApi } = await import('@callboard/api/main');
  const api = await startApi({ cfg, log: log.child({ service: 'api' }), health, ch, port: cfg.port });
  onShutdown('api', () => api.stop());

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  onShutdown('producer', () => producer.disconnect());
  const { startIngest } = await import('@callboard/ingest/main');
  const ingest = await startIngest(cfg, producer, log.child({ service: 'ingest' }), health);
  onShutdown('ingest', () => ingest.stop());

  const tenant = cfg.tenants[0]?.id;
  const lines = [`Callboard is up after ${((Date.now() - started) / 1000).toFixed(1)} s.`];
  if (tenant) {
    const t = await demoTokens(cfg, ch, tenant);
    lines.push(
      `  Wallboard:      ${api.url}/?token=${t.display}&board=${t.board}`,
      `  GraphQL:        ${api.url}/graphql   (Authorization: Bearer <analyst token>)`,
      `  Display token:  ${t.display}   (tenant ${tenant}, board ${t.board})`,
      `  Analyst token:  ${t.analyst}`,
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

// Exported for the e2e test, which drives the same pieces without a terminal.
export { shutdown };

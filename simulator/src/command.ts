// `callboard simulate`: a seeded call-centre day served over AMI on 127.0.0.1 (or written to a
// file with --ami-out), with its ground-truth ledger.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { DateTime, IANAZone } from 'luxon';
import { createLogger, installSignalHandlers, loadConfig, onShutdown, parseOptions, portFlag, portInUse, UsageError } from '@callboard/platform';
import { frameToWire, renderAmi } from './ami-render.ts';
import { RESTART_DOWN_MS, simulate } from './model.ts';
import { startAmiSimulator, writeLedger } from './run.ts';
import { callCentreScenario, dayWindow } from './scenarios.ts';

export const SIM_SECRET_ENV = 'CALLBOARD_SIM_AMI_SECRET';

/** Every option, for the parser and for the test that `--help` lists them all. */
export const options = {
  seed: { type: 'string', default: '1' },
  speed: { type: 'string', default: '1' },
  date: { type: 'string' },
  tenant: { type: 'string', default: 'acme' },
  pbx: { type: 'string', default: 'acme-ami' },
  timezone: { type: 'string', default: 'Africa/Nairobi' },
  volume: { type: 'string', default: '1' },
  port: { type: 'string', default: '5038' },
  ledger: { type: 'string' },
  'ami-out': { type: 'string' },
  ringall: { type: 'boolean', default: false },
  'restart-at': { type: 'string' },
  'crash-at': { type: 'string' },
} as const;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseOptions(argv, options);
  const fail = (m: string): never => {
    throw new UsageError(m);
  };
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) return fail(`--seed ${values.seed}: expected an integer`);
  const speed = values.speed === 'max' ? Infinity : Number(values.speed);
  if (!(speed > 0)) return fail(`--speed ${values.speed}: expected a positive number or "max"`);
  if (!IANAZone.isValidZone(values.timezone!)) return fail(`--timezone ${values.timezone}: not an IANA time zone`);
  const volume = Number(values.volume);
  if (!(volume > 0)) return fail(`--volume ${values.volume}: expected a positive number`);
  const port = portFlag('port', values.port)!;
  // The model has no wall clock; the command picks today's local date only as a default.
  const date = values.date ?? new Date().toISOString().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return fail(`--date ${date}: expected YYYY-MM-DD`);
  const base = callCentreScenario({ tenant: values.tenant!, pbx: values.pbx!, timezone: values.timezone!, seed, volume, ...dayWindow(date, values.timezone!) });
  const localTime = (flag: 'restart-at' | 'crash-at'): number | undefined => {
    const hhmm = values[flag];
    if (hhmm === undefined) return undefined;
    if (!/^\d{2}:\d{2}$/.test(hhmm)) return fail(`--${flag} ${hhmm}: expected HH:MM (local time on --date)`);
    return DateTime.fromISO(`${date}T${hhmm}`, { zone: values.timezone! }).toMillis();
  };
  const restartAt = localTime('restart-at');
  const crashAt = localTime('crash-at');
  const scenario = {
    ...base,
    queues: values.ringall ? base.queues.map((q) => (q.queue === 'sales' ? { ...q, strategy: 'ringall' as const } : q)) : base.queues,
    ...(restartAt !== undefined ? { restarts: [{ at_ms: restartAt }] } : {}),
    // Down as long as a restart: the adapter's reconnect and resync are what is being shown.
    ...(crashAt !== undefined ? { crashes: [{ at_ms: crashAt, down_ms: RESTART_DOWN_MS }] } : {}),
  };

  if (values['ami-out']) {
    const { ledger, actions } = simulate(scenario);
    const frames = renderAmi(ledger, actions);
    writeFileSync(values['ami-out'], `Asterisk Call Manager/11.0.0\r\n` + frames.map((f) => frameToWire(f.headers)).join(''));
    if (values.ledger) writeLedger(values.ledger, ledger);
    process.stderr.write(`wrote ${frames.length} AMI frames (${ledger.calls.length} calls, ${ledger.legs.length} queue legs) to ${values['ami-out']}\n`);
    return 0;
  }

  const cfg = loadConfig();
  const log = createLogger('simulate', cfg.logLevel);
  installSignalHandlers(log);
  let secret = cfg.simulator.amiSecret;
  if (!secret) {
    secret = randomBytes(12).toString('base64url');
    process.stderr.write(`${SIM_SECRET_ENV} not set: AMI secret for user "callboard" is ${secret}\n`);
  }
  const sim = await startAmiSimulator({ scenario, speed, port, username: 'callboard', secret, ledgerPath: values.ledger, log }).catch((e: unknown) => {
    throw portInUse(e, { '--port': port });
  });
  onShutdown('simulator', () => sim.stop());
  process.stderr.write(`AMI on 127.0.0.1:${sim.port} (user callboard); ${sim.ledger.calls.length} calls for ${date} in ${values.timezone}; waiting for a client\n`);
  await sim.done;
  await sim.stop();
  return 0;
}

// `callboard <command>`: each command lives with the folder that owns it and is loaded lazily,
// so `callboard validate` does not pay for Kafka or ClickHouse.
import { classify, EXIT, nearestName } from '@callboard/platform';

import { extraCommands } from './commands.ts';
import type { CommandTable } from '@callboard/platform';

export const COMMANDS: CommandTable = {
  start: {
    summary: 'run the live demo or a production node: Kafka, ClickHouse, simulator, ingest, projections, API and wallboard',
    usage: 'callboard start [--no-simulator] [--history-days N] [--speed X] [--seed N] [--port N]',
    load: () => import('./start.ts'),
  },
  kafka: {
    summary: 'fetch, start, stop or check the local Kafka broker, or a 3-node cluster (KRaft, Maven Central jars)',
    usage: 'callboard kafka start [--brokers 1|3]|stop|status|fetch',
    load: () => import('./kafka.ts'),
  },
  migrate: {
    summary: 'apply ClickHouse migrations (embedded engine unless CLICKHOUSE_URL is set)',
    usage: 'callboard migrate',
    load: () => import('./migrate.ts'),
  },
};

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  const lines = Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(width)}  ${c.summary}`);
  return `Usage: callboard <command> [options] [--debug]\n\nCommands:\n${lines.join('\n')}\n\nRun \`callboard <command> --help\` for a command's options.\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help());
    return EXIT.ok;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    const near = nearestName(name, Object.keys(COMMANDS));
    process.stderr.write(`callboard: unknown command "${name}"${near ? `, did you mean "${near}"?` : ''}\n\n${help()}`);
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`Usage: ${cmd.usage}\n\n${cmd.summary}\n`);
    return EXIT.ok;
  }
  try {
    const mod = await cmd.load();
    return (await mod.run(rest)) ?? EXIT.ok;
  } catch (e) {
    return fail(name, cmd.usage, e);
  }
}

// `--debug` anywhere: the stack trace of a user error too (a bug always shows its stack).
const debug = process.argv.includes('--debug');
const argv = process.argv.slice(2).filter((a) => a !== '--debug');
const running = argv[0] ?? '';

/** The one place an error becomes an exit code: one line, the usage for a usage error. */
function fail(name: string, usage: string, e: unknown): number {
  const f = classify(e);
  process.stderr.write(`callboard ${name}: ${f.message}\n`);
  if (f.usage) process.stderr.write(`usage: ${usage}\n`);
  if (f.internal || debug) process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
  return f.exit;
}

Object.assign(COMMANDS, extraCommands);

main(argv).then(
  (code) => {
    // A failed start may leave handles open (a broker child, a half-open client): do not hang.
    if (code === EXIT.ok) process.exitCode = code;
    else process.exit(code);
  },
  (e: unknown) => process.exit(fail(running, COMMANDS[running]?.usage ?? '', e)),
);

// A long-running command (start, api, ingest, projections) fails after main() has returned a
// promise that never settles, for example when a listener's port is taken: same convention.
for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(event, (e: unknown) => process.exit(fail(running, COMMANDS[running]?.usage ?? '', e)));
}

// `callboard <command>`: each command lives with the folder that owns it and is loaded lazily,
// so `callboard validate` does not pay for Kafka or ClickHouse.
import { ConfigError } from '@callboard/platform';

import { extraCommands } from './commands.ts';
import type { CommandTable } from '@callboard/platform';

export const COMMANDS: CommandTable = {
  start: {
    summary: 'run the live demo or a production node: Kafka, ClickHouse, simulator, ingest, projections, API and wallboard',
    usage: 'callboard start [--no-simulator] [--history-days N] [--speed X]',
    load: () => import('./start.ts'),
  },
  kafka: {
    summary: 'fetch, start, stop or check the local single-node Kafka broker (KRaft, Maven Central jars)',
    usage: 'callboard kafka start|stop|status|fetch',
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
  return `Usage: callboard <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun \`callboard <command> --help\` for a command's options.\n`;
}


async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help());
    return 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(`callboard: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`Usage: ${cmd.usage}\n\n${cmd.summary}\n`);
    return 0;
  }
  const mod = await cmd.load();
  return (await mod.run(rest)) ?? 0;
}

Object.assign(COMMANDS, extraCommands);

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof ConfigError) {
      process.stderr.write(`callboard: ${e.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    process.stderr.write(`callboard: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  },
);

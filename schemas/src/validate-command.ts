// `callboard validate FILE|-`: streams NDJSON canonical events, prints every error with its line
// and JSON path on stdout, a summary on stderr; exit 1 when any event is invalid (a failed check),
// 2 on usage or read errors (thrown as UsageError: cli/main.ts prints it with the usage).
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
// The light subpath: `callboard validate` loads no Kafka or ClickHouse client.
import { parseOptions, UsageError } from '@callboard/platform';
import { checkLine, emptyTally, exitCode, summary } from './validate-report.ts';

export async function run(argv: string[]): Promise<number> {
  const file = parseOptions(argv, {}, { positionals: ['FILE'] }).positionals[0]!;
  const input = file === '-' ? process.stdin : createReadStream(file, { encoding: 'utf8' });
  const tally = emptyTally();
  let lineNo = 0;
  try {
    const rl = createInterface({ input, crlfDelay: Infinity });
    for await (const line of rl) {
      lineNo++;
      const out = checkLine(tally, lineNo, line);
      if (out.length) process.stdout.write(out.join('\n') + '\n');
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new UsageError(`cannot read ${file === '-' ? 'stdin' : file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  }
  process.stderr.write(summary(tally, file === '-' ? 'stdin' : file) + '\n');
  return exitCode(tally);
}

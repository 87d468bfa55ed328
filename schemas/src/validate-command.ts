// `callboard validate FILE|-`: streams NDJSON canonical events, prints every error with its line
// and JSON path on stdout, a summary on stderr; exit 1 when any event is invalid, 2 on usage or
// read errors.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { checkLine, emptyTally, exitCode, summary } from './validate-report.ts';

export async function run(argv: string[]): Promise<number> {
  const [file, ...extra] = argv;
  if (!file || extra.length > 0) {
    process.stderr.write('usage: callboard validate FILE   (NDJSON canonical events; "-" reads stdin)\n');
    return 2;
  }
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
    process.stderr.write(`callboard validate: cannot read ${file === '-' ? 'stdin' : file}: ${(e as Error).message}\n`);
    return 2;
  }
  process.stderr.write(summary(tally, file === '-' ? 'stdin' : file) + '\n');
  return exitCode(tally);
}

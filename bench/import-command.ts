// Helper of import-year.ts, run as its own process under /usr/bin/time: ingest's `import` command
// (ingest/src/import/command.ts, the `run` that `callboard import` calls first: parse, translate,
// validate, produce to cc.events.v1), without the PBX-records step that cli/import.ts adds after
// it (measured on its own by import-records.ts; see docs/BENCHMARKS.md "The PBX-records step").
//   node --import tsx bench/import-command.ts asterisk --queue-log FILE --tenant ID --pbx ID
import { commands } from '@callboard/ingest/import-cli';

const { run } = (await commands.import!.load()) as { run: (argv: string[]) => Promise<number> };
process.exitCode = await run(process.argv.slice(2));

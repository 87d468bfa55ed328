// `callboard import` composed with the projections' store: after `import asterisk` or `import
// yeastar` has written its events, the PBX's own records from the same files are kept in
// ClickHouse (storePbxFiles / storeYeastarCdrFile, the paths `callboard reconcile` takes too), so
// the GraphQL `reconciliation` query and bi_reconciliation answer right after an import. The
// import itself is ingest's (ingest/src/import/command.ts); ingest does not reach ClickHouse.
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { createClickHouse, loadConfig, tenantById, type ClickHouse } from '@callboard/platform';
import { ASTERISK_OPTIONS, YEASTAR_OPTIONS, commands as historyImport } from '@callboard/ingest/import-cli';
import { storePbxFiles, storeYeastarCdrFile } from '@callboard/projections/reconcile';

type Run = (argv: string[]) => Promise<number | void>;

/** The options of `import asterisk` this step needs; everything else is the import's to check. */
function recordsTarget(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    strict: false,
    // The import's own option list (both sources'), so this step reads the arguments as the import did.
    options: { ...ASTERISK_OPTIONS, ...YEASTAR_OPTIONS },
  });
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const upper = str(values['date-order'])?.toUpperCase();
  const order: 'MDY' | 'DMY' | undefined = upper === 'DMY' || upper === 'MDY' ? upper : undefined;
  return {
    queueLog: str(values['queue-log']),
    cdr: str(values.cdr),
    tenant: str(values.tenant),
    pbx: str(values.pbx),
    tz: str(values.tz),
    order,
  };
}

/** Stdin is read twice (events, then records): kept in a file first. Gzip stays gzip; the reader sniffs it. */
async function spoolStdin(): Promise<{ path: string; dispose: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'callboard-import-'));
  const path = join(dir, 'stdin');
  await pipeline(process.stdin, createWriteStream(path));
  return { path, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

export const run = (argv: string[]): Promise<number> => importHistory(argv);

/** `run`, with the ClickHouse to keep the records in given (tests; left open) or opened from the configuration. */
/** Replaces a `-` (stdin) value of `option` in argv by `path`. */
const withFile = (argv: string[], option: string, path: string) =>
  argv.map((a, i) => (a === '-' && argv[i - 1] === option ? path : a === `${option}=-` ? `${option}=${path}` : a));

/** `run`, with the ClickHouse to keep the records in given (tests; left open) or opened from the configuration. */
export async function importHistory(argv: string[], given?: ClickHouse): Promise<number> {
  const ingest: { run: Run } = await historyImport.import!.load();
  const [vendor, ...rest] = argv;
  // --stdout imports to no broker, hence to no ClickHouse; help and usage errors are the import's.
  if ((vendor !== 'asterisk' && vendor !== 'yeastar') || rest.some((a) => a === '--stdout' || a === '--help' || a === '-h')) return (await ingest.run(argv)) ?? 0;
  const t = recordsTarget(rest);
  // The file read twice (events, then records): `--queue-log` of Asterisk, `--cdr` of Yeastar.
  const option = vendor === 'asterisk' ? '--queue-log' : '--cdr';
  let spooled: { path: string; dispose: () => void } | undefined;
  let args = argv;
  if ((vendor === 'asterisk' ? t.queueLog : t.cdr) === '-') {
    spooled = await spoolStdin();
    if (vendor === 'asterisk') t.queueLog = spooled.path;
    else t.cdr = spooled.path;
    args = withFile(argv, option, spooled.path);
  }
  try {
    const code = (await ingest.run(args)) ?? 0;
    if (code !== 0 || !t.tenant || !(vendor === 'asterisk' ? t.queueLog : t.cdr)) return code;
    let stored: string;
    try {
      const cfg = loadConfig();
      const ch = given ?? (await createClickHouse(cfg));
      try {
        if (vendor === 'asterisk') {
          const { legs } = await storePbxFiles(
            ch,
            { tenant_id: t.tenant, pbx_id: t.pbx ?? '', source: 'queue_log' },
            { queueLog: t.queueLog!, ...(t.cdr ? { cdr: t.cdr } : {}), timezone: t.tz ?? 'UTC' },
          );
          stored = `${legs} queue legs`;
        } else {
          // The zone the import read the times in (it refused to run without one).
          const timezone = t.tz ?? tenantById(cfg, t.tenant)!.timezone;
          const { calls } = await storeYeastarCdrFile(
            ch,
            { tenant_id: t.tenant, pbx_id: t.pbx ?? '' },
            { cdr: t.cdr!, timezone, ...(t.order ? { order: t.order } : {}), queues: cfg.queues.filter((q) => q.tenant === t.tenant).map((q) => q.queue) },
          );
          const n = (k: number, what: string) => `${k} ${what}${k === 1 ? '' : 's'}`;
          stored = `${n(calls.filter((c) => c.queue).length, 'queue call')} and ${n(calls.filter((c) => c.agent).length, 'direct call')}`;
        }
      } finally {
        if (!given) await ch.close();
      }
    } catch (e) {
      // The events are in; only the comparison's PBX side is not. `reconcile` stores it later.
      process.stderr.write(
        `PBX records     not stored (${(e as Error).message.split('\n')[0]}): the reconciliation query lacks them until \`callboard reconcile\` runs on these files\n`,
      );
      return 0;
    }
    process.stderr.write(`PBX records     ${stored} kept for the reconciliation query and bi_reconciliation\n`);
    return 0;
  } finally {
    spooled?.dispose();
  }
}

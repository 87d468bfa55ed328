// `callboard board list|export|import`: a board as a JSON file (api/src/boards.ts BoardFile).
// Import validates the file as the GraphQL API does and refuses it (exit 1) when the board was
// edited since the file was exported, unless --force. Works while Callboard runs (through its
// admin endpoint) and when nothing runs.
import { readFileSync, writeFileSync } from 'node:fs';
import { checkTenant, loadConfig, parseOptions, UsageError } from '@callboard/platform';
import { cliError, withOps } from './admin-client.ts';
import { OpError } from './admin-ops.ts';

/** Every option of each action, for the parsers and the test that `--help` lists them all. */
export const options = {
  list: { tenant: { type: 'string' } },
  export: { tenant: { type: 'string' }, board: { type: 'string' }, out: { type: 'string' } },
  import: { tenant: { type: 'string' }, force: { type: 'boolean' } },
} as const;

function failed(action: string, e: OpError): number {
  process.stderr.write(`callboard board ${action}: ${e.message}\n`);
  return 1;
}

/** The file's JSON; an unreadable file is a usage error (2), as for every command that reads one. */
function readBoardFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    throw new UsageError(`cannot read ${path}: ${why}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${path} is not JSON: ${(e as Error).message}`);
  }
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'list' && sub !== 'export' && sub !== 'import') throw new UsageError(sub ? `unknown action "${sub}"` : 'missing action list|export|import');
  const cfg = loadConfig();
  if (sub === 'list') {
    const { values } = parseOptions(rest, options.list, { required: ['tenant'] });
    checkTenant(cfg, values.tenant!);
    return withOps(cfg, async (ops) => {
      const boards = await ops.listBoards(values.tenant!).catch(cliError);
      if (boards instanceof OpError) return failed(sub, boards);
      for (const b of boards) process.stdout.write(`${b.id}  v${b.version}  ${b.tiles} tiles  ${b.updated_at}  ${b.name}\n`);
      return 0;
    });
  }
  if (sub === 'export') {
    const { values } = parseOptions(rest, options.export, { required: ['tenant', 'board'] });
    checkTenant(cfg, values.tenant!);
    return withOps(cfg, async (ops) => {
      const file = await ops.exportBoard(values.tenant!, values.board!).catch(cliError);
      if (file instanceof OpError) return failed(sub, file);
      const json = `${JSON.stringify(file, null, 2)}\n`;
      if (values.out) {
        writeFileSync(values.out, json);
        process.stderr.write(`board ${file.id} of tenant ${values.tenant} at version ${file.version} written to ${values.out}\n`);
      } else process.stdout.write(json);
      return 0;
    });
  }
  const { values, positionals } = parseOptions(rest, options.import, { required: ['tenant'], positionals: ['FILE'] });
  checkTenant(cfg, values.tenant!);
  const path = positionals[0]!;
  const file = readBoardFile(path);
  return withOps(cfg, async (ops) => {
    const r = await ops.importBoard(values.tenant!, file, values.force === true).catch(cliError);
    if (r instanceof OpError) return failed(sub, r);
    process.stderr.write(`board ${r.board.id} of tenant ${values.tenant} ${r.created ? 'created' : 'updated'}: now at version ${r.board.version}\n`);
    return 0;
  });
}

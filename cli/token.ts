// `callboard token create|list|revoke`: a new API token is printed once; only its SHA-256 is
// stored. Works while Callboard runs (through its admin endpoint, admin-client.ts) and when
// nothing runs (ClickHouse opened here).
import { checkTenant, loadConfig, parseOptions, UsageError } from '@callboard/platform';
import { checkNewToken, ROLES, type Role } from '@callboard/api/tokens';
import { cliError, withOps } from './admin-client.ts';
import { OpError } from './admin-ops.ts';

/** Every option of each action, for the parsers and the test that `--help` lists them all. */
export const options = {
  create: { tenant: { type: 'string' }, role: { type: 'string' }, board: { type: 'string' }, label: { type: 'string' } },
  list: { tenant: { type: 'string' } },
  revoke: { tenant: { type: 'string' }, hash: { type: 'string' } },
} as const;

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'list' || sub === 'revoke') return manage(sub, rest);
  if (sub !== 'create') throw new UsageError(sub ? `unknown action "${sub}"` : 'missing action create|list|revoke');
  const { values } = parseOptions(rest, options.create, { required: ['tenant', 'role'] });
  const role = values.role!.toLowerCase() as Role;
  const bad = checkNewToken({ tenant_id: values.tenant!, role, board_id: values.board ?? null });
  if (bad) throw new UsageError(`${bad} (roles: ${ROLES.join(', ')})`);
  const cfg = loadConfig();
  checkTenant(cfg, values.tenant!);
  return withOps(cfg, async (ops) => {
    const created = await ops.createToken({ tenant: values.tenant!, role, board: values.board ?? null, label: values.label ?? '' }).catch(cliError);
    if (created instanceof OpError) return failed('create', created.message);
    process.stderr.write(`token for tenant ${values.tenant}, role ${role}${values.board ? `, board ${values.board}` : ''} (shown once; only its SHA-256 is stored):\n`);
    process.stdout.write(`${created.token}\n`);
    return 0;
  });
}

function failed(action: string, message: string): number {
  process.stderr.write(`callboard token ${action}: ${message}\n`);
  return 1;
}

async function manage(sub: 'list' | 'revoke', argv: string[]): Promise<number> {
  const { values } = sub === 'list' ? parseOptions(argv, options.list, { required: ['tenant'] }) : parseOptions(argv, options.revoke, { required: ['tenant', 'hash'] });
  const cfg = loadConfig();
  checkTenant(cfg, values.tenant!);
  return withOps(cfg, async (ops, via) => {
    if (sub === 'list') {
      const list = await ops.listTokens(values.tenant!).catch(cliError);
      if (list instanceof OpError) return failed('list', list.message);
      for (const t of list) {
        process.stdout.write(`${t.token_hash.slice(0, 16)}  ${t.role.padEnd(10)}  ${t.board_id || '-'}  ${t.created_at}  ${t.label}\n`);
      }
      return 0;
    }
    const t = await ops.revokeToken(values.tenant!, (values as { hash?: string }).hash!).catch(cliError);
    if (t instanceof OpError) return failed('revoke', t.message);
    // The running process forgets a revoked token at once; another API instance within its cache's 30 s.
    const when = via === 'admin endpoint' ? 'the running API refuses it from now on; other API instances within 30 s' : 'API instances stop accepting it within 30 s';
    process.stderr.write(`revoked ${t.role} token ${t.token_hash.slice(0, 16)}… of tenant ${t.tenant_id} (${when})\n`);
    return 0;
  });
}

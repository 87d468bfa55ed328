// `callboard token create`: prints a new API token once; only its SHA-256 is stored.
import { checkTenant, createClickHouse, loadConfig, parseOptions, UsageError } from '@callboard/platform';
import { checkNewToken, createToken, listTokens, revokeToken, ROLES, type Role } from '@callboard/api/tokens';
import { migrateAll } from './migrations.ts';

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
  const ch = await createClickHouse(cfg);
  try {
    await migrateAll(ch);
    const { token } = await createToken(ch, { tenant_id: values.tenant!, role, board_id: values.board ?? null, label: values.label ?? '' });
    process.stderr.write(`token for tenant ${values.tenant}, role ${role}${values.board ? `, board ${values.board}` : ''} (shown once; only its SHA-256 is stored):\n`);
    process.stdout.write(`${token}\n`);
  } finally {
    await ch.close();
  }
  return 0;
}

async function manage(sub: 'list' | 'revoke', argv: string[]): Promise<number> {
  const { values } = sub === 'list' ? parseOptions(argv, options.list, { required: ['tenant'] }) : parseOptions(argv, options.revoke, { required: ['tenant', 'hash'] });
  const cfg = loadConfig();
  checkTenant(cfg, values.tenant!);
  const ch = await createClickHouse(cfg);
  try {
    await migrateAll(ch);
    if (sub === 'list') {
      for (const t of await listTokens(ch, values.tenant!)) {
        process.stdout.write(`${t.token_hash.slice(0, 16)}  ${t.role.padEnd(10)}  ${t.board_id || '-'}  ${t.created_at}  ${t.label}\n`);
      }
    } else {
      const t = await revokeToken(ch, values.tenant!, (values as { hash?: string }).hash!.toLowerCase()).catch((e: Error) => {
        process.stderr.write(`callboard token revoke: ${e.message}\n`);
        return null;
      });
      if (!t) return 1;
      process.stderr.write(`revoked ${t.role} token ${t.token_hash.slice(0, 16)}… of tenant ${t.tenant_id} (API instances stop accepting it within 30 s)\n`);
    }
  } finally {
    await ch.close();
  }
  return 0;
}

// `callboard token create`: prints a new API token once; only its SHA-256 is stored.
import { parseArgs } from 'node:util';
import { ConfigError, createClickHouse, loadConfig, tenantById } from '@callboard/platform';
import { migrateAll } from './migrations.ts';
import { checkNewToken, createToken, listTokens, revokeToken, ROLES, type Role } from '@callboard/api/tokens';

const USAGE = `usage: callboard token create --tenant ID --role admin|analyst|supervisor|display [--board ID] [--label TEXT]
       callboard token list --tenant ID
       callboard token revoke --tenant ID --hash SHA256-PREFIX`;

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'list' || sub === 'revoke') return manage(sub, rest);
  if (sub !== 'create') {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const { values } = parseArgs({ args: rest, options: { tenant: { type: 'string' }, role: { type: 'string' }, board: { type: 'string' }, label: { type: 'string' } } });
  if (!values.tenant || !values.role) {
    process.stderr.write(`callboard token create: --tenant and --role are required\n${USAGE}\n`);
    return 2;
  }
  const role = values.role.toLowerCase() as Role;
  const bad = checkNewToken({ tenant_id: values.tenant, role, board_id: values.board ?? null });
  if (bad) {
    process.stderr.write(`callboard token create: ${bad} (roles: ${ROLES.join(', ')})\n`);
    return 2;
  }
  const cfg = loadConfig();
  if (cfg.tenants.length && !tenantById(cfg, values.tenant)) {
    throw new ConfigError('--tenant', values.tenant, `one of the configured tenants (${cfg.tenants.map((t) => t.id).join(', ')})`);
  }
  const ch = await createClickHouse(cfg);
  try {
    await migrateAll(ch);
    const { token } = await createToken(ch, { tenant_id: values.tenant, role, board_id: values.board ?? null, label: values.label ?? '' });
    process.stderr.write(`token for tenant ${values.tenant}, role ${role}${values.board ? `, board ${values.board}` : ''} (shown once; only its SHA-256 is stored):\n`);
    process.stdout.write(`${token}\n`);
  } finally {
    await ch.close();
  }
  return 0;
}

async function manage(sub: 'list' | 'revoke', argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { tenant: { type: 'string' }, hash: { type: 'string' } } });
  if (!values.tenant || (sub === 'revoke' && !values.hash)) {
    process.stderr.write(`callboard token ${sub}: --tenant${sub === 'revoke' ? ' and --hash are' : ' is'} required\n${USAGE}\n`);
    return 2;
  }
  const ch = await createClickHouse(loadConfig());
  try {
    await migrateAll(ch);
    if (sub === 'list') {
      for (const t of await listTokens(ch, values.tenant)) {
        process.stdout.write(`${t.token_hash.slice(0, 16)}  ${t.role.padEnd(10)}  ${t.board_id || '-'}  ${t.created_at}  ${t.label}\n`);
      }
    } else {
      const t = await revokeToken(ch, values.tenant, values.hash!.toLowerCase()).catch((e: Error) => {
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

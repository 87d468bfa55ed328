// Read-only BI access on a ClickHouse server: one user per tenant, allowed to SELECT the bi_*
// views and the tables under them, with a row policy per table that shows only its tenant's
// rows (views run with the reader's rights, so the policies apply through them). The embedded
// engine has no users, so this runs only when CLICKHOUSE_URL is set. Passwords come from the
// environment (CALLBOARD_BI_PASSWORD_<TENANT>), never from a file in the repository.
import { biPasswordEnv, type CallboardConfig, type ClickHouse, type Logger } from '@callboard/platform';

/**
 * A string literal for DDL. CREATE USER and CREATE ROW POLICY take no query parameters, so this
 * is the one place projections quote a value into SQL; nothing that reads data uses it.
 */
const ddlString = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export const BI_VIEWS = ['bi_calls', 'bi_queue_legs', 'bi_agent_intervals', 'bi_queue_15m', 'bi_queue_daily', 'bi_gaps', 'bi_business_hours', 'bi_queue_legs_hours', 'bi_reconciliation'] as const;
/** The tables the views read, where the row policies sit. */
export const BI_TABLES = ['calls', 'queue_legs', 'agent_intervals', 'queue_15m', 'source_gaps', 'business_hours', 'pbx_queue_legs'] as const;

export const biUser = (tenant: string) => `callboard_bi_${tenant.replace(/[^A-Za-z0-9_]/g, '_')}`;

/** The statements, in order; pure so that they can be reviewed and tested without a server. */
export function biAccessStatements(db: string, serviceUser: string, tenants: { id: string; password: string }[]): string[] {
  const out: string[] = [];
  for (const t of BI_TABLES) {
    // Once a table has a row policy, users without one see nothing: keep the service user whole.
    out.push(`CREATE ROW POLICY IF NOT EXISTS callboard_service ON ${db}.${t} FOR SELECT USING 1 TO ${serviceUser}`);
  }
  for (const { id, password } of tenants) {
    const user = biUser(id);
    out.push(`CREATE USER IF NOT EXISTS ${user} IDENTIFIED WITH sha256_password BY ${ddlString(password)} SETTINGS readonly = 1`);
    out.push(`ALTER USER ${user} IDENTIFIED WITH sha256_password BY ${ddlString(password)}`);
    for (const v of [...BI_VIEWS, ...BI_TABLES]) out.push(`GRANT SELECT ON ${db}.${v} TO ${user}`);
    for (const t of BI_TABLES) {
      out.push(`CREATE ROW POLICY OR REPLACE tenant_${user} ON ${db}.${t} FOR SELECT USING tenant_id = ${ddlString(id)} TO ${user}`);
    }
  }
  return out;
}

/** Sets up BI users for every configured tenant whose BI password is configured (checked by the config module). */
export async function setupBiAccess(ch: ClickHouse, cfg: Pick<CallboardConfig, 'tenants' | 'clickhouse' | 'projections'>, log?: Logger): Promise<string[]> {
  if (ch.embedded) return [];
  const tenants: { id: string; password: string }[] = [];
  for (const t of cfg.tenants) {
    const password = cfg.projections.biPasswords[t.id];
    if (!password) {
      log?.info({ tenant: t.id, env: biPasswordEnv(t.id) }, 'no BI password in the environment: no BI user for this tenant');
      continue;
    }
    tenants.push({ id: t.id, password });
  }
  for (const stmt of biAccessStatements(ch.db, cfg.clickhouse.username, tenants)) await ch.client.command({ query: stmt });
  const users = tenants.map((t) => biUser(t.id));
  if (users.length) log?.info({ users }, 'BI users and row policies set up');
  return users;
}

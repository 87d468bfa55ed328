// The operator's actions (`callboard token`, `callboard board`, `callboard rebuild`) as one
// interface with two ways to reach ClickHouse: `directOps` opens it in this process, and the
// admin endpoint (admin-server.ts) runs the same `directOps` inside the process that holds the
// embedded engine, which `remoteOps` (admin-client.ts) calls. So both paths check and do the
// same thing, and an error is the same typed ApiError on either side.
import { tenantById, type CallboardConfig, type ClickHouse, type Logger } from '@callboard/platform';
import { BoardStore, exportBoard, importBoard, type BoardFile, type ImportedBoard } from '@callboard/api/boards';
import { checkLabel, checkNewToken, createToken, listTokens, revokeToken, ROLES, type Role, type TokenInfo } from '@callboard/api/tokens';
import type { RebuildStats } from '@callboard/projections/rebuild';

/** What can go wrong, each with the HTTP status the admin endpoint answers with. */
export const OP_STATUS = {
  BAD_INPUT: 400,
  UNKNOWN_TENANT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  UNAVAILABLE: 503,
} as const;
export type OpCode = keyof typeof OP_STATUS;

export class OpError extends Error {
  constructor(
    readonly code: OpCode,
    message: string,
  ) {
    super(message);
    this.name = 'OpError';
  }
}

/** The API's typed errors (validateBoard's BAD_INPUT, importBoard's CONFLICT) as an OpError. */
export function asOpError(e: unknown): OpError | null {
  if (e instanceof OpError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code in OP_STATUS && e instanceof Error ? new OpError(code as OpCode, e.message) : null;
}

export interface NewTokenRequest {
  tenant: string;
  role: string;
  board?: string | null;
  label?: string;
}

export interface BoardSummary {
  id: string;
  name: string;
  version: number;
  tiles: number;
  updated_at: string;
}

export interface AdminOps {
  createToken(t: NewTokenRequest): Promise<{ token: string; token_hash: string }>;
  listTokens(tenant: string): Promise<TokenInfo[]>;
  revokeToken(tenant: string, hashPrefix: string): Promise<TokenInfo>;
  listBoards(tenant: string): Promise<BoardSummary[]>;
  exportBoard(tenant: string, id: string): Promise<BoardFile>;
  importBoard(tenant: string, file: unknown, force: boolean): Promise<ImportedBoard>;
  rebuild(): Promise<RebuildStats>;
}

/** A tenant the configuration in use does not have is refused (when it has tenants at all). */
export function checkOpsTenant(cfg: Pick<CallboardConfig, 'tenants'>, tenant: string): void {
  if (typeof tenant !== 'string' || !tenant) throw new OpError('BAD_INPUT', 'give a tenant');
  if (cfg.tenants.length && !tenantById(cfg, tenant)) {
    throw new OpError('UNKNOWN_TENANT', `--tenant ${tenant}: unknown tenant (configured tenants: ${cfg.tenants.map((t) => t.id).join(', ')})`);
  }
}

/** The actions against an open, migrated ClickHouse. */
export function directOps(ch: ClickHouse, cfg: Pick<CallboardConfig, 'tenants'>, log?: Logger): AdminOps {
  const boards = new BoardStore(ch);
  return {
    async createToken(t) {
      checkOpsTenant(cfg, t.tenant);
      const role = String(t.role).toLowerCase() as Role;
      const board_id = t.board ?? null;
      const bad = checkNewToken({ tenant_id: t.tenant, role, board_id }) ?? checkLabel(t.label ?? '');
      if (bad) throw new OpError('BAD_INPUT', ROLES.includes(role) ? bad : `${bad} (roles: ${ROLES.join(', ')})`);
      // A display token for a board the tenant does not have would show nothing, forever.
      if (board_id && !(await boards.get(t.tenant, board_id)))
        throw new OpError('NOT_FOUND', `tenant ${t.tenant} has no board ${JSON.stringify(board_id)} (\`callboard board list --tenant ${t.tenant}\`)`);
      return createToken(ch, { tenant_id: t.tenant, role, board_id, label: t.label ?? '' });
    },
    async listTokens(tenant) {
      checkOpsTenant(cfg, tenant);
      return listTokens(ch, tenant);
    },
    async revokeToken(tenant, hashPrefix) {
      checkOpsTenant(cfg, tenant);
      try {
        return await revokeToken(ch, tenant, String(hashPrefix).toLowerCase());
      } catch (e) {
        // revokeToken's own refusals (too short, no match, ambiguous) are plain Errors.
        throw new OpError('NOT_FOUND', (e as Error).message);
      }
    },
    async listBoards(tenant) {
      checkOpsTenant(cfg, tenant);
      return (await boards.list(tenant)).map((b) => ({ id: b.id, name: b.name, version: b.version, tiles: b.tiles.length, updated_at: b.updated_at }));
    },
    async exportBoard(tenant, id) {
      checkOpsTenant(cfg, tenant);
      const b = await boards.get(tenant, id);
      if (!b) throw new OpError('NOT_FOUND', `tenant ${tenant} has no board ${JSON.stringify(id)} (\`callboard board list --tenant ${tenant}\`)`);
      return exportBoard(b);
    },
    async importBoard(tenant, file, force) {
      checkOpsTenant(cfg, tenant);
      return importBoard(ch, tenant, file, { force: force === true }).catch((e: unknown) => {
        throw asOpError(e) ?? e;
      });
    },
    async rebuild() {
      const { rebuild } = await import('@callboard/projections/rebuild');
      return rebuild(ch, log);
    },
  };
}

// API tokens: 32 random bytes, shown once; only the SHA-256 is stored. Each token is bound to
// one tenant and one role; a display token also to one board.
import { createHash, randomBytes } from 'node:crypto';
import type { ClickHouse } from '@callboard/platform';
import { wellFormed } from './cost.ts';

export const ROLES = ['admin', 'analyst', 'supervisor', 'display'] as const;
export type Role = (typeof ROLES)[number];

export interface Auth {
  tenant_id: string;
  role: Role;
  board_id: string | null;
  label: string;
  token_hash: string;
}

export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

export function generateToken(): string {
  return `cb_${randomBytes(32).toString('base64url')}`;
}

export interface NewToken {
  tenant_id: string;
  role: Role;
  board_id?: string | null;
  label?: string;
}

export function checkNewToken(t: NewToken): string | null {
  if (!ROLES.includes(t.role)) return `role ${JSON.stringify(t.role)} is not one of ${ROLES.join(', ')}`;
  if (t.role === 'display' && !t.board_id) return 'a display token reads exactly one board: give --board ID';
  if (t.role !== 'display' && t.board_id) return `only display tokens are bound to a board (role is ${t.role})`;
  return null;
}

/** Characters a token's label may have: it names the token in `token list`, nothing longer. */
export const MAX_LABEL = 200;

/** Why `label` cannot be stored, or null: too long, not well-formed Unicode, or with control characters. */
export function checkLabel(label: string): string | null {
  if (label.length > MAX_LABEL) return `the label is ${label.length} characters long; at most ${MAX_LABEL} are accepted`;
  if (!wellFormed(label)) return 'the label contains a lone UTF-16 surrogate: send well-formed Unicode text';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(label)) return 'the label contains control characters (newlines, tabs, escapes): use plain text';
  return null;
}

/** Stores a new token and returns it; the token itself is not kept anywhere. */
export async function createToken(ch: ClickHouse, t: NewToken): Promise<{ token: string; token_hash: string }> {
  const bad = checkNewToken(t) ?? checkLabel(t.label ?? '');
  if (bad) throw new Error(bad);
  const token = generateToken();
  const token_hash = hashToken(token);
  await ch.client.insert({
    table: `${ch.db}.api_tokens`,
    values: [{ token_hash, tenant_id: t.tenant_id, role: t.role, board_id: t.board_id ?? '', label: t.label ?? '' }],
    format: 'JSONEachRow',
  });
  return { token, token_hash };
}

// Hashes revoked by this process (`callboard token revoke` through the admin endpoint runs in
// the process that serves the API): every TokenStore here drops its cached grant at once, so
// the revoked token is refused on its next request instead of up to the cache's TTL later.
const revokedHere = new Set<string>();

/** Looks tokens up by hash, with a short cache so a busy client does not query ClickHouse per request. */
export class TokenStore {
  private readonly cache = new Map<string, { auth: Auth | null; until: number }>();
  constructor(
    private readonly ch: ClickHouse,
    private readonly ttlMs = 30_000,
  ) {}

  async authenticate(token: string): Promise<Auth | null> {
    if (!/^cb_[A-Za-z0-9_-]{20,100}$/.test(token)) return null;
    const hash = hashToken(token);
    const now = Date.now();
    const hit = this.cache.get(hash);
    if (hit && hit.until > now && !(hit.auth && revokedHere.has(hash))) return hit.auth;
    const rs = await this.ch.client.query({
      query: `SELECT tenant_id, role, board_id, label, revoked FROM ${this.ch.db}.api_tokens FINAL WHERE token_hash = {h:String} LIMIT 1`,
      query_params: { h: hash },
      format: 'JSONEachRow',
    });
    const row = (await rs.json<{ tenant_id: string; role: Role; board_id: string; label: string; revoked: number }>())[0];
    const auth = row && !Number(row.revoked) && ROLES.includes(row.role) ? { tenant_id: row.tenant_id, role: row.role, board_id: row.board_id || null, label: row.label, token_hash: hash } : null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(hash, { auth, until: now + (auth ? this.ttlMs : 2_000) });
    return auth;
  }
}

/** `Authorization: Bearer <token>` (or a bare token, as graphql-ws connectionParams may send). */
export function bearer(header: unknown): string | null {
  if (typeof header !== 'string') return null;
  const m = /^\s*(?:Bearer\s+)?(\S+)\s*$/i.exec(header);
  return m ? m[1]! : null;
}

export interface TokenInfo {
  token_hash: string;
  tenant_id: string;
  role: Role;
  board_id: string;
  label: string;
  created_at: string;
}

/** Live (not revoked) tokens of a tenant, newest first; only hashes, never tokens. */
export async function listTokens(ch: ClickHouse, tenant: string): Promise<TokenInfo[]> {
  const rs = await ch.client.query({
    query: `SELECT token_hash, tenant_id, role, board_id, label, created_at FROM ${ch.db}.api_tokens FINAL WHERE tenant_id = {t:String} AND revoked = 0 ORDER BY created_at DESC`,
    query_params: { t: tenant },
    format: 'JSONEachRow',
  });
  return rs.json<TokenInfo>();
}

/** Revokes the tenant's token whose hash starts with `hashPrefix` (at least 8 hex digits, unique). */
export async function revokeToken(ch: ClickHouse, tenant: string, hashPrefix: string): Promise<TokenInfo> {
  if (!/^[0-9a-f]{8,64}$/.test(hashPrefix)) throw new Error(`give at least 8 hex digits of the token's SHA-256 (from \`callboard token list\`), not ${JSON.stringify(hashPrefix)}`);
  const matches = (await listTokens(ch, tenant)).filter((t) => t.token_hash.startsWith(hashPrefix));
  if (matches.length !== 1) throw new Error(matches.length ? `${matches.length} tokens of tenant ${tenant} start with ${hashPrefix}: give more digits` : `no live token of tenant ${tenant} starts with ${hashPrefix}`);
  const t = matches[0]!;
  await ch.client.insert({
    table: `${ch.db}.api_tokens`,
    values: [{ token_hash: t.token_hash, tenant_id: t.tenant_id, role: t.role, board_id: t.board_id, label: t.label, created_at: t.created_at.replace('T', ' ').replace('Z', ''), revoked: 1 }],
    format: 'JSONEachRow',
  });
  revokedHere.add(t.token_hash);
  return t;
}

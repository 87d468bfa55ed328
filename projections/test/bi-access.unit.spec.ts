import { describe, expect, it } from 'vitest';
import { biPasswordEnv } from '@callboard/platform';
import { BI_TABLES, biAccessStatements, biUser } from '../src/bi-access.ts';

describe('BI access statements', () => {
  it('one read-only user per tenant, a tenant row policy on every table under the views, the service user kept whole', () => {
    const s = biAccessStatements('callboard', 'default', [{ id: 'acme', password: "pa'ss-word-123" }]);
    expect(s.filter((x) => x.includes('callboard_service'))).toHaveLength(BI_TABLES.length);
    expect(s).toContain("CREATE USER IF NOT EXISTS callboard_bi_acme IDENTIFIED WITH sha256_password BY 'pa\\'ss-word-123' SETTINGS readonly = 1");
    for (const t of BI_TABLES) expect(s).toContain(`CREATE ROW POLICY OR REPLACE tenant_callboard_bi_acme ON callboard.${t} FOR SELECT USING tenant_id = 'acme' TO callboard_bi_acme`);
    expect(s.some((x) => /GRANT (ALL|INSERT)/.test(x))).toBe(false);
    expect([biUser('acme-ke'), biPasswordEnv('acme-ke')]).toEqual(['callboard_bi_acme_ke', 'CALLBOARD_BI_PASSWORD_ACME_KE']);
  });
});

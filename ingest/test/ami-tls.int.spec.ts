// The AMI client over TLS: a test AMI endpoint with a certificate made for the test; the
// adapter logs in and its frames reach the sink when it trusts the CA, and it refuses (health
// degraded, with the reason) when it does not.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@callboard/platform';
import type { CanonicalEvent, RawRecord, RawRef } from '@callboard/schemas';
import { AmiAdapter } from '../src/ami/adapter.ts';
import { eventually } from '../../test/helpers.ts';
import { startTestAmiServer, type TestAmiServer } from './ami-test-server.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CAPTURE = join(repoRoot, '..', 'shared', 'fixtures', 'ami', 'asterisk22', 'b_abandon', 'capture.ami');
const openssl = (() => {
  try {
    execFileSync('openssl', ['version']);
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!existsSync(CAPTURE) || !openssl)('AMI over TLS (needs ../shared/fixtures and openssl)', () => {
  let server: TestAmiServer;
  let cert: string;
  const adapters: AmiAdapter[] = [];

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ami-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    server = await startTestAmiServer(CAPTURE, { username: 'cb', secret: 'pw', tls: { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert } });
  });
  afterAll(async () => {
    for (const a of adapters) await a.stop();
    await server?.close();
  });

  function adapter(ca: string | undefined) {
    const raw: RawRecord[] = [];
    const events: CanonicalEvent[] = [];
    const health: { status: string; detail?: string }[] = [];
    const sink = {
      raw: async (r: RawRecord[]): Promise<RawRef[]> => {
        raw.push(...r);
        return r.map((x) => ({ topic: 'mem', connection: x.connection, seq: x.seq }));
      },
      canonical: async (e: CanonicalEvent[]) => void events.push(...e),
      dlq: async () => {},
    };
    const a = new AmiAdapter({
      tenant_id: 't',
      pbx_id: 'tls1',
      sink,
      log: createLogger('ami-tls', 'silent'),
      client: { host: '127.0.0.1', port: server.port, tls: true, ...(ca ? { ca } : {}), username: 'cb', secret: () => 'pw', backoffInitialMs: 200 },
      onHealth: (status, detail) => health.push({ status, detail }),
    }).start();
    adapters.push(a);
    return { raw, events, health };
  }

  it('connects, logs in and translates over TLS when the CA is trusted', async () => {
    const { raw, events, health } = adapter(cert);
    await eventually(() => (events.filter((e) => e.type === 'call.abandoned').length === 3 ? true : undefined), 30_000, 'three abandons over TLS');
    expect(raw[0]!.body).toBe('Asterisk Call Manager/11.0.0\r\n');
    expect(health.some((h) => h.status === 'ok')).toBe(true);
  });

  it('refuses a certificate it cannot verify, and says why', async () => {
    const { raw, health } = adapter(undefined);
    const h = await eventually(() => health.find((x) => x.status === 'degraded'), 20_000, 'degraded health');
    expect(h.detail).toMatch(/certificate/i);
    expect(raw).toHaveLength(0);
  });
});

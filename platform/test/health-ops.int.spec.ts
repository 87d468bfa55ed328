// The ops listener over a real socket: whatever a client sends (broken percent-encoding, absurd
// paths, malformed headers, bad framing, other methods), it answers or closes that one
// connection and keeps serving everyone else.
import { connect } from 'node:net';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Health, startOpsServer } from '../src/health.ts';

/** Sends raw bytes, resolves with everything the server wrote before it closed (or 5 s passed). */
function rawRequest(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => {
      s.destroy();
      resolve(got);
    }, 5000);
    s.on('data', (d) => (got += d.toString('latin1')));
    s.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(e)));
    s.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
    s.write(bytes, 'latin1');
  });
}

const statusOf = (reply: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? 0);

describe('ops listener', () => {
  let server: Server;
  let port = 0;
  const health = new Health();

  beforeAll(async () => {
    health.set('kafka', 'ok');
    server = await startOpsServer(health, 0);
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('listens on 127.0.0.1 unless told otherwise', () => {
    expect((server.address() as AddressInfo).address).toBe('127.0.0.1');
  });

  it.each([
    ['broken percent-encoding', 'GET /%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 404],
    ['a lone percent', 'GET /readyz% HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 404],
    ['an absolute-form URL', 'GET http://evil.example/healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 404],
    ['an asterisk target', 'OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 405],
    ['a 64 KB path', `GET /${'a'.repeat(65_536)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, 431],
    ['a query string with a token', 'GET /healthz?token=cb_secret&%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 200],
    ['a header without a colon', 'GET /healthz HTTP/1.1\r\nHost: x\r\nthis is not a header\r\n\r\n', 400],
    ['a control character in a header value', 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\u0001b\r\n\r\n', 400],
    ['a bad Content-Length', 'POST /readyz HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n', 400],
    ['a POST with a chunked body of garbage', 'POST /readyz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n', 405],
    ['not HTTP at all', '\u0000\u0001\u0002garbage\r\n\r\n', 400],
    ['a POST to /metrics', 'POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n', 405],
  ].map(([what, bytes, status]) => ({ what, bytes: bytes as string, status: status as number })))('$what: answered $status, and the listener keeps serving', async ({ bytes, status }) => {
    expect(statusOf(await rawRequest(port, bytes))).toBe(status);
    const r = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(r.status).toBe(200);
  });

  it('serves /healthz, /readyz and /metrics; anything else is 404', async () => {
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).headers.get('content-type')).toMatch(/^text\/plain/);
    expect((await fetch(`http://127.0.0.1:${port}/graphql`)).status).toBe(404);
  });

  it('a port in use is a configuration error naming the setting', async () => {
    await expect(startOpsServer(health, port, { setting: 'INGEST_OPS_PORT' })).rejects.toThrow(/^invalid configuration: INGEST_OPS_PORT=\d+: expected a free TCP port \(127\.0\.0\.1:\d+ is in use by another process\)$/);
  });

  it('binds where configured', async () => {
    const other = await startOpsServer(health, 0, { host: '127.0.0.2' });
    try {
      expect((other.address() as AddressInfo).address).toBe('127.0.0.2');
    } finally {
      await new Promise<void>((r) => other.close(() => r()));
    }
  });
});

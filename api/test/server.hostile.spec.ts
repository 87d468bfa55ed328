// Hostile input against the API's HTTP and WebSocket server on 127.0.0.1 (docs/hostile.md), on
// the real broker and the embedded ClickHouse: malformed paths, headers and bodies are 4xx and
// the server keeps serving; bodies and WebSocket messages are bounded before they are read;
// tokens in query strings never reach the log; a bad graphql-ws operation errors that operation
// only. (GraphQL cost and depth limits are tested with api/src/limits.ts.)
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'graphql-ws';
import { Writable } from 'node:stream';
import pino from 'pino';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse, Health, migrate, type CallboardConfig, type ClickHouse } from '@callboard/platform';
import { allMigrations } from '../../cli/migrations.ts';
import { eventually, testConfig } from '../../test/helpers.ts';
import { rawHttp } from '../../test/raw-http.ts';
import { startApi, type RunningApi } from '../src/main.ts';
import { createToken } from '../src/tokens.ts';
import { gql, wsSubscribe } from './client.ts';

const MAX = 64 * 1024;
let cfg: CallboardConfig;
let ch: ClickHouse;
let api: RunningApi;
let token = '';
let port = 0;
const logLines: string[] = [];

const alive = async () => expect((await gql(api.url, token, '{ me { tenant_id } }')).status).toBe(200);

beforeAll(async () => {
  cfg = testConfig({ tenants: [{ id: 'acme', timezone: 'Africa/Nairobi' }] });
  ch = await createClickHouse(cfg);
  await migrate(ch, allMigrations());
  const log = pino({ level: 'debug' }, new Writable({ write: (chunk: Buffer, _enc, done) => (logLines.push(chunk.toString()), done()) }));
  // A built wallboard, so that paths reach the static file handler (and its percent-decoding).
  const dist = mkdtempSync(join(tmpdir(), 'cb-wallboard-'));
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>wallboard</title>');
  api = await startApi({ cfg, log, health: new Health(), ch, port: 0, host: '127.0.0.1', settings: { maxRequestBytes: MAX, wallboardDist: dist } });
  port = Number(new URL(api.url).port);
  await eventually(async () => ((await fetch(`${api.url}/readyz`)).status === 200 ? true : undefined), 60_000, 'API ready');
  token = (await createToken(ch, { tenant_id: 'acme', role: 'analyst' })).token;
});

afterAll(async () => {
  await api?.stop();
  await ch?.close();
});

describe('broken encodings: paths, headers, bodies', () => {
  it.each(['/%E0%A4%A', '/board/%', '/%ED%A0%80', '/graphql/%zz'])('GET %s?token=… → 400, the token is not logged, the server keeps serving', async (path) => {
    const secret = `cb_display_${Math.random().toString(36).slice(2)}`;
    const res = await fetch(`${api.url}${path}?token=${secret}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('BAD_INPUT');
    await eventually(() => (logLines.some((l) => l.includes('malformed request path')) ? true : undefined), 5_000, 'the log line');
    expect(logLines.join('')).not.toContain(secret);
    await alive();
  });

  it('malformed request lines and headers are refused by the HTTP parser, never reaching the handler', async () => {
    expect(await rawHttp(port, 'GET /%%% HTTP/1.1\r\nHost: a\r\nBad Header Line\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect(await rawHttp(port, `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'h'.repeat(20_000)}\r\n\r\n`)).toMatch(/^HTTP\/1\.1 431/);
    expect(await rawHttp(port, 'POST /graphql HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 9\r\n\r\n12345')).toMatch(/^HTTP\/1\.1 400/);
    await alive();
  });

  it.each([
    ['not JSON', 'not json {'],
    ['a JSON bomb: 50k nested arrays', '['.repeat(50_000) + ']'.repeat(50_000)],
    ['a lone surrogate in the query', '{"query":"{ me { tenant_id } } #\\ud800"}'],
    ['an array of operations', '[{"query":"{ me { tenant_id } }"}]'],
  ])('a body that is %s is a 4xx', async (_what, body) => {
    const res = await fetch(`${api.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body });
    expect(res.status === 200 || (res.status >= 400 && res.status < 500)).toBe(true);
    if (res.status === 200) expect(((await res.json()) as { errors?: unknown[] }).errors).toBeDefined();
    await alive();
  });
});

describe('bombs: bodies and WebSocket messages are bounded before they are read', () => {
  it(`a body over ${MAX} bytes is 413 before it is read, even unauthenticated`, async () => {
    const res = await fetch(`${api.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: `{ ${'__typename '.repeat(20_000)} }` }) });
    expect(res.status).toBe(413);
    await alive();
  });

  it('a chunked body without Content-Length is 411', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const rq = request({ host: '127.0.0.1', port, path: '/graphql', method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked', authorization: `Bearer ${token}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      rq.on('error', reject);
      rq.write('{"query":');
      rq.end('"{ me { tenant_id } }"}');
    });
    expect(status).toBe(411);
  });

  it('a WebSocket message over the limit closes that socket (1009) before it is authenticated or parsed', async () => {
    const ws = new WebSocket(`${api.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const code = await new Promise<number>((resolve) => {
      ws.once('close', (c) => resolve(c));
      ws.send(JSON.stringify({ type: 'connection_init', payload: { pad: 'x'.repeat(4 * MAX) } }));
    });
    expect(code).toBe(1009);
    await alive();
  });
});

describe('a bad operation on a graphql-ws socket errors that operation only', () => {
  it.each([
    ['a syntax error', '{ me { tenant_id '],
    ['deeply nested braces', `{ me ${'{ x '.repeat(5000)}${'}'.repeat(5000)} }`],
    ['an unknown field', '{ nope }'],
  ])('%s: the operation gets errors, the socket stays open and serves the next one', async (_what, query) => {
    // Not lazy: a lazy client closes its socket itself once no operation is running.
    const client = createClient({ url: `${api.url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0, lazy: false });
    let closes = 0;
    client.on('closed', () => closes++);
    try {
      const bad = wsSubscribe(client, query);
      await eventually(() => (bad.errors.length > 0 ? true : undefined), 10_000, 'errors of the bad operation');
      const good = wsSubscribe<{ me: { tenant_id: string } }>(client, '{ me { tenant_id } }');
      const data = await eventually(() => good.received[0], 10_000, 'the next operation');
      expect(data.me.tenant_id).toBe('acme');
      expect(closes).toBe(0);
    } finally {
      await client.dispose();
    }
  });
});

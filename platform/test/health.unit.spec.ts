import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { Health, serveOps } from '../src/health.ts';
import { counter } from '../src/metrics.ts';

/** A stand-in for node's request/response pair: serveOps only reads the URL and writes a reply. */
function call(health: Health, url: string) {
  const reply = { status: 0, headers: {} as Record<string, string>, body: '' };
  const res = {
    writeHead(status: number, headers: Record<string, string> = {}) {
      reply.status = status;
      reply.headers = headers;
      return this;
    },
    end(body = '') {
      reply.body = String(body);
    },
  } as unknown as ServerResponse;
  return serveOps(health, { url } as IncomingMessage, res).then((handled) => ({ handled, ...reply }));
}

describe('Health', () => {
  it('is ready only when every component is ok or degraded', () => {
    const h = new Health();
    expect(h.ready()).toBe(true); // nothing registered yet: nothing is failing
    h.set('kafka', 'starting');
    expect(h.ready()).toBe(false);
    h.set('kafka', 'ok');
    h.set('pbx:nbo1', 'degraded', 'reconnecting');
    expect(h.ready()).toBe(true);
    h.set('clickhouse', 'error', 'ECONNREFUSED clickhouse:8123');
    expect(h.ready()).toBe(false);
    expect(h.get('clickhouse')).toMatchObject({ status: 'error', detail: 'ECONNREFUSED clickhouse:8123' });
  });

  it('keeps the time a status began while it does not change', () => {
    const h = new Health();
    h.set('kafka', 'ok');
    const since = h.get('kafka')!.since;
    h.set('kafka', 'ok');
    expect(h.get('kafka')!.since).toBe(since);
    h.set('kafka', 'degraded', 'lag');
    expect(h.get('kafka')).toMatchObject({ status: 'degraded', detail: 'lag' });
  });
});

describe('ops endpoints', () => {
  it('/healthz answers 200 while the process lives, with the components', async () => {
    const h = new Health();
    h.set('kafka', 'error', 'down');
    const r = await call(h, '/healthz');
    expect(r).toMatchObject({ handled: true, status: 200 });
    expect(JSON.parse(r.body)).toMatchObject({ status: 'ok', components: { kafka: { status: 'error', detail: 'down' } } });
  });

  it('/readyz answers 503 until every component is ready, then 200', async () => {
    const h = new Health();
    h.set('projections', 'starting');
    expect(await call(h, '/readyz?verbose=1')).toMatchObject({ status: 503 });
    h.set('projections', 'ok');
    const r = await call(h, '/readyz');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ ready: true });
  });

  it('/metrics serves the Prometheus registry', async () => {
    counter('callboard_test_ops_total', 'test counter').inc(3);
    const r = await call(new Health(), '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain/);
    expect(r.body).toContain('callboard_test_ops_total 3');
    expect(r.body).toContain('callboard_process_cpu_seconds_total');
  });

  it('leaves any other path to the caller', async () => {
    expect(await call(new Health(), '/graphql')).toMatchObject({ handled: false, status: 0 });
  });
});

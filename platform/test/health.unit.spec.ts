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
  return serveOps(health, { url } as IncomingMessage, res, { metrics: true }).then((handled) => ({ handled, ...reply }));
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

describe('PBX links', () => {
  it('one link down is degraded and still ready; all down is not ready', () => {
    const h = new Health();
    h.link('nbo1', false, 'not connected yet');
    h.link('nbo2', false, 'not connected yet');
    expect(h.report()).toMatchObject({ status: 'error', ready: false });
    expect(h.report().problems).toContain('no PBX link is up');
    h.link('nbo1', true, 'logged in');
    expect(h.report()).toMatchObject({ status: 'degraded', ready: true, links: { nbo1: { up: true }, nbo2: { up: false, detail: 'not connected yet' } } });
    h.link('nbo2', true);
    expect(h.report()).toMatchObject({ status: 'ok', ready: true, problems: [] });
  });

  it('a link known by its heartbeats goes down once nothing confirmed it for longer than its bound', () => {
    let now = 1_000_000;
    const h = new Health({ now: () => now });
    h.link('s1', true, 'heartbeat answered', 60_000);
    now += 60_000;
    expect(h.links().s1).toMatchObject({ up: true });
    now += 1;
    expect(h.links().s1).toMatchObject({ up: false, detail: 'nothing heard for 60 s (bound 60 s)' });
    expect(h.ready()).toBe(false);
    h.link('s1', true, 'heartbeat answered', 60_000);
    expect(h.ready()).toBe(true);
  });

  it('sets callboard_pbx_link_up{pbx} for the scrape', async () => {
    const h = new Health();
    h.link('gauge-pbx', false, 'refused');
    expect((await call(h, '/metrics')).body).toContain('callboard_pbx_link_up{pbx="gauge-pbx"} 0');
    h.link('gauge-pbx', true);
    expect((await call(h, '/metrics')).body).toContain('callboard_pbx_link_up{pbx="gauge-pbx"} 1');
    h.dropLink('gauge-pbx');
    expect((await call(h, '/metrics')).body).not.toContain('pbx="gauge-pbx"');
  });
});

describe('stuck feeds', () => {
  it('a write failing for longer than the bound makes the service unready until one goes through', () => {
    let now = 5_000_000;
    const h = new Health({ now: () => now, stuckAfterMs: 30_000 });
    h.stalled('nbo1/raw', 'MESSAGE_TOO_LARGE', { since: now - 1000 });
    expect(h.report()).toMatchObject({ status: 'degraded', ready: true });
    now += 29_000;
    expect(h.ready()).toBe(true);
    now += 1;
    h.stalled('nbo1/raw', 'MESSAGE_TOO_LARGE'); // a later attempt does not restart the clock
    expect(h.report()).toMatchObject({ status: 'error', ready: false });
    expect(h.report().problems[0]).toBe('nbo1/raw stuck, writes failing for 30 s: MESSAGE_TOO_LARGE');
    h.flowing('nbo1/raw');
    expect(h.report()).toMatchObject({ status: 'ok', ready: true });
  });

  it('takes a per-feed bound', () => {
    let now = 0;
    const h = new Health({ now: () => now });
    h.stalled('x/events', 'refused', { afterMs: 10 });
    now = 11;
    expect(h.ready()).toBe(false);
  });
});

describe('ops endpoints', () => {
  it('/healthz answers 200 while the process lives, and says what is wrong', async () => {
    const h = new Health();
    h.set('kafka', 'error', 'down');
    const r = await call(h, '/healthz');
    expect(r).toMatchObject({ handled: true, status: 200 });
    expect(JSON.parse(r.body)).toMatchObject({ status: 'error', ready: false, problems: ['kafka error: down'], components: { kafka: { status: 'error', detail: 'down' } } });
  });

  it('/metrics is served only where asked (the ops listener), never on a public port', async () => {
    const res = { writeHead: () => res, end: () => undefined } as unknown as ServerResponse;
    expect(await serveOps(new Health(), { url: '/metrics' } as IncomingMessage, res)).toBe(false);
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

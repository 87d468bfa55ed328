// Every service reports its components' health the same way: ok, degraded or error, with why.
// `/healthz` answers while the process lives; `/readyz` only when every component is ok.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { registry } from './metrics.ts';

export type HealthStatus = 'ok' | 'degraded' | 'error' | 'starting';
export interface ComponentHealth {
  status: HealthStatus;
  detail?: string;
  since: string;
}

export class Health {
  private readonly components = new Map<string, ComponentHealth>();

  set(name: string, status: HealthStatus, detail?: string): void {
    const prev = this.components.get(name);
    if (prev && prev.status === status && prev.detail === detail) return;
    this.components.set(name, { status, ...(detail ? { detail } : {}), since: new Date().toISOString() });
  }

  get(name: string): ComponentHealth | undefined {
    return this.components.get(name);
  }

  ready(): boolean {
    return [...this.components.values()].every((c) => c.status === 'ok' || c.status === 'degraded');
  }

  snapshot(): Record<string, ComponentHealth> {
    return Object.fromEntries(this.components);
  }
}

/** Answers /healthz, /readyz and /metrics; returns false for any other path so a caller can route it. */
export async function serveOps(health: Health, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok', components: health.snapshot() }));
    return true;
  }
  if (path === '/readyz') {
    const ready = health.ready();
    res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ready, components: health.snapshot() }));
    return true;
  }
  if (path === '/metrics') {
    res.writeHead(200, { 'content-type': registry.contentType });
    res.end(await registry.metrics());
    return true;
  }
  return false;
}

/** A small ops server for services that have no HTTP server of their own (ingest, projections). */
export function startOpsServer(health: Health, port: number, host = '0.0.0.0'): Promise<Server> {
  const server = createServer((req, res) => {
    serveOps(health, req, res)
      .then((handled) => {
        if (!handled) {
          res.writeHead(404, { 'content-type': 'text/plain' });
          res.end('not found\n');
        }
      })
      .catch((e) => {
        res.writeHead(500);
        res.end(String(e));
      });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

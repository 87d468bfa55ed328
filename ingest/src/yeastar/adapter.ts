// Wiring of the Yeastar adapters into the registry (../adapters.ts): one P-Series WebSocket
// adapter per `yeastar-p` PBX; for `yeastar-s` PBXes an API session each and one shared HTTP
// receiver per listening port (several PBXes can push to one port, told apart by path).
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pbxSecret, type Health, type HealthStatus, type PbxConfig } from '@callboard/platform';
import type { AdapterDeps, RunningAdapter } from '../pipeline.ts';
import { YeastarPAdapter } from './p-adapter.ts';
import { YeastarPipeline } from './pipeline.ts';
import { ReportReceipts } from './receipts.ts';
import { reportPath, YeastarSReceiver } from './s-receiver.ts';
import { YeastarSSession } from './s-api.ts';
import { YeastarTranslator } from './translate.ts';

function translatorFor(d: AdapterDeps, source: 'yeastar-p' | 'yeastar-s'): YeastarTranslator {
  return new YeastarTranslator({
    tenant_id: d.pbx.tenant,
    pbx_id: d.pbx.id,
    source,
    timezone: d.pbx.timezone,
    queues: d.cfg.queues.filter((q) => q.tenant === d.pbx.tenant).map((q) => q.queue),
  });
}

function baseUrl(pbx: PbxConfig): string {
  return pbx.base_url || `${pbx.tls ? 'https' : 'http'}://${pbx.host}:${pbx.port}`;
}

export async function startYeastarPAdapter(d: AdapterDeps): Promise<RunningAdapter> {
  if (!d.pbx.username) throw new Error(`PBX ${d.pbx.id} (yeastar-p): set username to the OpenAPI Client ID`);
  const pipeline = new YeastarPipeline(d.sink, translatorFor(d, 'yeastar-p'), d.log);
  const adapter = new YeastarPAdapter({
    pbx_id: d.pbx.id,
    base_url: baseUrl(d.pbx),
    client_id: d.pbx.username,
    client_secret: pbxSecret(d.pbx),
    pipeline,
    health: d.health,
    log: d.log,
  });
  adapter.start();
  return { stop: () => adapter.stop() };
}

/** S-Series receivers by listening port, shared by the PBXes that push to that port. */
const receivers = new Map<number, { receiver: YeastarSReceiver; users: number; ready: Promise<number> }>();

/**
 * S-Series: PbxConfig.port is the port OUR receiver listens on (the PBX's default target is
 * 8260); base_url is the PBX's API. YEASTAR_S_REPORT_HOST overrides the address the PBX pushes to
 * (by default the address we log in from, as the API does).
 */
export async function startYeastarSAdapter(d: AdapterDeps): Promise<RunningAdapter> {
  if (!d.pbx.username) throw new Error(`PBX ${d.pbx.id} (yeastar-s): set username to the API user`);
  if (!d.pbx.base_url) throw new Error(`PBX ${d.pbx.id} (yeastar-s): set base_url to the PBX API address, e.g. http://192.168.1.10`);
  const secret = pbxSecret(d.pbx);
  const pipeline = new YeastarPipeline(d.sink, translatorFor(d, 'yeastar-s'), d.log);
  let shared = receivers.get(d.pbx.port);
  if (!shared) {
    const port = d.pbx.port;
    const receipts = new ReportReceipts(join(d.cfg.dataDir, 'ingest', `yeastar-s-${port}.receipts`), d.log);
    const receiver = new YeastarSReceiver({ targets: [], log: d.log, receipts });
    const ready = receiver.listen(port, d.cfg.ingest.yeastarSListenHost).catch((e: Error) => {
      receivers.delete(port);
      throw new Error(
        `PBX ${d.pbx.id} (yeastar-s): cannot listen on port ${port} for the PBX's event reports (${e.message}); set port, e.g. 8260, the S-Series default`,
      );
    });
    shared = { receiver, users: 0, ready };
    receivers.set(d.pbx.port, shared);
  }
  shared.users++;
  shared.receiver.addTarget({ pbx_id: d.pbx.id, secret, allow_from: d.pbx.allow_from, host: d.pbx.host, pipeline });
  const port = await shared.ready;
  const session = new YeastarSSession({
    pbx_id: d.pbx.id,
    base_url: d.pbx.base_url,
    username: d.pbx.username,
    secret,
    report_port: port,
    report_url: reportPath(d.pbx.id, secret),
    report_host: d.cfg.ingest.yeastarSReportHost || undefined,
    log: d.log,
    health: sessionLink(d.health, d.pbx.id),
    onLogin: () => pipeline.newConnection(`${d.pbx.id}#${randomUUID().slice(0, 8)}`),
    onGap: (fromMs, reason) => gap(pipeline, fromMs, reason),
  });
  session.start();
  const s = shared;
  return {
    async stop() {
      await session.stop();
      s.receiver.removeTarget(d.pbx.id);
      await pipeline.drain();
      // Off the list of feeds readiness looks at.
      pipeline.close();
      if (--s.users === 0) {
        receivers.delete(d.pbx.port);
        await s.receiver.close();
      }
    },
  };
}

/**
 * The S-Series link is push-only: it is up while the session's last login or heartbeat (every
 * 5 min) was answered, for at most two heartbeat periods. The session reports those outcomes as
 * its health (ok, or degraded with why); this mirrors them onto the link.
 */
function sessionLink(health: Health, pbx: string): Health {
  return Object.assign(Object.create(health) as Health, {
    set(name: string, status: HealthStatus, detail?: string) {
      health.set(name, status, detail);
      if (status === 'ok') health.link(pbx, true, 'session heartbeat answered', 2 * 300_000 + 30_000);
      else if (status !== 'starting') health.link(pbx, false, detail);
    },
  });
}

/** After an S-Series session lapse: the PBX stopped pushing, so the span is a gap. */
export async function gap(pipeline: YeastarPipeline, fromMs: number, reason: string): Promise<void> {
  await pipeline.enqueue(async () => {
    const to = new Date();
    const events = pipeline.translator.reconcile(
      { gap: { from: new Date(Math.min(fromMs, to.getTime())).toISOString(), to: to.toISOString(), reason } },
      { received_at: to.toISOString(), raw_ref: null },
    );
    await pipeline.publish(events, JSON.stringify({ gap: { from: fromMs, reason } }));
  });
}

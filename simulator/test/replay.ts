// Simulated AMI frames played connection after connection, as ingest's client sees them across
// restarts and crashes, and ingest's translator run over them: shared by the tests that check the
// translator against the ledger through a reconnect.
import type { CanonicalEvent, EventOf } from '@callboard/schemas';
import { AmiParser } from '@callboard/ingest/ami/parser';
import { AmiTranslator, RESYNC_ACTION_PREFIX } from '@callboard/ingest/ami/translator';
import { AmiRenderer, frameToWire, type AmiFrame, type Headers } from '../src/ami-render.ts';
import type { Ledger } from '../src/ledger.ts';
import type { SimAction } from '../src/model.ts';

export interface Played {
  conn: string;
  frame: AmiFrame;
}

export const get = (h: Headers, k: string): string | undefined => h.find(([x]) => x === k)?.[1];
export const name = (f: AmiFrame): string => f.headers[0]![1];

/** The adapter's resync on connection `conn` at `t`: CoreShowChannels, then QueueStatus, as ingest's client asks. */
export function resync(r: AmiRenderer, t: number, conn: string): Played[] {
  const id = `${RESYNC_ACTION_PREFIX}-${conn}`;
  return [...r.coreShowChannels(t, `${id}-channels`), ...r.queueStatus(t, `${id}-queues`)].map((headers) => ({ conn, frame: { t, headers } }));
}

/**
 * The whole run: a new connection after each Shutdown or crash, the resync when the PBX is back.
 * `seen` gets each action with its frames (to learn, say, a call's Linkedid).
 */
export function playConnections(ledger: Ledger, actions: readonly SimAction[], seen?: (a: SimAction, frames: AmiFrame[]) => void): Played[] {
  const r = new AmiRenderer(ledger);
  const out: Played[] = [];
  let conn = 1;
  for (const a of actions) {
    const frames = r.render(a);
    seen?.(a, frames);
    for (const frame of frames) out.push({ conn: `sim-${conn}`, frame });
    if (a.kind === 'pbx_shutdown' || a.kind === 'pbx_crash') conn++;
    if (a.kind === 'pbx_up') out.push(...resync(r, a.t, `sim-${conn}`));
  }
  return out;
}

/** Ingest's translator over the played frames (received when sent), flushed at the end. */
export function translatePlayed(ledger: Ledger, played: Played[]): { events: CanonicalEvent[]; dlq: string[] } {
  const wrap = new Map(ledger.queues.map((q) => [q.queue, q.wrap_up_s * 1000]));
  const t = new AmiTranslator({ tenant_id: ledger.tenant, pbx_id: ledger.pbx, wrapUpMs: (q) => wrap.get(q) ?? 0 });
  const events: CanonicalEvent[] = [];
  const dlq: string[] = [];
  let seq = 0;
  for (const p of played) {
    for (const f of new AmiParser().push(frameToWire(p.frame.headers))) {
      const o = t.translate(f, { received_at: p.frame.t, raw_ref: null, connection: p.conn, seq: seq++ });
      if (o.kind === 'ok') events.push(...o.events);
      else if (o.kind === 'dlq') dlq.push(`${o.reason_code}: ${o.reason}`);
    }
  }
  const last = played[played.length - 1]!;
  events.push(...t.flush({ received_at: last.frame.t, raw_ref: null, connection: last.conn, seq }));
  return { events, dlq };
}

export function of<T extends CanonicalEvent['type']>(events: CanonicalEvent[], type: T): EventOf<T>[] {
  return events.filter((e) => e.type === type) as unknown as EventOf<T>[];
}

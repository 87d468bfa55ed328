// The asterisk22 captures of ../shared/fixtures (see their SOURCES.md) as canonical events, from
// both of Callboard's readings of them: the live AMI adapter's translator over the capture, and
// the importer over the same scenario's queue_log and Master.csv. Tests that compare the two
// (or fold both together) take them from here. `present` is false without ../shared: such
// tests skip, saying so.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '@callboard/platform';
import type { CanonicalEvent } from '@callboard/schemas';
import { translateAmiFile } from '@callboard/ingest/ami/offline';
import { importAsterisk } from '@callboard/ingest/import/asterisk';
import { IngestPipeline, nothingSettled, settle } from '@callboard/ingest/pipeline';

export const ASTERISK22 = join(import.meta.dirname, '../../shared/fixtures/ami/asterisk22');
export const present = existsSync(ASTERISK22);

/** What the live adapter's translator makes of scenario `s`'s capture (and of its reconnect, j_restart). */
export async function liveEvents(s: string, tenant: string): Promise<CanonicalEvent[]> {
  const events: CanonicalEvent[] = [];
  for (const file of ['capture.ami', 'capture.after.ami'].map((f) => join(ASTERISK22, s, f)).filter(existsSync)) {
    for await (const o of translateAmiFile(file, { cfg: { queues: [] }, tenant_id: tenant, pbx_id: 'pbx1', warn: () => {} })) {
      events.push(...settle(nothingSettled(), o, { source: 'ami' }, { original: '', ref: null }).events);
    }
  }
  return events;
}

/** What `callboard import asterisk` makes of scenario `s`'s queue_log and Master.csv. */
export async function importedEvents(s: string, tenant: string): Promise<CanonicalEvent[]> {
  const events: CanonicalEvent[] = [];
  const sink = { raw: async () => [], canonical: async (e: CanonicalEvent[]) => void events.push(...e), dlq: async () => {} };
  const pipeline = new IngestPipeline({ source: 'ami', tenant_id: tenant, pbx_id: 'pbx1', sink, log: createLogger('test', 'warn') });
  await importAsterisk({ queueLog: join(ASTERISK22, s, 'queue_log'), cdr: join(ASTERISK22, s, 'cdr.csv'), tenant_id: tenant, pbx_id: 'pbx1', pipeline, received_at: 0 });
  return events;
}

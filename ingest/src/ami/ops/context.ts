// What the handlers share besides the state: the options, the frame being translated (its time,
// whether that time is the PBX's own Timestamp, its headers and receive data) and the events it
// has made so far. One per translator, reset per frame by the facade (translator.ts). The bottom
// layer with state.ts: the operations (ops/*.ts) and the handlers (handlers/*.ts) build on it.
import { isoMs, type CanonicalEvent, type EventContext, type Source } from '@callboard/schemas';
import { dlq, type TranslateOutcome } from '../../pipeline.ts';
import type { AmiTranslatorOptions, FrameMeta } from '../state.ts';

export class Cx {
  readonly source: Source;
  readonly wrapUpMs: (queue: string) => number;
  out: CanonicalEvent[] = [];
  now = 0;
  hasTs = false;
  curName = '';
  curHeaders: Record<string, string> = {};
  curMeta!: FrameMeta;
  ctxCache: EventContext | null = null;

  constructor(readonly opts: AmiTranslatorOptions) {
    this.source = opts.source ?? 'ami';
    this.wrapUpMs = opts.wrapUpMs ?? (() => 0);
  }

  /** The event context of the frame being translated. */
  get ctx(): EventContext {
    if (this.ctxCache) return this.ctxCache;
    const name = this.curName;
    const h = this.curHeaders;
    const meta = this.curMeta;
    const ts = h.Timestamp;
    this.ctxCache = {
      tenant_id: this.opts.tenant_id,
      pbx_id: this.opts.pbx_id,
      source: this.source,
      occurred_at: isoMs(this.now),
      received_at: this.receivedIso(meta.received_at),
      raw_ref: meta.raw_ref,
      vendor_key: ts !== undefined ? `${ts}|${name}|${h.Uniqueid ?? ''}|${h.Queue ?? ''}|${h.Interface ?? h.Location ?? ''}` : `${meta.connection}#${meta.seq}`,
    };
    return this.ctxCache;
  }

  /** The frames of one socket read share their receive time: it is formatted once. */
  private receivedIso(at: number): string {
    if (at !== this.lastReceived) {
      this.lastReceived = at;
      this.lastReceivedIso = isoMs(at);
    }
    return this.lastReceivedIso;
  }
  private lastReceived = Number.NaN;
  private lastReceivedIso = '';

  missing(event: string, field: string): TranslateOutcome {
    return dlq('MISSING_FIELD', `${event} without ${field} (pbx ${this.opts.pbx_id}, ${this.ctx.vendor_key})`, field);
  }

  emit(e: CanonicalEvent): void {
    this.out.push(e);
  }

  ctxPart(part: string | number, base = this.ctx): EventContext {
    return { ...base, part };
  }
}

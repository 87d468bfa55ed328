// Yeastar P-Series and S-Series CDR exports (CSV, "Reports and Recordings > CDR > Download") →
// canonical events. Pure. The export has a header row; columns are found by their names, which
// differ between series and firmware (docs/import.md "Yeastar CDR columns"), so each field lists
// the names it is known by. One row is one call (P-Series: its first leg's parties, its last
// leg's status): a `call.started` and a `call.ended` — the CDR view of METRICS.md "Extension and
// call metrics". A CDR gives no queue entry, no wait apart from ringing and no agent state, so
// no queue legs or agent figures come from it.
//
// Event ids: vendor_key `yeastar_cdr|<the row>`: the row, not its number, is the identity, so a
// file imported twice, or two exports that overlap, give the same ids.
import { DateTime } from 'luxon';
import { isoMs, makeEvent, type CanonicalEvent, type Direction, type Disposition, type EventContext, type Source } from '@callboard/schemas';
import { dlq, ok, type TranslateOutcome } from '../pipeline.ts';
import { splitCsv } from './cdr.ts';

/** The fields a call needs, each with the header names Yeastar's exports use for it (compared ignoring case, spaces and `_`). */
const FIELDS = {
  id: ['id', 'callid', 'cdrid', 'uid'],
  time: ['time', 'timestart', 'starttime', 'date'],
  from: ['callfrom', 'caller', 'source'],
  to: ['callto', 'callee', 'destination'],
  duration: ['callduration', 'callduraction', 'duration'],
  ring: ['ringduration', 'ringtime'],
  talk: ['talkduration', 'talkduraction', 'billingduration', 'billsec'],
  status: ['status', 'laststatus', 'disposition'],
  type: ['communicationtype', 'calltype', 'type'],
  srcTrunk: ['sourcetrunk', 'srctrunkname', 'srctrunk'],
  dstTrunk: ['destinationtrunk', 'desttrunkname', 'dsttrunk'],
  did: ['did/ddi', 'did', 'didnumber'],
  reason: ['reason', 'disconnectedby'],
} as const;
type Field = keyof typeof FIELDS;
const REQUIRED: Field[] = ['id', 'time', 'from', 'to', 'duration', 'status'];

const norm = (h: string) => h.trim().toLowerCase().replace(/[\s_]/g, '');

/** Column index of each field found in a header row, or what is missing. */
export function yeastarColumns(header: string[]): { kind: 'ok'; columns: Partial<Record<Field, number>> } | { kind: 'missing'; fields: Field[] } {
  const names = header.map(norm);
  const columns: Partial<Record<Field, number>> = {};
  for (const [field, aliases] of Object.entries(FIELDS) as [Field, readonly string[]][]) {
    const i = aliases.map((a) => names.indexOf(a)).find((x) => x >= 0);
    if (i !== undefined) columns[field] = i;
  }
  const missing = REQUIRED.filter((f) => columns[f] === undefined);
  return missing.length ? { kind: 'missing', fields: missing } : { kind: 'ok', columns };
}

/** How the PBX writes dates: its "date and time display format" (System > Date and Time). */
export type DateOrder = 'MDY' | 'DMY';

/**
 * A CDR time → epoch ms in the PBX's zone: `YYYY-MM-DD hh:mm:ss`, `YYYY/MM/DD …`, `MM/DD/YYYY …`
 * (or `DD/MM/YYYY` with order DMY), 12-hour times with AM/PM, or Unix seconds. NaN otherwise.
 */
export function yeastarTime(text: string, zone: string, order: DateOrder = 'MDY'): number {
  const s = text.trim();
  if (/^\d{9,11}$/.test(s)) return Number(s) * 1000;
  const m = /^(\d{1,4})[-/.](\d{1,2})[-/.](\d{1,4})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?$/.exec(s);
  if (!m) return NaN;
  let [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (m[1]!.length !== 4) [year, month, day] = order === 'MDY' ? [Number(m[3]), Number(m[1]), Number(m[2])] : [Number(m[3]), Number(m[2]), Number(m[1])];
  let hour = Number(m[4]);
  if (m[7]) {
    if (hour < 1 || hour > 12) return NaN;
    hour = (hour % 12) + (m[7].toLowerCase() === 'pm' ? 12 : 0);
  }
  const d = DateTime.fromObject({ year, month, day, hour, minute: Number(m[5]), second: Number(m[6] ?? 0) }, { zone });
  return d.isValid ? d.toMillis() : NaN;
}

/** Whole seconds from `62`, `00:01:02` or `1:02` (the export's duration format is a setting). NaN otherwise. */
export function yeastarSeconds(text: string): number {
  const s = text.trim();
  if (s === '') return 0;
  if (/^\d+$/.test(s)) return Number(s);
  const m = /^(?:(\d+):)?(\d{1,2}):(\d{2})$/.exec(s);
  return m ? Number(m[1] ?? 0) * 3600 + Number(m[2]) * 60 + Number(m[3]) : NaN;
}

/** `Queue Emergency<6400>` → { number: 6400, name: Queue Emergency }; `0745150974` → the number. */
export function party(text: string): { number: string; name: string | undefined } {
  const m = /^(.*?)\s*<([^<>]*)>\s*$/.exec(text.trim());
  if (!m) return { number: text.trim(), name: undefined };
  const number = m[2]!.trim();
  const name = m[1]!.trim();
  // An external caller is written `0745150974<0745150974>`: the name is the number again.
  return { number, name: name && name !== number ? name : undefined };
}

/** Yeastar statuses (both series, every spelling seen: reference/yeastar.md §2.5, §3.6) → canonical. */
const STATUS: Record<string, Disposition> = {
  ANSWERED: 'ANSWERED',
  ANSWERD: 'ANSWERED',
  ANSWER: 'ANSWERED',
  'NO ANSWER': 'NO ANSWER',
  'NO ANSWERED': 'NO ANSWER',
  NO_ANSWER: 'NO ANSWER',
  // the caller hung up before anyone answered; voicemail took the call no person answered
  ABANDONED: 'NO ANSWER',
  VOICEMAIL: 'NO ANSWER',
  BUSY: 'BUSY',
  FAILED: 'FAILED',
  CONGESTION: 'CONGESTION',
};

export interface YeastarCdrOptions {
  tenant_id: string;
  pbx_id: string;
  /** `yeastar-p` or `yeastar-s`: part of every event id. */
  source: Extract<Source, 'yeastar-p' | 'yeastar-s'>;
  /** IANA zone of the PBX: its CDR times are local wall-clock times without an offset. */
  zone: string;
  order?: DateOrder;
  received_at?: number;
}

/** One CDR row's fields, as read (times epoch ms, durations whole seconds). */
export interface YeastarCdrRow {
  id: string;
  start: number;
  duration_s: number;
  talk_s: number;
  disposition: Disposition;
  raw_status: string;
  from: { number: string; name: string | undefined };
  /** `Call To`: an extension, or the queue (`Queue Emergency<6400>`) a queue call was sent to. */
  to: { number: string; name: string | undefined };
  direction: Direction;
  extension: string | undefined;
  did: string | undefined;
  trunk: string | undefined;
  reason: string | undefined;
}

/** Translates the rows of one export; `header()` first, then `row()` for every further line. */
export class YeastarCdrTranslator {
  private columns: Partial<Record<Field, number>> | null = null;
  private readonly receivedAt: string;

  constructor(private readonly o: YeastarCdrOptions) {
    this.receivedAt = isoMs(o.received_at ?? Date.now());
  }

  /** Reads the header row; an export without the columns a call needs is refused as a whole. */
  header(text: string): { kind: 'ok' } | { kind: 'refused'; reason: string } {
    const f = splitCsv(text.replace(/^\uFEFF/, '').replace(/\r$/, ''));
    const c = f ? yeastarColumns(f) : { kind: 'missing' as const, fields: REQUIRED };
    if (c.kind === 'missing')
      return { kind: 'refused', reason: `not a Yeastar CDR export: no ${c.fields.join(', ')} column in the header (${text.slice(0, 200)})` };
    this.columns = c.columns;
    return { kind: 'ok' };
  }

  /**
   * One row read: its fields, or the dead letter it is. The reading both the import and
   * `callboard reconcile --yeastar-cdr` take (projections/src/reconcile/yeastar-cdr.ts).
   */
  parse(text: string, line: number): { kind: 'row'; row: YeastarCdrRow } | TranslateOutcome {
    const c = this.columns;
    if (!c) throw new Error('header() first');
    const f = splitCsv(text.replace(/\r$/, ''));
    const need = Math.max(...REQUIRED.map((k) => c[k]!)) + 1;
    if (!f || f.length < need) return dlq('MISSING_FIELD', `line ${line}: truncated CDR row (${f?.length ?? 0} of at least ${need} fields)`);
    const get = (k: Field) => (c[k] === undefined ? '' : (f[c[k]] ?? '').trim());
    const id = get('id');
    if (!id) return dlq('MISSING_FIELD', `line ${line}: no call id`, 'id');
    const start = yeastarTime(get('time'), this.o.zone, this.o.order);
    if (!Number.isFinite(start)) return dlq('BAD_TIMESTAMP', `line ${line}: time ${JSON.stringify(get('time'))} is not a date and time the PBX writes`, 'time');
    const durationS = yeastarSeconds(get('duration'));
    const talkS = yeastarSeconds(get('talk'));
    if (!Number.isFinite(durationS) || !Number.isFinite(talkS))
      return dlq('INVALID_FIELD', `line ${line}: call or talk duration is not whole seconds or hh:mm:ss`, 'duration');
    const raw = get('status');
    const disposition = STATUS[raw.toUpperCase().replace(/\s+/g, ' ')];
    if (!disposition) return dlq('INVALID_FIELD', `line ${line}: status ${JSON.stringify(raw)} is not one Yeastar documents`, 'status');
    const from = party(get('from'));
    const to = party(get('to'));
    const direction = this.direction(get('type'), get('srcTrunk'), get('dstTrunk'));
    // The local extension on the call: the caller's unless the call came in from outside.
    const extension =
      direction === 'inbound' ? (/^\d{1,7}$/.test(to.number) && !/queue|ivr|ring ?group/i.test(to.name ?? '') ? to.number : undefined) : from.number;
    return {
      kind: 'row',
      row: {
        id,
        start,
        duration_s: durationS,
        talk_s: talkS,
        disposition,
        raw_status: raw,
        from,
        to,
        direction,
        extension,
        did: get('did') || undefined,
        trunk: get('srcTrunk') || get('dstTrunk') || undefined,
        reason: get('reason') || undefined,
      },
    };
  }

  row(text: string, line: number): TranslateOutcome {
    const p = this.parse(text, line);
    if (p.kind !== 'row') return p;
    const r = p.row;
    const ctx = (at: number): EventContext => ({
      tenant_id: this.o.tenant_id,
      pbx_id: this.o.pbx_id,
      source: this.o.source,
      occurred_at: isoMs(at),
      received_at: this.receivedAt,
      raw_ref: { topic: 'yeastar_cdr', line },
      vendor_key: `yeastar_cdr|${text}`,
    });
    const call = { call_id: r.id };
    const events: CanonicalEvent[] = [
      makeEvent('call.started', ctx(r.start), call, {
        direction: r.direction,
        caller_number: r.from.number,
        caller_name: r.from.name,
        called_number: r.did ?? r.to.number,
        extension: r.extension,
        trunk: r.trunk,
      }),
      makeEvent('call.ended', ctx(r.start + r.duration_s * 1000), call, {
        disposition: r.disposition,
        raw_disposition: r.raw_status,
        hangup_cause_text: r.reason,
        duration_ms: r.duration_s * 1000,
        billsec_ms: r.disposition === 'ANSWERED' ? Math.min(r.talk_s, r.duration_s) * 1000 : 0,
        direction: r.direction,
        extension: r.extension,
      }),
    ];
    return ok(events);
  }

  private direction(type: string, srcTrunk: string, dstTrunk: string): Direction {
    const t = type.toLowerCase();
    if (t === 'inbound' || t === 'outbound' || t === 'internal') return t;
    // Callback, Transfer (v1) and blank: which side a trunk is on says it.
    return srcTrunk ? 'inbound' : dstTrunk ? 'outbound' : 'internal';
  }
}

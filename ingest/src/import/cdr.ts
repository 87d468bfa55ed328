// Asterisk CDR (cdr-csv `Master.csv`) rows for an import: which call a queue_log call id belongs
// to, and the CDR view of that call (call.started / call.ended). Pure.
//
// Why the CDR is needed for call ids: queue_log names a call by the Uniqueid of the channel that
// ran Queue(); Callboard (and the live AMI adapter) names a call by its Linkedid, the Uniqueid of
// the call's first channel. They are the same for a trunk call that goes straight into Queue();
// they differ when the queued channel is the `;2` half of a Local channel, whose first channel is
// its `;1` half (or whatever dialled that). Master.csv has no linkedid column, but it has a row
// per Local half with its channel name and uniqueid, so `;2` → `;1` can be followed.

/** The default Master.csv columns, with `loguniqueid=yes` and `loguserfield=yes` appended. */
export interface CdrRow {
  line: number;
  text: string;
  src: string;
  dst: string;
  clid: string;
  channel: string;
  dstchannel: string;
  start: string;
  answer: string;
  end: string;
  duration: number;
  billsec: number;
  disposition: string;
  uniqueid: string;
}

/** One CSV record (RFC 4180 quoting, as Asterisk writes it), or null when quotes do not close. */
export function splitCsv(text: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) return null;
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += text[i++];
      }
    }
    const comma = text.indexOf(',', i);
    field += comma < 0 ? text.slice(i) : text.slice(i, comma);
    out.push(field);
    if (comma < 0) return out;
    i = comma + 1;
  }
}

export type CdrResult = { kind: 'row'; row: CdrRow } | { kind: 'reject'; reason: string };

export function parseCdrLine(text: string, line: number): CdrResult {
  const f = splitCsv(text.replace(/\r$/, ''));
  if (!f || f.length < 17)
    return { kind: 'reject', reason: `line ${line}: truncated CDR row (${f?.length ?? 0} of 17 fields; Master.csv needs loguniqueid=yes)` };
  const duration = Number(f[12]);
  const billsec = Number(f[13]);
  if (!Number.isInteger(duration) || !Number.isInteger(billsec)) return { kind: 'reject', reason: `line ${line}: duration/billsec are not whole seconds` };
  return {
    kind: 'row',
    row: {
      line,
      text,
      src: f[1]!,
      dst: f[2]!,
      clid: f[4]!,
      channel: f[5]!,
      dstchannel: f[6]!,
      start: f[9]!,
      answer: f[10]!,
      end: f[11]!,
      duration,
      billsec,
      disposition: f[14]!,
      uniqueid: f[16]!,
    },
  };
}

/** `Local/x@ctx-00000003;2` → `Local/x@ctx-00000003`, or null for any other channel. */
function localPair(channel: string, half: '1' | '2'): string | null {
  return channel.startsWith('Local/') && channel.endsWith(`;${half}`) ? channel.slice(0, -2) : null;
}

/**
 * Call ids from CDR rows: maps a Uniqueid to the Uniqueid of the first channel of its call, by
 * following `;2` halves of Local channels to their `;1` halves. Ids not in the CDR map to
 * themselves.
 */
export class CallIds {
  private readonly firstHalf = new Map<string, string>();
  private readonly secondHalf = new Map<string, string>();
  /** Each channel's first row, for the importer's call view; empty when not kept. */
  readonly rows = new Map<string, CdrRow>();

  /** `keepRows` false: the id mapping only (Local channels' halves), as the PBX records need, not a row per channel. */
  constructor(private readonly keepRows = true) {}

  add(r: CdrRow): void {
    if (!r.uniqueid) return;
    const one = localPair(r.channel, '1');
    if (one) this.firstHalf.set(one, r.uniqueid);
    const two = localPair(r.channel, '2');
    if (two) this.secondHalf.set(r.uniqueid, two);
    // The first row of a channel is its own; later rows with its uniqueid are its further dials.
    if (this.keepRows && !this.rows.has(r.uniqueid)) this.rows.set(r.uniqueid, r);
  }

  callOf(uniqueid: string): string {
    let id = uniqueid;
    for (let hops = 0; hops < 16; hops++) {
      const pair = this.secondHalf.get(id);
      const first = pair ? this.firstHalf.get(pair) : undefined;
      if (!first || first === id) return id;
      id = first;
    }
    return id;
  }
}

/** A CDR time (`usegmtime=yes` UTC, else the PBX's zone) → epoch ms, or NaN. */
export function cdrTime(text: string, toUtc: (local: string) => number): number {
  if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(text)) return NaN;
  return toUtc(text);
}

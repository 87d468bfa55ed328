// Value formats for writing rows into ClickHouse (TabSeparated inserts). Reads bind their values
// as query parameters (read/scope.ts); nothing here builds a query.
//
// These run for every column of every row the consumer writes, so they avoid `Date` and
// intermediate objects: `new Date(t).toISOString().replace(…)` per time value was a fifth of the
// consumer's CPU in a profile (issue #17), most of it allocation and GC.

const TWO = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : String(i)));
const THREE = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
const DAY_MS = 86_400_000;
// Most values of a batch fall on a few days: the calendar part is computed once per day.
let lastDay = NaN;
let lastDate = '';

/** Days since 1970-01-01 → `YYYY-MM-DD ` (proleptic Gregorian; Howard Hinnant's civil_from_days). */
function civilDate(days: number): string {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return `${String(y).padStart(4, '0')}-${TWO[m]}-${TWO[d]} `;
}

/** Epoch ms → the DateTime64(3) text ClickHouse reads in a UTC column (`YYYY-MM-DD hh:mm:ss.sss`). */
export function chTime(t: number | Date): string {
  const ms = Math.floor(typeof t === 'number' ? t : t.getTime());
  const day = Math.floor(ms / DAY_MS);
  if (day !== lastDay) {
    lastDay = day;
    lastDate = civilDate(day);
  }
  let r = ms - day * DAY_MS;
  const h = Math.floor(r / 3_600_000);
  r -= h * 3_600_000;
  const mi = Math.floor(r / 60_000);
  r -= mi * 60_000;
  const s = Math.floor(r / 1000);
  return `${lastDate}${TWO[h]}:${TWO[mi]}:${TWO[s]}.${THREE[r - s * 1000]}`;
}

export function chTimeOrNull(t: number | null): string | null {
  return t === null ? null : chTime(t);
}

/**
 * A contract time (`YYYY-MM-DDThh:mm:ss.sssZ`, the only form the schema accepts) → the same
 * instant as ClickHouse text, by slicing: no parse, no `Date`.
 */
export function chTimeOfIso(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

/** An Array(String) element in a TSV field: a quoted literal, tabs and newlines escaped for TSV. */
const tsvArrayElement = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`.replace(/\t/g, '\\t').replace(/\n/g, '\\n');

const NEEDS_ESCAPE = /[\\\t\n\r]/;
/** A string as a TSV field; most values need no escaping, and are returned as they are. */
export const escTsv = (s: string) => (NEEDS_ESCAPE.test(s) ? s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : s);

export function tsvField(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '0';
  if (typeof v === 'string') return escTsv(v);
  if (Array.isArray(v)) return `[${v.map((x) => tsvArrayElement(String(x))).join(',')}]`;
  return escTsv(String(v));
}

/**
 * Rows as TabSeparated text for `columns`. TSV, not JSONEachRow: the engine parses it about
 * twice as fast, which matters for the event bodies (JSON inside JSON otherwise). Columns named
 * in `times` hold epoch ms (or null) and are written as DateTime64 text; `seconds` hold epoch ms
 * written as whole epoch seconds (a DateTime column).
 */
export function toTsv(columns: readonly string[], rows: readonly Record<string, unknown>[], times: ReadonlySet<string> = NO_COLUMNS, seconds: ReadonlySet<string> = NO_COLUMNS): string {
  const kind = columns.map((c) => (times.has(c) ? 1 : seconds.has(c) ? 2 : 0));
  let out = '';
  for (const r of rows) {
    for (let i = 0; i < columns.length; i++) {
      const v = r[columns[i]!];
      const k = kind[i];
      const f = k === 1 && typeof v === 'number' ? chTime(v) : k === 2 && typeof v === 'number' ? String(Math.floor(v / 1000)) : tsvField(v);
      out += i ? `\t${f}` : f;
    }
    out += '\n';
  }
  return out;
}
const NO_COLUMNS: ReadonlySet<string> = new Set();

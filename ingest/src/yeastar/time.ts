// Yeastar sends PBX-local wall-clock times without an offset ("2026-09-24 00:04:18"), in the
// zone configured on the PBX. We convert them with the PBX's IANA zone from config.
//
// DST rule (documented in ingest/README.md, tested in yeastar-time.unit.spec.ts):
// - ambiguous local time (fall back, the hour happens twice): if a UTC hint is given (the
//   epoch prefix of the Yeastar call id, which is UTC), the candidate closest to the hint wins;
//   without a hint, the EARLIER instant (the first occurrence, still on summer time) wins.
// - skipped local time (spring forward, the hour does not exist): read with the offset in
//   force just before the gap, which shifts it forward by the gap (02:30 → 03:30 local).
import { IANAZone } from 'luxon';

export type LocalTimeRule = 'exact' | 'ambiguous-earlier' | 'ambiguous-hint' | 'skipped-forward';

export interface LocalTimeResult {
  /** UTC epoch milliseconds. */
  ms: number;
  rule: LocalTimeRule;
}

const FORMATS: { re: RegExp; order: [number, number, number] }[] = [
  // 2026-09-24 00:04:18, 2026/01/16 15:00:49 (30034/30035 create_time), optional T
  { re: /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$/, order: [1, 2, 3] },
  // 04/27/2026 18:41:34 (P-Series display format MM/DD/YYYY, used by cdr/search rows)
  { re: /^(\d{1,2})\/(\d{1,2})\/(\d{4})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$/, order: [3, 1, 2] },
];

/** Wall-clock fields of a Yeastar local time string as if it were UTC, or null when unreadable. */
export function parseWallClock(s: string): number | null {
  const t = s.trim();
  for (const f of FORMATS) {
    const m = f.re.exec(t);
    if (!m) continue;
    const [y, mo, d] = f.order.map((i) => Number(m[i]));
    const h = Number(m[4]);
    const mi = Number(m[5]);
    const se = m[6] === undefined ? 0 : Number(m[6]);
    if (mo! < 1 || mo! > 12 || d! < 1 || d! > 31 || h > 23 || mi > 59 || se > 59) return null;
    const ms = Date.UTC(y!, mo! - 1, d!, h, mi, se);
    // Date.UTC rolls 31 February into March; a real date round-trips.
    if (new Date(ms).getUTCDate() !== d) return null;
    return ms;
  }
  return null;
}

const zones = new Map<string, IANAZone>();
function ianaZone(zone: string): IANAZone {
  let z = zones.get(zone);
  if (!z) {
    z = IANAZone.create(zone);
    if (!z.isValid) throw new RangeError(`unknown IANA time zone "${zone}"`);
    zones.set(zone, z);
  }
  return z;
}

// Offsets only change on 15-minute UTC boundaries (every real offset is a multiple of 15
// minutes, DESIGN.md "Time"), so one lookup per zone and quarter hour is enough; luxon's
// lookup goes through Intl and is the costly part of a CDR.
const QUARTER = 900_000;
const offsetCache = new Map<string, number>();
function offsetMinutes(z: IANAZone, ts: number): number {
  const key = `${z.name}|${Math.floor(ts / QUARTER)}`;
  let o = offsetCache.get(key);
  if (o === undefined) {
    if (offsetCache.size > 50_000) offsetCache.clear();
    o = z.offset(ts);
    offsetCache.set(key, o);
  }
  return o;
}

/** Converts wall-clock milliseconds (fields read as UTC) in `zone` to a real UTC instant. */
export function wallClockToUtc(wall: number, zone: string, hintMs?: number): LocalTimeResult {
  const z0 = ianaZone(zone);
  const z = { offset: (ts: number) => offsetMinutes(z0, ts) };
  const DAY = 86_400_000;
  // Every offset that could apply near this wall time (transitions are far less than a day apart).
  const offsets = [...new Set([z.offset(wall - DAY), z.offset(wall), z.offset(wall + DAY)])];
  const candidates = offsets
    .map((o) => wall - o * 60_000)
    .filter((t) => z.offset(t) * 60_000 === wall - t)
    .sort((a, b) => a - b);
  if (candidates.length === 1) return { ms: candidates[0]!, rule: 'exact' };
  if (candidates.length === 0) return { ms: wall - z.offset(wall - DAY) * 60_000, rule: 'skipped-forward' };
  if (hintMs !== undefined && Number.isFinite(hintMs)) {
    const best = candidates.reduce((a, b) => (Math.abs(b - hintMs) < Math.abs(a - hintMs) ? b : a));
    return { ms: best, rule: 'ambiguous-hint' };
  }
  return { ms: candidates[0]!, rule: 'ambiguous-earlier' };
}

/** A Yeastar local time string in `zone` → UTC, or null when the string is not a time we know. */
export function yeastarLocalToUtc(local: string, zone: string, hintMs?: number): LocalTimeResult | null {
  const wall = parseWallClock(local);
  return wall === null ? null : wallClockToUtc(wall, zone, hintMs);
}

/** The integer part of a Yeastar call id is the call's start as a Unix epoch (UTC seconds). */
export function callIdEpochMs(callId: string): number | undefined {
  const m = /^(\d{9,11})(?:\.\d+)?$/.exec(callId.trim());
  return m ? Number(m[1]) * 1000 : undefined;
}

/** The PBX's own wall-clock rendering of an instant, `yyyy-MM-dd HH:mm:ss` in its zone (what Yeastar CDRs carry). */
export function formatPbxLocal(at: Date | number, zone: string): string {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })
      .formatToParts(at)
      .map((x) => [x.type, x.value]),
  );
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

// The offset of a PBX's clock from the server's, measured from what its events carry: the PBX
// time of each event (AMI Timestamp, the times a Yeastar report gives) against the time ingest
// received it. Transport and queueing delay only make an event arrive later, so the least
// `received − pbx time` seen is the best estimate: offset = max(pbx − received).
//
// Kept per 5-second bucket of receive time, the last few buckets that held an event. The
// estimate is trusted (settled) only while those buckets agree: a history replay (a simulator's
// day, a backlog) delivers events whose PBX time runs far faster than real time, so its buckets
// disagree by minutes and the offset stays what it was (or unknown), instead of reading the
// replay's lag as a clock error. A PBX clock that steps (NTP) settles on its new offset once
// the buckets after the step agree. Pure: the caller passes both times.

/** Receive-time width of one bucket. */
export const CLOCK_BUCKET_MS = 5_000;
/** How many of the latest buckets must agree before an offset is trusted. */
export const CLOCK_BUCKETS = 3;
/** How far they may disagree (jitter of the least delay under load) and still agree. */
export const CLOCK_STEADY_MS = 3_000;
/** An offset smaller than this is no clock error worth a warning (the board's aim). */
export const CLOCK_WARN_MS = 2_000;

export class PbxClockOffset {
  /** bucket index (receive ms / CLOCK_BUCKET_MS) → the largest pbx − received in it */
  private readonly buckets = new Map<number, number>();
  private settled: number | null = null;

  /** PBX clock minus server clock in ms (negative: the PBX is behind); null until settled. */
  get offsetMs(): number | null {
    return this.settled;
  }

  /** One event: its server receive time and its time on the PBX clock. */
  add(receivedMs: number, pbxMs: number): void {
    if (!Number.isFinite(receivedMs) || !Number.isFinite(pbxMs)) return;
    const b = Math.floor(receivedMs / CLOCK_BUCKET_MS);
    const d = pbxMs - receivedMs;
    const prev = this.buckets.get(b);
    if (prev !== undefined && prev >= d) return;
    if (prev === undefined) {
      // Events of several partitions arrive out of receive order: a bucket older than the
      // kept ones is history already judged.
      const oldest = Math.min(...this.buckets.keys());
      if (this.buckets.size >= CLOCK_BUCKETS && b < oldest) return;
    }
    this.buckets.set(b, d);
    if (this.buckets.size > CLOCK_BUCKETS) this.buckets.delete(Math.min(...this.buckets.keys()));
    if (this.buckets.size < CLOCK_BUCKETS) return;
    const ds = [...this.buckets.values()];
    const hi = Math.max(...ds);
    if (hi - Math.min(...ds) <= CLOCK_STEADY_MS) this.settled = hi;
  }
}

/** The server time of a PBX time, with the PBX's offset (none known: taken as is). */
export function serverTime(pbxMs: number, offsetMs: number | null | undefined): number {
  return offsetMs ? pbxMs - offsetMs : pbxMs;
}

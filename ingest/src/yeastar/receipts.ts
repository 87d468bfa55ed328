// First receive times of S-Series reports, kept across restarts. S-Series reports carry no event
// time (yeastar.md §5): the receive time is the event time. The PBX re-sends a report until it
// is answered 200, also to a restarted ingest, so without this a re-sent report would record the
// same call facts (same deterministic event ids) at a later time and change history. A report
// already seen keeps the time it was first received, for its raw record and its events.
//
// A report about a call (it names a call id) is one moment of that call and is remembered for
// CALL_WINDOW_MS. A report without one (extension or agent status) can recur with the same body
// as a new fact (idle, busy, idle again), so it is only treated as a re-send within
// RESEND_WINDOW_MS, the span in which the PBX's retries arrive.
//
// Stored as an append-only log (`<sha256> <epoch ms>` per line) in the data dir, compacted on
// open; without a path the memory is per process only.
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '@callboard/platform';

export const CALL_WINDOW_MS = 48 * 3600_000;
export const RESEND_WINDOW_MS = 10 * 60_000;

/** True when the report names a call (S-Series `callid`, P-Series `call_id`). */
function namesCall(text: string): boolean {
  return /"call_?id"\s*:/i.test(text);
}

export class ReportReceipts {
  private readonly first = new Map<string, number>();

  constructor(
    private readonly path: string | null,
    private readonly log?: Logger,
    private readonly now: () => number = Date.now,
  ) {
    if (path) this.load(path);
  }

  private load(path: string): void {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return; // first start
    }
    const oldest = this.now() - CALL_WINDOW_MS;
    for (const line of text.split('\n')) {
      const [key, ms] = line.split(' ');
      const t = Number(ms);
      if (key && key.length === 64 && Number.isFinite(t) && t >= oldest && !this.first.has(key)) this.first.set(key, t);
    }
    try {
      const tmp = `${path}.tmp`;
      writeFileSync(tmp, [...this.first].map(([k, t]) => `${k} ${t}\n`).join(''));
      renameSync(tmp, path);
    } catch (e) {
      this.log?.warn({ path, err: (e as Error).message }, 'S-Series receipt log not compacted');
    }
  }

  /**
   * The time to record for `text` from `pbx`, received at `at`: the first receive time of the
   * same report when it is a re-send, else `at` (remembered from now on).
   */
  receivedAt(pbx: string, text: string, at: Date): Date {
    const key = createHash('sha256').update(pbx).update('\0').update(text.trim()).digest('hex');
    const ms = at.getTime();
    const seen = this.first.get(key);
    const window = namesCall(text) ? CALL_WINDOW_MS : RESEND_WINDOW_MS;
    if (seen !== undefined && ms - seen <= window && seen <= ms) return new Date(seen);
    this.first.delete(key);
    this.first.set(key, ms);
    this.prune(ms);
    if (this.path) {
      try {
        mkdirSync(dirname(this.path), { recursive: true });
        appendFileSync(this.path, `${key} ${ms}\n`);
      } catch (e) {
        this.log?.warn({ path: this.path, err: (e as Error).message }, 'S-Series receipt not kept: a re-send after a restart will get a new receive time');
      }
    }
    return at;
  }

  /** Map order is insertion order, which is receive order: the oldest are first. */
  private prune(now: number): void {
    for (const [k, t] of this.first) {
      if (now - t <= CALL_WINDOW_MS) break;
      this.first.delete(k);
    }
  }
}

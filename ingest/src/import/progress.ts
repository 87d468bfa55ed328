// A one-line progress bar for long imports: only on a terminal (a pipe or a log file gets the
// summary alone), redrawn at most five times a second.
export interface ProgressOptions {
  out: NodeJS.WriteStream | { isTTY?: boolean; columns?: number; write(s: string): boolean };
  /** Input bytes in total when known (ETA and percentage need it). */
  total: number | null;
  now?: () => number;
}

export function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const t = Math.max(0, Math.round(s));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = t % 60;
  return `${h ? `${h}:${String(m).padStart(2, '0')}` : String(m)}:${String(sec).padStart(2, '0')}`;
}

/** The bar's text: fraction done (or null), items, rate, ETA. Pure, for tests. */
export function progressLine(done: number | null, items: number, elapsedS: number, width = 24): string {
  const rate = elapsedS > 0 ? items / elapsedS : 0;
  const rateText = `${Math.round(rate).toLocaleString('en-US')} lines/s`;
  if (done === null) return `${items.toLocaleString('en-US')} lines  ${rateText}`;
  const f = Math.min(1, Math.max(0, done));
  const filled = Math.round(f * width);
  const eta = f > 0 ? (elapsedS * (1 - f)) / f : Infinity;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(f * 100).toFixed(0).padStart(3)}%  ${items.toLocaleString('en-US')} lines  ${rateText}  ETA ${formatDuration(eta)}`;
}

export class Progress {
  private readonly started: number;
  private last = 0;
  private shown = false;
  private readonly now: () => number;

  constructor(private readonly o: ProgressOptions) {
    this.now = o.now ?? Date.now;
    this.started = this.now();
  }

  update(items: number, consumedBytes: number): void {
    if (!this.o.out.isTTY) return;
    const t = this.now();
    if (t - this.last < 200) return;
    this.last = t;
    const done = this.o.total ? consumedBytes / this.o.total : null;
    const text = progressLine(done, items, (t - this.started) / 1000);
    this.o.out.write(`\r${text.slice(0, (this.o.out.columns ?? 100) - 1)}\x1b[K`);
    this.shown = true;
  }

  /** Clears the bar so the summary starts on a clean line. */
  end(): void {
    if (this.shown) this.o.out.write('\r\x1b[K');
  }
}

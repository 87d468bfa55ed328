// Plays the model's timeline against the wall clock: history (everything before `catchUpTo`)
// as fast as the sinks drain, then at `speed` virtual milliseconds per real millisecond.
// The virtual clock is what the simulated PBX stamps on its events, so a sped-up day still
// carries the model's own times.
import type { SimAction } from './model.ts';

export interface PlayerOptions {
  actions: readonly SimAction[];
  /** Called for each action in order; synchronous (renderers and socket writes). */
  sink: (a: SimAction) => void;
  /** Virtual time the run starts at (usually the scenario's from_ms). */
  startAt: number;
  /** Actions before this virtual time are played at once (history); default: none. */
  catchUpTo?: number;
  /** Virtual ms per wall ms after catch-up; Infinity plays everything at once. */
  speed: number;
  /** Awaited every batch during catch-up, so a slow reader is not buried (socket back-pressure). */
  drain?: () => Promise<void>;
  wallClock?: () => number;
  /** How many actions to play between yields during catch-up. */
  batch?: number;
  /**
   * Ceiling on actions per wall second during catch-up. A real PBX never sends a day in one
   * burst; readers that batch what they buffered (the AMI adapter) must not get megabytes at once.
   */
  catchUpRate?: number;
}

export class SimPlayer {
  private i = 0;
  private stopped = false;
  private anchorWall = 0;
  private anchorVirtual: number;
  private live = false;
  private timer: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;
  private readonly wall: () => number;

  constructor(private readonly o: PlayerOptions) {
    this.anchorVirtual = o.startAt;
    this.wall = o.wallClock ?? Date.now;
  }

  /** The simulated PBX's clock. */
  now(): number {
    if (!this.live) return this.anchorVirtual;
    if (!Number.isFinite(this.o.speed)) return this.o.actions.length ? this.o.actions[this.o.actions.length - 1]!.t : this.anchorVirtual;
    return Math.floor(this.anchorVirtual + (this.wall() - this.anchorWall) * this.o.speed);
  }

  get played(): number {
    return this.i;
  }

  get total(): number {
    return this.o.actions.length;
  }

  async run(): Promise<void> {
    const { actions, sink } = this.o;
    const batch = this.o.batch ?? (this.o.catchUpRate ? Math.max(1, Math.ceil(this.o.catchUpRate / 20)) : 2000);
    const catchUp = Number.isFinite(this.o.speed) ? (this.o.catchUpTo ?? this.o.startAt) : Infinity;
    while (!this.stopped && this.i < actions.length && actions[this.i]!.t < catchUp) {
      const end = Math.min(actions.length, this.i + batch);
      for (; this.i < end && actions[this.i]!.t < catchUp; this.i++) {
        this.anchorVirtual = actions[this.i]!.t;
        sink(actions[this.i]!);
      }
      const began = this.wall();
      if (this.o.drain) await this.o.drain();
      const pace = this.o.catchUpRate ? (batch * 1000) / this.o.catchUpRate - (this.wall() - began) : 0;
      await new Promise((r) => (pace > 0 ? setTimeout(r, pace) : setImmediate(r)));
    }
    if (Number.isFinite(catchUp)) this.anchorVirtual = Math.max(this.anchorVirtual, catchUp);
    this.anchorWall = this.wall();
    this.live = true;
    while (!this.stopped && this.i < actions.length) {
      const now = this.now();
      while (this.i < actions.length && actions[this.i]!.t <= now) sink(actions[this.i++]!);
      if (this.i >= actions.length) break;
      const waitMs = Math.min(1000, Math.max(1, (actions[this.i]!.t - now) / this.o.speed));
      await new Promise<void>((r) => {
        this.wake = r;
        this.timer = setTimeout(r, waitMs);
      });
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
  }
}

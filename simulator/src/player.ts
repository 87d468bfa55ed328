// Plays the model's timeline against the wall clock: history (everything before `catchUpTo`)
// as fast as the sinks drain, then at `speed` virtual milliseconds per real millisecond.
// The virtual clock is what the simulated PBX stamps on its events, so a sped-up day still
// carries the model's own times.
//
// With `catchUpTo` the live clock is anchored when the player is made (`catchUpTo` at that wall
// instant) and keeps running while history replays: the replay chases a moving line instead of
// resuming from where it began, so at speed 1 with `catchUpTo: Date.now()` the live frames carry
// the real current time however long the replay took (#16: it used to lag by the replay's length).
import type { SimAction } from './model.ts';

export interface PlayerOptions {
  actions: readonly SimAction[];
  /** Called for each action in order; synchronous (renderers and socket writes). */
  sink: (a: SimAction) => void;
  /** Virtual time the run starts at (usually the scenario's from_ms). */
  startAt: number;
  /**
   * Virtual time at the wall instant the player is made; actions before the live clock (which
   * advances from there at `speed`, replay or not) are played at once (history). Default: none.
   */
  catchUpTo?: number;
  /**
   * The wall instant `catchUpTo` stands for, when it is not the player's making: a caller that read
   * the clock, then built the day (seconds on a loaded machine), would otherwise lag by that long.
   */
  catchUpAtWall?: number;
  /** Virtual ms per wall ms after catch-up; Infinity plays everything at once. */
  speed: number;
  /**
   * Called after each action is played; when it returns a promise the timeline holds until it
   * settles (a restarted PBX closing its connections, then waiting for its client to resync).
   */
  gate?: (a: SimAction) => Promise<void> | undefined;
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

  private readonly madeAtWall: number;

  constructor(private readonly o: PlayerOptions) {
    this.anchorVirtual = o.startAt;
    this.wall = o.wallClock ?? Date.now;
    this.madeAtWall = o.catchUpAtWall ?? this.wall();
  }

  /** Where the live clock is now: what the replay must reach before playing in time. */
  private liveLine(): number {
    if (!Number.isFinite(this.o.speed)) return Infinity;
    if (this.o.catchUpTo === undefined) return this.o.startAt;
    return this.o.catchUpTo + (this.wall() - this.madeAtWall) * this.o.speed;
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
    let catchUp = this.liveLine();
    while (!this.stopped && this.i < actions.length && actions[this.i]!.t < catchUp) {
      const end = Math.min(actions.length, this.i + batch);
      let hold: Promise<void> | undefined;
      while (!hold && this.i < end && actions[this.i]!.t < catchUp) {
        const a = actions[this.i++]!;
        this.anchorVirtual = a.t;
        sink(a);
        hold = this.o.gate?.(a);
      }
      if (hold) await hold;
      const began = this.wall();
      if (this.o.drain) await this.o.drain();
      const pace = this.o.catchUpRate ? (batch * 1000) / this.o.catchUpRate - (this.wall() - began) : 0;
      await new Promise((r) => (pace > 0 ? setTimeout(r, pace) : setImmediate(r)));
      catchUp = this.liveLine();
    }
    if (this.o.catchUpTo !== undefined && Number.isFinite(this.o.speed)) {
      this.anchorVirtual = this.o.catchUpTo;
      this.anchorWall = this.madeAtWall;
    } else {
      if (Number.isFinite(catchUp)) this.anchorVirtual = Math.max(this.anchorVirtual, catchUp);
      this.anchorWall = this.wall();
    }
    this.live = true;
    while (!this.stopped && this.i < actions.length) {
      const now = this.now();
      while (!this.stopped && this.i < actions.length && actions[this.i]!.t <= now) {
        const a = actions[this.i++]!;
        sink(a);
        const hold = this.o.gate?.(a);
        if (hold) await hold;
      }
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

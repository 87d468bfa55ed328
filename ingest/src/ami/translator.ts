// AMI frames → canonical events. Pure and deterministic: the translator's state is its own
// (channels, calls, queue legs, agents), it does no I/O and reads no clock, so the same raw
// history always gives the same canonical history with the same ids.
//
// Times: a frame's time is its `Timestamp` header (timestampevents=yes, microseconds, cut to
// ms), otherwise the receive time the caller passes. Durations (waits, talk, ring) come from the
// difference of two Timestamp headers when both ends have one, otherwise from Asterisk's own
// whole-second HoldTime/TalkTime/RingTime fields.
//
// Event ids (schemas/README "Event ids"): vendor_key is `Timestamp|Event|Uniqueid|Queue|Interface`
// for a frame with a Timestamp, else `<connection>#<seq>` (file order in offline translation).
// Events derived later from an earlier frame (an abandon decided by what follows it, a wrap-up
// that ends) keep the key of the frame that caused them, so the decision's timing never
// changes an id.
//
// Structure, in layers that import only downwards (no import circles): the state between frames
// is explicit (state.ts) and the frame being translated is `Cx` (ops/context.ts); the operations
// several handlers share sit on them (ops/*.ts: agents, then rings, direct, calls, then legs);
// each AMI event goes to a handler (handlers/*.ts, `(state, cx, headers) => outcome`, events made
// into `cx.out`, importing only ops, never another handler) through handlers/dispatch.ts; this
// class is the facade that stamps a frame's time, tracks the connection and the gap of the feed,
// and returns the outcome.
import type { CanonicalEvent } from '@callboard/schemas';
import { dlq, ok, type TranslateOutcome } from '../pipeline.ts';
import type { AmiFrame } from './parser.ts';
import { Cx } from './ops/context.ts';
import { dispatch } from './handlers/dispatch.ts';
import { decidePending } from './handlers/legs.ts';
import { expireWrapUps } from './ops/agents.ts';
import { resolveExit } from './ops/legs.ts';
import { OLD_NAMES, TranslatorState, parseAmiTimestamp, type AmiTranslatorOptions, type FrameMeta } from './state.ts';

export { RESYNC_ACTION_PREFIX, mapDisposition, parseAmiTimestamp, type AmiTranslatorOptions, type FrameMeta } from './state.ts';

/**
 * The translator's view of the PBX clock, for the adapter to place a gap of the feed on it
 * (adapter.ts `pbxGap`): the connection of the last frame and the last moment it showed the PBX
 * alive, the connection whose frames gave the PBX–receive offset, that offset, and the PBX time
 * the last gap began.
 */
export interface FeedClock {
  conn: string | undefined;
  lastAlive: number;
  offsetConn: string | undefined;
  offset: number | null;
  gapFrom: number | null;
}

/**
 * What a frame that makes no event (nine in ten) translates to: one shared value, not a new
 * outcome and array per frame. Frozen, so a caller that changed it would fail loudly.
 */
const NOTHING: TranslateOutcome = Object.freeze({ kind: 'ok', events: Object.freeze([]) as unknown as CanonicalEvent[] });

export class AmiTranslator {
  /** Everything the translator knows between frames. */
  private readonly s = new TranslatorState();
  private readonly cx: Cx;

  constructor(opts: AmiTranslatorOptions) {
    this.cx = new Cx(opts);
  }

  /** Translates one frame. Frames must come in stream order. */
  translate(frame: AmiFrame, meta: FrameMeta): TranslateOutcome {
    if (frame.kind === 'garbage') return dlq('UNPARSEABLE_FRAME', `not an AMI frame (connection ${meta.connection}, frame ${meta.seq})`);
    if (frame.kind !== 'event' && !(frame.kind === 'response' && frame.headers.Timestamp)) return NOTHING;
    const h = frame.headers;
    const tsRaw = h.Timestamp;
    let t = meta.received_at;
    this.cx.hasTs = false;
    if (tsRaw !== undefined) {
      const ms = parseAmiTimestamp(tsRaw);
      if (Number.isNaN(ms)) return dlq('BAD_TIMESTAMP', `${frame.name}: Timestamp "${tsRaw}" is not <seconds>.<micro> (connection ${meta.connection}, frame ${meta.seq})`, 'Timestamp');
      t = ms;
      this.cx.hasTs = true;
      const off = ms - meta.received_at;
      // A new connection keeps the last estimate until it has its own: the clocks did not change.
      if (this.s.offsetConn !== meta.connection || this.s.clockOffset === null || off > this.s.clockOffset) this.s.clockOffset = off;
      this.s.offsetConn = meta.connection;
    } else if (this.s.clockOffset !== null) t = meta.received_at + this.s.clockOffset;
    if (meta.connection !== this.s.conn) {
      if (this.s.conn !== undefined) {
        this.s.gapFrom = this.s.shutdownAt ?? this.s.lastAt;
        this.s.wrapHeld = true;
      }
      this.s.conn = meta.connection;
      this.s.shutdownAt = null;
    }
    this.s.lastAt = t;
    // Handed out with its events, or left behind by a dead-lettered frame: start a new one.
    if (this.cx.out.length > 0) this.cx.out = [];
    this.cx.now = t;
    this.s.frameNo++;
    if (this.s.wrapping.size > 0) expireWrapUps(this.s, this.cx, t, meta);
    if (frame.kind !== 'event') return this.made();
    const name = OLD_NAMES[frame.name] ?? frame.name;
    // Most frames (VarSet, Newexten, CEL, …) yield nothing: the event context is built only
    // when an event is made (see `Cx.ctx`).
    this.cx.ctxCache = null;
    this.cx.curName = name;
    this.cx.curHeaders = h;
    this.cx.curMeta = meta;
    if (this.s.pending.size > 0 && h.Uniqueid !== undefined) {
      const leg = this.s.pending.get(h.Uniqueid);
      if (leg) decidePending(this.s, this.cx, leg, name, h);
    }
    const problem = dispatch(this.s, this.cx, name, h);
    if (problem) return problem;
    return this.made();
  }

  /** The events the frame made, as its outcome; the next frame gets a new array. */
  private made(): TranslateOutcome {
    const out = this.cx.out;
    if (out.length === 0) return NOTHING;
    this.cx.out = [];
    return ok(out);
  }

  /** The events made since the last reset, handed out: the caller keeps that array. */
  private takeOut(): CanonicalEvent[] {
    const out = this.cx.out;
    this.cx.out = [];
    return out;
  }

  feedClock(): FeedClock {
    return { conn: this.s.conn, lastAlive: this.s.shutdownAt ?? this.s.lastAt, offsetConn: this.s.offsetConn, offset: this.s.clockOffset, gapFrom: this.s.gapFrom };
  }

  /** Events that become due with time alone (wrap-up ends), for a quiet link. */
  advance(now: number, meta: FrameMeta): CanonicalEvent[] {
    this.cx.out = [];
    expireWrapUps(this.s, this.cx, now, meta);
    return this.takeOut();
  }

  /** End of input: decide what is still pending, as the most likely outcome. */
  flush(meta: FrameMeta): CanonicalEvent[] {
    this.cx.out = [];
    this.s.wrapHeld = false;
    for (const leg of [...this.s.pending.values()]) resolveExit(this.s, this.cx, leg, leg.abandon ? 'abandoned' : 'key');
    expireWrapUps(this.s, this.cx, Number.MAX_SAFE_INTEGER, meta);
    return this.takeOut();
  }
}

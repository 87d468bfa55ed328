// Yeastar → canonical events. Pure and deterministic: the translator folds normalised vendor
// messages (messages.ts) into its state and returns the canonical facts each one reveals, with
// `makeEvent`. Same input sequence and receive times → same events, byte for byte.
//
// Shape of the facts matches the AMI path (schemas/src/events.ts, schemas/src/examples.ts):
// call_id = the Yeastar call id (the linked id of the whole call), agent_id = extension number,
// leg_id = `${call_id}:${queue}:${n}` (n-th entry of this call into that queue).
//
// Yeastar call-status events (P 30011, S CallStatus) are snapshots of the whole call's member
// list with no timestamp; per-member transitions come from diffing consecutive snapshots and
// are stamped with the receive time. The CDR (P 30012, S NewCdr) is the authoritative end of the
// call (call.ended) and carries PBX-local times, converted with the PBX zone (time.ts).
//
// Event ids: every fact has a vendor key naming the fact, not the message (`${call_id}|${channel}|answer`),
// so the same fact revealed twice (a re-sent report, a snapshot repeated after a reconnect, the
// CDR and the call-status path both starting a call) gets the same event id and is deduplicated.
//
// Structure, as the AMI translator's, in layers that import only downwards (no import circles):
// the state between messages and what the handlers share about the message (`Cx`) are explicit
// (state.ts); the operations several handlers share sit on them (ops/agents.ts, then
// ops/calls.ts, then ops/snapshot.ts); each message kind goes to a handler (handlers/*.ts,
// `(state, message, cx) => outcome`, importing only ops, never another handler) through
// handlers/dispatch.ts; this class is the facade that stamps the message's time.
import type { CanonicalEvent } from '@callboard/schemas';
import { dlq, translating, type TranslateOutcome } from '../pipeline.ts';
import type { YeastarMessage } from './messages.ts';
import { emptyState, type Cx, type MessageMeta, type TranslatorOptions, type TranslatorState } from './state.ts';
import { sweep } from './ops/calls.ts';
import { dispatch } from './handlers/dispatch.ts';
import { reconcile, type ReconcileInput } from './handlers/reconcile.ts';

export { emptyState, failedDisposition, mapDisposition, type MessageMeta, type TranslatorOptions, type TranslatorState } from './state.ts';

export class YeastarTranslator {
  readonly state: TranslatorState;

  constructor(
    readonly opts: TranslatorOptions,
    state?: TranslatorState,
  ) {
    this.state = state ?? emptyState();
  }

  /** Translates one normalised vendor message received at meta.received_at. */
  translate(msg: YeastarMessage, meta: MessageMeta): TranslateOutcome {
    const t = Date.parse(meta.received_at);
    if (!Number.isFinite(t)) return dlq('BAD_TIMESTAMP', `received_at "${meta.received_at}" is not a time`);
    this.state.now = Math.max(this.state.now, t);
    sweep(this.state, t);
    return dispatch(this.state, msg, this.cx(meta, t));
  }

  /** After a reconnect: the PBX's current calls and agents replace what the live state believed (handlers/reconcile.ts). */
  reconcile(input: ReconcileInput, meta: MessageMeta): CanonicalEvent[] {
    const cx = this.cx(meta, Date.parse(meta.received_at));
    reconcile(this.state, input, cx);
    return cx.out;
  }

  private cx(meta: MessageMeta, t: number): Cx {
    return { opts: this.opts, meta, t, out: [] };
  }
}

/**
 * The translator's outcome, or a dead letter when it throws (a value no check foresaw, such as a
 * time out of range): no message may vanish between an HTTP 200 and the DLQ.
 */
export function translateSafely(translator: YeastarTranslator, msg: YeastarMessage, meta: MessageMeta): TranslateOutcome {
  return translating(msg.kind, () => translator.translate(msg, meta));
}

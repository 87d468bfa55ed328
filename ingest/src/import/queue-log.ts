// Asterisk's queue_log, one line at a time: `time|callid|queue|agent|verb|data1|data2|…`
// (docs/import.md). Pure: bytes of one line in, a parsed line or a rejection out. The verbs and
// the data fields each needs are listed once here; the translator (translate.ts) and the
// reconciliation calculator (projections/src/reconcile) both read lines through this parser,
// so the two sides of a reconciliation never disagree about what a line says.
import { DateTime } from 'luxon';
import type { DlqReason } from '@callboard/schemas';

export interface QueueLogLine {
  /** 1-based line number in the input. */
  line: number;
  /** The line as read (without the line end). */
  text: string;
  /** Epoch ms (queue_log has whole seconds, so always a multiple of 1000 in practice). */
  at: number;
  /** Asterisk's call id of the queued channel (its Uniqueid), or NONE / MANAGER / REALTIME. */
  callid: string;
  queue: string;
  /** Member name on most verbs, the member interface on ADDMEMBER / REMOVEMEMBER. */
  agent: string;
  verb: string;
  data: string[];
}

export type LineResult = { kind: 'line'; line: QueueLogLine } | { kind: 'reject'; reason_code: DlqReason; reason: string };

/**
 * Data fields each verb must have (Asterisk 1.8 → 22), and which of them must be whole numbers.
 * EXITWITHKEY gained position/origposition/waittime in 1.6; older lines carry key and position.
 */
export const VERBS: Record<string, { fields: number; numeric: number[] }> = {
  ENTERQUEUE: { fields: 3, numeric: [] },
  CONNECT: { fields: 3, numeric: [0] },
  COMPLETEAGENT: { fields: 3, numeric: [0, 1] },
  COMPLETECALLER: { fields: 3, numeric: [0, 1] },
  ABANDON: { fields: 3, numeric: [0, 1, 2] },
  EXITWITHTIMEOUT: { fields: 3, numeric: [0, 1, 2] },
  EXITEMPTY: { fields: 3, numeric: [0, 1, 2] },
  EXITWITHKEY: { fields: 2, numeric: [1] },
  RINGNOANSWER: { fields: 1, numeric: [0] },
  RINGCANCELED: { fields: 0, numeric: [] },
  BLINDTRANSFER: { fields: 5, numeric: [2, 3] },
  ATTENDEDTRANSFER: { fields: 5, numeric: [2, 3] },
  PAUSE: { fields: 0, numeric: [] },
  PAUSEALL: { fields: 0, numeric: [] },
  UNPAUSE: { fields: 0, numeric: [] },
  UNPAUSEALL: { fields: 0, numeric: [] },
  ADDMEMBER: { fields: 0, numeric: [] },
  REMOVEMEMBER: { fields: 0, numeric: [] },
  AGENTLOGIN: { fields: 0, numeric: [] },
  AGENTLOGOFF: { fields: 0, numeric: [] },
  AGENTCALLBACKLOGIN: { fields: 0, numeric: [] },
  AGENTCALLBACKLOGOFF: { fields: 0, numeric: [] },
  // Known, and no canonical event follows from them: bookkeeping (QUEUESTART, CONFIGRELOAD,
  // INFO, SYSCOMPAT, DID, PENALTY), and callers turned away before they entered a queue
  // (FULL, JOINEMPTY, JOINUNAVAIL are not queue legs: METRICS.md counts entries into a queue).
  QUEUESTART: { fields: 0, numeric: [] },
  CONFIGRELOAD: { fields: 0, numeric: [] },
  INFO: { fields: 0, numeric: [] },
  SYSCOMPAT: { fields: 0, numeric: [] },
  DID: { fields: 0, numeric: [] },
  PENALTY: { fields: 0, numeric: [] },
  FULL: { fields: 0, numeric: [] },
  JOINEMPTY: { fields: 0, numeric: [] },
  JOINUNAVAIL: { fields: 0, numeric: [] },
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A queue_log time: epoch seconds, optionally with a fraction (some builds log microseconds). */
const EPOCH = /^\d{9,11}(\.\d{1,6})?$/;
/** The `time` column of a realtime (MySQL/ODBC) queue_log table, exported as text. */
const DATETIME = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?$/;

/** Local wall time (`YYYY-MM-DD hh:mm:ss[.ffffff]`) → epoch ms, NaN when it is no real time. */
export type LocalTime = (text: string) => number;

export function zoneToUtc(zone: string): LocalTime {
  return (s) => {
    const d = DateTime.fromSQL(s.replace('T', ' '), { zone });
    return d.isValid ? d.toMillis() : NaN;
  };
}
const utcLocal = zoneToUtc('UTC');

/**
 * Parses one line: the queue_log file's `epoch|…`, or a queue_log table exported with `|`
 * between its columns (`2026-11-22 00:15:06|…`, in the zone `local` reads; extra empty data
 * columns are harmless). A line that is not UTF-8, has fewer than the five fixed fields, a time
 * that is neither, or fewer data fields (or a non-number where a number belongs) than its verb
 * needs is rejected; an unknown verb is parsed (the translator counts and dead-letters it).
 */
export function parseQueueLogLine(bytes: Uint8Array, line: number, local: LocalTime = utcLocal): LineResult {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { kind: 'reject', reason_code: 'UNPARSEABLE_FRAME', reason: `line ${line}: not UTF-8 text` };
  }
  if (text.endsWith('\r')) text = text.slice(0, -1);
  const parts = text.split('|');
  if (parts.length < 5 || parts[4] === '')
    return { kind: 'reject', reason_code: 'MISSING_FIELD', reason: `line ${line}: truncated (${parts.length} of at least 5 fields)` };
  const [time, callid, queue, agent, verb, ...data] = parts as [string, string, string, string, string, ...string[]];
  const at = EPOCH.test(time) ? Math.round(Number(time) * 1000) : DATETIME.test(time) ? local(time) : NaN;
  if (!Number.isFinite(at))
    return { kind: 'reject', reason_code: 'BAD_TIMESTAMP', reason: `line ${line}: time ${JSON.stringify(time)} is neither epoch seconds nor a date and time` };
  const spec = VERBS[verb];
  if (spec) {
    if (data.length < spec.fields)
      return { kind: 'reject', reason_code: 'MISSING_FIELD', reason: `line ${line}: ${verb} truncated (${data.length} of ${spec.fields} data fields)` };
    for (const i of spec.numeric) {
      if (!/^\d+$/.test(data[i] ?? ''))
        return { kind: 'reject', reason_code: 'INVALID_FIELD', reason: `line ${line}: ${verb} data${i + 1} ${JSON.stringify(data[i])} is not a whole number` };
    }
  }
  return { kind: 'line', line: { line, text, at, callid, queue, agent, verb, data } };
}

/** Whole seconds in a data field, as ms (validated by the parser for the verbs that need it). */
export const secondsField = (l: QueueLogLine, i: number): number => Number(l.data[i] ?? 0) * 1000;
/** A whole number in a data field, or undefined when absent or not a number. */
export const intField = (l: QueueLogLine, i: number): number | undefined => (/^\d+$/.test(l.data[i] ?? '') ? Number(l.data[i]) : undefined);

/** The verbs that end a queue leg, and how (METRICS.md queue metrics). */
export const LEG_END: Record<string, 'answered' | 'abandoned' | 'exited'> = {
  CONNECT: 'answered',
  ABANDON: 'abandoned',
  EXITWITHTIMEOUT: 'exited',
  EXITWITHKEY: 'exited',
  EXITEMPTY: 'exited',
};

/** Wait of a leg that left unanswered: the logged waittime, else the time since entering. */
export function leaveWaitMs(l: QueueLogLine, enteredAt: number | undefined): number {
  const i = l.verb === 'EXITWITHKEY' ? 3 : 2;
  const logged = intField(l, i);
  if (logged !== undefined) return logged * 1000;
  return enteredAt !== undefined ? Math.max(0, l.at - enteredAt) : 0;
}

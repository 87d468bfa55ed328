// The pure part of `callboard validate`: fold NDJSON lines into printable error lines and a
// summary. The command (validate-command.ts) only reads the file and writes what this returns.
import { EVENT_TYPES, type EventType } from './events.ts';
import { formatIssue, parseEvent } from './validate.ts';

export interface ValidateTally {
  /** Non-blank lines seen. */
  lines: number;
  valid: number;
  invalid: number;
  byType: Partial<Record<EventType, number>>;
}

export function emptyTally(): ValidateTally {
  return { lines: 0, valid: 0, invalid: 0, byType: {} };
}

/**
 * Checks one NDJSON line (1-based `lineNo`); returns the error lines to print, empty when the
 * line is valid or blank, and counts it in `tally`.
 */
export function checkLine(tally: ValidateTally, lineNo: number, text: string): string[] {
  if (!text.trim()) return [];
  tally.lines++;
  const r = parseEvent(text);
  if (r.ok) {
    tally.valid++;
    tally.byType[r.value.type] = (tally.byType[r.value.type] ?? 0) + 1;
    return [];
  }
  tally.invalid++;
  return r.errors.map((e) => formatIssue({ line: lineNo, ...e }));
}

export function summary(tally: ValidateTally, name: string): string {
  const types = EVENT_TYPES.filter((t) => tally.byType[t]).map((t) => `${t} ${tally.byType[t]}`);
  const verdict = tally.invalid === 0 ? 'all valid' : `${tally.invalid} invalid`;
  return `${name}: ${tally.lines} events, ${tally.valid} valid, ${verdict}${types.length ? ` (${types.join(', ')})` : ''}`;
}

export function exitCode(tally: ValidateTally): 0 | 1 {
  return tally.invalid === 0 ? 0 : 1;
}

import { describe, expect, it } from 'vitest';
import { EXAMPLES } from '../src/examples.ts';
import { checkLine, emptyTally, exitCode, summary } from '../src/validate-report.ts';

function run(lines: string[]) {
  const tally = emptyTally();
  const out = lines.flatMap((l, i) => checkLine(tally, i + 1, l));
  return { tally, out };
}

describe('callboard validate (pure part)', () => {
  it('valid events: no output, counted per type, exit 0', () => {
    const { tally, out } = run([
      JSON.stringify(EXAMPLES['call.started']),
      '',
      JSON.stringify(EXAMPLES['call.answered']),
      JSON.stringify(EXAMPLES['call.answered']),
    ]);
    expect(out).toEqual([]);
    expect(exitCode(tally)).toBe(0);
    expect(summary(tally, 'day.ndjson')).toBe('day.ndjson: 3 events, 3 valid, all valid (call.started 1, call.answered 2)');
  });

  it('prints each error as "line N: /path: message (expected …, got …)" and exits 1', () => {
    const bad = { ...EXAMPLES['call.answered'], payload: { ...EXAMPLES['call.answered'].payload, wait_ms: -3 } };
    const { tally, out } = run([
      JSON.stringify(EXAMPLES['call.started']),
      '  ',
      JSON.stringify(bad),
      'not json',
      JSON.stringify({ ...EXAMPLES['call.held'], schema_version: 2 }),
    ]);
    expect(out).toEqual([
      'line 3: /payload/wait_ms: Expected integer to be greater or equal to 0 (expected integer >= 0, got -3)',
      expect.stringMatching(/^line 4: \/: Unparseable JSON: .+ \(expected a JSON object, got "not json"\)$/),
      'line 5: /schema_version: Event is from schema version 2, newer than this build knows (1); upgrade the consumer (expected <= 1, got 2)',
    ]);
    expect(exitCode(tally)).toBe(1);
    expect(summary(tally, 'stdin')).toBe('stdin: 4 events, 1 valid, 3 invalid (call.started 1)');
  });

  it('an empty input is valid (nothing to reject)', () => {
    const { tally } = run(['']);
    expect(exitCode(tally)).toBe(0);
    expect(summary(tally, 'empty.ndjson')).toBe('empty.ndjson: 0 events, 0 valid, all valid');
  });
});

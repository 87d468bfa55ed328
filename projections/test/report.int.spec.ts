// `callboard report` end to end: a canonical NDJSON file in, JSON with METRICS.md names out.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { agentState, feedGap, queuedCall, utc } from './given.ts';

const BIN = fileURLToPath(new URL('../../bin/callboard.mjs', import.meta.url));
const run = promisify(execFile);

describe('callboard report', () => {
  it('prints day metrics in the tenant zone from an NDJSON file, skipping invalid lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'callboard-report-test-'));
    const file = join(dir, 'events.ndjson');
    const evs = [
      ...queuedCall({ call_id: 'c1', at: utc('2026-03-09T21:30:00Z'), outcome: 'answered', wait_s: 10, talk_s: 100, hold_s: 20, wrap_s: 5 }),
      ...queuedCall({ call_id: 'c2', at: utc('2026-03-10T08:00:00Z'), outcome: 'abandoned', wait_s: 3 }),
      ...queuedCall({ call_id: 'c3', at: utc('2026-03-10T09:00:00Z'), outcome: 'exited', wait_s: 300 }),
      ...queuedCall({ call_id: 'c4', at: utc('2026-03-10T21:10:00Z'), outcome: 'answered', wait_s: 1 }), // 00:10 on the 11th
      agentState('acme', '1001', utc('2026-03-10T05:00:00Z'), 'available'),
      agentState('acme', '1001', utc('2026-03-10T06:00:00Z'), 'offline'),
      feedGap('acme', utc('2026-03-10T10:00:00Z'), utc('2026-03-10T10:00:30Z'), 'PBX restarted'),
      agentState('acme', '1002', utc('2026-03-10T20:50:00Z'), 'available'),
    ];
    writeFileSync(file, `${evs.map((e) => JSON.stringify(e)).join('\n')}\n{"type":"call.started"}\n`);
    const { stdout } = await run(
      process.execPath,
      [BIN, 'report', '--events', file, '--tenant', 'acme', '--tz', 'Africa/Nairobi', '--period', 'day', '--date', '2026-03-10', '--group-by', 'queue', '--sl-threshold', '15', '--wrap-up', '7'],
      { env: { ...process.env, LOG_LEVEL: 'warn' }, timeout: 120_000 },
    );
    const out = JSON.parse(stdout);
    expect(out.period).toMatchObject({ start: '2026-03-09T21:00:00.000Z', end: '2026-03-10T21:00:00.000Z' });
    expect(out.queue_metrics).toHaveLength(1);
    expect(out.queue_metrics[0]).toMatchObject({ queue: 'sales', offered: 3, answered: 1, abandoned: 1, short_abandoned: 1, exited: 1, answered_within_sl: 1, talk_time: 80, hold_time: 20, wrap_time: 5, max_wait: 300 });
    // The file's last event (c4 ended 21:11:01.050Z) is past the local day's end, so data until is
    // the day's end; 1002, still logged in, counts to it (gaps.int.spec.ts: a file that ends
    // within the period)
    expect(out.data_until).toBe('2026-03-10T21:00:00.000Z');
    expect(out.agent_metrics[0]).toMatchObject({ logged_in_time: 3600 + 600, handled: 1 });
    expect(out.gaps).toEqual([{ pbx_id: 'pbx-1', from: '2026-03-10T10:00:00.000Z', to: '2026-03-10T10:00:30.000Z', reason: 'PBX restarted' }]);
    expect(out.call_metrics[0]).toMatchObject({ calls: 3, answered: 1, no_answer: 2 });
    expect(out.input).toEqual({ lines: evs.length + 1, events: evs.length, invalid_lines: 1 });
  });
});

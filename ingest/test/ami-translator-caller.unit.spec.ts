// The caller's number from real Asterisk 22 captures (../shared/fixtures/ami/asterisk22): every
// call's first channel says `CallerIDNum: <unknown>` and a `NewCallerid` on it follows, so the
// number comes in call.caller_identified. Checked against Asterisk's own queue_log (ENTERQUEUE's
// caller id). Needs ../shared.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CanonicalEvent } from '@callboard/schemas';
import { translateAmiFile } from '../src/ami/offline.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', '..', 'shared', 'fixtures', 'ami', 'asterisk22');
const SCENARIOS = ['a_answered', 'b_abandon', 'c_ringnoanswer', 'f_hold_transfer', 'h_attended_transfer', 'i_membership_midcall', 'j_restart'];

async function translate(scenario: string): Promise<CanonicalEvent[]> {
  const out: CanonicalEvent[] = [];
  for (const f of ['capture.ami', 'capture.after.ami'].map((n) => join(FIXTURES, scenario, n)).filter(existsSync))
    for await (const o of translateAmiFile(f, { cfg: { queues: [] }, tenant_id: 'acme', pbx_id: 'pbx1', warn: () => {} })) if (o.kind === 'ok') out.push(...o.events);
  return out;
}

/** Each call's caller number as a consumer reads it: the last identification, else call.started's. */
function callers(es: CanonicalEvent[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of es) {
    if (e.type === 'call.started' && !out.has(e.call_id)) out.set(e.call_id, e.payload.caller_number);
    if (e.type === 'call.caller_identified') out.set(e.call_id, e.payload.caller_number);
  }
  return out;
}

describe.skipIf(!existsSync(FIXTURES))('AMI caller number from NewCallerid (needs ../shared)', () => {
  it.each(SCENARIOS)("%s: every queue leg's caller number is the one queue_log's ENTERQUEUE logged", async (s) => {
    const es = await translate(s);
    // One ENTERQUEUE per queue leg (a call transferred into a second queue has two).
    const legs = new Map(es.flatMap((e) => (e.type === 'call.queued' ? [[e.payload.leg_id, e.call_id] as const] : [])));
    const byCall = callers(es);
    const got = [...legs.values()].map((c) => byCall.get(c) ?? '(no call)').sort();
    const want = readFileSync(join(FIXTURES, s, 'queue_log'), 'utf8')
      .split('\n')
      .filter((l) => l.split('|')[4] === 'ENTERQUEUE')
      .map((l) => l.split('|')[6]!)
      .sort();
    expect(got).toEqual(want);
  });

  it('h_attended_transfer: the caller channel reset to <unknown> by a completed Atxfer identifies nobody', async () => {
    const es = await translate('h_attended_transfer');
    const ids = es.filter((e) => e.type === 'call.caller_identified').map((e) => [(e as { call_id: string }).call_id, e.payload]);
    expect(ids).toEqual([
      ['1796414234.0', { caller_number: '5558001', caller_name: 'Customer 5558001' }],
      ['1796414263.6', { caller_number: '5558002', caller_name: 'Customer 5558002' }],
      ['1796414296.16', { caller_number: '5558003', caller_name: 'Customer 5558003' }],
    ]);
  });
});

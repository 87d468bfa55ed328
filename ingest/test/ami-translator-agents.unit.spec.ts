// Agent state changes from real Asterisk 22 captures (../shared/fixtures/ami/asterisk22): a pause
// taken on a call, and what a change names as its call. Needs ../shared.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CanonicalEvent, EventOf } from '@callboard/schemas';
import { translateAmiFile } from '../src/ami/offline.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', '..', 'shared', 'fixtures', 'ami', 'asterisk22');
const SCENARIOS = ['a_answered', 'b_abandon', 'c_ringnoanswer', 'f_hold_transfer', 'h_attended_transfer', 'i_membership_midcall', 'j_restart'];

async function translate(scenario: string): Promise<CanonicalEvent[]> {
  const out: CanonicalEvent[] = [];
  for await (const o of translateAmiFile(join(FIXTURES, scenario, 'capture.ami'), { cfg: { queues: [] }, tenant_id: 'acme', pbx_id: 'pbx1', warn: () => {} }))
    if (o.kind === 'ok') out.push(...o.events);
  return out;
}

const changes = (es: CanonicalEvent[], agent?: string) =>
  es.filter((e): e is EventOf<'agent.state_changed'> => e.type === 'agent.state_changed' && (!agent || e.agent_id === agent));

describe.skipIf(!existsSync(FIXTURES))('AMI agent state changes from real captures (needs ../shared)', () => {
  it('i_membership_midcall: the pause taken on a call is a change (state on_call, pause_reason Coaching) until the unpause', async () => {
    const a1002 = changes(await translate('i_membership_midcall'), '1002').map((e) => [e.occurred_at, e.payload.state, e.payload.pause_reason, e.payload.call_id]);
    // QueueMemberPause Paused 1 (InCall 1) at 19:59:14.105; AgentComplete 19:59:26.620;
    // QueueMemberPause Paused 0 at 19:59:29.105 (queue_log PAUSE 1796414354, UNPAUSE 1796414369).
    expect(a1002.slice(3, 8)).toEqual([
      ['2026-12-04T19:59:03.098Z', 'ringing', undefined, '1796414342.6'],
      ['2026-12-04T19:59:06.103Z', 'on_call', undefined, '1796414342.6'],
      ['2026-12-04T19:59:14.105Z', 'on_call', 'Coaching', '1796414342.6'],
      ['2026-12-04T19:59:26.620Z', 'paused', 'Coaching', undefined],
      ['2026-12-04T19:59:29.105Z', 'available', undefined, undefined],
    ]);
  });

  it.each(SCENARIOS)('%s: a change names a call only while the agent rings for, talks on, holds or wraps up one', async (s) => {
    const bad = changes(await translate(s)).filter((e) => ['ringing', 'on_call', 'on_hold', 'wrap_up'].includes(e.payload.state) !== (e.payload.call_id !== undefined));
    // Ringing or talking without a known call would be a translator gap of its own; none here.
    expect(bad.map((e) => `${e.occurred_at} ${e.agent_id} ${e.payload.state} ${e.payload.call_id ?? '-'}`)).toEqual([]);
  });
});

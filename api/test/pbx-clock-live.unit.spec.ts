// Live times on the server clock (api/src/live.ts serverClock): a PBX whose clock is 90 s behind
// must not make every live wait and time in state read 90 s too long, nor its feed look like
// history replaying; the offset is served on the feed (boards.ts pbxFeeds clock_offset_s).
import { describe, expect, it } from 'vitest';
import { DEFAULT_QUEUE_SETTINGS, loadConfig } from '@callboard/platform';
import type { CanonicalEvent } from '@callboard/schemas';
import { pbxFeeds } from '../src/boards.ts';
import { isCatchingUp, LiveStore } from '../src/live.ts';
import { ev } from './events.ts';

const NOW = Date.parse('2026-03-10T12:00:00.000Z');
const SKEW = -90_000;
const iso = (ms: number) => new Date(ms).toISOString();
/** An event the PBX stamped `SKEW` off the real time `realMs`, received 30 ms after it happened. */
const skewed = (e: (pbxIso: string) => CanonicalEvent, realMs: number): CanonicalEvent => ({ ...e(iso(realMs + SKEW)), received_at: iso(realMs + 30) });

const store = () => new LiveStore({ zoneOf: () => 'UTC', settingsOf: () => DEFAULT_QUEUE_SETTINGS, formulaOf: () => DEFAULT_QUEUE_SETTINGS.sl_formula });
const cfg = loadConfig({ env: {}, file: { tenants: [{ id: 'acme', timezone: 'UTC' }], pbxes: [{ id: 'acme-pbx', tenant: 'acme', kind: 'ami', username: 'u', secret_env: 'X' }] } });

/** 30 s of live traffic from a PBX 90 s behind: agent 1001 available at NOW − 30 s, a call waiting since NOW − 12 s. */
function skewedCentre(s: LiveStore): void {
  for (let at = NOW - 30_000; at < NOW; at += 2_000) {
    const agent = at === NOW - 30_000 ? '1001' : `20${String((at - NOW) / 1000).replace('-', '')}`;
    s.apply(skewed((t) => ev('agent.state_changed', t, { agent_id: agent }, { state: 'available' }), at), at + 30);
  }
  s.apply(skewed((t) => ev('call.queued', t, { call_id: 'c1' }, { queue: 'sales', leg_id: 'c1:sales:1', position: 1, caller_number: '+254700000001' }), NOW - 12_000), NOW - 11_970);
}

describe('live times from a PBX whose clock is 90 s behind', () => {
  it('serves waits and times in state on the server clock', () => {
    const s = store();
    skewedCentre(s);
    const snap = s.snapshot('acme', NOW);
    const call = snap.waiting_calls.find((c) => c.call_id === 'c1')!;
    // The truth: waiting 12 s, available 30 s, less the 30 ms transport delay the offset cannot see
    // (uncorrected: 102 s and 120 s).
    expect((NOW - Date.parse(call.wait_start)) / 1000).toBeCloseTo(12, 1);
    expect(snap.queues.find((q) => q.queue === 'sales')!.max_wait).toBeCloseTo(12, 1);
    const agent = snap.agents.find((a) => a.agent_id === '1001')!;
    expect((NOW - Date.parse(agent.state_start)) / 1000).toBeCloseTo(30, 1);
    expect(s.agents('acme', NOW).find((a) => a.agent_id === '1001')!.state_start).toBe(agent.state_start);
  });

  it('is not catching up, and the feed says how far the PBX clock is off', () => {
    const s = store();
    skewedCentre(s);
    const [f] = s.feeds('acme');
    expect(f!.lag_ms).toBeGreaterThan(60_000);
    expect(isCatchingUp(f!, NOW)).toBe(false);
    expect(pbxFeeds(cfg, s, undefined, 'acme', NOW)[0]).toMatchObject({ pbx_id: 'acme-pbx', catching_up: false, clock_offset_s: -90 });
  });

  it('leaves times alone until the offset is measured (one event is no measure)', () => {
    const s = store();
    s.apply(skewed((t) => ev('call.queued', t, { call_id: 'c1' }, { queue: 'sales', leg_id: 'c1:sales:1', position: 1, caller_number: '+254700000001' }), NOW - 12_000), NOW);
    expect(s.snapshot('acme', NOW).waiting_calls[0]!.wait_start).toBe(iso(NOW - 12_000 + SKEW));
    expect(pbxFeeds(cfg, s, undefined, 'acme', NOW)[0]!.clock_offset_s).toBeNull();
  });
});

// The simulator must speak AMI exactly as the real Asterisk 22 captures do: for every event
// type it renders, the header keys (names and order) must match a frame of that type in
// ../shared/fixtures/ami/asterisk22/*/capture.ami.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderAmi, frameToWire } from '../src/ami-render.ts';
import { simulate } from '../src/model.ts';
import { callCentreScenario, dayWindow } from '../src/scenarios.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = join(repoRoot, '..', 'shared', 'fixtures', 'ami', 'asterisk22');

function captureShapes(): Map<string, Set<string>> {
  const shapes = new Map<string, Set<string>>();
  for (const scenario of readdirSync(dir)) {
    const file = join(dir, scenario, 'capture.ami');
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8').replace(/\r\n/g, '\n');
    for (const block of text.split('\n\n')) {
      const keys = block.split('\n').filter(Boolean).map((l) => l.slice(0, l.indexOf(':')));
      if (keys[0] !== 'Event') continue;
      const name = block.slice(7, block.indexOf('\n') < 0 ? undefined : block.indexOf('\n')).trim();
      (shapes.get(name) ?? shapes.set(name, new Set()).get(name)!).add(keys.join('|'));
    }
  }
  return shapes;
}

// Not present in the four real captures; their headers follow ../shared/reference/ami.md
// (AttendedTransfer: [sb] field list) and are checked for the fields the adapters read.
const NOT_IN_CAPTURES = new Set(['AttendedTransfer']);
// app_queue builds these from the same member blob (ami.md: "same fields as QueueMemberStatus").
const SAME_AS: Record<string, string> = { QueueMemberRemoved: 'QueueMemberAdded' };

describe.skipIf(!existsSync(dir))('simulated AMI frames have the shape of real Asterisk 22 frames (needs ../shared/fixtures)', () => {
  // describe.skipIf still runs this body to collect the tests: read the captures only when present.
  const shapes = existsSync(dir) ? captureShapes() : new Map<string, Set<string>>();
  const sc = callCentreScenario({ tenant: 'acme', pbx: 'pbx1', timezone: 'Africa/Nairobi', seed: 11, ...dayWindow('2026-11-20', 'Africa/Nairobi') });
  const { ledger, actions } = simulate(sc);
  const frames = renderAmi(ledger, actions);
  const byName = new Map<string, Set<string>>();
  for (const f of frames) {
    const name = f.headers[0]![1];
    (byName.get(name) ?? byName.set(name, new Set()).get(name)!).add(f.headers.map(([k]) => k).join('|'));
  }

  it('renders the event types a queue call centre produces', () => {
    for (const n of ['QueueMemberAdded', 'QueueMemberRemoved', 'QueueMemberPause', 'QueueMemberStatus', 'Newchannel', 'LocalBridge', 'QueueCallerJoin', 'QueueCallerLeave',
      'QueueCallerAbandon', 'AgentCalled', 'AgentConnect', 'AgentComplete', 'AgentRingNoAnswer', 'DialBegin', 'DialEnd', 'Hold', 'Unhold', 'BlindTransfer', 'AttendedTransfer',
      'BridgeEnter', 'BridgeLeave', 'Hangup', 'Cdr', 'MusicOnHoldStart']) {
      expect(byName.has(n), n).toBe(true);
    }
  });

  it.each([...new Set(frames.map((f) => f.headers[0]![1]))].filter((n) => !NOT_IN_CAPTURES.has(n)))('%s: same header keys in the same order as the capture', (name) => {
    const real = shapes.get(SAME_AS[name] ?? name);
    expect(real, `${name} is not in the captures`).toBeDefined();
    for (const keys of byName.get(name)!) expect([...real!], `${name} keys`).toContain(keys);
  });

  it('AttendedTransfer carries the transferer, transferee and target snapshots', () => {
    const keys = [...byName.get('AttendedTransfer')!][0]!.split('|');
    for (const k of ['Result', 'OrigTransfererChannel', 'SecondTransfererChannel', 'DestType', 'TransfereeChannel', 'TransfereeLinkedid', 'TransferTargetChannel', 'OrigBridgeUniqueid']) {
      expect(keys).toContain(k);
    }
  });

  it('Local-channel pairs share the call Linkedid, and every frame has a Timestamp that never goes back', () => {
    let last = 0;
    for (const f of frames) {
      const h = Object.fromEntries(f.headers);
      const ts = Number(h.Timestamp);
      expect(ts).toBeGreaterThan(last);
      last = ts;
      if (h.Event === 'AgentCalled') expect(h.DestLinkedid).toBe(h.Linkedid);
    }
  });

  it('RingTime is milliseconds on AgentRingNoAnswer and seconds on AgentConnect', () => {
    const rna = frames.find((f) => f.headers[0]![1] === 'AgentRingNoAnswer')!;
    expect(Object.fromEntries(rna.headers).RingTime).toBe('15000');
    const con = frames.filter((f) => f.headers[0]![1] === 'AgentConnect').map((f) => Number(Object.fromEntries(f.headers).RingTime));
    expect(Math.max(...con)).toBeLessThan(15);
  });

  it('puts frames on the wire with CRLF and a blank line after each', () => {
    expect(frameToWire([['Event', 'X'], ['A', '']])).toBe('Event: X\r\nA: \r\n\r\n');
  });
});

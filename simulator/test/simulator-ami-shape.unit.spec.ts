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

// Event types the simulator renders that no real capture holds (h_attended_transfer now has
// AttendedTransfer, so every rendered type is checked against a real frame).
const NOT_IN_CAPTURES = new Set<string>();
// app_queue builds these from the same member blob (ami.md: "same fields as QueueMemberStatus").
const SAME_AS: Record<string, string> = { QueueMemberRemoved: 'QueueMemberAdded' };

describe.skipIf(!existsSync(dir))('simulated AMI frames have the shape of real Asterisk 22 frames (needs ../shared/fixtures)', () => {
  // describe.skipIf still runs this body to collect the tests: read the captures only when present.
  const shapes = existsSync(dir) ? captureShapes() : new Map<string, Set<string>>();
  // sales rings all its members (a_answered's ring-all races) and the PBX restarts once (j_restart).
  const base = callCentreScenario({ tenant: 'acme', pbx: 'pbx1', timezone: 'Africa/Nairobi', seed: 11, ...dayWindow('2026-11-20', 'Africa/Nairobi') });
  const sc = {
    ...base,
    queues: base.queues.map((q) => (q.queue === 'sales' ? { ...q, strategy: 'ringall' as const } : q)),
    restarts: [{ at_ms: base.from_ms + 12.5 * 3600_000 }],
  };
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
      'BridgeEnter', 'BridgeLeave', 'Hangup', 'Cdr', 'MusicOnHoldStart', 'NewCallerid', 'NewConnectedLine', 'DTMFEnd', 'DialState', 'BridgeMerge', 'SoftHangupRequest', 'Shutdown']) {
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

  // Each call's frames in order, by the caller's Linkedid (a BridgeMerge by its bridge's call).
  const byCall = new Map<string, Record<string, string>[]>();
  const bridgeCall = new Map<string, string>();
  for (const f of frames) {
    const h = Object.fromEntries(f.headers);
    if (h.Event === 'BridgeEnter') bridgeCall.set(h.BridgeUniqueid!, h.Linkedid!);
    const id = h.Linkedid ?? h.DestLinkedid ?? h.TransfereeLinkedid ?? bridgeCall.get(h.ToBridgeUniqueid ?? '');
    if (id) (byCall.get(id) ?? byCall.set(id, []).get(id)!).push(h);
  }

  it('sets the caller id after the caller channels exist (Newchannel <unknown>, then NewCallerid)', () => {
    for (const fs of [...byCall.values()].filter((x) => x[0]!.Channel?.startsWith('Local/') && x[0]!.Context === 'callers')) {
      expect(fs[0]!.Event).toBe('Newchannel');
      expect(fs[0]!.CallerIDNum).toBe('<unknown>');
      const cid = fs.find((h) => h.Event === 'NewCallerid')!;
      expect(cid.Channel).toBe(fs[0]!.Channel);
      expect(cid.CallerIDNum).not.toBe('<unknown>');
    }
  });

  it('renders an attended transfer as AMI Atxfer to a Local/ queue member does (h_attended_transfer)', () => {
    const xfers = [...byCall.values()].filter((fs) => fs.some((h) => h.Event === 'AttendedTransfer'));
    expect(xfers.length).toBeGreaterThan(0);
    for (const fs of xfers) {
      const at = fs.find((h) => h.Event === 'AttendedTransfer')!;
      const agentOne = at.OrigTransfererChannel!;
      const target = at.TransferTargetChannel!;
      expect(target).toMatch(/^Local\/\d+@agents-[0-9a-f]{8};1$/);
      expect(at.SecondTransfererChannel).toBe(agentOne);
      expect([at.Result, at.DestType, at.IsExternal]).toEqual(['Success', 'Bridge', 'No']);
      const names = (pred: (h: Record<string, string>) => boolean): string[] => fs.filter(pred).map((h) => h.Event!);
      // The agent's ;1 (after any ordinary hold): feature code, Hold, the target's digits; no Unhold.
      const agentEvents = names((h) => h.Channel === agentOne && ['DTMFEnd', 'Hold', 'Unhold'].includes(h.Event!));
      const onAgent = agentEvents.slice(agentEvents.indexOf('DTMFEnd'));
      expect(onAgent.slice(0, 3)).toEqual(['DTMFEnd', 'DTMFEnd', 'Hold']);
      expect(onAgent).not.toContain('Unhold');
      // The consultation: no DialBegin, DialState/DialEnd with Dest* fields only.
      const dials = fs.filter((h) => h.DestChannel === target && h.Event!.startsWith('Dial'));
      expect(dials.map((h) => `${h.Event} ${h.DialStatus}`)).toEqual(['DialState RINGING', 'DialEnd ANSWER']);
      for (const h of dials) expect(h.Channel).toBeUndefined();
      // Completion: merge, transfer, then the agent's leg completes with Reason transfer.
      const order = names((h) => ['BridgeMerge', 'AttendedTransfer', 'AgentComplete'].includes(h.Event!) && (h.Event !== 'AgentComplete' || h.Reason === 'transfer'));
      expect(order).toEqual(['BridgeMerge', 'AttendedTransfer', 'AgentComplete']);
      // The target gets no Agent* events of its own.
      expect(fs.filter((h) => h.Event!.startsWith('Agent') && h.DestChannel === target)).toEqual([]);
    }
  });

  it('renders a cancelled Atxfer as h3 shows it: no DialEnd, a NO ANSWER CDR for the target, then Unhold', () => {
    const c = simulate({ ...sc, behaviour: { ...sc.behaviour, attended_transfer_p: 0.1, consult_cancel_p: 1 } });
    const hs = renderAmi(c.ledger, c.actions).map((f) => Object.fromEntries(f.headers));
    const cancels = c.actions.filter((a) => a.kind === 'consult_cancel');
    expect(cancels.length).toBeGreaterThan(0);
    expect(hs.filter((h) => h.Event === 'AttendedTransfer')).toEqual([]);
    for (const ring of hs.filter((h) => h.Event === 'DialState' && h.Channel === undefined)) {
      const target = ring.DestChannel!;
      const after = hs.slice(hs.indexOf(ring));
      expect(after.some((h) => h.Event === 'DialEnd' && h.DestChannel === target)).toBe(false);
      const cdr = after.findIndex((h) => h.Event === 'Cdr' && h.Channel === target.replace(/;1$/, ';2'));
      expect(after[cdr]!.Disposition).toBe('NO ANSWER');
      expect(after.slice(cdr).some((h) => h.Event === 'Unhold')).toBe(true);
    }
  });
});

// The AMI translator over every real capture in ../shared/fixtures/ami: outcomes per call are
// checked against what the recording rig measured (ledger.json) and against Asterisk's own
// queue_log, not just "no errors".
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { validateEvent, type CanonicalEvent, type EventOf } from '@callboard/schemas';
import { framesWithTimes, newTranslator } from '../src/ami/offline.ts';
import { AmiParser, parseAll, type AmiFrame } from '../src/ami/parser.ts';
import { AmiTranslator, mapDisposition, parseAmiTimestamp, type FrameMeta } from '../src/ami/translator.ts';
import { agentIdFromInterface } from '../src/ami/agent-id.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const AMI = join(repoRoot, '..', 'shared', 'fixtures', 'ami');
const A22 = join(AMI, 'asterisk22');
const cfg = { queues: [] };
const ids = { cfg, tenant_id: 't1', pbx_id: 'pbx1' };

function translateFrames(items: { frame: AmiFrame; meta: FrameMeta }[], t: AmiTranslator = newTranslator(ids)): { events: CanonicalEvent[]; dlq: string[] } {
  const events: CanonicalEvent[] = [];
  const dlq: string[] = [];
  for (const { frame, meta } of items) {
    const o = t.translate(frame, meta);
    if (o.kind === 'ok') events.push(...o.events);
    else if (o.kind === 'dlq') dlq.push(`${o.reason_code}: ${o.reason}`);
  }
  if (items.length) events.push(...t.flush(items[items.length - 1]!.meta));
  return { events, dlq };
}

function translateCapture(path: string, start?: Date) {
  return translateFrames(framesWithTimes(path, { start, warn: () => {} }).filter((x) => x.frame.kind !== 'action'));
}

type Item = { frame: AmiFrame; meta: FrameMeta };
const fileItems = (path: string): Item[] => framesWithTimes(path, { warn: () => {} });

/**
 * What the live adapter's resync after a login asks (client.ts: CoreShowChannels, then
 * QueueStatus, ActionIDs `callboard-resync-<connection>-…`) and what Asterisk answered at the
 * moment j_restart's capture client reconnected: no channel (the restart hung them all up; the
 * first Newchannel after it comes 4 s later) and both queues without members (dynamic members do
 * not survive a restart with persistentmembers=no; the QueueAdds come 1 s after the reconnect).
 * The reply shapes are those of the capture's own final QueueStatus; the capture client sent no
 * resync of its own, so this is the one part of the replay that is not verbatim.
 */
function resyncReplies(conn: string): AmiFrame[] {
  const id = `callboard-resync-${conn}`;
  const params = (queue: string, strategy: string) =>
    `Event: QueueParams\r\nQueue: ${queue}\r\nMax: 0\r\nStrategy: ${strategy}\r\nCalls: 0\r\nHoldtime: 0\r\nTalkTime: 0\r\nCompleted: 0\r\nAbandoned: 0\r\nServiceLevel: 20\r\nServicelevelPerf: 0.0\r\nServicelevelPerf2: 0.0\r\nWeight: 0\r\nActionID: ${id}-queues\r\n\r\n`;
  return parseAll(
    `Response: Success\r\nActionID: ${id}-channels\r\nEventList: start\r\nMessage: Channels will follow\r\n\r\n` +
      `Event: CoreShowChannelsComplete\r\nActionID: ${id}-channels\r\nEventList: Complete\r\nListItems: 0\r\n\r\n` +
      `Response: Success\r\nActionID: ${id}-queues\r\nEventList: start\r\nMessage: Queue status will follow\r\n\r\n` +
      params('support', 'rrmemory') +
      params('sales', 'ringall') +
      `Event: QueueStatusComplete\r\nActionID: ${id}-queues\r\nEventList: Complete\r\nListItems: 2\r\n\r\n`,
  );
}

/**
 * A scenario's frames in the order one live translator sees them: `capture.ami`, and where the
 * PBX restarted, the reconnect (a new connection id, the resync replies right after the login
 * response) and `capture.after.ami`. `read` turns a capture file into frames (re-chunked in the
 * determinism test).
 */
function scenarioItems(dir: string, read: (path: string) => Item[] = fileItems): Item[] {
  const items = read(join(dir, 'capture.ami'));
  const afterPath = join(dir, 'capture.after.ami');
  if (existsSync(afterPath)) {
    const after = read(afterPath).map(({ frame, meta }) => ({ frame, meta: { ...meta, connection: 'file-after' } }));
    const login = after.findIndex((x) => x.frame.kind === 'response');
    const at = after[login]!.meta.received_at;
    const resync = resyncReplies('file-after').map((frame, i) => ({ frame, meta: { received_at: at, raw_ref: null, connection: 'file-after', seq: after.length + i } }));
    items.push(...after.slice(0, login + 1), ...resync, ...after.slice(login + 1));
  }
  return items.filter((x) => x.frame.kind !== 'action');
}

function of<T extends CanonicalEvent['type']>(events: CanonicalEvent[], type: T, callId?: string): EventOf<T>[] {
  return events.filter((e) => e.type === type && (callId === undefined || ('call_id' in e && e.call_id === callId))) as unknown as EventOf<T>[];
}

interface LedgerCall {
  call_id: string;
  callerid: string;
  answered: boolean;
  abandoned: boolean;
  abandon_wait_s: number | null;
  ring_attempts: { agent: string; queue: string; result: string }[];
  queue_segments: { queue: string; agent?: string; wait_s?: number; talk_s?: number; complete_reason?: string }[];
  hold: { event: string; channel: string }[];
  transfer: { exten: string } | null;
  attended_transfers?: { target: string; attended_transfer_event: object | null; target_ring_s: number | null }[];
  post_transfer?: { agent: string; talk_s: number; ended_by: string };
}

/** Unholds that end a Hold: a blind transfer's Unhold without a Hold resumes nothing. */
function holdsResumed(hold: LedgerCall['hold']): number {
  const held = new Set<string>();
  let n = 0;
  for (const h of hold) {
    if (h.event === 'Hold') held.add(h.channel);
    else if (h.event === 'Unhold' && held.delete(h.channel)) n++;
  }
  return n;
}

const scenarios = existsSync(A22) ? readdirSync(A22).filter((d) => existsSync(join(A22, d, 'capture.ami'))) : [];

describe.skipIf(!existsSync(A22))('AMI translator on the Asterisk 22 captures (needs ../shared/fixtures)', () => {
  it('finds the seven recorded scenarios', () => {
    expect(scenarios.sort()).toEqual(['a_answered', 'b_abandon', 'c_ringnoanswer', 'f_hold_transfer', 'h_attended_transfer', 'i_membership_midcall', 'j_restart']);
  });

  describe.each(scenarios)('%s', (scenario) => {
    const dir = join(A22, scenario);
    const ledger = JSON.parse(readFileSync(join(dir, 'ledger.json'), 'utf8')) as { calls: LedgerCall[]; pauses: { paused: boolean; reason: string | null; interface: string }[] };
    const queueLog = readFileSync(join(dir, 'queue_log'), 'utf8').trim().split('\n').map((l) => l.split('|'));
    const verbs = (v: string) => queueLog.filter((r) => r[4] === v);
    const { events, dlq } = translateFrames(scenarioItems(dir));
    // Ledger calls → canonical call ids, through the caller number on call.queued.
    const callOf = (c: LedgerCall) => {
      const q = of(events, 'call.queued').find((e) => e.payload.caller_number === c.callerid);
      expect(q, `call.queued for ${c.call_id} (${c.callerid})`).toBeDefined();
      return q!.call_id;
    };

    it('translates without dead letters, and every event validates against the contract', () => {
      expect(dlq).toEqual([]);
      for (const e of events) expect(validateEvent(JSON.parse(JSON.stringify(e))).ok, JSON.stringify(e)).toBe(true);
      expect(new Set(events.map((e) => e.event_id)).size).toBe(events.length);
    });

    it('counts one call per Linkedid however many Local-channel legs carry it', () => {
      const started = of(events, 'call.started');
      const ended = of(events, 'call.ended');
      expect(started).toHaveLength(ledger.calls.length);
      expect(ended).toHaveLength(ledger.calls.length);
      expect(new Set(started.map((e) => e.call_id))).toEqual(new Set(ledger.calls.map(callOf)));
      expect(new Set(ended.map((e) => e.call_id))).toEqual(new Set(started.map((e) => e.call_id)));
      // The capture itself has two channels per leg plus the agents' pairs.
      const newchannels = scenarioItems(dir).filter((x) => x.frame.name === 'Newchannel').length;
      expect(newchannels).toBeGreaterThan(2 * ledger.calls.length);
    });

    it("ends each call with its caller side's disposition, whatever order Asterisk sent the legs' Cdr and Hangup in", () => {
      // cdr.csv: one row per channel; the channel that started the call has the call's id as
      // its UniqueID. Ring-all losers' rows say NO ANSWER and must not decide (METRICS.md).
      const rows = readFileSync(join(dir, 'cdr.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
      const callerSide = new Map(rows.map((r) => [r[r.length - 2]!.replaceAll('"', ''), r[r.length - 4]!.replaceAll('"', '')]));
      const ended = of(events, 'call.ended');
      expect(ended.map((e) => [e.call_id, e.payload.disposition])).toEqual(ended.map((e) => [e.call_id, mapDisposition(callerSide.get(e.call_id) ?? '?')]));
      for (const e of ended) expect(['ANSWERED', 'Normal Clearing']).toContain(e.payload.raw_disposition);
    });

    it('has a leg per queue visit, answered or abandoned as measured, with waits and talk within 1 s', () => {
      for (const c of ledger.calls) {
        const callId = callOf(c);
        const queued = of(events, 'call.queued', callId);
        expect(queued.map((e) => e.payload.queue)).toEqual(c.queue_segments.map((s) => s.queue));
        // Queue legs only: an attended transfer's target answers outside any queue (checked below).
        const inQueue = (e: { payload: { queue?: string } }) => e.payload.queue !== undefined;
        const answered = of(events, 'call.answered', callId).filter(inQueue);
        const completed = of(events, 'call.agent_completed', callId).filter(inQueue);
        const abandoned = of(events, 'call.abandoned', callId);
        const agentSegs = c.queue_segments.filter((s) => s.agent);
        expect(answered.map((e) => e.payload.agent_name)).toEqual(agentSegs.map((s) => s.agent));
        agentSegs.forEach((s, i) => {
          expect(Math.abs(answered[i]!.payload.wait_ms - s.wait_s! * 1000), `${c.call_id} wait`).toBeLessThanOrEqual(1000);
          expect(answered[i]!.payload.leg_id).toBe(queued[i]!.payload.leg_id);
          expect(completed[i]!.payload.reason).toBe(s.complete_reason);
          expect(Math.abs(completed[i]!.payload.talk_ms - s.talk_s! * 1000), `${c.call_id} talk`).toBeLessThanOrEqual(1000);
        });
        if (c.abandoned) {
          expect(abandoned).toHaveLength(1);
          expect(Math.abs(abandoned[0]!.payload.wait_ms - c.abandon_wait_s! * 1000)).toBeLessThanOrEqual(1000);
          expect(answered).toHaveLength(0);
        } else expect(abandoned).toHaveLength(0);
        expect(of(events, 'call.left_queue', callId)).toHaveLength(0);
      }
      expect(of(events, 'call.queued')).toHaveLength(verbs('ENTERQUEUE').length);
      expect(of(events, 'call.answered').filter((e) => e.payload.queue !== undefined)).toHaveLength(verbs('CONNECT').length);
      expect(of(events, 'call.abandoned')).toHaveLength(verbs('ABANDON').length);
      // queue_log holds Asterisk's own whole-second waits: they agree within a second too.
      for (const r of verbs('ABANDON')) {
        const e = of(events, 'call.abandoned').find((x) => x.payload.leg_id.startsWith(`${r[1]}:`));
        expect(Math.abs(e!.payload.wait_ms - Number(r[7]) * 1000)).toBeLessThanOrEqual(1000);
      }
    });

    it('reports ring-no-answer only for agents who were rung and did not answer (not ring-all losers)', () => {
      for (const c of ledger.calls) {
        const callId = callOf(c);
        const missed = of(events, 'call.ring_no_answer', callId).map((e) => e.payload.agent_name);
        expect(missed.sort()).toEqual(c.ring_attempts.filter((r) => r.result === 'no_answer').map((r) => r.agent).sort());
        for (const e of of(events, 'call.ring_no_answer', callId)) expect(e.payload.ring_ms).toBe(10_000); // RingTime is ms
        const rung = new Set(of(events, 'call.ringing', callId).map((e) => e.payload.agent_name));
        expect(rung).toEqual(new Set(c.ring_attempts.map((r) => r.agent)));
      }
      expect(of(events, 'call.ring_no_answer').map((e) => `${e.payload.queue}|${e.payload.agent_name}`).sort()).toEqual(verbs('RINGNOANSWER').map((r) => `${r[2]}|${r[3]}`).sort());
    });

    it('reports real holds (not queue music) and the transfer that happened', () => {
      for (const c of ledger.calls) {
        const callId = callOf(c);
        const holds = c.hold.filter((h) => h.event === 'Hold').length;
        expect(of(events, 'call.held', callId)).toHaveLength(holds);
        // A completed attended transfer (AMI Atxfer) leaves the transferring agent's Hold without
        // an Unhold (h_attended_transfer README, step 4): what ends that hold is the agent's
        // AgentComplete, not a resume, so only the Unholds Asterisk sent are resumes.
        expect(of(events, 'call.resumed', callId)).toHaveLength(holdsResumed(c.hold));
        const completed = of(events, 'call.agent_completed', callId);
        if (holds > 0) expect(completed[0]!.payload.hold_ms).toBeGreaterThanOrEqual(5000);
        const transfers = of(events, 'call.transferred', callId);
        const fromAgent = () => agentIdFromInterface(c.queue_segments[0]!.agent!.replace('Agent ', 'Local/') + '@agents');
        const attended = (c.attended_transfers ?? []).filter((t) => t.attended_transfer_event);
        if (c.transfer) {
          expect(transfers).toHaveLength(1);
          expect(transfers[0]!.payload).toMatchObject({ kind: 'blind', to: c.transfer.exten, from_agent_id: fromAgent() });
        } else if (attended.length > 0) {
          // METRICS.md handled: `transferred.to` names the agent, who is credited with the call
          // and its talk time after the transfer.
          const target = agentIdFromInterface(`Local/${attended[0]!.target}`);
          expect(transfers.map((e) => e.payload)).toEqual([expect.objectContaining({ kind: 'attended', to: target, from_agent_id: fromAgent() })]);
          const mine = (e: { payload: { agent_id: string } }) => e.payload.agent_id === target;
          const answered = of(events, 'call.answered', callId).filter(mine);
          expect(answered.map((e) => [e.payload.queue, e.occurred_at])).toEqual([[undefined, transfers[0]!.occurred_at]]);
          expect(Math.abs(answered[0]!.payload.ring_ms! - attended[0]!.target_ring_s! * 1000)).toBeLessThanOrEqual(1000);
          const done = of(events, 'call.agent_completed', callId).filter(mine);
          expect(done).toHaveLength(1);
          expect(Math.abs(done[0]!.payload.talk_ms - c.post_transfer!.talk_s * 1000), `${c.call_id} talk after the transfer`).toBeLessThanOrEqual(1000);
          expect(done[0]!.payload.reason).toBe(c.post_transfer!.ended_by === 'caller' ? 'caller' : 'agent');
        } else expect(transfers).toHaveLength(0);
      }
      expect(of(events, 'call.transferred')).toHaveLength(verbs('BLINDTRANSFER').length + verbs('ATTENDEDTRANSFER').length);
    });

    it('tracks agent membership, pauses with reason, and state along the calls', () => {
      expect(of(events, 'agent.queue_joined')).toHaveLength(verbs('ADDMEMBER').length);
      const paused = of(events, 'agent.state_changed').filter((e) => e.payload.state === 'paused');
      expect(paused.map((e) => `${e.agent_id}|${e.payload.reason}`)).toEqual(ledger.pauses.filter((p) => p.paused).map((p) => `${agentIdFromInterface(p.interface)}|${p.reason}`));
      // Every answering agent goes on_call at the answer and leaves it at completion.
      for (const a of of(events, 'call.answered')) {
        const seq = of(events, 'agent.state_changed').filter((e) => e.agent_id === a.payload.agent_id);
        const at = seq.findIndex((e) => e.payload.state === 'on_call' && e.payload.call_id === a.call_id);
        expect(at).toBeGreaterThanOrEqual(0);
        expect(seq[at - 1]?.payload.state).toBe('ringing');
      }
      // METRICS.md membership: an agent removed from its last queue mid-call (i_membership_midcall)
      // stays on the call until it ends, never offline meanwhile.
      for (const a of of(events, 'call.answered')) {
        const from = events.indexOf(a);
        const to = events.findIndex((e, i) => i > from && e.type === 'call.agent_completed' && e.call_id === a.call_id && e.payload.agent_id === a.payload.agent_id);
        const between = events.slice(from, to).filter((e) => e.type === 'agent.state_changed' && e.agent_id === a.payload.agent_id);
        expect(between.map((e) => (e as EventOf<'agent.state_changed'>).payload.state), `${a.payload.agent_id} on ${a.call_id}`).not.toContain('offline');
      }
      // Nobody stays on a call after the capture: state ends available (or paused) for each agent.
      const last = new Map<string, string>();
      for (const e of of(events, 'agent.state_changed')) last.set(e.agent_id, e.payload.state);
      for (const s of last.values()) expect(['available', 'paused']).toContain(s);
    });

    it('is deterministic: the same capture, chunked at random, gives byte-identical events', () => {
      for (const seed of [1, 2, 3]) {
        let r = seed;
        const rand = () => ((r = (r * 1103515245 + 12345) % 2147483648) / 2147483648);
        const chunked = (path: string): Item[] => {
          const bytes = readFileSync(path);
          const metas = fileItems(path).map((x) => x.meta);
          const p = new AmiParser();
          const frames: AmiFrame[] = [];
          for (let i = 0; i < bytes.length; ) {
            const n = 1 + Math.floor(rand() * 700);
            frames.push(...p.push(bytes.subarray(i, i + n)));
            i += n;
          }
          frames.push(...p.end(true));
          return frames.map((frame, i) => ({ frame, meta: metas[i]! }));
        };
        const again = translateFrames(scenarioItems(dir, chunked));
        expect(JSON.stringify(again.events)).toBe(JSON.stringify(events));
      }
    });
  });
});

describe.skipIf(!existsSync(AMI))('AMI translator on the other captures (needs ../shared/fixtures)', () => {
  it('callme (Asterisk 13, manager debug console log): one answered queue call, waits from HoldTime without Timestamp', () => {
    // The console log prints some frames twice (same SequenceNumber): keep each once.
    const frames = parseAll(readFileSync(join(AMI, 'callme', 'queue_call_answered_ast13_console_ami.log.txt')));
    const seen = new Set<string>();
    const events = frames.filter((f) => f.kind === 'event' && !seen.has(f.headers.SequenceNumber!) && seen.add(f.headers.SequenceNumber!));
    const start = Date.parse('2017-12-01T10:00:00Z');
    const { events: out, dlq } = translateFrames(events.map((frame, i) => ({ frame, meta: { received_at: start + i, raw_ref: null, connection: 'file', seq: i } })));
    expect(dlq).toEqual([]);
    expect(of(out, 'call.started')).toHaveLength(1);
    expect(of(out, 'call.ended')).toHaveLength(1);
    const answered = of(out, 'call.answered');
    expect(answered).toHaveLength(1);
    expect(answered[0]!.payload.wait_ms).toBe(9000);
    const done = of(out, 'call.agent_completed');
    expect(done).toHaveLength(1);
    expect(done[0]!.payload).toMatchObject({ reason: 'caller', talk_ms: 3000 });
    expect(of(out, 'call.ended')[0]!.payload.disposition).toBe('ANSWERED');
  });

  it('panoramisk (Asterisk 11): old QueueMemberStatus/Location names give agents and states', () => {
    const dir = join(AMI, 'panoramisk');
    let agents = 0;
    for (const f of readdirSync(dir)) {
      const { events, dlq } = translateCapture(join(dir, f), new Date('2014-08-27T00:00:00Z'));
      for (const e of events) expect(validateEvent(JSON.parse(JSON.stringify(e))).ok, `${f}: ${JSON.stringify(e)}`).toBe(true);
      // The only undecodable frame is one the capture file itself marks as cut.
      if (dlq.length > 0) expect(f).toBe('agent_loggued_in.yaml');
      agents += of(events, 'agent.queue_joined').length;
    }
    expect(agents).toBeGreaterThan(0);
    const q = translateCapture(join(dir, 'queue_status.yaml'), new Date('2014-08-27T00:00:00Z')).events;
    const paused = of(q, 'agent.state_changed').filter((e) => e.payload.state === 'paused');
    expect(paused.length).toBeGreaterThan(0);
  });

  it('maps CDR dispositions, old names included, keeping unknown ones as FAILED', () => {
    expect(mapDisposition('ANSWERED')).toBe('ANSWERED');
    expect(mapDisposition('NORMAL')).toBe('ANSWERED');
    expect(mapDisposition('NO ANSWER')).toBe('NO ANSWER');
    expect(mapDisposition('NOANSWER')).toBe('NO ANSWER');
    expect(mapDisposition('BUSY')).toBe('BUSY');
    expect(mapDisposition('CONGESTION')).toBe('CONGESTION');
    expect(mapDisposition('CHANUNAVAIL')).toBe('FAILED');
    expect(mapDisposition('WHATEVER')).toBe('FAILED');
  });

  it('derives agent ids from member interfaces', () => {
    expect(agentIdFromInterface('Local/1001@agents')).toBe('1001');
    expect(agentIdFromInterface('Local/1001@from-queue/n')).toBe('1001');
    expect(agentIdFromInterface('PJSIP/1001')).toBe('1001');
    expect(agentIdFromInterface('SIP/bob')).toBe('bob');
    expect(agentIdFromInterface('1001')).toBe('1001');
  });
});

// ---- asterisk-testsuite: expected event sequences turned into frames ---------------------

/** Builds concrete AMI frames from a testsuite test-config's ordered `ami-events` matches. */
interface TestsuiteStep {
  conditions: { match: Record<string, string> };
  requirements?: { match: Record<string, string> };
  count?: string | number;
}
function testsuiteFrames(file: string, prelude: Record<string, string>[]): AmiFrame[] {
  const doc = YAML.parse(readFileSync(file, 'utf8')) as { 'ami-config': ({ 'ami-events': TestsuiteStep } | TestsuiteStep)[] };
  const uniq = new Map<string, string>();
  // The matches are regexes or globs over channel names: 'PJSIP/alice-.*', '-.{8}', '-*'.
  const fill = (v: string) => v.replace(/\.\*|\.\{8\}|(?<=-)\*/g, '00000001');
  const frames: Record<string, string>[] = [...prelude];
  for (const item of doc['ami-config']) {
    const step = 'ami-events' in item ? item['ami-events'] : item;
    const m = { ...step.conditions.match, ...(step.requirements?.match ?? {}) };
    const f: Record<string, string> = {};
    for (const [k, v] of Object.entries(m)) f[k] = fill(String(v));
    // A test that passed saw its transfers succeed even where the match does not check Result.
    if (f.Event?.endsWith('Transfer')) f.Result ??= 'Success';
    // Channel snapshots carry Uniqueid/Linkedid: give each channel name a stable one.
    for (const [k, v] of Object.entries({ ...f })) {
      if (!k.endsWith('Channel')) continue;
      const prefix = k.slice(0, -'Channel'.length);
      if (!uniq.has(v)) uniq.set(v, `1700000000.${uniq.size + 1}`);
      f[`${prefix}Uniqueid`] ??= uniq.get(v)!;
      f[`${prefix}Linkedid`] ??= '1700000000.1';
    }
    // The matches name only the headers the test checks; real Agent* events always carry these.
    if (f.MemberName) f.Interface ??= f.MemberName;
    if (f.Event?.startsWith('Agent')) f.Queue ??= 'q';
    const n = Number(step.count ?? 1);
    for (let i = 0; i < (Number.isFinite(n) && n > 0 ? n : 1); i++) frames.push(f);
  }
  return frames.map((h, i) => {
    const all = { Event: h.Event!, Timestamp: `${1700000000 + i}.000000`, ...h };
    const raw = Object.entries(all).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n';
    return parseAll(raw)[0]!;
  });
}

const TS = join(AMI, 'asterisk-testsuite');
describe.skipIf(!existsSync(TS))('AMI translator on asterisk-testsuite expectations (needs ../shared/fixtures)', () => {
  const prelude: Record<string, string>[] = [
    { Event: 'Newchannel', Channel: 'PJSIP/alice-00000001', Uniqueid: '1700000000.1', Linkedid: '1700000000.1', ChannelState: '4', CallerIDNum: 'alice', Exten: '101' },
    { Event: 'QueueCallerJoin', Channel: 'PJSIP/alice-00000001', Uniqueid: '1700000000.1', Linkedid: '1700000000.1', Queue: 'q', Position: '1', Count: '1', CallerIDNum: 'alice' },
    { Event: 'QueueCallerLeave', Channel: 'PJSIP/alice-00000001', Uniqueid: '1700000000.1', Linkedid: '1700000000.1', Queue: 'q', Position: '1', Count: '0' },
  ];
  const run = (name: string) => {
    const frames = testsuiteFrames(join(TS, name), prelude);
    const out = translateFrames(frames.map((frame, i) => ({ frame, meta: { received_at: 1_700_000_000_000 + i * 1000, raw_ref: null, connection: 'ts', seq: i } })));
    for (const e of out.events) expect(validateEvent(JSON.parse(JSON.stringify(e))).ok, JSON.stringify(e)).toBe(true);
    return out;
  };

  it('queues_transfer_caller_blind: the caller blind-transfers the member; queue music on the member is not a hold', () => {
    const { events, dlq } = run('queues_transfer_caller_blind.test-config.yaml');
    expect(dlq).toEqual([]);
    expect(of(events, 'call.answered').map((e) => e.payload.agent_id)).toEqual(['bob']);
    expect(of(events, 'call.transferred').map((e) => e.payload)).toEqual([expect.objectContaining({ kind: 'blind', to: '102', from_agent_id: 'bob', queue: 'q' })]);
    expect(of(events, 'call.agent_completed').map((e) => e.payload.reason)).toEqual(['transfer']);
    expect(of(events, 'call.held')).toHaveLength(0);
  });

  const twoParty: Record<string, string>[] = [
    { Event: 'Newchannel', Channel: 'PJSIP/alice-00000001', Uniqueid: '1700000000.1', Linkedid: '1700000000.1', ChannelState: '4', CallerIDNum: 'alice', Exten: 'bob' },
    { Event: 'Newchannel', Channel: 'PJSIP/bob-00000001', Uniqueid: '1700000000.2', Linkedid: '1700000000.1', ChannelState: '0', CallerIDNum: 'bob', Exten: 's' },
  ];
  const runTwoParty = (name: string) => {
    const frames = testsuiteFrames(join(TS, name), twoParty);
    const out = translateFrames(frames.map((frame, i) => ({ frame, meta: { received_at: 1_700_000_000_000 + i * 1000, raw_ref: null, connection: 'ts', seq: i } })));
    for (const e of out.events) expect(validateEvent(JSON.parse(JSON.stringify(e))).ok, JSON.stringify(e)).toBe(true);
    return out;
  };

  it('pjsip_blind_transfer_caller_with_hold: a direct call blind-transferred twice; music on hold is not a hold', () => {
    const { events, dlq } = runTwoParty('pjsip_blind_transfer_caller_with_hold.test-config.yaml');
    expect(dlq).toEqual([]);
    const t = of(events, 'call.transferred');
    expect(t.map((e) => [e.call_id, e.payload.kind, e.payload.from_agent_id])).toEqual([
      ['1700000000.1', 'blind', undefined],
      ['1700000000.1', 'blind', undefined],
    ]);
    expect(of(events, 'call.held')).toHaveLength(0);
  });

  it('bridge_atxfer_threeway_nominal: attended transfers turned three-way are attended transfers', () => {
    const { events, dlq } = runTwoParty('bridge_atxfer_threeway_nominal.test-config.yaml');
    expect(dlq).toEqual([]);
    expect(of(events, 'call.transferred').map((e) => e.payload.kind)).toEqual(['attended', 'attended']);
  });

  it('queues_transfer_caller_attended: attended transfer to charlie, completed with reason transfer', () => {
    const { events, dlq } = run('queues_transfer_caller_attended.test-config.yaml');
    expect(dlq).toEqual([]);
    const t = of(events, 'call.transferred');
    expect(t).toHaveLength(1);
    expect(t[0]!.payload).toMatchObject({ kind: 'attended', from_agent_id: 'bob', to: 'PJSIP/charlie-00000001' });
    expect(of(events, 'call.agent_completed').map((e) => e.payload.reason)).toEqual(['transfer']);
  });
});

describe('AMI translator edge cases', () => {
  const meta = (i: number, at = 1_800_000_000_000 + i * 1000): FrameMeta => ({ received_at: at, raw_ref: null, connection: 'c1', seq: i });
  const frame = (h: Record<string, string>) => parseAll(Object.entries(h).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n')[0]!;
  const caller = { Channel: 'PJSIP/c-1', Uniqueid: '1.1', Linkedid: '1.1' };

  it('a QueueCallerAbandon followed by the dialplan continuing is a timeout (call.left_queue), not an abandon', () => {
    const t = newTranslator(ids);
    const seq: Record<string, string>[] = [
      { Event: 'Newchannel', ...caller, ChannelState: '4', CallerIDNum: '555', Exten: '100' },
      { Event: 'QueueCallerJoin', ...caller, Queue: 'q', Position: '1', Timestamp: '1800000001.000000' },
      { Event: 'QueueCallerAbandon', ...caller, Queue: 'q', Position: '1', OriginalPosition: '1', HoldTime: '30', Timestamp: '1800000031.000000' },
      { Event: 'QueueCallerLeave', ...caller, Queue: 'q', Position: '1', Count: '0', Timestamp: '1800000031.000100' },
      { Event: 'VarSet', ...caller, Variable: 'QUEUESTATUS', Value: 'TIMEOUT', Timestamp: '1800000031.000200' },
    ];
    const out = translateFrames(seq.map((h, i) => ({ frame: frame(h), meta: meta(i) })), t).events;
    expect(of(out, 'call.abandoned')).toHaveLength(0);
    expect(of(out, 'call.left_queue').map((e) => e.payload)).toEqual([expect.objectContaining({ reason: 'timeout', wait_ms: 30_000, queue: 'q' })]);
  });

  it('the caller hanging up before QueueCallerLeave decides the abandon at once', () => {
    const seq: Record<string, string>[] = [
      { Event: 'QueueCallerJoin', ...caller, Queue: 'q', Position: '1' },
      { Event: 'HangupRequest', ...caller, Cause: '16' },
      { Event: 'QueueCallerAbandon', ...caller, Queue: 'q', Position: '1', OriginalPosition: '1', HoldTime: '7' },
      { Event: 'QueueCallerLeave', ...caller, Queue: 'q', Position: '1', Count: '0' },
    ];
    const t = newTranslator(ids);
    const events: CanonicalEvent[] = [];
    seq.forEach((h, i) => {
      const o = t.translate(frame(h), meta(i));
      if (o.kind === 'ok') events.push(...o.events);
    });
    // Decided without waiting for what follows (no flush); no Timestamp: wait from HoldTime.
    expect(of(events, 'call.abandoned').map((e) => e.payload.wait_ms)).toEqual([7000]);
  });

  it('dead-letters frames it cannot use, with the reason, and keeps going', () => {
    const t = newTranslator(ids);
    expect(t.translate(parseAll('garbage line\r\n\r\n')[0]!, meta(0))).toMatchObject({ kind: 'dlq', reason_code: 'UNPARSEABLE_FRAME' });
    expect(t.translate(frame({ Event: 'QueueCallerJoin', Queue: 'q' }), meta(1))).toMatchObject({ kind: 'dlq', reason_code: 'MISSING_FIELD', path: 'Uniqueid' });
    expect(t.translate(frame({ Event: 'Hangup', Timestamp: 'yesterday', Uniqueid: '1' }), meta(2))).toMatchObject({ kind: 'dlq', reason_code: 'BAD_TIMESTAMP' });
    expect(t.translate(frame({ Event: 'SomethingNew', Foo: 'bar' }), meta(3))).toEqual({ kind: 'ok', events: [] });
  });

  it('wrap-up from the queue setting: wrap_up after AgentComplete, available once it has passed', () => {
    const t = new AmiTranslator({ tenant_id: 't1', pbx_id: 'p', wrapUpMs: (q) => (q === 'q' ? 10_000 : 0) });
    const agent = { Queue: 'q', MemberName: 'Ann', Interface: 'PJSIP/1001' };
    const seq: Record<string, string>[] = [
      { Event: 'QueueMemberAdded', ...agent, Status: '1', Paused: '0', Timestamp: '1800000000.000000' },
      { Event: 'QueueCallerJoin', ...caller, Queue: 'q', Position: '1', Timestamp: '1800000001.000000' },
      { Event: 'AgentCalled', ...caller, ...agent, DestUniqueid: '2.2', Timestamp: '1800000001.500000' },
      { Event: 'QueueCallerLeave', ...caller, Queue: 'q', Position: '1', Timestamp: '1800000003.000000' },
      { Event: 'AgentConnect', ...caller, ...agent, DestUniqueid: '2.2', HoldTime: '2', RingTime: '1', Timestamp: '1800000003.000100' },
      { Event: 'AgentComplete', ...agent, HoldTime: '2', TalkTime: '60', Reason: 'agent', Timestamp: '1800000063.000000' },
      { Event: 'QueueMemberStatus', ...agent, Status: '1', Paused: '0', Timestamp: '1800000063.100000' },
      { Event: 'VarSet', Variable: 'X', Value: '1', Timestamp: '1800000080.000000' },
    ];
    const out = translateFrames(seq.map((h, i) => ({ frame: frame(h), meta: meta(i) })), t).events;
    const states = of(out, 'agent.state_changed').map((e) => `${e.occurred_at.slice(17, 23)} ${e.payload.state}`);
    expect(states).toEqual(['00.000 available', '01.500 ringing', '03.000 on_call', '03.000 wrap_up', '13.000 available']);
    const done = of(out, 'call.agent_completed')[0]!;
    expect(done.payload).toMatchObject({ talk_ms: 60_000, wrap_ms: 10_000, reason: 'agent' });
  });
});

describe('AMI translator resynchronisation', () => {
  const frame = (h: Record<string, string>) => parseAll(Object.entries(h).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n')[0]!;
  it('corrects state from CoreShowChannels/QueueStatus replies: ended calls, freed agents, removed members, waiting callers', () => {
    const t = newTranslator(ids);
    const agent = { Queue: 'q', MemberName: 'Ann', Interface: 'PJSIP/1001' };
    const caller = { Channel: 'PJSIP/c-1', Uniqueid: '1.1', Linkedid: '1.1' };
    const rid = 'callboard-resync-c2';
    const seq: Record<string, string>[] = [
      { Event: 'QueueMemberAdded', ...agent, Status: '1', Paused: '0' },
      { Event: 'QueueMemberAdded', Queue: 'q', MemberName: 'Bob', Interface: 'PJSIP/1002', Status: '1', Paused: '0' },
      { Event: 'Newchannel', ...caller, ChannelState: '4', CallerIDNum: '555', Exten: '100' },
      { Event: 'QueueCallerJoin', ...caller, Queue: 'q', Position: '1' },
      { Event: 'QueueCallerLeave', ...caller, Queue: 'q', Position: '1' },
      { Event: 'AgentConnect', ...caller, ...agent, HoldTime: '3', RingTime: '1' },
      // … the link drops; on reconnect the PBX lists one new waiting caller, no old channel,
      // and Ann but no longer Bob.
      { Event: 'CoreShowChannel', ActionID: `${rid}-channels`, Channel: 'PJSIP/c-2', Uniqueid: '2.1', Linkedid: '2.1', ChannelState: '6', Duration: '00:00:30' },
      { Event: 'CoreShowChannelsComplete', ActionID: `${rid}-channels`, EventList: 'Complete', ListItems: '1' },
      { Event: 'QueueMember', ActionID: `${rid}-queues`, Queue: 'q', Name: 'Ann', Location: 'PJSIP/1001', Status: '1', Paused: '0' },
      { Event: 'QueueEntry', ActionID: `${rid}-queues`, Queue: 'q', Position: '1', Channel: 'PJSIP/c-2', Uniqueid: '2.1', CallerIDNum: '777', Wait: '20' },
      { Event: 'QueueStatusComplete', ActionID: `${rid}-queues`, EventList: 'Complete', ListItems: '2' },
    ];
    const at = 1_800_000_000_000;
    const out = translateFrames(seq.map((h, i) => ({ frame: frame(h), meta: { received_at: at + i, raw_ref: null, connection: 'c', seq: i } })), t).events;
    for (const e of out) expect(validateEvent(JSON.parse(JSON.stringify(e))).ok, JSON.stringify(e)).toBe(true);
    expect(of(out, 'call.ended').map((e) => e.call_id)).toEqual(['1.1']);
    expect(of(out, 'agent.queue_left').map((e) => e.agent_id)).toEqual(['1002']);
    const ann = of(out, 'agent.state_changed').filter((e) => e.agent_id === '1001').map((e) => e.payload.state);
    expect(ann).toEqual(['available', 'on_call', 'available']);
    const q = of(out, 'call.queued').find((e) => e.call_id === '2.1')!;
    expect(q.payload).toMatchObject({ queue: 'q', position: 1, caller_number: '777' });
    expect(Date.parse(q.occurred_at)).toBe(at + 9 - 20_000);
    expect(of(out, 'call.started').map((e) => e.call_id)).toEqual(['1.1', '2.1']);
  });

  it('stamps resync entries (replies carry no Timestamp) on the PBX clock, estimated from the frames that do', () => {
    const t = newTranslator(ids);
    const rid = 'callboard-resync-c2';
    // The receiving host's clock runs 5 s ahead of the PBX's; frames arrive 2 to 40 ms late.
    const pbx = 1_800_000_000_000;
    const skew = 5000;
    const seq: [Record<string, string>, number][] = [
      [{ Event: 'QueueMemberAdded', Queue: 'q', MemberName: 'Ann', Interface: 'PJSIP/1001', Status: '1', Paused: '0', Timestamp: '1800000000.000000' }, pbx + skew + 40],
      [{ Event: 'VarSet', Variable: 'X', Value: '1', Timestamp: '1800000001.000000' }, pbx + 1000 + skew + 2],
      [{ Event: 'QueueEntry', ActionID: `${rid}-queues`, Queue: 'q', Position: '1', Channel: 'PJSIP/c-2', Uniqueid: '2.1', CallerIDNum: '777', Wait: '20' }, pbx + 3000 + skew + 2],
    ];
    const out = translateFrames(seq.map(([h, at], i) => ({ frame: frame(h), meta: { received_at: at, raw_ref: null, connection: 'c2', seq: i } })), t).events;
    const q = of(out, 'call.queued')[0]!;
    expect(Date.parse(q.occurred_at)).toBe(pbx + 3000 - 20_000);
  });
});

describe('AMI Timestamp', () => {
  it('reads <seconds>.<micro> to the millisecond and refuses times no clock can show', () => {
    expect(parseAmiTimestamp('1796414482.123456')).toBe(1796414482123);
    expect(parseAmiTimestamp('99999999999999')).toBeNaN();
    expect(parseAmiTimestamp('12ab')).toBeNaN();
  });

  it('dead-letters a frame with an absurd Timestamp as BAD_TIMESTAMP instead of throwing (hostile-input property found it)', () => {
    const t = newTranslator(ids);
    const [frame] = parseAll('Event: Newchannel\r\nTimestamp: 99999999999999\r\n\r\n');
    const o = t.translate(frame!, { received_at: Date.now(), raw_ref: null, connection: 'c', seq: 0 });
    expect(o.kind === 'dlq' && o.reason_code).toBe('BAD_TIMESTAMP');
  });
});

describe.skipIf(!existsSync(A22))('AMI translator across a PBX restart (j_restart, needs ../shared/fixtures)', () => {
  const dir = join(A22, 'j_restart');
  const iso = (ts: string) => new Date(parseAmiTimestamp(ts)).toISOString();
  const shutdown = () => fileItems(join(dir, 'capture.ami')).find((x) => x.frame.name === 'Shutdown')!.frame.headers.Timestamp!;

  it('recognises Shutdown: members that vanish with the restart left when the PBX went down, not at the reconnect', () => {
    const { events } = translateFrames(scenarioItems(dir));
    const left = of(events, 'agent.queue_left');
    expect(left.map((e) => [e.agent_id, e.payload.queue, e.occurred_at])).toEqual([['1001', 'sales', iso(shutdown())]]);
    // Every call hung up, with its own events, before the Shutdown: none is cut by the gap.
    expect(of(events, 'call.ended').filter((e) => e.payload.ended_in)).toEqual([]);
  });

  it('a feed cut before the restart: what the resync finds gone ends when it was last known alive, talk and wait kept, flagged', () => {
    // The same recording with the link lost just before `core restart now` took effect: the
    // restart's own QueueCallerAbandon/AgentComplete/Hangups never arrive.
    const all = scenarioItems(dir);
    const cut = all.findIndex((x) => x.frame.name === 'SoftHangupRequest' && Number(x.frame.headers.Timestamp) >= 1796414482);
    const lastAlive = [...all.slice(0, cut)].reverse().find((x) => x.frame.headers.Timestamp)!.frame.headers.Timestamp!;
    const reconnect = all.findIndex((x) => x.meta.connection === 'file-after');
    const { events, dlq } = translateFrames([...all.slice(0, cut), ...all.slice(reconnect)]);
    expect(dlq).toEqual([]);
    for (const e of events) expect(validateEvent(JSON.parse(JSON.stringify(e))).ok, JSON.stringify(e)).toBe(true);
    const callOf = (num: string) => of(events, 'call.queued').find((e) => e.payload.caller_number === num)!.call_id;
    const j1 = callOf('5550101');
    const j2 = callOf('5550102');
    const at = iso(lastAlive);
    // The last sign of life is the last frame before the cut (this capture client sent no Ping,
    // whose replies carry a Timestamp and would move it later).
    // j1 was talking to Agent 1001: its talk runs to the gap.
    const done = of(events, 'call.agent_completed', j1);
    expect(done.map((e) => [e.payload.agent_id, e.occurred_at])).toEqual([['1001', at]]);
    const answered = of(events, 'call.answered', j1)[0]!;
    expect(done[0]!.payload.talk_ms).toBe(Date.parse(at) - Date.parse(answered.occurred_at));
    expect(done[0]!.payload.talk_ms).toBeGreaterThan(0);
    // j2 was waiting: its leg left the queue at the gap, before its call ended.
    const gone = of(events, 'call.left_queue', j2);
    expect(gone.map((e) => [e.payload.reason, e.occurred_at])).toEqual([['other', at]]);
    expect(gone[0]!.payload.wait_ms).toBe(Date.parse(at) - Date.parse(of(events, 'call.queued', j2)[0]!.occurred_at));
    for (const id of [j1, j2]) {
      const ended = of(events, 'call.ended', id);
      expect(ended.map((e) => [e.occurred_at, e.payload.ended_in])).toEqual([[at, 'gap']]);
      const mine = events.filter((e) => 'call_id' in e && e.call_id === id);
      expect(mine[mine.length - 1]!.type).toBe('call.ended');
    }
    const end = of(events, 'call.ended', j1)[0]!.payload;
    expect(end.duration_ms).toBe(Date.parse(at) - Date.parse(of(events, 'call.started', j1)[0]!.occurred_at));
    expect(end.billsec_ms).toBeGreaterThan(done[0]!.payload.talk_ms);
    expect(end.billsec_ms).toBeLessThanOrEqual(end.duration_ms);
    // Agent 1001 was free from the gap on, then logged in again; the calls after the restart are whole.
    const states = of(events, 'agent.state_changed').filter((e) => e.agent_id === '1001' && e.occurred_at === at);
    expect(states.map((e) => e.payload.state)).toContain('available');
    expect(of(events, 'call.answered').map((e) => e.payload.agent_name)).toEqual(['Agent 1001', 'Agent 1001', 'Agent 1002']);
    expect(of(events, 'call.ended').filter((e) => !e.payload.ended_in)).toHaveLength(2);
  });
});
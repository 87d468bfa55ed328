// The PBX's own figures from its queue_log, computed independently of the event pipeline: a pure
// calculator over parsed lines (ingest/src/import/queue-log.ts), the other side of a
// reconciliation (METRICS.md "Reconciliation"). Asterisk's conventions are kept as they are —
// whole seconds, a leg answered by CONNECT, talk as logged (connected time, hold included) — and
// the comparison (compare.ts) says which differences they explain.
import { DateTime } from 'luxon';
import { AgentNames } from '@callboard/ingest/import/agents';
import type { QueueLogLine } from '@callboard/ingest/import/queue-log';

export type PbxOutcome = 'answered' | 'abandoned' | 'exited';

/** One queue leg as queue_log tells it. Times epoch ms; durations whole seconds as logged. */
export interface PbxLeg {
  /** queue_log's call id (the queued channel's Uniqueid). */
  callid: string;
  /** The call id Callboard uses (the Linkedid, via the CDR when given). */
  call_id: string;
  queue: string;
  entered_at: number;
  /** Line of the ENTERQUEUE. */
  line: number;
  outcome: PbxOutcome | null;
  /** Holdtime (answered) or waittime (abandoned, exited), seconds. */
  wait_s: number | null;
  agent_id: string | null;
  /** Time of the CONNECT. */
  answered_at: number | null;
  /** Calltime of the completed segment, seconds (connected time, hold included). */
  talk_s: number | null;
  /** A later line of the same call exists: the leg is not merely still in progress at data until. */
  call_continues: boolean;
}

export interface PbxPause {
  agent_id: string;
  reason: string;
  from: number;
  /** null: still paused at the end of the log. */
  to: number | null;
}

export interface PbxCall {
  agent_id: string;
  from: number;
  to: number | null;
}

/**
 * A transfer of a queue call by its agent. Asterisk logs no line for the target (no CONNECT), so a
 * target Callboard credits with the call has nothing to pair with but this line.
 */
export interface PbxTransfer {
  call_id: string;
  queue: string;
  /** The transferring agent. */
  agent_id: string;
  kind: 'attended' | 'blind';
  /** Blind: the extension dialled, which is the agent id of a member's (agent ids are extensions); attended: null, the line does not name the target. */
  target: string | null;
  at: number;
  line: number;
}

export interface PbxRecords {
  legs: PbxLeg[];
  transfers: PbxTransfer[];
  /** Agent id, line time: one per RINGNOANSWER. */
  missed: { agent_id: string; at: number; call_id: string; line: number }[];
  pauses: PbxPause[];
  /** Each agent's connected segments (CONNECT to its COMPLETE or TRANSFER), to explain pause overlap. */
  calls: PbxCall[];
  /** Time of the last line: the end of what the log knows. */
  data_until: number | null;
}

const secs = (l: QueueLogLine, i: number): number => Number(l.data[i] ?? 0);

const noRecords = (): PbxRecords => ({ legs: [], transfers: [], missed: [], pauses: [], calls: [], data_until: null });

/**
 * The records of queue_log lines, folded a line at a time in file order and handed over as they
 * settle, so a log of any length is read in bounded memory (run.ts streamPbx). A record is
 * settled when no later line can change it: a ring-no-answer or transfer at once, a pause or a
 * connected segment at its end, a leg once it has left the queue. A leg's call_continues is then
 * already true: the line that ends a leg is a later line of its call, and so is an ENTERQUEUE that
 * replaces it. What is still open at the end of the log is handed over by end(), as pbxRecords
 * always did: between them, take() and end() give what folding the whole file at once gives.
 */
export class PbxRecordsFold {
  private done = noRecords();
  /** Legs not yet handed over, in ENTERQUEUE order: those still in the queue, and any ended since the last take. */
  private readonly legs = new Set<PbxLeg>();
  private readonly open = new Map<string, PbxLeg>();
  /** Each call's last leg, until a take finds it has left the queue (a later line of the call marks it as going on). */
  private readonly lastLegOfCall = new Map<string, PbxLeg>();
  private readonly pausedSince = new Map<string, PbxPause>();
  private readonly talking = new Map<string, PbxCall>();
  private readonly names = new AgentNames();
  private dataUntil: number | null = null;

  constructor(private readonly callOf: (callid: string) => string = (c) => c) {}

  add(l: QueueLogLine): void {
    const out = this.done;
    const names = this.names;
    this.dataUntil = Math.max(this.dataUntil ?? l.at, l.at);
    const prior = this.lastLegOfCall.get(l.callid);
    if (prior && l.verb !== 'ENTERQUEUE') prior.call_continues = true;
    const key = `${l.callid}|${l.queue}`;
    const leg = this.open.get(key);
    switch (l.verb) {
      case 'ENTERQUEUE': {
        if (prior) prior.call_continues = true;
        const g: PbxLeg = {
          callid: l.callid,
          call_id: this.callOf(l.callid),
          queue: l.queue,
          entered_at: l.at,
          line: l.line,
          outcome: null,
          wait_s: null,
          agent_id: null,
          answered_at: null,
          talk_s: null,
          call_continues: false,
        };
        this.legs.add(g);
        this.open.set(key, g);
        this.lastLegOfCall.set(l.callid, g);
        break;
      }
      case 'CONNECT': {
        const agent = names.idOf(l.agent);
        if (leg && leg.outcome === null) {
          leg.outcome = 'answered';
          leg.wait_s = secs(l, 0);
          leg.agent_id = agent;
          leg.answered_at = l.at;
        }
        this.talking.set(`${agent}|${l.callid}`, { agent_id: agent, from: l.at, to: null });
        break;
      }
      case 'COMPLETEAGENT':
      case 'COMPLETECALLER':
      case 'BLINDTRANSFER':
      case 'ATTENDEDTRANSFER': {
        const agent = names.idOf(l.agent);
        if (leg && leg.outcome === 'answered') leg.talk_s = secs(l, l.verb.endsWith('TRANSFER') ? 3 : 1);
        if (l.verb.endsWith('TRANSFER')) {
          const blind = l.verb === 'BLINDTRANSFER';
          out.transfers.push({
            call_id: this.callOf(l.callid),
            queue: l.queue,
            agent_id: agent,
            kind: blind ? 'blind' : 'attended',
            target: blind ? (l.data[0] ?? null) : null,
            at: l.at,
            line: l.line,
          });
        }
        this.open.delete(key);
        const c = this.talking.get(`${agent}|${l.callid}`);
        if (c) {
          c.to = l.at;
          out.calls.push(c);
          this.talking.delete(`${agent}|${l.callid}`);
        }
        break;
      }
      case 'ABANDON':
      case 'EXITWITHTIMEOUT':
      case 'EXITWITHKEY':
      case 'EXITEMPTY':
        if (leg && leg.outcome === null) {
          leg.outcome = l.verb === 'ABANDON' ? 'abandoned' : 'exited';
          const logged = l.data[l.verb === 'EXITWITHKEY' ? 3 : 2];
          leg.wait_s = logged !== undefined && /^\d+$/.test(logged) ? Number(logged) : Math.floor((l.at - leg.entered_at) / 1000);
        }
        this.open.delete(key);
        break;
      case 'RINGNOANSWER':
        out.missed.push({ agent_id: names.idOf(l.agent), at: l.at, call_id: this.callOf(l.callid), line: l.line });
        break;
      case 'PAUSE':
      case 'PAUSEALL': {
        // Per queue and for all queues alike: the agent is paused from the first until unpaused.
        const agent = names.idOf(l.agent);
        if (!this.pausedSince.has(agent)) this.pausedSince.set(agent, { agent_id: agent, reason: l.data[0] ?? '', from: l.at, to: null });
        break;
      }
      case 'UNPAUSE':
      case 'UNPAUSEALL':
      case 'AGENTLOGOFF':
      case 'REMOVEMEMBER': {
        const agent = names.idOf(l.agent);
        const p = this.pausedSince.get(agent);
        // A member removed from one queue may stay paused in others; only a logoff or unpause ends it.
        if (p && l.verb !== 'REMOVEMEMBER') {
          p.to = l.at;
          out.pauses.push(p);
          this.pausedSince.delete(agent);
        }
        break;
      }
      case 'ADDMEMBER':
        names.idOf(l.agent);
        break;
    }
  }

  private isOpen(g: PbxLeg): boolean {
    return this.open.get(`${g.callid}|${g.queue}`) === g;
  }

  /** The records settled since the last take, handed over once (legs in ENTERQUEUE order within it). */
  take(): PbxRecords {
    for (const [callid, g] of this.lastLegOfCall) if (!this.isOpen(g)) this.lastLegOfCall.delete(callid);
    for (const g of this.legs) {
      if (this.isOpen(g)) continue;
      this.legs.delete(g);
      this.done.legs.push(g);
    }
    return this.handOver();
  }

  /** Everything not yet handed over, as at the end of the log: open legs, pauses and connected segments too. */
  end(): PbxRecords {
    this.done.legs.push(...this.legs);
    this.done.pauses.push(...this.pausedSince.values());
    this.done.calls.push(...this.talking.values());
    this.legs.clear();
    this.open.clear();
    this.lastLegOfCall.clear();
    this.pausedSince.clear();
    this.talking.clear();
    return this.handOver();
  }

  private handOver(): PbxRecords {
    const out = this.done;
    out.data_until = this.dataUntil;
    this.done = noRecords();
    return out;
  }
}

/** Reads the records out of queue_log lines in file order. `callOf` maps a queue_log call id to Callboard's. */
export function pbxRecords(lines: Iterable<QueueLogLine>, callOf?: (callid: string) => string): PbxRecords {
  const fold = new PbxRecordsFold(callOf);
  for (const l of lines) fold.add(l);
  return fold.end();
}

export interface QueueFigures {
  offered: number;
  answered: number;
  abandoned: number;
  exited: number;
  answered_within_sl: number;
  /** Seconds; null without answered legs. */
  asa: number | null;
  /** Connected time of answered legs (talk plus hold), seconds. */
  talk: number;
}

export interface AgentFigures {
  handled: number;
  missed: number;
  /** Seconds per pause reason, wall time clipped to the span, open pauses to data until. */
  pause_time_by_reason: Record<string, number>;
}

export const localDay = (ms: number, zone: string): string => DateTime.fromMillis(ms, { zone }).toFormat('yyyy-MM-dd');

/** Queue figures of legs (already chosen for one day and queue). */
export function queueFigures(legs: PbxLeg[], slThresholdS: number): QueueFigures {
  const answered = legs.filter((l) => l.outcome === 'answered');
  const wait = answered.reduce((s, l) => s + (l.wait_s ?? 0), 0);
  return {
    offered: legs.length,
    answered: answered.length,
    abandoned: legs.filter((l) => l.outcome === 'abandoned').length,
    exited: legs.filter((l) => l.outcome === 'exited').length,
    answered_within_sl: answered.filter((l) => (l.wait_s ?? 0) <= slThresholdS).length,
    asa: answered.length ? wait / answered.length : null,
    talk: answered.reduce((s, l) => s + (l.talk_s ?? 0), 0),
  };
}

/** Wall time of `[from, to)` inside `[start, end)`, ms. */
export function overlapMs(from: number, to: number, start: number, end: number): number {
  return Math.max(0, Math.min(to, end) - Math.max(from, start));
}

/** One agent's figures over `[start, end)`. */
export function agentFigures(r: PbxRecords, agent: string, start: number, end: number): AgentFigures {
  const until = r.data_until ?? end;
  const pause = Object.create(null) as Record<string, number>; // reasons come from the file: `__proto__` is one too
  for (const p of r.pauses) {
    if (p.agent_id !== agent) continue;
    const ms = overlapMs(p.from, p.to ?? until, start, end);
    if (ms > 0) pause[p.reason] = (pause[p.reason] ?? 0) + ms / 1000;
  }
  return {
    // Callboard credits `handled` at the answer, the CONNECT's time.
    handled: r.legs.filter((l) => l.agent_id === agent && l.answered_at !== null && l.answered_at >= start && l.answered_at < end).length,
    missed: r.missed.filter((m) => m.agent_id === agent && m.at >= start && m.at < end).length,
    pause_time_by_reason: pause,
  };
}

// `callboard reconcile --yeastar-cdr FILE`: Callboard's figures against a Yeastar P-/S-Series CDR
// export (CSV, times in the PBX's zone), read by the importer's own row reader
// (ingest/src/import/yeastar.ts). A CDR row is one call, its first leg's parties and its last
// leg's status (docs/import.md "What a CDR cannot tell"), so only what a row says is compared:
//   per queue (a row whose `Call To` is a queue):  offered, answered, unanswered (Callboard's
//     abandoned + exited: a CDR's NO ANSWER does not say which), talk (whole seconds)
//   per agent: handled_direct — inbound calls answered at the extension `Call To` names
//     (Callboard's answers outside a queue leg); a queue call's row names the queue, not the agent.
// No wait, SL, ASA, ring-no-answer or pause: the row has none. Differences are split per call and
// classed as METRICS.md "Reconciliation" says (compare.ts's classes).
import type { ClickHouse } from '@callboard/platform';
import { openLines } from '@callboard/ingest/import/lines';
import { YeastarCdrTranslator, type DateOrder, type YeastarCdrRow } from '@callboard/ingest/import/yeastar';
import {
  RECONCILIATION_METRICS,
  tally,
  type CallboardLeg,
  type CallboardSide,
  type Day,
  type DiffClass,
  type Explanation,
  type FigureRow,
  type Reconciliation,
} from './compare.ts';
import { callboardSide, daysOf, reconcilePeriod, type ReconcileResult, type ReconcileScope } from './run.ts';

/** What one CDR row tells a reconciliation. */
export interface CdrCall {
  call_id: string;
  /** Line of the export. */
  line: number;
  /** The call's start (epoch ms). */
  at: number;
  /** The queue `Call To` names, or null. */
  queue: string | null;
  /** The extension that answered an inbound direct call, or null. */
  agent: string | null;
  answered: boolean;
  /** Talk duration of an answered call, whole seconds. */
  talk_s: number;
  status: string;
}

/** Is `Call To` a queue: a configured queue's number, or a name the PBX gives queues. */
export type IsQueue = (number: string, name: string | undefined) => boolean;

export function cdrCall(row: YeastarCdrRow, line: number, isQueue: IsQueue): CdrCall {
  const answered = row.disposition === 'ANSWERED';
  const queue = row.direction !== 'outbound' && isQueue(row.to.number, row.to.name) ? row.to.number : null;
  const agent = !queue && answered && row.direction === 'inbound' && row.extension ? row.extension : null;
  return { call_id: row.id, line, at: row.start, queue, agent, answered, talk_s: answered ? Math.min(row.talk_s, row.duration_s) : 0, status: row.raw_status };
}

export interface CdrQueueFigures {
  offered: number;
  answered: number;
  unanswered: number;
  talk: number;
}

/** The CDR side's figures of one day: per queue, and handled_direct per agent. */
export function cdrFigures(calls: readonly CdrCall[], day: Day): { queues: Map<string, CdrQueueFigures>; agents: Map<string, number> } {
  const queues = new Map<string, CdrQueueFigures>();
  const agents = new Map<string, number>();
  for (const c of calls) {
    if (c.at < day.start || c.at >= day.end) continue;
    if (c.queue) {
      const f = queues.get(c.queue) ?? { offered: 0, answered: 0, unanswered: 0, talk: 0 };
      f.offered++;
      if (c.answered) {
        f.answered++;
        f.talk += c.talk_s;
      } else f.unanswered++;
      queues.set(c.queue, f);
    }
    if (c.agent) agents.set(c.agent, (agents.get(c.agent) ?? 0) + 1);
  }
  return { queues, agents };
}

type QueueMetric = keyof CdrQueueFigures;

/** What a call contributes to a queue metric, on the CDR side and on Callboard's (its legs in that queue). */
function cdrValue(m: QueueMetric, c: CdrCall): number {
  return m === 'offered' ? 1 : m === 'answered' ? (c.answered ? 1 : 0) : m === 'unanswered' ? (c.answered ? 0 : 1) : c.talk_s;
}
function cbValue(m: QueueMetric, legs: readonly CallboardLeg[]): number {
  const answered = legs.filter((l) => l.outcome === 'answered');
  if (m === 'offered') return legs.length;
  if (m === 'answered') return answered.length;
  if (m === 'unanswered') return legs.filter((l) => l.outcome === 'abandoned' || l.outcome === 'exited').length;
  return answered.reduce((s, l) => s + l.connected_ms / 1000, 0);
}

const EPS = 1e-6;
const cdrId = (c: CdrCall) => `call ${c.call_id} (CDR line ${c.line})`;

function classifyQueue(m: QueueMetric, p: CdrCall | null, legs: readonly CallboardLeg[], amount: number): Explanation {
  if (!legs.length) return { class: 'missing', amount, id: cdrId(p!), why: 'in the CDR export, not in Callboard' };
  const cbId = `call ${legs[0]!.call_id} leg ${legs.map((l) => l.leg_id).join(', ')}`;
  if (!p) return { class: 'missing', amount, id: cbId, why: 'in Callboard, not in the CDR export' };
  if (legs.some((l) => l.outcome === 'waiting')) return { class: 'in_progress', amount, id: cdrId(p), why: 'still waiting in Callboard at its data until' };
  const cbAnswered = legs.some((l) => l.outcome === 'answered');
  if (m === 'talk' && cbAnswered === p.answered && Math.abs(amount) < 1)
    return { class: 'truncation', amount, id: cdrId(p), why: 'the CDR keeps whole seconds' };
  const agents = [...new Set(legs.map((l) => l.agent_id).filter(Boolean))].join(', ');
  return {
    class: 'unknown',
    amount,
    id: cdrId(p),
    why: `Callboard: ${legs.map((l) => l.outcome).join(', ')}${agents ? ` by ${agents}` : ''}; CDR: ${p.status}${m === 'talk' ? `, talk ${p.talk_s} s` : ''}`,
  };
}

/** Contributions of calls to a difference, and the residual no call explains. */
function explain(items: { amount: number; why: () => Explanation }[], diff: number): Explanation[] {
  const out: Explanation[] = [];
  let explained = 0;
  for (const x of items) {
    if (Math.abs(x.amount) <= EPS) continue;
    explained += x.amount;
    out.push(x.why());
  }
  const residual = diff - explained;
  if (Math.abs(residual) > 1e-3) out.push({ class: 'unknown', amount: residual, why: 'the figures differ by more than the calls on both sides explain' });
  return out;
}

/** Callboard's side against the CDR's, day by day (pure). */
export function reconcileCdr(i: { days: Day[]; calls: readonly CdrCall[]; cb: CallboardSide }): Reconciliation {
  const rows: FigureRow[] = [];
  const queueOfCall = new Map(i.calls.filter((c) => c.queue).map((c) => [c.call_id, c]));
  for (const day of i.days) {
    const inDay = (t: number) => t >= day.start && t < day.end;
    const pf = cdrFigures(i.calls, day);
    const queues = new Set([...pf.queues.keys(), ...(i.cb.queues.get(day.date)?.keys() ?? [])]);
    for (const queue of [...queues].sort()) {
      // Pairs by call: the CDR's row and Callboard's legs of that call in this queue and day.
      const pairs = new Map<string, { p: CdrCall | null; legs: CallboardLeg[] }>();
      for (const c of i.calls) if (c.queue === queue && inDay(c.at)) pairs.set(c.call_id, { p: c, legs: [] });
      for (const l of i.cb.legs) {
        if (l.queue !== queue || !inDay(l.offered_at)) continue;
        const pair = pairs.get(l.call_id) ?? { p: null, legs: [] };
        pair.legs.push(l);
        pairs.set(l.call_id, pair);
      }
      const cf = i.cb.queues.get(day.date)?.get(queue);
      const cbFig: CdrQueueFigures = {
        offered: cf?.offered ?? 0,
        answered: cf?.answered ?? 0,
        unanswered: (cf?.abandoned ?? 0) + (cf?.exited ?? 0),
        talk: cf?.talk ?? 0,
      };
      const pFig = pf.queues.get(queue) ?? { offered: 0, answered: 0, unanswered: 0, talk: 0 };
      for (const m of RECONCILIATION_METRICS.yeastar_cdr.queue) {
        const diff = cbFig[m] - pFig[m];
        const explanations =
          Math.abs(diff) <= 1e-3
            ? []
            : explain(
                [...pairs.values()].map(({ p, legs }) => {
                  const amount = cbValue(m, legs) - (p ? cdrValue(m, p) : 0);
                  return { amount, why: () => classifyQueue(m, p, legs, amount) };
                }),
                diff,
              );
        rows.push({ date: day.date, scope: 'queue', key: queue, metric: m, callboard: cbFig[m], pbx: pFig[m], explanations });
      }
    }
    const answers = i.cb.answers.filter((a) => inDay(a.at));
    const agents = new Set([...pf.agents.keys(), ...answers.map((a) => a.agent_id)]);
    for (const agent of [...agents].sort()) {
      const mine = answers.filter((a) => a.agent_id === agent);
      const cdr = i.calls.filter((c) => c.agent === agent && inDay(c.at));
      const cbv = mine.length;
      const pv = pf.agents.get(agent) ?? 0;
      const items: { amount: number; why: () => Explanation }[] = [];
      for (const a of mine) {
        if (cdr.some((c) => c.call_id === a.call_id)) continue;
        const q = queueOfCall.get(a.call_id);
        items.push({
          amount: 1,
          why: (): Explanation =>
            q
              ? {
                  class: 'transfer_target' satisfies DiffClass,
                  amount: 1,
                  id: `call ${a.call_id} (CDR line ${q.line}, queue ${q.queue})`,
                  why: `${agent} answered the call outside its queue leg (a transfer); the CDR names the queue, not who answered`,
                }
              : { class: 'missing', amount: 1, id: `call ${a.call_id}`, why: `answered by ${agent} in Callboard; no CDR row of the call names ${agent}` },
        });
      }
      for (const c of cdr) {
        if (mine.some((a) => a.call_id === c.call_id)) continue;
        items.push({
          amount: -1,
          why: (): Explanation => ({ class: 'missing', amount: -1, id: cdrId(c), why: `answered by ${agent} in the CDR export, not in Callboard` }),
        });
      }
      rows.push({
        date: day.date,
        scope: 'agent',
        key: agent,
        metric: RECONCILIATION_METRICS.yeastar_cdr.agent[0],
        callboard: cbv,
        pbx: pv,
        explanations: cbv === pv ? [] : explain(items, cbv - pv),
      });
    }
  }
  return tally(rows);
}

export interface CdrReadOptions {
  /** The PBX's zone: CDR times are its local wall-clock time. */
  zone: string;
  order?: DateOrder;
  isQueue: IsQueue;
}

/** What an export tells a reconciliation: its calls, the lines the reader rejected, the end of the last call (epoch ms). */
export interface CdrRead {
  calls: CdrCall[];
  rejected: number[];
  data_until: number | null;
}

/** `Call To` is a queue: one of the tenant's configured queue numbers, or a name the PBX gives queues. */
export function queueTest(queues: readonly string[]): IsQueue {
  const known = new Set(queues);
  return (n, name) => known.has(n) || /\bqueue\b/i.test(name ?? '');
}

/** Reads an export. Throws on a file that is not a CDR export. */
export async function readYeastarCdr(path: string, o: CdrReadOptions): Promise<CdrRead> {
  const reader = new YeastarCdrTranslator({ tenant_id: '-', pbx_id: '-', source: 'yeastar-p', zone: o.zone, ...(o.order ? { order: o.order } : {}) });
  const calls: CdrCall[] = [];
  const rejected: number[] = [];
  let header = false;
  let until: number | null = null;
  for await (const { bytes, line } of openLines(path).lines) {
    const text = bytes.toString('utf8');
    if (!text.trim()) continue;
    if (!header) {
      const h = reader.header(text);
      if (h.kind === 'refused') throw new Error(`${path}: ${h.reason}`);
      header = true;
      continue;
    }
    const r = reader.parse(text, line);
    if (r.kind !== 'row') {
      rejected.push(line);
      continue;
    }
    calls.push(cdrCall(r.row, line, o.isQueue));
    until = Math.max(until ?? 0, r.row.start + r.row.duration_s * 1000);
  }
  return { calls, rejected, data_until: until };
}

/** Callboard over the scope's period against the calls of a Yeastar CDR export (read from the file or from ClickHouse). */
export async function reconcileCdrRead(ch: ClickHouse, o: ReconcileScope, read: CdrRead): Promise<ReconcileResult> {
  const { spec, p } = reconcilePeriod(o);
  const days = daysOf(p.start, p.end, o.timezone);
  const cb = await callboardSide(ch, o, days, p.start.getTime(), p.end.getTime());
  return {
    tenant_id: o.tenant_id,
    period: { kind: spec.kind, label: p.label, start: p.start.toISOString(), end: p.end.toISOString(), timezone: o.timezone },
    data_until: read.data_until === null ? null : new Date(read.data_until).toISOString(),
    rejected_lines: read.rejected,
    pbx_source: 'Yeastar CDR',
    ...reconcileCdr({ days, calls: read.calls, cb }),
  };
}

/** Callboard over the scope's period against a Yeastar CDR export file. */
export async function reconcileYeastarCdr(
  ch: ClickHouse,
  o: ReconcileScope & { cdr: string; order?: DateOrder; queues: readonly string[] },
): Promise<ReconcileResult> {
  const read = await readYeastarCdr(o.cdr, { zone: o.timezone, ...(o.order ? { order: o.order } : {}), isQueue: queueTest(o.queues) });
  return reconcileCdrRead(ch, o, read);
}

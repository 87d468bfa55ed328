// The I/O of a reconciliation: the PBX's files read into records (figures.ts), Callboard's
// figures read through the read path (read.ts) and its queue legs through one query of its own
// (bound parameters, tenant-scoped, below), then compare.ts. Used by `callboard reconcile` and
// by tests with their own ClickHouse.
import { DateTime } from 'luxon';
import type { ClickHouse, QueueSettings, WeekStart } from '@callboard/platform';
import { CallIds, parseCdrLine } from '@callboard/ingest/import/cdr';
import { openLines } from '@callboard/ingest/import/lines';
import { parseQueueLogLine, zoneToUtc } from '@callboard/ingest/import/queue-log';
import { agentMetrics, queueMetrics, resolvePeriod, type PeriodSpec } from '../read.ts';
import { TenantReader, msParam } from '../read/scope.ts';
import { reconcile, type CallboardAnswer, type CallboardLeg, type CallboardSide, type Day, type Reconciliation } from './compare.ts';
import { PbxRecordsFold, type AgentFigures, type PbxRecords, type QueueFigures } from './figures.ts';

/** What a reconciliation is of: a tenant's local day, week or month. */
export interface ReconcileScope {
  tenant_id: string;
  timezone: string;
  week_start: WeekStart;
  period: 'day' | 'week' | 'month';
  date: string;
  settings: (queue: string) => QueueSettings;
}

export interface ReconcileOptions extends ReconcileScope {
  queueLog: string;
  cdr?: string;
}

export interface ReconcileResult extends Reconciliation {
  tenant_id: string;
  period: { kind: string; label: string; start: string; end: string; timezone: string };
  /** The last queue_log time read: the PBX side's data until. */
  data_until: string | null;
  /** queue_log lines the parser rejected (not counted on the PBX side). */
  rejected_lines: number[];
  /** What the PBX side was read from, when not queue_log (e.g. `Yeastar CDR`). */
  pbx_source?: string;
}

/** The files of one PBX: Asterisk's queue_log, with its CDR for call ids. */
export interface PbxFiles {
  queueLog: string;
  cdr?: string;
  /** IANA zone of the PBX's local times (a queue_log table's datetimes); default UTC. */
  timezone?: string;
}

/** What streamPbx read, besides the records it handed over. */
export interface PbxReadSummary {
  /** queue_log lines the parser rejected. */
  rejected: number[];
  legs: number;
  /** The earliest leg's entry, or data until when there is none; null for an empty log. */
  first_at: number | null;
  data_until: number | null;
}

/** queue_log lines between two hand-overs of settled records. */
export const PBX_BATCH_LINES = 50_000;

/**
 * Reads a PBX's queue_log a line at a time (gzip too) and hands its records to `onRecords` as they
 * settle, every `batchLines` lines and what is left at the end, so neither the lines nor the
 * records of the whole log are held (PbxRecordsFold). The CDR is read first, keeping only the
 * pairs of Local channels' halves that map a Uniqueid to its call's.
 * `batchLines` Infinity hands everything over once, at the end, in file order.
 */
export async function streamPbx(files: PbxFiles, onRecords: (r: PbxRecords) => Promise<void> | void, batchLines = PBX_BATCH_LINES): Promise<PbxReadSummary> {
  const local = zoneToUtc(files.timezone ?? 'UTC');
  let ids: CallIds | undefined;
  if (files.cdr) {
    ids = new CallIds(false);
    for await (const { bytes, line } of openLines(files.cdr).lines) {
      const r = parseCdrLine(bytes.toString('utf8'), line);
      if (r.kind === 'row') ids.add(r.row);
    }
  }
  const map = ids;
  const fold = new PbxRecordsFold(map ? (c) => map.callOf(c) : undefined);
  const summary: PbxReadSummary = { rejected: [], legs: 0, first_at: null, data_until: null };
  const handOver = async (r: PbxRecords) => {
    summary.legs += r.legs.length;
    for (const l of r.legs) summary.first_at = Math.min(summary.first_at ?? l.entered_at, l.entered_at);
    summary.data_until = r.data_until;
    await onRecords(r);
  };
  let sinceTake = 0;
  for await (const { bytes, line } of openLines(files.queueLog).lines) {
    if (bytes.length === 0 || (bytes.length === 1 && bytes[0] === 0x0d)) continue;
    const p = parseQueueLogLine(bytes, line, local);
    if (p.kind === 'line') fold.add(p.line);
    else summary.rejected.push(line);
    if (++sinceTake >= batchLines) {
      sinceTake = 0;
      await handOver(fold.take());
    }
  }
  await handOver(fold.end());
  if (summary.data_until !== null) summary.first_at = Math.min(summary.first_at ?? summary.data_until, summary.data_until);
  return summary;
}

/** The whole of a PBX's records at once (streamPbx handing over once): for a reconciliation, which reads them all. */
export async function readPbx(queueLog: string, cdr?: string, timezone = 'UTC'): Promise<{ records: PbxRecords; rejected: number[] }> {
  let records: PbxRecords | undefined;
  const { rejected } = await streamPbx({ queueLog, ...(cdr ? { cdr } : {}), timezone }, (r) => void (records = r), Infinity);
  return { records: records!, rejected };
}

/** Local days of the period, as UTC half-open intervals. */
export function daysOf(start: Date, end: Date, zone: string): Day[] {
  const out: Day[] = [];
  for (let d = DateTime.fromJSDate(start, { zone }).startOf('day'); d.toMillis() < end.getTime(); d = d.plus({ days: 1 }).startOf('day')) {
    out.push({ date: d.toFormat('yyyy-MM-dd'), start: d.toMillis(), end: d.plus({ days: 1 }).startOf('day').toMillis() });
  }
  return out;
}

/** Queue legs offered in [start, end) — the read path has no per-leg listing over a period. */
async function callboardLegs(ch: ClickHouse, tenant: string, start: number, end: number): Promise<CallboardLeg[]> {
  const r = new TenantReader(ch, tenant);
  const rows = await r.rows<{
    call_id: string;
    leg_id: string;
    queue: string;
    offered_ms: number;
    outcome: string;
    wait_ms: number;
    agent_id: string;
    answered_ms: number | null;
    connected_ms: number;
  }>(
    `SELECT call_id, leg_id, queue, toUnixTimestamp64Milli(offered_at) AS offered_ms, toString(outcome) AS outcome, wait_ms, agent_id,
            if(answered_at IS NULL, NULL, toUnixTimestamp64Milli(answered_at)) AS answered_ms, talk_ms + hold_ms AS connected_ms
       FROM ${r.from('queue_legs')} AND offered_at >= ${msParam('start')} AND offered_at < ${msParam('end')}`,
    { start, end },
  );
  return rows.map((l) => ({
    call_id: l.call_id,
    leg_id: l.leg_id,
    queue: l.queue,
    offered_at: Number(l.offered_ms),
    outcome: l.outcome as CallboardLeg['outcome'],
    wait_ms: Number(l.wait_ms),
    agent_id: l.agent_id,
    answered_at: l.answered_ms === null ? null : Number(l.answered_ms),
    connected_ms: Number(l.connected_ms),
  }));
}

/** Answers outside a queue leg in [start, end): the agent_calls a transfer target is credited with. */
async function callboardAnswers(ch: ClickHouse, tenant: string, start: number, end: number): Promise<CallboardAnswer[]> {
  const r = new TenantReader(ch, tenant);
  const rows = await r.rows<{ call_id: string; agent_id: string; at_ms: number }>(
    `SELECT call_id, agent_id, toUnixTimestamp64Milli(at) AS at_ms
       FROM ${r.from('agent_calls')} AND kind = 'handled' AND leg_id = '' AND at >= ${msParam('start')} AND at < ${msParam('end')}`,
    { start, end },
  );
  return rows.map((a) => ({ call_id: a.call_id, agent_id: a.agent_id, at: Number(a.at_ms) }));
}

export async function callboardSide(ch: ClickHouse, o: ReconcileScope, days: Day[], start: number, end: number): Promise<CallboardSide> {
  const side: CallboardSide = {
    queues: new Map(),
    agents: new Map(),
    legs: await callboardLegs(ch, o.tenant_id, start, end),
    answers: await callboardAnswers(ch, o.tenant_id, start, end),
  };
  const base = { tenant_id: o.tenant_id, timezone: o.timezone, week_start: o.week_start, settings: o.settings };
  for (const d of days) {
    const period: PeriodSpec = { kind: 'DAY', date: d.date };
    const [queues, agents] = await Promise.all([
      queueMetrics(ch, { ...base, period, group_by: 'queue' }),
      agentMetrics(ch, { ...base, period, group_by: 'agent' }),
    ]);
    side.queues.set(
      d.date,
      new Map(
        queues
          .filter((q) => q.queue !== null)
          .map((q): [string, QueueFigures] => [
            q.queue!,
            {
              offered: q.offered,
              answered: q.answered,
              abandoned: q.abandoned,
              exited: q.exited,
              answered_within_sl: q.answered_within_sl,
              asa: q.asa,
              talk: q.talk_time + q.hold_time,
            },
          ]),
      ),
    );
    side.agents.set(
      d.date,
      new Map(
        agents
          .filter((a) => a.agent_id !== null)
          .map((a): [string, AgentFigures] => [
            a.agent_id!,
            { handled: a.handled, missed: a.missed, pause_time_by_reason: Object.fromEntries(Object.entries(a.pause_time_by_reason).filter(([, v]) => v > 0)) },
          ]),
      ),
    );
  }
  return side;
}

/** The period of a reconciliation as a spec and its UTC interval. */
export function reconcilePeriod(o: Pick<ReconcileScope, 'period' | 'date' | 'timezone' | 'week_start'>) {
  const spec: PeriodSpec = { kind: o.period === 'day' ? 'DAY' : o.period === 'week' ? 'WEEK' : 'MONTH', date: o.date };
  return { spec, p: resolvePeriod(spec, { timezone: o.timezone, week_start: o.week_start }) };
}

export async function runReconcile(ch: ClickHouse, o: ReconcileOptions): Promise<ReconcileResult> {
  const { records, rejected } = await readPbx(o.queueLog, o.cdr, o.timezone);
  return reconcileRecords(ch, o, records, rejected);
}

/** Callboard's figures over the scope's period against PBX records already read (from files or from ClickHouse). */
export async function reconcileRecords(ch: ClickHouse, o: ReconcileScope, records: PbxRecords, rejected: number[] = []): Promise<ReconcileResult> {
  const { spec, p } = reconcilePeriod(o);
  const days = daysOf(p.start, p.end, o.timezone);
  const cb = await callboardSide(ch, o, days, p.start.getTime(), p.end.getTime());
  const r = reconcile({ days, pbx: records, cb, slThresholdS: (q) => o.settings(q).sl_threshold_s });
  return {
    tenant_id: o.tenant_id,
    period: { kind: spec.kind, label: p.label, start: p.start.toISOString(), end: p.end.toISOString(), timezone: o.timezone },
    data_until: records.data_until === null ? null : new Date(records.data_until).toISOString(),
    rejected_lines: rejected,
    ...r,
  };
}

const num = (v: number | null): string => (v === null ? '-' : Number.isInteger(v) ? String(v) : v.toFixed(3));

/** The table a person reads: every figure, and under a differing one its classed explanations. */
export function renderTable(r: ReconcileResult): string {
  const head = ['date', 'scope', 'queue/agent', 'metric', 'callboard', 'pbx', 'diff', 'class'];
  const body: string[][] = r.rows.map((row) => {
    const diff = row.callboard !== null && row.pbx !== null ? row.callboard - row.pbx : null;
    const classes = [...new Set(row.explanations.map((e) => e.class))].join(',');
    return [
      row.date,
      row.scope,
      row.key,
      row.metric,
      num(row.callboard),
      num(row.pbx),
      diff === null || Math.abs(diff) < 1e-9 ? '' : num(diff),
      classes || 'ok',
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const pbx = r.pbx_source ?? 'queue_log';
  const lines = [`Reconciliation of tenant ${r.tenant_id}, ${r.period.label} (${r.period.timezone}); ${pbx} data until ${r.data_until ?? '-'}`, fmt(head)];
  r.rows.forEach((row, i) => {
    lines.push(fmt(body[i]!));
    for (const e of row.explanations) lines.push(`    ${e.class}: ${num(e.amount)}${e.id ? ` ${e.id}` : ''} — ${e.why}`);
  });
  const c = r.byClass;
  lines.push(
    `${r.rows.length} figures, ${r.differences} differ: truncation ${c.truncation}, in progress ${c.in_progress}, missing ${c.missing}, pause during call ${c.pause_during_call}, transfer target ${c.transfer_target}, unknown ${c.unknown}` +
      (r.rejected_lines.length ? `; ${r.rejected_lines.length} ${pbx} lines unreadable (lines ${r.rejected_lines.slice(0, 20).join(', ')})` : ''),
  );
  return lines.join('\n') + '\n';
}

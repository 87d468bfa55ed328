// The PBX's own records kept in ClickHouse (migration 0010), so a reconciliation can be asked of
// the API and of BI tools (bi_reconciliation), not only of the files on the PBX host. Written by
// `callboard reconcile` from the files it reads; read back here into the same PbxRecords the file
// reader gives, and compared by the same compare.ts. Reads are tenant-scoped by read/scope.ts.
import { Readable } from 'node:stream';
import type { ClickHouse } from '@callboard/platform';
import { dataUntilMs, feedGaps, type FeedGap } from '../read/gaps.ts';
import { TenantReader, isoOf, msParam } from '../read/scope.ts';
import { chTime, chTimeOrNull, toTsv } from '../sql.ts';
import { tally } from './compare.ts';
import type { PbxRecords } from './figures.ts';
import { readPbx, reconcilePeriod, reconcileRecords, type ReconcileResult, type ReconcileScope } from './run.ts';

// The package's reconcile entry (`@callboard/projections/reconcile`): the file side too.
export { readPbx, reconcileRecords, runReconcile, type ReconcileOptions, type ReconcileResult, type ReconcileScope } from './run.ts';

/** Where the records came from: Asterisk's queue_log (with its CDR for call ids) or a Yeastar CDR export. */
export type PbxSource = 'queue_log' | 'yeastar_cdr';

export interface StoreTarget {
  tenant_id: string;
  pbx_id: string;
  source: PbxSource;
  /** Epoch ms; the newest import of a record wins. Default now. */
  imported_at?: number;
}

const LEG_COLUMNS = [
  'tenant_id',
  'pbx_id',
  'source',
  'call_id',
  'pbx_call_id',
  'queue',
  'entered_at',
  'line',
  'outcome',
  'wait_s',
  'agent_id',
  'answered_at',
  'talk_s',
  'call_continues',
  'imported_at',
] as const;
const AGENT_COLUMNS = [
  'tenant_id',
  'pbx_id',
  'source',
  'kind',
  'agent_id',
  'call_id',
  'queue',
  'reason',
  'target',
  'from_at',
  'to_at',
  'line',
  'imported_at',
] as const;
const IMPORT_COLUMNS = ['tenant_id', 'pbx_id', 'source', 'first_at', 'data_until', 'legs', 'imported_at'] as const;

async function insertTsv(ch: ClickHouse, table: string, columns: readonly string[], rows: Record<string, unknown>[]): Promise<void> {
  const BATCH = 100_000;
  for (let i = 0; i < rows.length; i += BATCH) {
    await ch.client.insert({
      table: `${ch.db}.${table}`,
      columns: [...columns] as [string, ...string[]],
      format: 'TabSeparated',
      values: Readable.from([Buffer.from(toTsv(columns, rows.slice(i, i + BATCH)))], { objectMode: false }),
    });
  }
}

/** Writes a PBX's records (one file's worth, or a day's) for reconciliation through the API and BI. */
export async function storePbxRecords(ch: ClickHouse, to: StoreTarget, r: PbxRecords): Promise<void> {
  if (!to.tenant_id) throw new Error('tenant_id is required');
  const base = { tenant_id: to.tenant_id, pbx_id: to.pbx_id, source: to.source, imported_at: chTime(to.imported_at ?? Date.now()) };
  await insertTsv(
    ch,
    'pbx_queue_legs',
    LEG_COLUMNS,
    r.legs.map((l) => ({
      ...base,
      call_id: l.call_id,
      pbx_call_id: l.callid,
      queue: l.queue,
      entered_at: chTime(l.entered_at),
      line: l.line,
      outcome: l.outcome ?? '',
      wait_s: l.wait_s,
      agent_id: l.agent_id ?? '',
      answered_at: chTimeOrNull(l.answered_at),
      talk_s: l.talk_s,
      call_continues: l.call_continues ? 1 : 0,
    })),
  );
  const agentRow = (
    kind: string,
    a: { agent_id: string; call_id?: string; queue?: string; reason?: string; target?: string | null; from: number; to: number | null; line?: number },
  ) => ({
    ...base,
    kind,
    agent_id: a.agent_id,
    call_id: a.call_id ?? '',
    queue: a.queue ?? '',
    reason: a.reason ?? '',
    target: a.target ?? '',
    from_at: chTime(a.from),
    to_at: chTimeOrNull(a.to),
    line: a.line ?? 0,
  });
  await insertTsv(ch, 'pbx_agent_records', AGENT_COLUMNS, [
    ...r.missed.map((m) => agentRow('missed', { ...m, from: m.at, to: null })),
    ...r.pauses.map((p) => agentRow('pause', p)),
    // A connected segment names no call in PbxCall; its agent and span are what the pause check needs.
    ...r.calls.map((c) => agentRow('call', c)),
    ...r.transfers.map((t) => agentRow('transfer', { ...t, reason: t.kind, from: t.at, to: null })),
  ]);
  if (r.data_until !== null) {
    const first = Math.min(r.data_until, ...r.legs.map((l) => l.entered_at));
    await insertTsv(ch, 'pbx_imports', IMPORT_COLUMNS, [{ ...base, first_at: chTime(first), data_until: chTime(r.data_until), legs: r.legs.length }]);
  }
}

/** The files of one PBX to keep: Asterisk's queue_log, with its CDR for call ids. */
export interface PbxFiles {
  queueLog: string;
  cdr?: string;
  /** IANA zone of the PBX's local times (a queue_log table's datetimes); default UTC. */
  timezone?: string;
}

/**
 * Reads a PBX's files and keeps their records: the one path by which both `callboard import
 * asterisk` and `callboard reconcile` store them, so the GraphQL `reconciliation` query and
 * bi_reconciliation answer after either. Storing the same file again replaces its rows.
 */
export async function storePbxFiles(ch: ClickHouse, to: StoreTarget, files: PbxFiles): Promise<{ records: PbxRecords; rejected: number[] }> {
  const read = await readPbx(files.queueLog, files.cdr, files.timezone ?? 'UTC');
  await storePbxRecords(ch, to, read.records);
  return read;
}

const ms = (s: string | null): number | null => (s === null ? null : Date.parse(isoOf(s)));

/**
 * The tenant's stored PBX records relevant to [start, end): legs entered, rings and transfers in
 * it, pauses and connected segments overlapping it. Data until: the latest import's.
 */
export async function loadPbxRecords(ch: ClickHouse, tenant_id: string, start: number, end: number): Promise<PbxRecords & { imports: number }> {
  const r = new TenantReader(ch, tenant_id);
  const legs = await r.rows<{
    call_id: string;
    pbx_call_id: string;
    queue: string;
    entered_at: string;
    line: number;
    outcome: string;
    wait_s: number | null;
    agent_id: string;
    answered_at: string | null;
    talk_s: number | null;
    call_continues: number;
  }>(
    `SELECT call_id, pbx_call_id, queue, toString(entered_at) AS entered_at, line, toString(outcome) AS outcome, wait_s, agent_id,
            toString(answered_at) AS answered_at, talk_s, call_continues
       FROM ${r.from('pbx_queue_legs')} AND entered_at >= ${msParam('start')} AND entered_at < ${msParam('end')}
      ORDER BY entered_at, call_id`,
    { start, end },
  );
  const agents = await r.rows<{
    kind: string;
    agent_id: string;
    call_id: string;
    queue: string;
    reason: string;
    target: string;
    from_at: string;
    to_at: string | null;
    line: number;
  }>(
    `SELECT toString(kind) AS kind, agent_id, call_id, toString(queue) AS queue, reason, target, toString(from_at) AS from_at, toString(to_at) AS to_at, line
       FROM ${r.from('pbx_agent_records')} AND from_at < ${msParam('end')} AND (to_at IS NULL AND from_at >= ${msParam('start')} OR kind IN ('pause', 'call') AND (to_at IS NULL OR to_at > ${msParam('start')}))
      ORDER BY from_at, agent_id`,
    { start, end },
  );
  const [imp] = await r.rows<{ n: number; until: string | null }>(`SELECT count() AS n, toString(max(data_until)) AS until FROM ${r.from('pbx_imports')}`);
  const out: PbxRecords & { imports: number } = {
    legs: legs.map((l) => ({
      callid: l.pbx_call_id,
      call_id: l.call_id,
      queue: l.queue,
      entered_at: ms(l.entered_at)!,
      line: Number(l.line),
      outcome: (l.outcome || null) as PbxRecords['legs'][number]['outcome'],
      wait_s: l.wait_s === null ? null : Number(l.wait_s),
      agent_id: l.agent_id || null,
      answered_at: ms(l.answered_at),
      talk_s: l.talk_s === null ? null : Number(l.talk_s),
      call_continues: Number(l.call_continues) === 1,
    })),
    transfers: [],
    missed: [],
    pauses: [],
    calls: [],
    data_until: imp && Number(imp.n) > 0 ? ms(imp.until) : null,
    imports: imp ? Number(imp.n) : 0,
  };
  for (const a of agents) {
    const from = ms(a.from_at)!;
    const to = ms(a.to_at);
    if (a.kind === 'missed') out.missed.push({ agent_id: a.agent_id, at: from, call_id: a.call_id, line: Number(a.line) });
    else if (a.kind === 'pause') out.pauses.push({ agent_id: a.agent_id, reason: a.reason, from, to });
    else if (a.kind === 'call') out.calls.push({ agent_id: a.agent_id, from, to });
    else if (a.kind === 'transfer')
      out.transfers.push({
        call_id: a.call_id,
        queue: a.queue,
        agent_id: a.agent_id,
        kind: a.reason === 'blind' ? 'blind' : 'attended',
        target: a.target || null,
        at: from,
        line: Number(a.line),
      });
  }
  return out;
}

export interface StoredReconciliation extends ReconcileResult {
  /** False when no stored PBX record of the tenant covers the period. */
  has_pbx_records: boolean;
  /** Callboard's side: the period cut at now. */
  callboard_data_until: string;
  gaps: FeedGap[];
}

/** A reconciliation against the PBX records stored in ClickHouse (the GraphQL `reconciliation` query). */
export async function reconcileStored(ch: ClickHouse, o: ReconcileScope & { now?: Date; queue?: string; agent?: string }): Promise<StoredReconciliation> {
  const { p } = reconcilePeriod(o);
  const records = await loadPbxRecords(ch, o.tenant_id, p.start.getTime(), p.end.getTime());
  const r = await reconcileRecords(ch, o, records);
  const until = dataUntilMs(p.end.getTime(), o.now);
  const gaps = until > p.start.getTime() ? await feedGaps(ch, { tenant_id: o.tenant_id, from: p.start.toISOString(), to: new Date(until).toISOString() }) : [];
  const rows = r.rows.filter(
    (row) => (row.scope === 'queue' ? !o.queue || row.key === o.queue : !o.agent || row.key === o.agent) && !(row.scope === 'queue' ? o.agent : o.queue),
  );
  return {
    ...r,
    ...tally(rows),
    has_pbx_records: records.legs.length + records.missed.length + records.pauses.length > 0,
    callboard_data_until: new Date(until).toISOString(),
    gaps,
  };
}

// The PBX's own records kept in ClickHouse (migrations 0010, 0014), so a reconciliation can be asked
// of the API and of BI tools (bi_reconciliation), not only of the files on the PBX host. Written by
// `callboard import` and `callboard reconcile` from the files they read (storePbxFiles for
// Asterisk, storeYeastarCdrFile for a Yeastar CDR export); read back here into the same PbxRecords
// or CdrRead the file readers give, and compared by the same compare.ts / yeastar-cdr.ts. Reads
// are tenant-scoped by read/scope.ts.
import { Readable } from 'node:stream';
import type { ClickHouse } from '@callboard/platform';
import { dataUntilMs, feedGaps, type FeedGap } from '../read/gaps.ts';
import { TenantReader, isoOf, msParam } from '../read/scope.ts';
import { chTime, chTimeOrNull, toTsv } from '../sql.ts';
import { tally } from './compare.ts';
import type { PbxRecords } from './figures.ts';
import { reconcilePeriod, reconcileRecords, streamPbx, type PbxFiles, type PbxReadSummary, type ReconcileResult, type ReconcileScope } from './run.ts';
import { queueTest, readYeastarCdr, reconcileCdrRead, type CdrCall, type CdrRead } from './yeastar-cdr.ts';
import type { DateOrder } from '@callboard/ingest/import/yeastar';

// The package's reconcile entry (`@callboard/projections/reconcile`): the file side too.
export { RECONCILIATION_METRICS, type ReconciliationMetric } from './compare.ts';
export {
  readPbx,
  reconcileRecords,
  runReconcile,
  streamPbx,
  type ReconcileOptions,
  type ReconcileResult,
  type ReconcileScope,
  type PbxReadSummary,
} from './run.ts';

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

const baseRow = (to: StoreTarget) => ({ tenant_id: to.tenant_id, pbx_id: to.pbx_id, source: to.source, imported_at: chTime(to.imported_at ?? Date.now()) });

/** The rows of records: their legs and agent records, not what the import covered. */
async function storeRecordRows(ch: ClickHouse, base: ReturnType<typeof baseRow>, r: PbxRecords): Promise<void> {
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
}

/** What one import covered: the PBX side's data until, written once its records are in. */
async function storeImport(ch: ClickHouse, base: ReturnType<typeof baseRow>, first: number, dataUntil: number, legs: number): Promise<void> {
  await insertTsv(ch, 'pbx_imports', IMPORT_COLUMNS, [{ ...base, first_at: chTime(first), data_until: chTime(dataUntil), legs }]);
}

/** Writes a PBX's records (one file's worth, or a day's) for reconciliation through the API and BI. */
export async function storePbxRecords(ch: ClickHouse, to: StoreTarget, r: PbxRecords): Promise<void> {
  if (!to.tenant_id) throw new Error('tenant_id is required');
  const base = baseRow(to);
  await storeRecordRows(ch, base, r);
  if (r.data_until !== null) {
    const first = r.legs.reduce((m, l) => Math.min(m, l.entered_at), r.data_until);
    await storeImport(ch, base, first, r.data_until, r.legs.length);
  }
}

export type { PbxFiles } from './run.ts';

export interface StorePbxOptions {
  /** queue_log lines between inserts (streamPbx); default PBX_BATCH_LINES. */
  batchLines?: number;
  /** Also given each batch of records as it is stored (e.g. to reconcile them after). */
  onRecords?: (r: PbxRecords) => void;
}

/**
 * Reads a PBX's files and keeps their records: the one path by which both `callboard import
 * asterisk` and `callboard reconcile` store them, so the GraphQL `reconciliation` query and
 * bi_reconciliation answer after either. Streamed: records are inserted as they settle, a batch
 * every `batchLines` lines, holding only the calls still in a queue. Storing the same
 * file again replaces its rows.
 */
export async function storePbxFiles(ch: ClickHouse, to: StoreTarget, files: PbxFiles, o: StorePbxOptions = {}): Promise<PbxReadSummary> {
  if (!to.tenant_id) throw new Error('tenant_id is required');
  const base = baseRow(to);
  const read = await streamPbx(
    files,
    async (r) => {
      o.onRecords?.(r);
      await storeRecordRows(ch, base, r);
    },
    o.batchLines,
  );
  if (read.data_until !== null) await storeImport(ch, base, read.first_at ?? read.data_until, read.data_until, read.legs);
  return read;
}

/** Batches of records (storePbxFiles' onRecords) gathered into the whole, legs in file order as readPbx gives them. */
export function gatherRecords(): { add: (r: PbxRecords) => void; records: () => PbxRecords } {
  const all: PbxRecords = { legs: [], transfers: [], missed: [], pauses: [], calls: [], data_until: null };
  return {
    add: (r) => {
      all.legs.push(...r.legs);
      all.transfers.push(...r.transfers);
      all.missed.push(...r.missed);
      all.pauses.push(...r.pauses);
      all.calls.push(...r.calls);
      all.data_until = r.data_until;
    },
    // A leg is handed over when it settles; its ENTERQUEUE's line number is its place in the file.
    records: () => ({ ...all, legs: [...all.legs].sort((x, y) => x.line - y.line) }),
  };
}

/** A Yeastar CDR export of one PBX to keep. */
export interface YeastarCdrFile {
  cdr: string;
  /** IANA zone of the PBX: CDR times are its local wall-clock time. */
  timezone: string;
  order?: DateOrder;
  /** The tenant's configured queue numbers (a `Call To` naming one is a queue call). */
  queues: readonly string[];
}

/**
 * What a CDR row can tell (yeastar-cdr.ts), kept: a queue call as a PBX queue leg (outcome
 * answered or unanswered, talk; no wait, which a row has not), an inbound call answered at an
 * extension as the agent record `direct`. The one path by which `callboard import yeastar` and
 * `callboard reconcile --yeastar-cdr` store an export; storing it again replaces its rows.
 */
export async function storeYeastarCdrFile(ch: ClickHouse, to: Omit<StoreTarget, 'source'>, f: YeastarCdrFile): Promise<CdrRead> {
  const read = await readYeastarCdr(f.cdr, { zone: f.timezone, ...(f.order ? { order: f.order } : {}), isQueue: queueTest(f.queues) });
  await storeCdrCalls(ch, { ...to, source: 'yeastar_cdr' }, read);
  return read;
}

export async function storeCdrCalls(ch: ClickHouse, to: StoreTarget, read: CdrRead): Promise<void> {
  if (!to.tenant_id) throw new Error('tenant_id is required');
  const base = baseRow(to);
  const queued = read.calls.filter((c) => c.queue !== null);
  await insertTsv(
    ch,
    'pbx_queue_legs',
    LEG_COLUMNS,
    queued.map((c) => ({
      ...base,
      call_id: c.call_id,
      pbx_call_id: c.call_id,
      queue: c.queue,
      entered_at: chTime(c.at),
      line: c.line,
      outcome: c.answered ? 'answered' : 'unanswered',
      wait_s: null,
      agent_id: '',
      answered_at: null,
      talk_s: c.talk_s,
      call_continues: 0,
    })),
  );
  await insertTsv(
    ch,
    'pbx_agent_records',
    AGENT_COLUMNS,
    read.calls
      .filter((c) => c.agent !== null)
      .map((c) => ({ ...base, kind: 'direct', agent_id: c.agent, call_id: c.call_id, queue: '', reason: c.status, target: '', from_at: chTime(c.at), to_at: null, line: c.line })),
  );
  if (read.data_until !== null) {
    const first = read.calls.reduce((m, c) => Math.min(m, c.at), read.data_until);
    await storeImport(ch, base, first, read.data_until, queued.length);
  }
}

const ms = (s: string | null): number | null => (s === null ? null : Date.parse(isoOf(s)));

/**
 * The tenant's stored queue_log records relevant to [start, end): legs entered, rings and transfers
 * in it, pauses and connected segments overlapping it. Data until: the latest import's.
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
       FROM ${r.from('pbx_queue_legs')} AND source != 'yeastar_cdr' AND entered_at >= ${msParam('start')} AND entered_at < ${msParam('end')}
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
       FROM ${r.from('pbx_agent_records')} AND source != 'yeastar_cdr' AND from_at < ${msParam('end')} AND (to_at IS NULL AND from_at >= ${msParam('start')} OR kind IN ('pause', 'call') AND (to_at IS NULL OR to_at > ${msParam('start')}))
      ORDER BY from_at, agent_id`,
    { start, end },
  );
  const [imp] = await r.rows<{ n: number; until: string | null }>(
    `SELECT count() AS n, toString(max(data_until)) AS until FROM ${r.from('pbx_imports')} AND source != 'yeastar_cdr'`,
  );
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

/** The tenant's stored Yeastar CDR calls that started in [start, end). Data until: the latest CDR import's. */
export async function loadCdrCalls(ch: ClickHouse, tenant_id: string, start: number, end: number): Promise<CdrRead> {
  const r = new TenantReader(ch, tenant_id);
  const rows = await r.rows<{ call_id: string; queue: string; agent: string; at: string; line: number; outcome: string; talk_s: number | null }>(
    `SELECT call_id, toString(queue) AS queue, '' AS agent, toString(entered_at) AS at, line, toString(outcome) AS outcome, talk_s
       FROM ${r.from('pbx_queue_legs')} AND source = 'yeastar_cdr' AND entered_at >= ${msParam('start')} AND entered_at < ${msParam('end')}
     UNION ALL
     SELECT call_id, '' AS queue, agent_id AS agent, toString(from_at) AS at, line, 'answered' AS outcome, NULL AS talk_s
       FROM ${r.from('pbx_agent_records')} AND source = 'yeastar_cdr' AND kind = 'direct' AND from_at >= ${msParam('start')} AND from_at < ${msParam('end')}`,
    { start, end },
  );
  const [imp] = await r.rows<{ n: number; until: string | null }>(
    `SELECT count() AS n, toString(max(data_until)) AS until FROM ${r.from('pbx_imports')} AND source = 'yeastar_cdr'`,
  );
  const calls: CdrCall[] = rows
    .map((c) => {
      const answered = c.outcome === 'answered';
      // The row's own status text is not kept: a stored call says only whether it was answered.
      return { call_id: c.call_id, line: Number(c.line), at: ms(c.at)!, queue: c.queue || null, agent: c.agent || null, answered, talk_s: Number(c.talk_s ?? 0), status: answered ? 'ANSWERED' : 'not answered' };
    })
    .sort((a, b) => a.at - b.at || a.line - b.line);
  return { calls, rejected: [], data_until: imp && Number(imp.n) > 0 ? ms(imp.until) : null };
}

export interface StoredReconciliation extends ReconcileResult {
  /** False when no stored PBX record of the tenant covers the period. */
  has_pbx_records: boolean;
  /** Callboard's side: the period cut at now. */
  callboard_data_until: string;
  gaps: FeedGap[];
}

/**
 * A tenant with an Asterisk and a Yeastar PBX: each queue's figures are set against the records
 * that name it (a queue in the CDR export against the CDR, any other against queue_log); agents'
 * queue_log figures, and handled_direct of the agents the CDR names.
 */
async function bothSources(ch: ClickHouse, o: ReconcileScope, records: PbxRecords, cdr: CdrRead): Promise<ReconcileResult> {
  const log = await reconcileRecords(ch, o, records);
  const y = await reconcileCdrRead(ch, o, cdr);
  const cdrQueues = new Set(cdr.calls.flatMap((c) => (c.queue ? [c.queue] : [])));
  const cdrAgents = new Set(cdr.calls.flatMap((c) => (c.agent ? [c.agent] : [])));
  const rows = [
    ...log.rows.filter((row) => row.scope !== 'queue' || !cdrQueues.has(row.key)),
    ...y.rows.filter((row) => (row.scope === 'queue' ? cdrQueues.has(row.key) : cdrAgents.has(row.key))),
  ].sort((a, b) => a.date.localeCompare(b.date) || (a.scope === b.scope ? a.key.localeCompare(b.key) : a.scope === 'queue' ? -1 : 1));
  return { ...log, ...tally(rows), pbx_source: 'queue_log and Yeastar CDR' };
}

/** A reconciliation against the PBX records stored in ClickHouse (the GraphQL `reconciliation` query). */
export async function reconcileStored(ch: ClickHouse, o: ReconcileScope & { now?: Date; queue?: string; agent?: string }): Promise<StoredReconciliation> {
  const { p } = reconcilePeriod(o);
  const records = await loadPbxRecords(ch, o.tenant_id, p.start.getTime(), p.end.getTime());
  const cdr = await loadCdrCalls(ch, o.tenant_id, p.start.getTime(), p.end.getTime());
  const fromLog = records.legs.length + records.missed.length + records.pauses.length > 0;
  const r = cdr.calls.length === 0 ? await reconcileRecords(ch, o, records) : fromLog ? await bothSources(ch, o, records, cdr) : await reconcileCdrRead(ch, o, cdr);
  const until = dataUntilMs(p.end.getTime(), o.now);
  const gaps = until > p.start.getTime() ? await feedGaps(ch, { tenant_id: o.tenant_id, from: p.start.toISOString(), to: new Date(until).toISOString() }) : [];
  const rows = r.rows.filter(
    (row) => (row.scope === 'queue' ? !o.queue || row.key === o.queue : !o.agent || row.key === o.agent) && !(row.scope === 'queue' ? o.agent : o.queue),
  );
  return {
    ...r,
    ...tally(rows),
    has_pbx_records: fromLog || cdr.calls.length > 0,
    callboard_data_until: new Date(until).toISOString(),
    gaps,
  };
}

// Per capture: `callboard report` on the translated capture against Asterisk's own queue_log and
// cdr.csv, for every ../shared/fixtures/ami/asterisk22 scenario, as one markdown table each
// (docs/truth-asterisk22.md). The Callboard side is the report path (the AMI translator, the
// projections' fold, `report()` with --group-by none and agent, period = the capture's UTC day,
// default queue settings); the PBX side is queue_log read by the reconciliation's parser and
// cdr.csv read by the importer's. Every differing figure is named by the reconciliation's
// classes (METRICS.md "Reconciliation"), or by the rule given in its row; a difference nothing
// names is printed as UNEXPLAINED and the script exits 1.
//
//   npx tsx scripts/asterisk22-truth.ts > docs/truth-asterisk22.md
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_QUEUE_SETTINGS, createClickHouse, loadConfig } from '@callboard/platform';
import type { CanonicalEvent } from '@callboard/schemas';
import { translateAmiFile } from '@callboard/ingest/ami/offline';
import { parseCdrLine, type CdrRow } from '@callboard/ingest/import/cdr';
import { openLines } from '@callboard/ingest/import/lines';
import { nothingSettled, settle } from '@callboard/ingest/pipeline';
import { migrateProjections } from '@callboard/projections/migrations-dir';
import { loadEvents, report } from '@callboard/projections/report';
import { ProjectionStore } from '@callboard/projections/store';
// The reconciliation has no package entry of its own (only its CLI): read-only use of its parser.
import { agentFigures, queueFigures } from '../projections/src/reconcile/figures.ts';
import { readPbx, runReconcile } from '../projections/src/reconcile/run.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'shared', 'fixtures', 'ami', 'asterisk22');
const SL_S = DEFAULT_QUEUE_SETTINGS.sl_threshold_s;

interface Row {
  group: 'none' | 'agent';
  key: string;
  figure: string;
  callboard: number | null;
  pbx: number | null;
  named: string;
}

async function liveEvents(scenario: string, tenant: string): Promise<CanonicalEvent[]> {
  const out: CanonicalEvent[] = [];
  // j_restart: the capture up to `core restart now`, then the capture client's reconnect, each
  // translated as the live path would after a restart of the adapter (as live-vs-queue-log.int).
  for (const file of ['capture.ami', 'capture.after.ami'].map((f) => join(FIXTURES, scenario, f)).filter(existsSync))
    for await (const o of translateAmiFile(file, { cfg: { queues: [] }, tenant_id: tenant, pbx_id: 'pbx1', warn: () => {} }))
      out.push(...settle(nothingSettled(), o, { source: 'ami' }, { original: '', ref: null }).events);
  return out;
}

/**
 * The caller side's CDR row of each call (METRICS.md: its disposition is the call's). Not calls:
 * Local `;2` halves, further dials of a channel, and rows of a queue member's own channel (an
 * Atxfer's consultation and its completed transfer are rows of the member's `Local/…@agents`).
 */
async function cdrCalls(path: string, members: ReadonlySet<string>): Promise<CdrRow[]> {
  const first = new Map<string, CdrRow>();
  for await (const { bytes, line } of openLines(path).lines) {
    const r = parseCdrLine(bytes.toString('utf8'), line);
    if (r.kind !== 'row' || /;2$/.test(r.row.channel) || members.has(r.row.channel.replace(/-[0-9a-f]+(;\d)?$/, '')) || first.has(r.row.uniqueid)) continue;
    first.set(r.row.uniqueid, r.row);
  }
  return [...first.values()];
}

const num = (v: number | null): string => (v === null ? '—' : Number.isInteger(v) ? String(v) : v.toFixed(3));

async function scenario(ch: Awaited<ReturnType<typeof createClickHouse>>, s: string): Promise<Row[]> {
  const dir = join(FIXTURES, s);
  const tenant = `truth_${s}`;
  await loadEvents(new ProjectionStore(ch), await liveEvents(s, tenant), { rollupVersion: 'now' });
  const date = new Date(Number(readFileSync(join(dir, 'queue_log'), 'utf8').split('|')[0]) * 1000).toISOString().slice(0, 10);
  const opts = { tenant, timezone: 'UTC', week_start: 'monday' as const, period: 'day' as const, date, settings: DEFAULT_QUEUE_SETTINGS };
  const none = await report(ch, { ...opts, group_by: 'none' });
  const byAgent = await report(ch, { ...opts, group_by: 'agent' });
  const rec = await runReconcile(ch, { ...opts, tenant_id: tenant, queueLog: join(dir, 'queue_log'), cdr: join(dir, 'cdr.csv'), settings: () => DEFAULT_QUEUE_SETTINGS });
  const { records } = await readPbx(join(dir, 'queue_log'), join(dir, 'cdr.csv'), 'UTC');
  const start = Date.parse(`${date}T00:00:00Z`);
  const end = start + 86_400_000;
  const legs = records.legs.filter((l) => l.entered_at >= start && l.entered_at < end);
  const pq = queueFigures(legs, SL_S);
  const q = none.queue_metrics[0]!;
  const c = none.call_metrics[0]!;

  /** The reconciliation's classes for a figure (queue rows summed over queues; agent rows of one agent). */
  const classes = (scope: 'queue' | 'agent', metric: string, key?: string): string => {
    const ex = rec.rows.filter((r) => r.scope === scope && r.metric === metric && (key === undefined || r.key === key)).flatMap((r) => r.explanations);
    return [...new Set(ex.map((e) => (e.class === 'truncation' ? 'whole seconds (queue_log)' : e.class.replaceAll('_', ' '))))].join(', ');
  };
  const rows: Row[] = [];
  const add = (group: Row['group'], key: string, figure: string, cb: number | null, pbx: number | null, name: () => string) => {
    const same = cb === pbx || (cb !== null && pbx !== null && Math.abs(cb - pbx) < 1e-6);
    rows.push({ group, key, figure, callboard: cb, pbx, named: same ? '' : name() || 'UNEXPLAINED' });
  };
  for (const m of ['offered', 'answered', 'abandoned', 'exited', 'answered_within_sl'] as const) add('none', '', m, q[m], pq[m], () => classes('queue', m));
  add('none', '', 'asa (s)', q.asa, pq.asa, () => classes('queue', 'asa'));
  add('none', '', 'talk + hold (s)', q.talk_time + q.hold_time, pq.talk, () => classes('queue', 'talk'));
  // CDR view: the caller side's row of each call (METRICS.md disposition), whole seconds in cdr.csv.
  const members = new Set(
    readFileSync(join(dir, 'queue_log'), 'utf8')
      .split('\n')
      .filter((l) => l.split('|')[4] === 'ADDMEMBER')
      .map((l) => l.split('|')[3]!),
  );
  const calls = (await cdrCalls(join(dir, 'cdr.csv'), members)).filter((r) => {
    const t = Date.parse(`${r.start.replace(' ', 'T')}Z`);
    return t >= start && t < end;
  });
  const disp = (d: string) => calls.filter((r) => r.disposition.toUpperCase() === d).length;
  add('none', '', 'calls', c.calls, calls.length, () => '');
  add('none', '', 'cdr answered', c.answered, disp('ANSWERED'), () => '');
  add('none', '', 'cdr no_answer', c.no_answer, disp('NO ANSWER'), () => '');
  add('none', '', 'cdr busy + failed + congestion', c.busy + c.failed + c.congestion, disp('BUSY') + disp('FAILED') + disp('CONGESTION'), () => '');
  const wholeSeconds = (cb: number, pbx: number) => () => (Math.abs(cb - pbx) < calls.length ? 'whole seconds (cdr.csv, per call)' : '');
  add('none', '', 'duration (s)', c.duration, calls.reduce((a, r) => a + r.duration, 0), wholeSeconds(c.duration, calls.reduce((a, r) => a + r.duration, 0)));
  add('none', '', 'billsec (s)', c.billsec, calls.reduce((a, r) => a + r.billsec, 0), wholeSeconds(c.billsec, calls.reduce((a, r) => a + r.billsec, 0)));

  const agents = new Set([...byAgent.agent_metrics.map((a) => a.agent_id!).filter(Boolean), ...legs.flatMap((l) => (l.agent_id ? [l.agent_id] : [])), ...records.pauses.map((p) => p.agent_id)]);
  for (const id of [...agents].sort()) {
    const a = byAgent.agent_metrics.find((r) => r.agent_id === id);
    const pa = agentFigures(records, id, start, end);
    add('agent', id, 'handled', a?.handled ?? 0, pa.handled, () => classes('agent', 'handled', id));
    add('agent', id, 'missed', a?.missed ?? 0, pa.missed, () => classes('agent', 'missed', id));
    const talk = legs.filter((l) => l.agent_id === id).reduce((sum, l) => sum + (l.talk_s ?? 0), 0);
    // queue_log's COMPLETE talk is connect → complete in whole seconds, an ATTENDEDTRANSFER's includes
    // the consultation; a transfer target's talk after the transfer has no queue_log line at all.
    add('agent', id, 'talk + hold (s)', a ? a.talk_time + a.hold_time : 0, talk, () => {
      const target = classes('agent', 'handled', id);
      if (target) return `${target} (its talk after the transfer)`;
      return Math.abs((a ? a.talk_time + a.hold_time : 0) - talk) < legs.filter((l) => l.agent_id === id).length + 1e-9 ? 'whole seconds (queue_log)' : '';
    });
    for (const reason of new Set([...Object.keys(a?.pause_time_by_reason ?? {}), ...Object.keys(pa.pause_time_by_reason)]))
      add('agent', id, `pause_time[${reason || '(none)'}] (s)`, a?.pause_time_by_reason[reason] ?? 0, pa.pause_time_by_reason[reason] ?? 0, () => classes('agent', `pause_time[${reason}]`, id));
  }
  return rows;
}

function table(s: string, rows: Row[]): string {
  const out = [`### ${s}`, '', '| group by | agent | figure | callboard report | queue_log / cdr.csv | difference | named |', '| --- | --- | --- | --- | --- | --- | --- |'];
  for (const r of rows) {
    const diff = r.callboard !== null && r.pbx !== null ? r.callboard - r.pbx : null;
    out.push(`| ${r.group} | ${r.key} | ${r.figure} | ${num(r.callboard)} | ${num(r.pbx)} | ${diff === null || Math.abs(diff) < 1e-6 ? '' : num(diff)} | ${r.named} |`);
  }
  return out.join('\n');
}

const tmp = mkdtempSync(join(tmpdir(), 'callboard-truth-'));
const cfg = loadConfig({ env: { CALLBOARD_DATA_DIR: tmp, CLICKHOUSE_DATABASE: 'truth', LOG_LEVEL: 'warn' } });
const ch = await createClickHouse({ ...cfg, clickhouse: { ...cfg.clickhouse, url: '' } }, { embeddedPath: join(tmp, 'clickhouse') });
let unexplained = 0;
try {
  await migrateProjections(ch);
  const scenarios = readdirSync(FIXTURES)
    .filter((d) => existsSync(join(FIXTURES, d, 'capture.ami')))
    .sort();
  const parts: string[] = [];
  for (const s of scenarios) {
    const rows = await scenario(ch, s);
    unexplained += rows.filter((r) => r.named === 'UNEXPLAINED').length;
    parts.push(table(s, rows));
  }
  process.stdout.write(`${parts.join('\n\n')}\n`);
} finally {
  await ch.close();
  rmSync(tmp, { recursive: true, force: true });
}
if (unexplained > 0) {
  process.stderr.write(`${unexplained} differences nothing names\n`);
  process.exitCode = 1;
}

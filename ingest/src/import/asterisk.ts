// `callboard import asterisk`: the shell around the pure queue_log and CDR translation. Lines are
// read (file, stdin, gzip), parsed, translated and written through the ingest shell
// (pipeline.ts), so imported events are validated, dead-lettered and counted exactly like live
// ones, and reach the same projections through cc.events.v1.
import type { Logger } from '@callboard/platform';
import { QUEUE_LOG_REF_TOPIC } from '@callboard/schemas';
import { nothingSettled, type IngestPipeline, type Settled } from '../pipeline.ts';
import { CallIds, parseCdrLine } from './cdr.ts';
import { openLines } from './lines.ts';
import { Progress } from './progress.ts';
import { parseQueueLogLine, zoneToUtc } from './queue-log.ts';
import { QueueLogTranslator } from './translate.ts';

export interface ImportOptions {
  queueLog: string;
  cdr?: string;
  tenant_id: string;
  pbx_id: string;
  /** IANA zone of the PBX's local times (CDR without `usegmtime`, a queue_log table's datetimes); absent: UTC. */
  timezone?: string;
  /** Writes go here (Kafka through the shell, or stdout for --stdout). */
  pipeline: IngestPipeline;
  /** Where the progress bar is drawn (stderr); drawn only when it is a terminal. */
  progressOut?: NodeJS.WriteStream;
  log?: Logger;
  /** Skip lines from this instant on (epoch ms), except those of calls already in a queue. */
  until?: number;
  /** Receive time stamped on every event (the import's start); default now. */
  received_at?: number;
  /** Events written per Kafka batch. */
  batch?: number;
}

export interface ImportSummary {
  lines: number;
  events: number;
  unknownVerbs: Record<string, number>;
  /** Line numbers (queue_log) dead-lettered at parse or translation, in input order. */
  rejectedLines: number[];
  cdrRows: number;
  rejectedCdrLines: number[];
  /** Events that failed the contract (dead-lettered at stage validate). */
  invalidEvents: number;
  /** Lines at or after --until, left to the live adapter. */
  skippedLines: number;
}

async function readCdr(o: ImportOptions, summary: ImportSummary, settled: Settled): Promise<CallIds> {
  const ids = new CallIds();
  const src = openLines(o.cdr!);
  for await (const { bytes, line } of src.lines) {
    const text = bytes.toString('utf8');
    if (!text.trim()) continue;
    const r = parseCdrLine(text, line);
    if (r.kind === 'reject') {
      summary.rejectedCdrLines.push(line);
      const refused = o.pipeline.refuse('MISSING_FIELD', `${o.cdr}: ${r.reason}`, text);
      settled.dlq.push(...refused.dlq);
      continue;
    }
    summary.cdrRows++;
    ids.add(r.row);
  }
  return ids;
}

export function emptySummary(): ImportSummary {
  return { lines: 0, events: 0, unknownVerbs: {}, rejectedLines: [], cdrRows: 0, rejectedCdrLines: [], invalidEvents: 0, skippedLines: 0 };
}

/** The events and dead letters being gathered, written through the shell in batches; what is written is counted in the summary. */
export class ImportBatch {
  settled: Settled = nothingSettled();
  constructor(
    private readonly pipeline: IngestPipeline,
    private readonly summary: ImportSummary,
    private readonly size = 5000,
  ) {}

  get full(): boolean {
    return this.settled.events.length + this.settled.dlq.length >= this.size;
  }

  async flush(): Promise<void> {
    const s = this.settled;
    if (!s.events.length && !s.dlq.length) return;
    this.settled = nothingSettled();
    this.summary.events += s.events.length;
    this.summary.invalidEvents += s.dlq.filter((d) => d.stage === 'validate').length;
    await this.pipeline.retrying('cc.events.v1', () => this.pipeline.write(s));
  }
}

export async function importAsterisk(o: ImportOptions): Promise<ImportSummary> {
  const summary = emptySummary();
  const out = new ImportBatch(o.pipeline, summary, o.batch);
  const cdr = o.cdr ? await readCdr(o, summary, out.settled) : undefined;
  const translator = new QueueLogTranslator({
    tenant_id: o.tenant_id,
    pbx_id: o.pbx_id,
    received_at: o.received_at ?? Date.now(),
    ...(o.until !== undefined ? { until: o.until } : {}),
    ...(cdr ? { cdr } : {}),
    ...(o.timezone ? { cdrToUtc: zoneToUtc(o.timezone) } : {}),
  });
  const src = openLines(o.queueLog);
  const progress = new Progress({ out: o.progressOut ?? process.stderr, total: src.total });
  const name = o.queueLog === '-' ? 'stdin' : o.queueLog;
  const local = o.timezone ? zoneToUtc(o.timezone) : undefined;
  for await (const { bytes, line } of src.lines) {
    summary.lines = line;
    progress.update(line, src.consumed());
    if (bytes.length === 0 || (bytes.length === 1 && bytes[0] === 0x0d)) continue;
    const p = parseQueueLogLine(bytes, line, local);
    if (p.kind === 'reject') {
      summary.rejectedLines.push(line);
      out.settled.dlq.push(...o.pipeline.refuse(p.reason_code, `${name}: ${p.reason}`, bytes.toString('utf8')).dlq);
    } else {
      const outcome = translator.translate(p.line);
      if (outcome.kind === 'dlq') summary.rejectedLines.push(line);
      o.pipeline.settle(out.settled, outcome.kind === 'dlq' ? { ...outcome, reason: `${name}: ${outcome.reason}` } : outcome, {
        original: p.line.text,
        ref: { topic: QUEUE_LOG_REF_TOPIC, line },
        label: p.line.verb,
      });
    }
    if (out.full) await out.flush();
  }
  await out.flush();
  progress.end();
  summary.unknownVerbs = Object.fromEntries(translator.unknownVerbs);
  summary.skippedLines = translator.skipped;
  return summary;
}

export function summaryText(s: ImportSummary): string {
  const unknown = Object.entries(s.unknownVerbs);
  const unknownCount = unknown.reduce((n, [, c]) => n + c, 0);
  const lines = [
    `lines read      ${s.lines}`,
    `events          ${s.events}`,
    `unknown verbs   ${unknownCount}${unknown.length ? ` (${unknown.map(([v, c]) => `${v} ×${c}`).join(', ')})` : ''}`,
    `rejected lines  ${s.rejectedLines.length}${s.rejectedLines.length ? ` (dead-lettered; lines ${listLines(s.rejectedLines)})` : ''}`,
  ];
  if (s.cdrRows || s.rejectedCdrLines.length)
    lines.push(
      `CDR rows        ${s.cdrRows}${s.rejectedCdrLines.length ? `, ${s.rejectedCdrLines.length} rejected (lines ${listLines(s.rejectedCdrLines)})` : ''}`,
    );
  if (s.skippedLines) lines.push(`skipped lines   ${s.skippedLines} (at or after --until)`);
  if (s.invalidEvents) lines.push(`invalid events  ${s.invalidEvents} (dead-lettered: they break the contract, a translator bug)`);
  return lines.join('\n') + '\n';
}

function listLines(n: number[]): string {
  return n.length > 20 ? `${n.slice(0, 20).join(', ')}, … ${n.length - 20} more` : n.join(', ');
}

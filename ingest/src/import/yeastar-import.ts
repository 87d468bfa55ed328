// `callboard import yeastar`: the shell around the pure CDR translation (yeastar.ts), with the
// same reading (file, stdin, gzip), progress, dead letters and summary as `import asterisk`.
import type { IngestPipeline } from '../pipeline.ts';
import { emptySummary, ImportBatch, type ImportSummary } from './asterisk.ts';
import { openLines } from './lines.ts';
import { Progress } from './progress.ts';
import { YeastarCdrTranslator, type DateOrder } from './yeastar.ts';

export interface YeastarImportOptions {
  cdr: string;
  tenant_id: string;
  pbx_id: string;
  series: 'p' | 's';
  /** IANA zone of the PBX (its CDR times carry no offset). */
  timezone: string;
  order?: DateOrder;
  pipeline: IngestPipeline;
  progressOut?: NodeJS.WriteStream;
  received_at?: number;
  batch?: number;
}

export async function importYeastar(o: YeastarImportOptions): Promise<ImportSummary> {
  const summary = emptySummary();
  const out = new ImportBatch(o.pipeline, summary, o.batch);
  const translator = new YeastarCdrTranslator({
    tenant_id: o.tenant_id,
    pbx_id: o.pbx_id,
    source: o.series === 's' ? 'yeastar-s' : 'yeastar-p',
    zone: o.timezone,
    ...(o.order ? { order: o.order } : {}),
    received_at: o.received_at ?? Date.now(),
  });
  const src = openLines(o.cdr);
  const progress = new Progress({ out: o.progressOut ?? process.stderr, total: src.total });
  const name = o.cdr === '-' ? 'stdin' : o.cdr;
  let header = false;
  for await (const { bytes, line } of src.lines) {
    summary.lines = line;
    progress.update(line, src.consumed());
    const text = bytes.toString('utf8');
    if (!text.trim()) continue;
    if (text.includes('\uFFFD')) {
      summary.rejectedCdrLines.push(line);
      out.settled.dlq.push(...o.pipeline.refuse('UNPARSEABLE_FRAME', `${name}: line ${line}: not UTF-8 text`, text).dlq);
      continue;
    }
    if (!header) {
      const h = translator.header(text);
      // Without its header nothing in the file can be read: a usage problem, not a dead letter per row.
      if (h.kind === 'refused') throw new Error(`${name}: ${h.reason}`);
      header = true;
      continue;
    }
    const outcome = translator.row(text, line);
    if (outcome.kind === 'dlq') summary.rejectedCdrLines.push(line);
    else summary.cdrRows++;
    o.pipeline.settle(out.settled, outcome.kind === 'dlq' ? { ...outcome, reason: `${name}: ${outcome.reason}` } : outcome, {
      original: text,
      ref: { topic: 'yeastar_cdr', line },
      label: 'cdr',
    });
    if (out.full) await out.flush();
  }
  await out.flush();
  progress.end();
  return summary;
}

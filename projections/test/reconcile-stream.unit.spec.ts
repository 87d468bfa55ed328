// The PBX's records read in bounded memory (run.ts streamPbx, figures.ts PbxRecordsFold): handed
// over in batches as they settle, they must be exactly what the whole file folded at once gives,
// including calls whose lines straddle a batch, legs still open and pauses still running at the
// end of the log. The asterisk22 fixtures need ../shared; the generated log does not.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { CallIds, parseCdrLine } from '@callboard/ingest/import/cdr';
import { openLines } from '@callboard/ingest/import/lines';
import { parseQueueLogLine, type QueueLogLine } from '@callboard/ingest/import/queue-log';
import { pbxRecords, PbxRecordsFold, type PbxRecords } from '../src/reconcile/figures.ts';
import { readPbx, streamPbx, type PbxFiles } from '../src/reconcile/run.ts';
import { gatherRecords } from '../src/reconcile/stored.ts';
import { generatedLog } from './generated-queue-log.ts';

const FIXTURES = join(import.meta.dirname, '../../../shared/fixtures/ami/asterisk22');
const present = existsSync(FIXTURES);
const dir = mkdtempSync(join(tmpdir(), 'callboard-reconcile-stream-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** streamPbx's batches gathered, with how many there were and the most legs one held. */
async function streamed(files: PbxFiles, batchLines: number) {
  const all = gatherRecords();
  const batches: PbxRecords[] = [];
  const summary = await streamPbx(
    files,
    (r) => {
      batches.push(r);
      all.add(r);
    },
    batchLines,
  );
  return { records: all.records(), summary, batches };
}

const DAYS = 3;
const text = generatedLog(DAYS);
const plain = join(dir, 'queue_log');
writeFileSync(plain, text);
const gz = join(dir, 'queue_log.gz');
writeFileSync(gz, gzipSync(text));
const lineCount = text.split('\n').length - 1;

describe('the PBX records streamed in batches', () => {
  it('a generated multi-day log: every batch size gives what the whole file folded at once gives', async () => {
    const whole = await readPbx(plain);
    // guards that the log exercises what it is meant to
    expect(whole.rejected.length).toBeGreaterThan(0);
    expect(whole.records.legs.some((l) => l.outcome === null)).toBe(true);
    expect(new Set(whole.records.legs.map((l) => l.callid)).size).toBeLessThan(whole.records.legs.length);
    expect(whole.records.pauses.some((p) => p.to === null)).toBe(true);
    expect(whole.records.calls.some((c) => c.to === null)).toBe(true);
    const lines: QueueLogLine[] = [];
    for (const t of text.split('\n')) {
      const p = parseQueueLogLine(Buffer.from(t), lines.length + 1);
      if (p.kind === 'line') lines.push(p.line);
    }
    expect(pbxRecords(lines).legs.length).toBe(whole.records.legs.length);
    for (const batch of [1, 7, 100, 1000]) {
      for (const file of [plain, gz]) {
        const s = await streamed({ queueLog: file }, batch);
        expect(s.records, `batches of ${batch} lines of ${file}`).toEqual(whole.records);
        expect(s.summary.rejected).toEqual(whole.rejected);
        expect(s.summary.legs).toBe(whole.records.legs.length);
        expect(s.summary.first_at).toBe(Math.min(...whole.records.legs.map((l) => l.entered_at)));
        expect(s.summary.data_until).toBe(whole.records.data_until);
      }
    }
  });

  it('hands records over as it reads, not all at the end', async () => {
    const batchLines = 500;
    expect(lineCount).toBeGreaterThan(5 * batchLines);
    const { batches, summary } = await streamed({ queueLog: gz }, batchLines);
    expect(batches.length).toBe(Math.floor(lineCount / batchLines) + 1);
    // a leg is handed over in the batch after it leaves the queue: every batch has some, none most
    expect(batches.every((b) => b.legs.length > 0)).toBe(true);
    expect(Math.max(...batches.map((b) => b.legs.length))).toBeLessThan(summary.legs / 4);
  });

  it('a leg is handed over once it leaves the queue, one still waiting only at the end of the log', () => {
    const log = [
      '1795305010|c1|sales|NONE|ENTERQUEUE||5551|1',
      '1795305012|c2|sales|NONE|ENTERQUEUE||5552|1',
      '1795305030|c1|sales|Agent 1001|CONNECT|20|c1.2|4',
      '1795305090|c1|sales|Agent 1001|COMPLETECALLER|20|60|1',
      '1795305100|NONE|sales|Agent 1001|PAUSE|Lunch',
    ].map((t, i) => {
      const p = parseQueueLogLine(Buffer.from(t), i + 1);
      if (p.kind !== 'line') throw new Error(p.reason);
      return p.line;
    });
    const fold = new PbxRecordsFold();
    const handed: string[] = [];
    for (const l of log) {
      fold.add(l);
      const r = fold.take();
      handed.push([...r.legs.map((g) => `${g.callid}:${g.outcome}:${g.call_continues}`), ...r.calls.map((c) => `talk:${c.agent_id}`)].join(' '));
    }
    expect(handed).toEqual(['', '', '', 'c1:answered:true talk:Agent 1001', '']);
    const end = fold.end();
    expect(end.legs.map((g) => `${g.callid}:${g.outcome}:${g.call_continues}`)).toEqual(['c2:null:false']);
    expect(end.pauses).toEqual([{ agent_id: 'Agent 1001', reason: 'Lunch', from: 1795305100_000, to: null }]);
  });
});

describe.skipIf(!present)('the PBX records streamed in batches: asterisk22 fixtures', () => {
  const scenarios = present ? readdirSync(FIXTURES).filter((s) => existsSync(join(FIXTURES, s, 'queue_log'))) : [];
  it.each(scenarios)('%s: batches of 1 and 3 lines give what the whole file gives', async (s) => {
    const files = { queueLog: join(FIXTURES, s, 'queue_log'), ...(existsSync(join(FIXTURES, s, 'cdr.csv')) ? { cdr: join(FIXTURES, s, 'cdr.csv') } : {}) };
    const whole = await readPbx(files.queueLog, files.cdr);
    expect(whole.records.legs.length).toBeGreaterThan(0);
    if (files.cdr) {
      // the records keep only the CDR's id mapping, not its rows: the same call ids as the importer's
      const ids = new CallIds();
      for await (const { bytes, line } of openLines(files.cdr).lines) {
        const r = parseCdrLine(bytes.toString('utf8'), line);
        if (r.kind === 'row') ids.add(r.row);
      }
      expect(ids.rows.size).toBeGreaterThan(0);
      expect(whole.records.legs.map((l) => l.call_id)).toEqual(whole.records.legs.map((l) => ids.callOf(l.callid)));
    }
    for (const batch of [1, 3]) {
      const { records, summary } = await streamed(files, batch);
      expect(records).toEqual(whole.records);
      expect(summary.rejected).toEqual(whole.rejected);
    }
  });
});

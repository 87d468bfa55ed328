// A synthetic queue_log of a 200-agent call centre, written day by day in time order, as Asterisk
// writes it (the verbs and fields of ../shared/fixtures/ami/asterisk22): about 12,400 queue calls a
// day between 08:00 and 20:00 UTC over 10 queues, 10 % abandoned, 15 % with a ring-no-answer
// first, two pauses per agent a day — about 41,000 lines a day, 15 M a year. Deterministic.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { createLogger, type ClickHouse } from '@callboard/platform';
import type { CanonicalEvent } from '@callboard/schemas';
import { importAsterisk } from '@callboard/ingest/import/asterisk';
import { IngestPipeline } from '@callboard/ingest/pipeline';
import { ProjectionStore, touchedBy } from '@callboard/projections/store';

export interface CorpusOptions {
  /** First day, UTC midnight (epoch ms). */
  start: number;
  days: number;
  agents?: number;
  callsPerDay?: number;
}

/** Lines of one day, sorted by time (queue_log is in time order). */
export function dayLines(day: number, o: Required<Omit<CorpusOptions, 'start' | 'days'>>, dayStartS: number): string[] {
  const out: [number, string][] = [];
  const add = (t: number, s: string) => out.push([t, `${t}|${s}`]);
  const agent = (k: number) => `Agent ${1000 + (k % o.agents)}`;
  for (let a = 0; a < o.agents; a++) add(dayStartS + 7 * 3600, `MANAGER|q${a % 10}|Local/${1000 + a}@agents|ADDMEMBER|`);
  const open = dayStartS + 8 * 3600;
  const gap = (12 * 3600) / o.callsPerDay;
  for (let i = 0; i < o.callsPerDay; i++) {
    const n = day * o.callsPerDay + i;
    const t = Math.floor(open + i * gap);
    const id = `${t}.${n}`;
    const q = `q${n % 10}`;
    const wait = (n * 7) % 60;
    add(t, `${id}|${q}|NONE|ENTERQUEUE||2547${String(n).padStart(8, '0')}|${1 + (n % 5)}`);
    if (n % 10 === 3) {
      add(t + wait, `${id}|${q}|NONE|ABANDON|1|${1 + (n % 5)}|${wait}`);
      continue;
    }
    const ag = agent(n);
    if (n % 7 === 1 && wait > 15) add(t + 15, `${id}|${q}|${agent(n + 1)}|RINGNOANSWER|15000`);
    add(t + wait, `${id}|${q}|${ag}|CONNECT|${wait}|${t + wait}.${n}|${Math.min(wait, 3)}`);
    const talk = 30 + ((n * 13) % 300);
    add(t + wait + talk, `${id}|${q}|${ag}|${n % 2 ? 'COMPLETECALLER' : 'COMPLETEAGENT'}|${wait}|${talk}|${1 + (n % 5)}`);
  }
  for (let a = 0; a < o.agents; a++) {
    for (const [h, reason] of [
      [10, 'Break'],
      [13, 'Lunch'],
    ] as const) {
      const from = dayStartS + h * 3600 + ((a * 37) % 1800);
      add(from, `NONE|NONE|Agent ${1000 + a}|PAUSE|${reason}`);
      add(from + 600 + ((a * 11) % 600), `NONE|NONE|Agent ${1000 + a}|UNPAUSE|`);
    }
  }
  out.sort((x, y) => x[0] - y[0]);
  return out.map((x) => x[1]);
}

/**
 * Writes the corpus to `file` (gzipped when it ends in `.gz`) a day at a time, so a year is never
 * held in memory; returns its line count.
 */
export async function writeCorpus(file: string, o: CorpusOptions): Promise<number> {
  const full = { agents: o.agents ?? 200, callsPerDay: o.callsPerDay ?? 12_400 };
  const sink = createWriteStream(file);
  const out: Writable = file.endsWith('.gz') ? createGzip() : sink;
  if (out !== sink) out.pipe(sink);
  let lines = 0;
  for (let d = 0; d < o.days; d++) {
    const day = dayLines(d, full, Math.floor(o.start / 1000) + d * 86_400);
    lines += day.length;
    if (!out.write(day.join('\n') + '\n')) await once(out, 'drain');
  }
  out.end();
  await once(sink, 'finish');
  return lines;
}

/**
 * Imports `file` into ClickHouse through the projections' store, the consumer's I/O shell
 * (insert, fold, derive per batch), without Kafka: what an import costs up to the tables.
 */
export async function importIntoStore(ch: ClickHouse, file: string, o: { start: number; progressOut?: NodeJS.WriteStream }): Promise<void> {
  const store = new ProjectionStore(ch);
  let offset = 0;
  const sink = {
    raw: async () => [],
    canonical: async (events: CanonicalEvent[]) => {
      await store.writeEvents(events.map((event) => ({ event, partition: 0, offset: offset++ })));
      await store.derive(touchedBy(events));
    },
    dlq: async () => {},
  };
  const pipeline = new IngestPipeline({ source: 'ami', tenant_id: 'bench', pbx_id: 'pbx1', sink, log: createLogger('bench', 'warn') });
  await importAsterisk({
    queueLog: file,
    tenant_id: 'bench',
    pbx_id: 'pbx1',
    pipeline,
    received_at: o.start,
    batch: 20_000,
    ...(o.progressOut ? { progressOut: o.progressOut } : {}),
  });
  pipeline.close();
}

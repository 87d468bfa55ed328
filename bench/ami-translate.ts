// AMI parse + translate throughput on one core: the real Asterisk 22 captures replayed many
// times with shifted ids (bench/ami-corpus.ts), fed to the streaming parser in 64 KB chunks
// and every frame through the translator. Frames/s counts every AMI frame (VarSet, Newexten and
// the like included, as they arrive on the wire); canonical events/s is what comes out.
//
//   npx tsx bench/ami-translate.ts [--copies 60] [--rounds 5]
//
// Another translator against this one, in interleaved rounds of one run (so both see the same
// machine load): `--old FILE` names a module exporting an `AmiTranslator` with the same
// constructor and `translate(frame, meta)`, for example the pre-split translator of commit
// 93fef42 extracted beside the tree (docs/BENCHMARKS.md "AMI translator rebuild" says how).
// Rounds then alternate new, old; each figure is the median of its own rounds, both for parse +
// translate and for translate alone over frames parsed once. When the module also exports an
// `AmiParser` (a whole old tree, e.g. `git archive <commit> ingest/src`), the old rounds parse
// with it, so a parser change is measured too.
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AmiParser, parseAll, type AmiFrame } from '@callboard/ingest/ami/parser';
import { AmiTranslator } from '@callboard/ingest/ami/translator';
import { corpus } from './ami-corpus.ts';

const { values } = parseArgs({
  options: { copies: { type: 'string', default: '60' }, rounds: { type: 'string', default: '5' }, old: { type: 'string' } },
});
const { text, frames } = corpus(Number(values.copies));
const bytes = Buffer.from(text, 'utf8');
const CHUNK = 64 * 1024;

interface Translator {
  translate(f: AmiFrame, meta: { received_at: number; raw_ref: null; connection: string; seq: number }): { kind: string; events?: unknown[] };
}
type MakeTranslator = () => Translator;
type MakeParser = () => { push(chunk: Buffer): AmiFrame[]; end(lenient: boolean): AmiFrame[] };
const newTranslator: MakeTranslator = () => new AmiTranslator({ tenant_id: 'bench', pbx_id: 'pbx1' });
const newParser: MakeParser = () => new AmiParser();

function round(make: MakeTranslator = newTranslator, makeParser: MakeParser = newParser): { frames: number; events: number; dlq: number; seconds: number; cpuSeconds: number } {
  const parser = makeParser();
  const t = make();
  let n = 0;
  let events = 0;
  let dlq = 0;
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  for (let i = 0; i < bytes.length; i += CHUNK) {
    for (const f of parser.push(bytes.subarray(i, i + CHUNK))) {
      const o = t.translate(f, { received_at: 1_795_300_000_000, raw_ref: null, connection: 'bench', seq: n++ });
      if (o.kind === 'ok') events += o.events!.length;
      else if (o.kind === 'dlq') dlq++;
    }
  }
  for (const f of parser.end(true)) {
    const o = t.translate(f, { received_at: 1_795_300_000_000, raw_ref: null, connection: 'bench', seq: n++ });
    if (o.kind === 'ok') events += o.events!.length;
  }
  const c = process.cpuUsage(c0);
  return { frames: n, events, dlq, seconds: Number(process.hrtime.bigint() - t0) / 1e9, cpuSeconds: (c.user + c.system) / 1e6 };
}

/** Translate alone: frames parsed once beforehand, so only the translator is timed. */
function translateRound(make: MakeTranslator, parsed: readonly AmiFrame[]): { frames: number; events: number; cpuSeconds: number } {
  const t = make();
  let events = 0;
  const c0 = process.cpuUsage();
  for (let n = 0; n < parsed.length; n++) {
    const o = t.translate(parsed[n]!, { received_at: 1_795_300_000_000, raw_ref: null, connection: 'bench', seq: n });
    if (o.kind === 'ok') events += o.events!.length;
  }
  const c = process.cpuUsage(c0);
  return { frames: parsed.length, events, cpuSeconds: (c.user + c.system) / 1e6 };
}

if (values.old) {
  const mod = (await import(resolve(values.old))) as { AmiTranslator: new (o: { tenant_id: string; pbx_id: string }) => Translator; AmiParser?: new () => ReturnType<MakeParser> };
  const oldTranslator: MakeTranslator = () => new mod.AmiTranslator({ tenant_id: 'bench', pbx_id: 'pbx1' });
  const OldParser = mod.AmiParser;
  const oldParser: MakeParser = OldParser ? () => new OldParser() : newParser;
  const parsed = parseAll(bytes);
  const rounds = Number(values.rounds);
  const full = { new: [] as number[], old: [] as number[] };
  const alone = { new: [] as number[], old: [] as number[] };
  const events = { new: 0, old: 0 };
  for (let i = 0; i < rounds; i++) {
    for (const [name, make, makeParser] of [['new', newTranslator, newParser], ['old', oldTranslator, oldParser]] as const) {
      const r = round(make, makeParser);
      full[name].push(r.frames / r.cpuSeconds);
      const a = translateRound(make, parsed);
      alone[name].push(a.frames / a.cpuSeconds);
      events[name] = a.events;
    }
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
  console.log(`corpus: ${frames.toLocaleString('en-US')} frames, ${(bytes.length / 1e6).toFixed(1)} MB; ${rounds} interleaved rounds each (old parser: ${OldParser ? 'its own' : 'the new one'}); frames per CPU second, median (all rounds)`);
  for (const name of ['new', 'old'] as const) {
    console.log(
      `${name}: parse + translate ${fmt(med(full[name]))} (${full[name].map(fmt).join(', ')}); translate alone ${fmt(med(alone[name]))} (${alone[name].map(fmt).join(', ')}); ${events[name].toLocaleString('en-US')} canonical events per round`,
    );
  }
  console.log(`new / old: parse + translate ${(med(full.new) / med(full.old)).toFixed(2)}, translate alone ${(med(alone.new) / med(alone.old)).toFixed(2)}`);
  console.log(`load average (1, 5, 15 min): ${loadavg().map((x) => x.toFixed(1)).join(', ')}`);
  process.exit(0);
}

console.log(`corpus: ${frames.toLocaleString('en-US')} frames, ${(bytes.length / 1e6).toFixed(1)} MB (${values.copies} rounds of the 4 Asterisk 22 captures)`);
const results = Array.from({ length: Number(values.rounds) }, () => round());
for (const r of results) if (r.frames !== frames || r.dlq !== 0) throw new Error(`expected ${frames} frames and no DLQ, got ${r.frames} frames, ${r.dlq} DLQ`);
const med = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
const wall = med(results.map((r) => r.frames / r.seconds));
// On a shared machine the wall clock also counts time other processes had the core; CPU time
// is what this process used, i.e. the rate one dedicated core would sustain.
const cpu = med(results.map((r) => r.frames / r.cpuSeconds));
const r0 = results[0]!;
console.log(`parse + translate, wall clock: median ${fmt(wall)} frames/s (best ${fmt(Math.max(...results.map((r) => r.frames / r.seconds)))}), ${(bytes.length / 1e6 / (frames / wall)).toFixed(0)} MB/s`);
console.log(`parse + translate, per CPU second: median ${fmt(cpu)} frames/s, ${fmt((r0.events / r0.frames) * cpu)} canonical events/s (${r0.events.toLocaleString('en-US')} per round), ${values.rounds} rounds`);
console.log(`load average (1, 5, 15 min): ${loadavg().map((x) => x.toFixed(1)).join(', ')}`);

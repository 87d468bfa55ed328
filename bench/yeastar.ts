// Yeastar adapter figures (printed, never asserted):
//  1. translate: P-Series frames (JSON text, `msg` as a JSON-encoded string) → parse → translate,
//     one core, synthetic queue calls (queue, ring two agents, answer, hold, resume, hang up, CDR).
//  2. push (needs KAFKA_BROKERS): S-Series reports POSTed over HTTP to the receiver on 127.0.0.1,
//     each answered 200 only after Kafka acknowledged it, with C reports in flight.
//
//   npx tsx bench/yeastar.ts [--calls 20000] [--rounds 5] [--push 2000] [--concurrency 16] [--old FILE]
//
// `--old FILE` names a module exporting a `YeastarTranslator` with the same interface (an earlier
// version, docs/BENCHMARKS.md says how to get one): rounds then alternate new, old, so both see
// the same machine load, and the translate figures are given for each.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { createKafka, createLogger, ensureTopics, loadConfig, topicName } from '@callboard/platform';
import { IngestSink } from '@callboard/ingest/sink';
import { parseYeastarText } from '@callboard/ingest/yeastar/messages';
import { YeastarTranslator } from '@callboard/ingest/yeastar/translate';
import { YeastarPipeline } from '@callboard/ingest/yeastar/pipeline';
import { reportPath, YeastarSReceiver } from '@callboard/ingest/yeastar/s-receiver';
import { pushSReport } from '@callboard/simulator/yeastar-s-pusher';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '5' },
    push: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '16' },
    old: { type: 'string' },
  },
});
const calls = Number(values.calls);
const rounds = Number(values.rounds);

function frames(n: number): string[] {
  const out: string[] = [];
  const base = 1_790_000_000;
  for (let i = 0; i < n; i++) {
    const id = `${base + i}.${i}`;
    const a = String(1000 + (i % 50));
    const b = String(1050 + (i % 50));
    const inb = (s: string) => ({
      inbound: { from: `07${i}`, to: '6400', trunk_name: 'Saf', channel_id: `PJSIP/trunk-${i}`, member_status: s, call_path: '6400' },
    });
    const ext = (n: string, s: string) => ({ extension: { number: n, channel_id: `PJSIP/${n}-${i}`, member_status: s, call_path: '6400' } });
    const f = (members: unknown[]) => JSON.stringify({ type: 30011, sn: 'SN', msg: JSON.stringify({ call_id: id, members }) });
    out.push(
      f([inb('ANSWERED')]),
      f([inb('ANSWERED'), ext(a, 'RING'), ext(b, 'RING')]),
      f([inb('ANSWERED'), ext(a, 'ANSWER')]),
      f([inb('ANSWERED'), ext(a, 'HOLD')]),
      f([inb('ANSWERED'), ext(a, 'ANSWER')]),
      f([inb('BYE'), ext(a, 'BYE')]),
    );
    const local = new Date((base + i) * 1000 + 3 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
    out.push(
      JSON.stringify({
        type: 30012,
        sn: 'SN',
        msg: JSON.stringify({
          call_id: id,
          time_start: local,
          call_from: `07${i}`,
          call_to: '6400',
          call_duration: 60,
          talk_duration: 50,
          src_trunk_name: 'Saf',
          dst_trunk_name: '',
          status: 'ANSWERED',
          type: 'Inbound',
        }),
      }),
    );
  }
  return out;
}

type Translator = Pick<YeastarTranslator, 'translate'>;
type MakeTranslator = (o: ConstructorParameters<typeof YeastarTranslator>[0]) => Translator;

function translateRound(texts: string[], make: MakeTranslator = (o) => new YeastarTranslator(o)): { ms: number; cpuMs: number; events: number } {
  const t = make({ tenant_id: 'bench', pbx_id: 'p1', source: 'yeastar-p', timezone: 'Africa/Nairobi', queues: ['6400'] });
  let events = 0;
  let clock = Date.parse('2026-09-01T08:00:00Z');
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (const text of texts) {
    const p = parseYeastarText(text, 'p');
    if (!p.ok) throw new Error(p.reason);
    clock += 7;
    const o = t.translate(p.message, { received_at: new Date(clock).toISOString(), raw_ref: null });
    if (o.kind === 'ok') events += o.events.length;
  }
  const used = process.cpuUsage(cpu);
  return { ms: performance.now() - start, cpuMs: (used.user + used.system) / 1000, events };
}

const texts = frames(calls);
const rateOf = (r: { ms: number }) => (texts.length / r.ms) * 1000;
const fmt = (v: number) => Math.round(v).toLocaleString('en');
if (values.old) {
  const mod = (await import(resolve(values.old))) as { YeastarTranslator: new (o: ConstructorParameters<typeof YeastarTranslator>[0]) => Translator };
  const sides: [string, MakeTranslator][] = [
    ['new', (o) => new YeastarTranslator(o)],
    ['old', (o) => new mod.YeastarTranslator(o)],
  ];
  for (const [, make] of sides) translateRound(texts.slice(0, Math.min(texts.length, 20_000)), make); // warm-up
  // Per CPU second: what one dedicated core sustains, whatever the other processes take.
  const rates = new Map<string, number[]>(sides.map(([name]) => [name, []]));
  const events = new Map<string, number>();
  for (let r = 0; r < rounds; r++) {
    for (const [name, make] of sides) {
      const res = translateRound(texts, make);
      rates.get(name)!.push((texts.length / res.cpuMs) * 1000);
      events.set(name, res.events);
    }
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`translate: ${texts.length} frames (${calls} calls), ${rounds} rounds alternating new, old (old = ${values.old})`);
  for (const [name] of sides) console.log(`  ${name}: median ${fmt(med(rates.get(name)!))} frames per CPU second, best ${fmt(Math.max(...rates.get(name)!))}, ${events.get(name)} canonical events per round`);
  console.log(`  new / old: ${(med(rates.get('new')!) / med(rates.get('old')!)).toFixed(2)}`);
} else {
  translateRound(texts.slice(0, Math.min(texts.length, 20_000))); // warm-up
  const results = Array.from({ length: rounds }, () => translateRound(texts));
  const rates = results.map(rateOf).sort((a, b) => a - b);
  const median = rates[Math.floor(rates.length / 2)]!;
  console.log(`translate: ${texts.length} frames (${calls} calls, ${results[0]!.events} canonical events per round), ${rounds} rounds`);
  console.log(`  median ${fmt(median)} frames/s, best ${fmt(rates.at(-1)!)} frames/s, ${fmt((median * results[0]!.events) / texts.length)} events/s`);
}

const kafkaCfg = loadConfig({ overrides: { KAFKA_TOPIC_PREFIX: `bench-yeastar-${Date.now()}.`, KAFKA_PARTITIONS: '3' }, file: {} });
if (kafkaCfg.kafka.brokers.length) {
  const n = Number(values.push);
  const conc = Number(values.concurrency);
  const cfg = kafkaCfg;
  const log = createLogger('bench', 'error');
  const kafka = createKafka(cfg, log);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, cfg);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const pipeline = new YeastarPipeline(
    new IngestSink(producer, cfg),
    new YeastarTranslator({ tenant_id: 'bench', pbx_id: 's1', source: 'yeastar-s', timezone: 'UTC' }),
    log,
  );
  const receiver = new YeastarSReceiver({ targets: [{ pbx_id: 's1', secret: 'x', allow_from: ['127.0.0.1'], host: '127.0.0.1', pipeline }], log });
  const port = await receiver.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${port}${reportPath('s1', 'x')}`;
  const report = (i: number) => ({ event: 'ExtensionStatus', extension: String(1000 + (i % 200)), status: i % 2 ? 'Busy' : 'Idle', sn: 'SN' });
  let next = 0;
  let bad = 0;
  const latencies: number[] = [];
  const start = performance.now();
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (next < n) {
        const i = next++;
        const t0 = performance.now();
        const r = await pushSReport(url, report(i), { max_attempts: 1 });
        latencies.push(performance.now() - t0);
        if (r.status !== 200) bad++;
      }
    }),
  );
  const secs = (performance.now() - start) / 1000;
  await receiver.close();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(1);
  console.log(
    `push: ${n} S-Series reports over HTTP, ${conc} in flight, 200 after Kafka ack (acks=all): ${Math.round(n / secs).toLocaleString('en')} reports/s, latency p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, non-200: ${bad}`,
  );
  // Our admin creates topics only; kafkajs deletes the bench's.
  const kjAdmin = new Kafka({ clientId: 'bench-yeastar', brokers: cfg.kafka.brokers, logLevel: logLevel.NOTHING }).admin();
  await kjAdmin.connect();
  await kjAdmin.deleteTopics({ topics: (['raw', 'events', 'dlq'] as const).map((t) => topicName(cfg, t)) }).catch(() => undefined);
  await kjAdmin.disconnect();
  await admin.disconnect();
  await producer.disconnect();
}

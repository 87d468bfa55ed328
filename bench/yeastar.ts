// Yeastar adapter figures (printed, never asserted):
//  1. translate: P-Series frames (JSON text, `msg` as a JSON-encoded string) → parse → translate,
//     one core, synthetic queue calls (queue, ring two agents, answer, hold, resume, hang up, CDR).
//  2. push (needs KAFKA_BROKERS): S-Series reports POSTed over HTTP to the receiver on 127.0.0.1,
//     each answered 200 only after Kafka acknowledged it, with C reports in flight.
//
//   npx tsx bench/yeastar.ts [--calls 20000] [--rounds 5] [--push 2000] [--concurrency 16]
import { parseArgs } from 'node:util';
import { createKafka, createLogger, ensureTopics, loadConfig } from '@callboard/platform';
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

function translateRound(texts: string[]): { ms: number; events: number } {
  const t = new YeastarTranslator({ tenant_id: 'bench', pbx_id: 'p1', source: 'yeastar-p', timezone: 'Africa/Nairobi', queues: ['6400'] });
  let events = 0;
  let clock = Date.parse('2026-09-01T08:00:00Z');
  const start = performance.now();
  for (const text of texts) {
    const p = parseYeastarText(text, 'p');
    if (!p.ok) throw new Error(p.reason);
    clock += 7;
    const o = t.translate(p.message, { received_at: new Date(clock).toISOString(), raw_ref: null });
    if (o.kind === 'ok') events += o.events.length;
  }
  return { ms: performance.now() - start, events };
}

const texts = frames(calls);
translateRound(texts.slice(0, Math.min(texts.length, 20_000))); // warm-up
const results = Array.from({ length: rounds }, () => translateRound(texts));
const rates = results.map((r) => (texts.length / r.ms) * 1000).sort((a, b) => a - b);
const median = rates[Math.floor(rates.length / 2)]!;
console.log(`translate: ${texts.length} frames (${calls} calls, ${results[0]!.events} canonical events per round), ${rounds} rounds`);
console.log(
  `  median ${Math.round(median).toLocaleString('en')} frames/s, best ${Math.round(rates.at(-1)!).toLocaleString('en')} frames/s, ${Math.round((median * results[0]!.events) / texts.length).toLocaleString('en')} events/s`,
);

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
  await admin
    .deleteTopics({
      topics: ['raw', 'events', 'dlq'].map((t) => `${cfg.kafka.topicPrefix}${{ raw: 'pbx.raw.v1', events: 'cc.events.v1', dlq: 'cc.dlq.v1' }[t]}`),
    })
    .catch(() => undefined);
  await admin.disconnect();
  await producer.disconnect();
}

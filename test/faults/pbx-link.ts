// Plumbing of the PBX-link fault cases (docs/reliability.md cases 3 and 7): the simulated Asterisk
// (simulator/, real AMI over TCP) reached through a TCP relay that stands for the network link, so
// the link can be cut from the PBX side while the PBX goes on running its calls; ingest
// (`startIngest`, the service's code) reads it; what ingest wrote to Kafka is folded into
// ClickHouse and read back through the projections' own queries, to be set against the
// simulator's ledger with test/e2e/ledger-metrics.ts (computed apart from the projections).
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import type { Kafka } from 'kafkajs';
import { createClickHouse, createLogger, Health, queueSettings, registry, topicName, type CallboardConfig, type ClickHouse } from '@callboard/platform';
import type { CanonicalEvent } from '@callboard/schemas';
import { startIngest } from '@callboard/ingest/main';
import { agentMetrics, queueMetrics } from '@callboard/projections/read';
import { startAmiSimulator, type RunningSimulator } from '@callboard/simulator/run';
import type { Scenario } from '@callboard/simulator/model';
import type { Ledger } from '@callboard/simulator/ledger';
import { agentMetricsFromLedger, queueMetricsFromLedger, type Span } from '../e2e/ledger-metrics.ts';
import { eventually, testConfig, toolKafka } from '../helpers.ts';
import { referenceFold, topicsAndProducer } from './helpers.ts';

/**
 * The network between the PBX and ingest: every connection ingest opens is relayed to the PBX.
 * `cut()` breaks it at the PBX's end (the PBX's sockets destroyed, what was already relayed still
 * delivered to ingest, then its connection closed); while `down`, new connections are dropped at
 * once. Counts the AMI events relayed to ingest and notes when ingest asks for a resync.
 */
export class AmiLink {
  private server: Server | null = null;
  private readonly pairs = new Set<{ down: Socket; up: Socket }>();
  /** Event frames relayed PBX → ingest (every one of them reached ingest's socket). */
  events = 0;
  /** Wall times at which ingest's QueueStatus (its resync after a reconnect) went through. */
  readonly resyncs: number[] = [];
  /** Wall times at which the PBX's side of a relayed session closed (a cut, a restart). */
  readonly closes: number[] = [];
  down = false;
  port = 0;

  constructor(private readonly pbxPort: number) {}

  async start(): Promise<number> {
    const server = createServer((down) => this.accept(down));
    this.server = server;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    this.port = (server.address() as { port: number }).port;
    return this.port;
  }

  /** Breaks every connection at the PBX's end and keeps the link down until `restore()`. */
  cut(): void {
    this.down = true;
    for (const p of this.pairs) p.up.destroy();
  }

  restore(): void {
    this.down = false;
  }

  get connections(): number {
    return this.pairs.size;
  }

  async close(): Promise<void> {
    for (const p of this.pairs) {
      p.up.destroy();
      p.down.destroy();
    }
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private accept(down: Socket): void {
    down.on('error', () => {});
    if (this.down) {
      down.destroy();
      return;
    }
    const up = connect(this.pbxPort, '127.0.0.1');
    const pair = { down, up };
    this.pairs.add(pair);
    let fromPbx = '';
    let fromIngest = '';
    let seen = false;
    up.on('data', (b: Buffer) => {
      seen = true;
      down.write(b);
      fromPbx += b.toString('utf8');
      const blocks = fromPbx.split('\r\n\r\n');
      fromPbx = blocks.pop()!;
      for (const block of blocks) if (block.startsWith('Event:')) this.events++;
    });
    down.on('data', (b: Buffer) => {
      up.write(b);
      fromIngest += b.toString('utf8');
      const blocks = fromIngest.split('\r\n\r\n');
      fromIngest = blocks.pop()!;
      for (const block of blocks) if (/^Action:\s*QueueStatus/im.test(block)) this.resyncs.push(Date.now());
    });
    // The PBX's end went away (a cut, a restart, a refused connect): ingest gets what was relayed, then the close.
    up.on('error', () => {});
    up.on('close', () => {
      this.pairs.delete(pair);
      // Only a session that was up counts (not a connect the PBX refused while it was down).
      if (seen) this.closes.push(Date.now());
      down.end();
    });
    down.on('close', () => up.destroy());
  }
}

/** Event frames the AMI adapter of `pbx` has received (its own counter, in this process). */
export async function eventsRead(pbx: string): Promise<number> {
  const m = registry.getSingleMetric('callboard_ami_frames_total');
  const v = m ? await m.get() : { values: [] };
  return v.values.filter((x) => x.labels.pbx === pbx && x.labels.kind === 'event').reduce((a, x) => a + x.value, 0);
}

/** Every message of `topic` (all partitions, from the beginning), once the log is complete. */
async function readTopic(kafka: Kafka, cfg: CallboardConfig, topic: string): Promise<CanonicalEvent[]> {
  const admin = kafka.admin();
  await admin.connect();
  const total = (await admin.fetchTopicOffsets(topic)).reduce((a, p) => a + Number(p.high), 0);
  await admin.disconnect();
  const out: CanonicalEvent[] = [];
  const consumer = kafka.consumer({ groupId: `${cfg.kafka.topicPrefix}link-reader` });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      out.push(JSON.parse(message.value!.toString('utf8')) as CanonicalEvent);
    },
  });
  await eventually(() => (out.length >= total ? true : undefined), 120_000, `all ${total} messages of ${topic}`);
  await consumer.disconnect();
  return out;
}

/** The embedded engine is one data path per process: every run of a file folds into its own database of one engine. */
let shared: { ch: ClickHouse; dir: string } | null = null;
async function engine(cfg: CallboardConfig): Promise<ClickHouse> {
  if (!shared) {
    const dir = mkdtempSync(join(tmpdir(), 'callboard-fault-link-ch-'));
    shared = { ch: await createClickHouse(cfg, { embeddedPath: join(dir, 'clickhouse') }), dir };
  }
  return shared.ch;
}

/** Closes the engine the runs folded into and removes its files. */
export async function closeEngine(): Promise<void> {
  if (!shared) return;
  await shared.ch.close();
  rmSync(shared.dir, { recursive: true, force: true });
  shared = null;
}

export interface LinkRun {
  cfg: CallboardConfig;
  sim: RunningSimulator;
  link: AmiLink;
  /** The projection tables folded from what ingest wrote to cc.events.v1. */
  folded: ClickHouse;
  events: CanonicalEvent[];
  /** Stops what the run started (the simulator, the link, temp dirs); the engine stays for closeEngine. */
  close(): Promise<void>;
}

export interface LinkRunOptions {
  scenario: Scenario;
  /** Simulated ms per wall ms; Infinity: as fast as ingest reads (see AmiSimulatorOptions). */
  speed: number;
  catchUpRate?: number;
  /** Runs while the simulated PBX plays its timeline (to cut the link, say). */
  during?: (sim: RunningSimulator, link: AmiLink) => Promise<void>;
}

/**
 * Plays `scenario` on a simulated Asterisk, through an AmiLink, into ingest and Kafka (the run's
 * broker); once ingest has every event the PBX relayed, stops ingest (which drains to Kafka) and
 * folds the canonical events it wrote.
 */
export async function runThroughLink(o: LinkRunOptions): Promise<LinkRun> {
  const pbx = o.scenario.pbx;
  const secretEnv = `FAULT_${pbx.replace(/\W/g, '_').toUpperCase()}_SECRET`;
  process.env[secretEnv] = `secret-${process.pid}`;
  const sim = await startAmiSimulator({ scenario: o.scenario, speed: o.speed, catchUpRate: o.catchUpRate, port: 0, username: 'callboard', secret: process.env[secretEnv]! });
  const link = new AmiLink(sim.port);
  await link.start();
  const cfg = testConfig(
    {
      tenants: [{ id: o.scenario.tenant, timezone: o.scenario.timezone }],
      // The PBX's wrap-up per queue, as an operator configures it (METRICS.md wrap_up_s).
      queues: sim.ledger.queues.map((q) => ({ tenant: o.scenario.tenant, queue: q.queue, wrap_up_s: q.wrap_up_s })),
      pbxes: [{ id: pbx, tenant: o.scenario.tenant, kind: 'ami', host: '127.0.0.1', port: link.port, username: 'callboard', secret_env: secretEnv }],
    },
    { AMI_BACKOFF_INITIAL_MS: '100', AMI_BACKOFF_MAX_MS: '1000', AMI_PING_INTERVAL_MS: '2000', AMI_PING_TIMEOUT_MS: '5000' },
  );
  const log = createLogger('fault-link', 'silent');
  const { producer } = await topicsAndProducer(cfg, log);
  const svc = await startIngest(cfg, producer, log, new Health());
  const dirs = [cfg.dataDir];
  try {
    await Promise.all([sim.done, o.during?.(sim, link)]);
    // Everything the PBX relayed is in ingest before it stops (a stop closes the socket).
    await eventually(
      async () => {
        const got = await eventsRead(pbx);
        if (got < link.events) throw new Error(`${got} of ${link.events} relayed events read by ingest`);
        return true;
      },
      120_000,
      'ingest to read every event the PBX relayed',
    );
    await svc.stop();
    await producer.disconnect();
    const events = await readTopic(toolKafka(cfg), cfg, topicName(cfg, 'events'));
    const folded = await referenceFold(await engine(cfg), cfg.clickhouse.database, events);
    return {
      cfg,
      sim,
      link,
      folded,
      events,
      async close() {
        await sim.stop();
        await link.close();
        for (const d of dirs) rmSync(d, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await svc.stop().catch(() => {});
    await producer.disconnect().catch(() => {});
    await sim.stop();
    await link.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    throw e;
  }
}

const QUEUE_COUNTS = ['offered', 'answered', 'abandoned', 'short_abandoned', 'exited', 'answered_within_sl', 'abandoned_within_sl', 'transferred'] as const;
const QUEUE_REALS = ['talk_time', 'hold_time', 'wrap_time', 'asa', 'avg_abandon_wait'] as const;

export interface FigureDiff {
  where: string;
  field: string;
  got: number | null;
  want: number | null;
}

/**
 * The final figures of the day, per queue (the counts of METRICS.md and the summed durations)
 * and per agent (handled, missed, talk time), from the folded tables against `ledger`; returns
 * every figure that differs (reals to 1e-6).
 */
export async function figuresAgainstLedger(run: LinkRun, ledger: Ledger, date: string): Promise<{ diffs: FigureDiff[]; queues: Record<string, Record<string, number | null>> }> {
  const t = run.sim.ledger.tenant;
  const tz = run.sim.ledger.timezone;
  const d = DateTime.fromISO(date, { zone: tz });
  const span: Span = { start: d.startOf('day').toMillis(), end: d.startOf('day').plus({ days: 1 }).toMillis() };
  const q = { tenant_id: t, timezone: tz, week_start: 'monday' as const, period: { kind: 'DAY' as const, date }, settings: (name: string) => queueSettings(run.cfg, t, name) };
  const diffs: FigureDiff[] = [];
  const same = (got: number | null, want: number | null, real: boolean) =>
    got === want || (got !== null && want !== null && (real ? Math.abs(got - want) <= 1e-6 * Math.max(1, Math.abs(want)) : got === want));
  const queues: Record<string, Record<string, number | null>> = {};
  const rows = await queueMetrics(run.folded, { ...q, group_by: 'queue' });
  for (const name of [...new Set(ledger.legs.map((l) => l.queue))].sort()) {
    const want = queueMetricsFromLedger(
      ledger.legs.filter((l) => l.queue === name),
      span,
      q.settings(name),
    );
    const got = rows.find((r) => r.queue === name);
    queues[name] = {};
    for (const f of [...QUEUE_COUNTS, ...QUEUE_REALS]) {
      const g = got ? (got[f] as number | null) : null;
      queues[name][f] = g;
      if (!same(g, want[f] as number | null, (QUEUE_REALS as readonly string[]).includes(f))) diffs.push({ where: `queue ${name}`, field: f, got: g, want: want[f] as number | null });
    }
  }
  const agents = await agentMetrics(run.folded, { ...q, group_by: 'agent' });
  for (const a of ledger.agents) {
    const want = agentMetricsFromLedger(ledger, a.agent, span);
    const got = agents.find((r) => r.agent_id === a.agent);
    for (const f of ['handled', 'missed', 'talk_time'] as const) {
      // An agent with nothing that day has no row.
      const g = got ? got[f] : 0;
      if (!same(g, want[f], f === 'talk_time')) diffs.push({ where: `agent ${a.agent}`, field: f, got: g, want: want[f] });
    }
  }
  return { diffs, queues };
}

export interface FoldedLeg {
  queue: string;
  offered_ms: number;
  outcome: string;
  exit_reason: string;
  wait_ms: number;
  talk_ms: number;
  agent_id: string;
}

/** The queue legs of the folded tables (deduplicated). */
export async function foldedLegs(ch: ClickHouse): Promise<FoldedLeg[]> {
  const rs = await ch.client.query({
    query: `SELECT queue, toUnixTimestamp64Milli(offered_at) AS offered_ms, toString(outcome) AS outcome, exit_reason, wait_ms, talk_ms, agent_id FROM ${ch.db}.queue_legs FINAL ORDER BY offered_at`,
    format: 'JSONEachRow',
  });
  return ((await rs.json()) as Record<string, string | number>[]).map((r) => ({
    queue: String(r.queue),
    offered_ms: Number(r.offered_ms),
    outcome: String(r.outcome),
    exit_reason: String(r.exit_reason),
    wait_ms: Number(r.wait_ms),
    talk_ms: Number(r.talk_ms),
    agent_id: String(r.agent_id),
  }));
}

/** The gaps of the feed the folded tables hold (PBX clock, ms). */
export async function foldedGaps(ch: ClickHouse): Promise<{ from: number; to: number; reason: string }[]> {
  const rs = await ch.client.query({
    query: `SELECT toUnixTimestamp64Milli(from_at) AS f, toUnixTimestamp64Milli(to_at) AS t, reason FROM ${ch.db}.source_gaps FINAL ORDER BY from_at`,
    format: 'JSONEachRow',
  });
  return ((await rs.json()) as { f: string | number; t: string | number; reason: string }[]).map((g) => ({ from: Number(g.f), to: Number(g.t), reason: g.reason }));
}

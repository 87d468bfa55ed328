// A real Apache Kafka (KRaft) for development, tests, CI and the demo, built from Maven Central
// jars: no tarball, no Docker. One node by default; three for the scale-out runs. The jars are
// cached outside git; a second start reuses them.
//
// Version 4.3.1: the newest release whose jars are complete on Maven Central (4.4.0's POM names
// a kafka-tools-api 4.4.0 jar that Central does not serve). Both clients talk to it: the
// services' @platformatic/kafka (written for 3.5–4.x) and the tests' kafkajs 2.2.4, which
// negotiates every API it uses at or above the floors Kafka 4.x kept after KIP-896
// (docs/kafka.md has the table); the integration suite runs produce, idempotent produce,
// consume, groups and admin of both on it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { processAlive } from './process.ts';

export const KAFKA_VERSION = '4.3.1';
const LOG4J_VERSION = '2.25.3';
// Kafka's own docker example id: any fixed 22-char base64url id will do for a throwaway node.
const CLUSTER_ID = 'q1Sh-9_ISia_zwGINzRvyQ';

// Tool locations, not product settings: read here and not in the typed config because the test
// global setup and `callboard kafka fetch` need them before (or without) any config.
export function cacheRoot(): string {
  return process.env.CALLBOARD_CACHE_DIR ?? join(homedir(), '.cache', 'callboard');
}

export function kafkaLibsDir(version = KAFKA_VERSION): string {
  return join(cacheRoot(), `kafka-${version}`, 'libs');
}

function pom(version: string): string {
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.callboard</groupId><artifactId>kafka-local</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>${version}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>${LOG4J_VERSION}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>${LOG4J_VERSION}</version></dependency>
  </dependencies>
  <build><plugins><plugin>
    <groupId>org.apache.maven.plugins</groupId><artifactId>maven-dependency-plugin</artifactId><version>3.8.1</version>
  </plugin></plugins></build>
</project>
`;
}

/** Fetches the broker's jars with Maven into the cache (once). Returns the libs folder. */
export function ensureKafkaJars(log: (msg: string) => void = () => {}, version = KAFKA_VERSION): string {
  const libs = kafkaLibsDir(version);
  const marker = join(libs, '.complete');
  if (existsSync(marker)) return libs;
  const which = spawnSync('mvn', ['-v'], { stdio: 'ignore' });
  if (which.status !== 0) {
    throw new Error('the local Kafka broker needs Maven (mvn) and Java 17+ on PATH, or set KAFKA_BROKERS to an existing broker');
  }
  const dir = join(cacheRoot(), `kafka-${version}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'pom.xml'), pom(version));
  log(`fetching Apache Kafka ${version} jars from Maven Central into ${libs} (first run only)`);
  rmSync(libs, { recursive: true, force: true });
  const r = spawnSync(
    'mvn',
    ['-B', '-q', '-f', join(dir, 'pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${libs}`, '-DincludeScope=runtime'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (r.status !== 0) {
    throw new Error(`Maven could not fetch Kafka ${version}: ${(r.stdout + r.stderr).trim().split('\n').slice(-5).join(' | ')}`);
  }
  if (!readdirSync(libs).some((f) => f.startsWith(`kafka_2.13-${version}`))) {
    throw new Error(`Maven finished but ${libs} has no kafka_2.13-${version} jar`);
  }
  writeFileSync(marker, new Date().toISOString());
  return libs;
}

export interface LocalKafkaOptions {
  /** Client port of node 1; a cluster's node i (from 1) listens on `port + 2·(i−1)` unless `nodePorts` says otherwise. */
  port: number;
  controllerPort?: number;
  /**
   * Nodes in the cluster (1 or 3; default 1). Every node is a combined broker + controller, so
   * three nodes form a three-voter quorum that survives the loss of any one (docs/kafka.md).
   */
  nodes?: number;
  /** Explicit client and controller ports per node (tests pick free ones); overrides `port`. */
  nodePorts?: { port: number; controllerPort: number }[];
  dataDir: string;
  /** Run the broker detached from this process (for `callboard kafka start`). */
  detached?: boolean;
  /**
   * Kill the broker this call spawned if this process exits without stopping it (a crash, or a
   * shutdown cut short), so `npm start` never leaves a broker behind. Not for `callboard kafka start`.
   */
  stopWithProcess?: boolean;
  heap?: string;
  log?: (msg: string) => void;
  startTimeoutMs?: number;
}

export interface LocalKafkaNode {
  nodeId: number;
  broker: string;
  pid: number;
  /** Controlled shutdown of this node alone (SIGTERM, SIGKILL after 30 s). */
  stop(): Promise<void>;
}

export interface LocalKafka {
  brokers: string[];
  /** Node 1's pid (the only one of a single node). */
  pid: number;
  nodes: LocalKafkaNode[];
  stop(): Promise<void>;
}

interface NodeSpec {
  nodeId: number;
  port: number;
  cport: number;
  /** Holds server.properties, log4j2.properties, broker.log, broker.pid and the log dir `kraft/`. */
  dir: string;
}

function serverProperties(node: NodeSpec, all: NodeSpec[]): string {
  // A lone node keeps every replica count at 1; three nodes replicate everything three ways and
  // acknowledge a write once two replicas have it, so one node can stop without losing a write
  // or refusing one.
  const rf = all.length >= 3 ? 3 : 1;
  const minIsr = all.length >= 3 ? 2 : 1;
  return [
    'process.roles=broker,controller',
    `node.id=${node.nodeId}`,
    `controller.quorum.voters=${all.map((n) => `${n.nodeId}@127.0.0.1:${n.cport}`).join(',')}`,
    'controller.listener.names=CONTROLLER',
    `listeners=PLAINTEXT://127.0.0.1:${node.port},CONTROLLER://127.0.0.1:${node.cport}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${node.port}`,
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${join(node.dir, 'kraft')}`,
    'num.partitions=1',
    `default.replication.factor=${rf}`,
    `min.insync.replicas=${minIsr}`,
    // Topics are created by the services with explicit partitions; a typo must not create one.
    'auto.create.topics.enable=false',
    `offsets.topic.replication.factor=${rf}`,
    'offsets.topic.num.partitions=1',
    `transaction.state.log.replication.factor=${rf}`,
    `transaction.state.log.min.isr=${minIsr}`,
    'transaction.state.log.num.partitions=1',
    `share.coordinator.state.topic.replication.factor=${rf}`,
    `share.coordinator.state.topic.min.isr=${minIsr}`,
    'group.initial.rebalance.delay.ms=0',
    'num.network.threads=2',
    'num.io.threads=2',
    'num.recovery.threads.per.data.dir=1',
    'log.segment.bytes=16777216',
    // Late test timestamps are fine: a replayed fixture may carry any time.
    'log.message.timestamp.after.max.ms=9223372036854775807',
    'log.message.timestamp.before.max.ms=9223372036854775807',
    '',
  ].join('\n');
}

const LOG4J2 = `status = warn
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.err.ref = STDERR
logger.s.name = kafka.server.KafkaRaftServer
logger.s.level = info
`;

export function portOpen(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ port, host });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

function java(): string {
  // The JVM's own convention, honoured like any Java tool does (see cacheRoot for why not config).
  const home = process.env.JAVA_HOME;
  return home ? join(home, 'bin', 'java') : 'java';
}

/**
 * Where each node lives. A single node keeps the layout it always had (files straight in the
 * data dir, so an existing data dir and the CI's pid-file lookup still work); a cluster's node i
 * gets `node-i/`.
 */
function nodeSpecs(opts: LocalKafkaOptions): NodeSpec[] {
  const count = opts.nodePorts?.length ?? opts.nodes ?? 1;
  if (count !== 1 && count !== 3) throw new Error(`a local Kafka cluster has 1 or 3 nodes, not ${count}`);
  return Array.from({ length: count }, (_, i) => {
    const explicit = opts.nodePorts?.[i];
    const port = explicit?.port ?? opts.port + 2 * i;
    const cport = explicit?.controllerPort ?? (i === 0 && opts.controllerPort ? opts.controllerPort : port + 1);
    return { nodeId: i + 1, port, cport, dir: count === 1 ? opts.dataDir : join(opts.dataDir, `node-${i + 1}`) };
  });
}

/** Starts (or, when `detached` and already running, reuses) a local KRaft broker or 3-node cluster. */
export async function startLocalKafka(opts: LocalKafkaOptions): Promise<LocalKafka> {
  const log = opts.log ?? (() => {});
  const specs = nodeSpecs(opts);
  const brokers = specs.map((n) => `127.0.0.1:${n.port}`);
  const pidFile = join(specs[0]!.dir, 'broker.pid');
  if (await portOpen(specs[0]!.port)) {
    if (opts.detached && existsSync(pidFile)) {
      const pids = pidFiles(opts.dataDir).map((f) => Number(readFileSync(f, 'utf8')));
      log(`Kafka already running on ${brokers.join(',')} (pid ${pids.join(', ')}); reusing it, and leaving it running`);
      // Someone else started it (`callboard kafka start`): stopping it is theirs to do.
      const nodes = specs.map((n, i) => ({ nodeId: n.nodeId, broker: brokers[i]!, pid: pids[i] ?? 0, stop: async () => {} }));
      return { brokers, pid: pids[0]!, nodes, stop: async () => {} };
    }
    throw new Error(`port ${specs[0]!.port} is already in use; set KAFKA_LOCAL_PORT to a free port or KAFKA_BROKERS to the broker there`);
  }
  for (const n of specs.slice(1)) {
    if (await portOpen(n.port)) throw new Error(`port ${n.port} (Kafka node ${n.nodeId}) is already in use; set KAFKA_LOCAL_PORT to another base port`);
  }
  const libs = ensureKafkaJars(log);
  // All nodes are spawned before any is awaited: a node opens its client port only once a
  // quorum has elected a leader, which needs two of the three running.
  const started = specs.map((n) => spawnNode(n, specs, libs, opts));
  const timeoutMs = opts.startTimeoutMs ?? 90_000 * specs.length;
  const deadline = Date.now() + timeoutMs;
  try {
    for (const s of started) {
      while (!(await portOpen(s.spec.port))) {
        const bad = started.find((x) => x.exited() !== null);
        if (bad) throw new Error(`Kafka node ${bad.spec.nodeId} exited with code ${bad.exited()} during start-up; see ${bad.outPath}:\n${tail(bad.outPath)}`);
        if (Date.now() > deadline) throw new Error(`Kafka did not open 127.0.0.1:${s.spec.port} within ${timeoutMs / 1000}s; see ${s.outPath}`);
        await sleep(150);
      }
    }
  } catch (e) {
    for (const s of started) if (s.exited() === null) s.child.kill('SIGKILL');
    throw e;
  }
  if (opts.detached) for (const s of started) s.child.unref();
  log(`Kafka ${KAFKA_VERSION} listening on ${brokers.join(',')} (pid ${started.map((s) => s.child.pid).join(', ')})`);
  const nodes: LocalKafkaNode[] = started.map((s) => {
    const pid = s.child.pid!;
    return {
      nodeId: s.spec.nodeId,
      broker: `127.0.0.1:${s.spec.port}`,
      pid,
      stop: async () => {
        if (s.exited() !== null) return;
        await stopPid(pid, () => s.exited() !== null);
      },
    };
  });
  return {
    brokers,
    pid: nodes[0]!.pid,
    nodes,
    stop: async () => {
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
}

function spawnNode(spec: NodeSpec, all: NodeSpec[], libs: string, opts: LocalKafkaOptions) {
  const logDir = join(spec.dir, 'kraft');
  mkdirSync(logDir, { recursive: true });
  const props = join(spec.dir, 'server.properties');
  writeFileSync(props, serverProperties(spec, all));
  const log4j = join(spec.dir, 'log4j2.properties');
  writeFileSync(log4j, LOG4J2);
  const cp = `${libs}/*`;
  if (!existsSync(join(logDir, 'meta.properties'))) {
    const f = spawnSync(java(), ['-Xmx256m', `-Dlog4j2.configurationFile=${log4j}`, '-cp', cp, 'kafka.tools.StorageTool', 'format', '-t', CLUSTER_ID, '-c', props], {
      encoding: 'utf8',
    });
    if (f.status !== 0) throw new Error(`kafka storage format failed: ${(f.stdout + f.stderr).trim().slice(-500)}`);
  }
  const outPath = join(spec.dir, 'broker.log');
  const out = openSync(outPath, 'a');
  const args = [
    `-Xms128m`,
    `-Xmx${opts.heap ?? '768m'}`,
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${log4j}`,
    '-cp',
    cp,
    'kafka.Kafka',
    props,
  ];
  const child: ChildProcess = spawn(java(), args, { stdio: ['ignore', out, out], detached: !!opts.detached });
  let exited: number | null = null;
  child.once('exit', (code) => {
    exited = code ?? -1;
  });
  writeFileSync(join(spec.dir, 'broker.pid'), String(child.pid));
  // From the spawn on, not only once it listens: an exit during a slow start must not leave it.
  // Prepended: an 'exit' listener that calls process.exit() (vitest has one) ends the process
  // before the listeners after it run.
  if (opts.stopWithProcess) {
    process.prependOnceListener('exit', () => {
      if (exited !== null) return;
      try {
        process.kill(child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    });
  }
  return { spec, child, outPath, exited: () => exited };
}

function tail(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '';
  }
}


/** SIGTERM, wait up to 30 s for the controlled shutdown, then SIGKILL. */
export async function stopPid(pid: number, gone: () => boolean = () => !processAlive(pid)): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + 30_000;
  while (!gone() && processAlive(pid) && Date.now() < deadline) await sleep(100);
  if (processAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

/** The pid files of a single node (`dataDir/broker.pid`) or of a cluster (`dataDir/node-<i>/broker.pid`). */
function pidFiles(dataDir: string): string[] {
  const single = join(dataDir, 'broker.pid');
  if (existsSync(single)) return [single];
  if (!existsSync(dataDir)) return [];
  return readdirSync(dataDir)
    .filter((d) => /^node-\d+$/.test(d))
    .sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)))
    .map((d) => join(dataDir, d, 'broker.pid'))
    .filter((f) => existsSync(f));
}

/**
 * Stops the broker or cluster started with `detached: true`, found through its pid files: each
 * node by its own pid, never by a process name other people's brokers share. Returns how many
 * were still running.
 */
export async function stopLocalKafka(dataDir: string): Promise<number> {
  const files = pidFiles(dataDir);
  const pids = files.map((f) => Number(readFileSync(f, 'utf8')));
  const running = pids.filter(processAlive).length;
  await Promise.all(pids.map((pid) => stopPid(pid)));
  for (const f of files) rmSync(f, { force: true });
  return running;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A TCP port free on 127.0.0.1 right now (for test and bench brokers and servers). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

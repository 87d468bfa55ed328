// A real single-node Apache Kafka (KRaft) for development, tests, CI and the demo, built from
// Maven Central jars: no tarball, no Docker. The jars are cached outside git; a second start
// reuses them.
//
// Version 4.3.1: the newest release whose jars are complete on Maven Central (4.4.0's POM names
// a kafka-tools-api 4.4.0 jar that Central does not serve). kafkajs 2.2.4 negotiates every API
// it uses at or above the floors Kafka 4.x kept after KIP-896 (docs/kafka.md has the table);
// the integration suite verifies produce, idempotent produce, consume, groups and admin on it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';

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
  port: number;
  controllerPort?: number;
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

export interface LocalKafka {
  brokers: string[];
  pid: number;
  stop(): Promise<void>;
}

function serverProperties(port: number, cport: number, logDir: string): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${cport}`,
    'controller.listener.names=CONTROLLER',
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${cport}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${logDir}`,
    'num.partitions=1',
    'default.replication.factor=1',
    'min.insync.replicas=1',
    // Topics are created by the services with explicit partitions; a typo must not create one.
    'auto.create.topics.enable=false',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
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

/** Starts (or, when `detached` and already running, reuses) a single-node KRaft broker. */
export async function startLocalKafka(opts: LocalKafkaOptions): Promise<LocalKafka> {
  const log = opts.log ?? (() => {});
  const port = opts.port;
  const cport = opts.controllerPort ?? port + 1;
  const brokers = [`127.0.0.1:${port}`];
  const pidFile = join(opts.dataDir, 'broker.pid');
  if (await portOpen(port)) {
    if (opts.detached && existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, 'utf8'));
      log(`Kafka already running on 127.0.0.1:${port} (pid ${pid}); reusing it, and leaving it running`);
      // Someone else started it (`callboard kafka start`): stopping it is theirs to do.
      return { brokers, pid, stop: async () => {} };
    }
    throw new Error(`port ${port} is already in use; set KAFKA_LOCAL_PORT to a free port or KAFKA_BROKERS to the broker there`);
  }
  const libs = ensureKafkaJars(log);
  const logDir = join(opts.dataDir, 'kraft');
  mkdirSync(logDir, { recursive: true });
  const props = join(opts.dataDir, 'server.properties');
  writeFileSync(props, serverProperties(port, cport, logDir));
  const log4j = join(opts.dataDir, 'log4j2.properties');
  writeFileSync(log4j, LOG4J2);
  const cp = `${libs}/*`;
  if (!existsSync(join(logDir, 'meta.properties'))) {
    const f = spawnSync(java(), ['-Xmx256m', `-Dlog4j2.configurationFile=${log4j}`, '-cp', cp, 'kafka.tools.StorageTool', 'format', '-t', CLUSTER_ID, '-c', props], {
      encoding: 'utf8',
    });
    if (f.status !== 0) throw new Error(`kafka storage format failed: ${(f.stdout + f.stderr).trim().slice(-500)}`);
  }
  const outPath = join(opts.dataDir, 'broker.log');
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
  writeFileSync(pidFile, String(child.pid));
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
  const deadline = Date.now() + (opts.startTimeoutMs ?? 90_000);
  while (!(await portOpen(port))) {
    if (exited !== null) {
      throw new Error(`Kafka exited with code ${exited} during start-up; see ${outPath}:\n${tail(outPath)}`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Kafka did not open 127.0.0.1:${port} within ${(opts.startTimeoutMs ?? 90_000) / 1000}s; see ${outPath}`);
    }
    await sleep(150);
  }
  if (opts.detached) child.unref();
  log(`Kafka ${KAFKA_VERSION} listening on 127.0.0.1:${port} (pid ${child.pid})`);
  const pid = child.pid!;
  return {
    brokers,
    pid,
    stop: async () => {
      if (exited !== null) return;
      await stopPid(pid, () => exited !== null);
    },
  };
}

function tail(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, wait up to 30 s for the controlled shutdown, then SIGKILL. */
export async function stopPid(pid: number, gone: () => boolean = () => !alive(pid)): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + 30_000;
  while (!gone() && alive(pid) && Date.now() < deadline) await sleep(100);
  if (alive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

/** Stops a broker started with `detached: true`, found through its pid file. */
export async function stopLocalKafka(dataDir: string): Promise<boolean> {
  const pidFile = join(dataDir, 'broker.pid');
  if (!existsSync(pidFile)) return false;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  const wasAlive = alive(pid);
  await stopPid(pid);
  rmSync(pidFile, { force: true });
  return wasAlive;
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

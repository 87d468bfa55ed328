// The local broker's edges that need no broker: port checks, refusing a busy port, the jar
// cache, and stopping processes. (Starting the broker itself is what test/global-setup.ts does
// for every integration run.)
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureKafkaJars, kafkaLibsDir, portOpen, startLocalKafka, stopLocalKafka, stopPid } from '../src/kafka-local.ts';

describe('local Kafka broker: edges', () => {
  let server: Server;
  let busyPort = 0;
  const dirs: string[] = [];
  const tempDir = (prefix: string) => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
  beforeAll(async () => {
    server = createServer((s) => s.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    busyPort = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('portOpen tells a listening port from a closed one', async () => {
    expect(await portOpen(busyPort)).toBe(true);
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    expect(await portOpen(port)).toBe(false);
  });

  it('refuses to start on a port something else holds, naming the settings to change', async () => {
    const dataDir = tempDir('callboard-kafka-busy-');
    await expect(startLocalKafka({ port: busyPort, dataDir })).rejects.toThrow(
      `port ${busyPort} is already in use; set KAFKA_LOCAL_PORT to a free port or KAFKA_BROKERS to the broker there`,
    );
  });

  it('refuses a cluster size without an odd quorum of one or three, and a busy port of a later node', async () => {
    const dataDir = tempDir('callboard-kafka-size-');
    await expect(startLocalKafka({ port: busyPort, nodes: 2, dataDir })).rejects.toThrow('a local Kafka cluster has 1 or 3 nodes, not 2');
    const free = createServer();
    await new Promise<void>((r) => free.listen(0, '127.0.0.1', () => r()));
    const freePort = (free.address() as { port: number }).port;
    await new Promise<void>((r) => free.close(() => r()));
    const nodePorts = [
      { port: freePort, controllerPort: freePort + 1 },
      { port: busyPort, controllerPort: busyPort + 1 },
      { port: freePort + 2, controllerPort: freePort + 3 },
    ];
    await expect(startLocalKafka({ port: 0, nodePorts, dataDir })).rejects.toThrow(`port ${busyPort} (Kafka node 2) is already in use`);
  });

  it('reuses cached jars without calling Maven once the cache is marked complete', () => {
    const prev = process.env.CALLBOARD_CACHE_DIR;
    process.env.CALLBOARD_CACHE_DIR = tempDir('callboard-cache-');
    try {
      const libs = kafkaLibsDir('0.0.0-test');
      mkdirSync(libs, { recursive: true });
      writeFileSync(join(libs, '.complete'), 'test');
      // A version Maven could never resolve: returning at all proves the cache was used.
      expect(ensureKafkaJars(() => {}, '0.0.0-test')).toBe(libs);
    } finally {
      if (prev === undefined) delete process.env.CALLBOARD_CACHE_DIR;
      else process.env.CALLBOARD_CACHE_DIR = prev;
    }
  });

  it('stops a process with SIGTERM, and reports when there was nothing to stop', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_code, signal) => r(signal)));
    await new Promise((r) => child.once('spawn', r));
    await stopPid(child.pid!);
    expect(await exited).toBe('SIGTERM');

    const dataDir = tempDir('callboard-kafka-none-');
    expect(await stopLocalKafka(dataDir)).toBe(0);
  });
});

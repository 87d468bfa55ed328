// The composition root against the run's real broker and an embedded ClickHouse: the parts asked
// for start in order with the config they need, and stop in reverse; a part that cannot start
// leaves nothing running behind it.
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Logger } from '@callboard/platform';
import { startAmiSimulator } from '@callboard/simulator/run';
import { callCentreScenario, dayWindow } from '@callboard/simulator/scenarios';
import { eventually, testConfig } from '../../test/helpers.ts';
import { allMigrations } from '../migrations.ts';
import { startStack, type RunningSimulatedPbx } from '../stack.ts';

/** A logger whose lines the test can read: the stack logs each part it stops. */
function capturedLog(): { log: Logger; stopped: () => string[] } {
  const lines: { component?: string; msg: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  return { log: pino({ level: 'info' }, sink), stopped: () => lines.filter((l) => l.msg === 'stopped').map((l) => l.component!) };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

const TENANT = { id: 'acme', timezone: 'Africa/Nairobi' };
const PBX = { id: 'acme-ami', tenant: 'acme', kind: 'ami', username: 'stack', secret_env: 'STACK_TEST_AMI_SECRET' };

async function simulators(): Promise<RunningSimulatedPbx[]> {
  const secret = `stack-${process.pid}`;
  process.env.STACK_TEST_AMI_SECRET = secret;
  const scenario = callCentreScenario({ tenant: 'acme', pbx: PBX.id, timezone: TENANT.timezone, seed: 3, volume: 0.05, ...dayWindow('2026-03-02', TENANT.timezone) });
  const sim = await startAmiSimulator({ scenario, speed: Infinity, port: 0, username: 'stack', secret });
  return [{ pbx: PBX.id, at: { host: '127.0.0.1', port: sim.port }, stop: () => sim.stop() }];
}

describe('startStack', () => {
  it('points ingest at the simulated PBX, applies every migration once, and stops in reverse order', async () => {
    const { log, stopped } = capturedLog();
    const stack = await startStack(testConfig({ tenants: [TENANT], pbxes: [PBX] }), { simulators, kafkaTopics: true, clickhouse: true, ingest: true }, { log });
    const port = stack.simulators[0]!.at.port!;
    try {
      expect(stack.cfg.pbxes[0]).toMatchObject({ id: PBX.id, host: '127.0.0.1', port });
      const rs = await stack.ch!.client.query({ query: `SELECT count() AS n FROM ${stack.ch!.db}.schema_migrations`, format: 'JSONEachRow' });
      expect(Number(((await rs.json()) as { n: string }[])[0]!.n)).toBe(allMigrations().length);
      // Ingest logged in to the simulator with the secret the simulators part put in place.
      await eventually(() => (stack.health.get(`pbx:${PBX.id}`)?.status === 'ok' ? true : undefined), 30_000, 'ingest to connect to the simulated PBX');
      expect(stack.api).toBeNull();
      expect(stack.projections).toBeNull();
    } finally {
      await stack.stop();
    }
    expect(stopped()).toEqual(['ingest', 'producer', 'clickhouse', `simulator ${PBX.id}`]);
    expect(await accepts(port)).toBe(false);
  });

  it('stops what did start when a later part cannot, and says which part was missing', async () => {
    const { log, stopped } = capturedLog();
    let port = 0;
    const sims = async () => {
      const s = await simulators();
      port = s[0]!.at.port!;
      return s;
    };
    await expect(startStack(testConfig({ tenants: [TENANT], pbxes: [PBX] }), { simulators: sims, api: true }, { log })).rejects.toThrow('the api part needs the clickhouse part');
    expect(port).toBeGreaterThan(0);
    expect(stopped()).toEqual([`simulator ${PBX.id}`]);
    expect(await accepts(port)).toBe(false);
  });
});

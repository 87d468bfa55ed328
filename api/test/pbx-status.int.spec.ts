// #16: the PBX link state across processes. Ingest and the API run with Healths of their own, as
// `callboard ingest` and `callboard api` do: the API knows the link only from what ingest
// publishes on its compacted status topic (ingest/src/pbx-status.ts), and the board's feeds say
// UP, then DOWN with since when once the PBX goes away.
import { afterAll, expect, it } from 'vitest';
import { Health } from '@callboard/platform';
import { startAmiSimulator } from '@callboard/simulator/run';
import { callCentreScenario } from '@callboard/simulator/scenarios';
import { startStack, type Stack } from '../../cli/stack.ts';
import { eventually, testConfig } from '../../test/helpers.ts';
import { createToken } from '../src/tokens.ts';
import { gql, sse } from './client.ts';

const TENANT = 'acme';
const PBX = { id: 'acme-far', tenant: TENANT, kind: 'ami', username: 'far', secret_env: 'PBX_STATUS_TEST_SECRET' };

interface Update {
  board: { feeds: { pbx_id: string; link: 'UP' | 'DOWN' | 'UNKNOWN'; link_since: string | null; link_detail: string | null }[] };
}

const stacks: Stack[] = [];
afterAll(async () => {
  for (const s of stacks.reverse()) await s.stop();
});

it('shows the link state an ingest in another process publishes: up, then down since the PBX went away', async () => {
  const secret = `far-${process.pid}`;
  process.env.PBX_STATUS_TEST_SECRET = secret;
  const now = Date.now();
  const scenario = callCentreScenario({ tenant: TENANT, pbx: PBX.id, timezone: 'UTC', seed: 4, volume: 1, from_ms: now - 60_000, to_ms: now + 3600_000 });
  const cfg = testConfig({ tenants: [{ id: TENANT, timezone: 'UTC' }], pbxes: [PBX] });
  const ingestSide = await startStack(
    cfg,
    {
      simulators: async () => {
        const sim = await startAmiSimulator({ scenario, speed: 1, catchUpTo: now, port: 0, username: PBX.username, secret });
        return [{ pbx: PBX.id, at: { host: '127.0.0.1', port: sim.port }, stop: () => sim.stop() }];
      },
      kafkaTopics: true,
      ingest: true,
    },
    { health: new Health() },
  );
  stacks.push(ingestSide);
  const apiSide = await startStack(cfg, { kafkaTopics: true, clickhouse: true, api: { port: 0, host: '127.0.0.1' } }, { health: new Health() });
  stacks.push(apiSide);
  // Nothing shared: the API's own Health knows no PBX link.
  expect(apiSide.health.links()).toEqual({});

  const url = apiSide.api!.url;
  const { token } = await createToken(apiSide.ch!, { tenant_id: TENANT, role: 'admin' });
  const made = await gql<{ createBoard: { id: string } }>(url, token, 'mutation($i: BoardInput!) { createBoard(input: $i) { id } }', {
    i: { name: 'links', tiles: [{ id: 'w', kind: 'KPI', x: 0, y: 0, w: 1, h: 1, metric: 'waiting' }] },
  });
  expect(made.errors).toBeUndefined();
  const sub = sse<Update>(url, token, 'subscription($id: ID!) { board(id: $id) { feeds { pbx_id link link_since link_detail } } }', {
    id: made.data!.createBoard.id,
  });
  const feed = (u: Update) => u.board.feeds.find((f) => f.pbx_id === PBX.id);
  try {
    const up = await eventually(() => sub.received.map(feed).find((f) => f?.link === 'UP'), 90_000, 'the board to show the link up');
    expect(up.link_since).toBe(ingestSide.health.links()[PBX.id]!.since);

    const wentAway = Date.now();
    await ingestSide.simulators[0]!.stop();
    const down = await eventually(() => sub.received.map(feed).find((f) => f?.link === 'DOWN'), 90_000, 'the board to show the link down');
    expect(Date.parse(down.link_since!)).toBeGreaterThanOrEqual(wentAway - 1000);
    expect(down.link_since).toBe(ingestSide.health.links()[PBX.id]!.since);
    expect(down.link_detail).toBeTruthy();
  } finally {
    await sub.close();
  }
}, 300_000);

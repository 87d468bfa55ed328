// #16: a PBX whose clock is 90 s behind, driven live through ingest, Kafka and the API (real
// broker, embedded ClickHouse): the live waits the board subscription serves must be within 1 s
// of the truth, the simulator's ledger, not 90 s too long; the feed says how far the clock is
// off and is not taken for history replaying; ingest's gauge has measured it too.
import { afterAll, expect, it } from 'vitest';
import { registry } from '@callboard/platform';
import { startAmiSimulator } from '@callboard/simulator/run';
import { callCentreScenario } from '@callboard/simulator/scenarios';
import { startStack, type Stack } from '../../cli/stack.ts';
import { middayZone } from '../../simulator/test/midday.ts';
import { eventually, testConfig } from '../../test/helpers.ts';
import { createToken } from '../src/tokens.ts';
import { gql, sse } from './client.ts';

const SKEW_MS = -90_000;
const TENANT = 'acme';
const PBX = { id: 'acme-slow', tenant: TENANT, kind: 'ami', username: 'clock', secret_env: 'PBX_CLOCK_TEST_SECRET' };

interface Update {
  board: {
    server_time: string;
    feeds: { pbx_id: string; catching_up: boolean; clock_offset_s: number | null }[];
    live: { waiting_calls: { queue: string; caller_number: string | null; wait_start: string; pbx_id: string | null }[] };
  };
}

let stack: Stack | undefined;
afterAll(async () => {
  await stack?.stop();
});

it('serves live waits within 1 s of the ledger from a PBX whose clock is 90 s behind', async () => {
  const secret = `clock-${process.pid}`;
  process.env.PBX_CLOCK_TEST_SECRET = secret;
  const now = Date.now();
  const scenario = callCentreScenario({ tenant: TENANT, pbx: PBX.id, timezone: middayZone(now), seed: 11, volume: 40, from_ms: now - 5 * 60_000, to_ms: now + 30 * 60_000 });
  let ledger: Awaited<ReturnType<typeof startAmiSimulator>>['ledger'] | undefined;
  stack = await startStack(testConfig({ tenants: [{ id: TENANT, timezone: scenario.timezone }], pbxes: [PBX] }), {
    simulators: async () => {
      const sim = await startAmiSimulator({ scenario, speed: 1, catchUpTo: now, port: 0, username: PBX.username, secret, clockSkewMs: SKEW_MS });
      ledger = sim.ledger;
      return [{ pbx: PBX.id, at: { host: '127.0.0.1', port: sim.port }, stop: () => sim.stop() }];
    },
    kafkaTopics: true,
    clickhouse: true,
    ingest: true,
    api: { port: 0, host: '127.0.0.1' },
  });
  const url = stack.api!.url;
  const { token } = await createToken(stack.ch!, { tenant_id: TENANT, role: 'admin' });
  const made = await gql<{ createBoard: { id: string } }>(url, token, 'mutation($i: BoardInput!) { createBoard(input: $i) { id } }', {
    i: { name: 'clock', tiles: [{ id: 'w', kind: 'KPI', x: 0, y: 0, w: 1, h: 1, metric: 'waiting' }] },
  });
  expect(made.errors).toBeUndefined();
  const sub = sse<Update>(url, token, 'subscription($id: ID!) { board(id: $id) { server_time feeds { pbx_id catching_up clock_offset_s } live { waiting_calls { queue caller_number wait_start pbx_id } } } }', { id: made.data!.createBoard.id });
  try {
    // Ingest measured the clock: its gauge reads 90 s behind (give or take the least delay).
    await eventually(
      async () => {
        const m = (await registry.getSingleMetric('callboard_pbx_clock_offset_seconds')?.get())?.values.find((v) => v.labels.pbx === PBX.id);
        return m && Math.abs(m.value - SKEW_MS / 1000) < 1 ? true : undefined;
      },
      150_000,
      "ingest's clock offset gauge to read -90 s",
    );
    // The API measured it too, from the events it folds, and the feed is live, not replaying.
    const settledAt = await eventually(
      () => {
        const i = sub.received.findIndex((u) => u.board.feeds.some((f) => f.pbx_id === PBX.id && f.clock_offset_s !== null && Math.abs(f.clock_offset_s - SKEW_MS / 1000) < 1 && !f.catching_up));
        return i >= 0 ? i : undefined;
      },
      60_000,
      'the board feed to say the PBX clock is 90 s behind',
    );
    // Every waiting call of the updates after that, against the ledger's leg of the same caller
    // in the same queue, open at the update's server time.
    const checked = await eventually(
      () => {
        const seen = sub.received.slice(settledAt).flatMap((u) => u.board.live.waiting_calls.map((c) => ({ ...c, server: Date.parse(u.board.server_time) })));
        return seen.length >= 10 ? seen : undefined;
      },
      120_000,
      '10 waiting calls on the board',
    );
    const numbers = new Map(ledger!.calls.map((c) => [c.call_id, c.number]));
    for (const c of checked) {
      expect(c.pbx_id).toBe(PBX.id);
      const legs = ledger!.legs.filter((l) => l.queue === c.queue && numbers.get(l.call_id) === c.caller_number && l.offered_at_ms <= c.server + 1000 && l.left_at_ms >= c.server - 1000);
      expect(legs.length, `a ledger leg for ${c.caller_number} in ${c.queue}`).toBeGreaterThan(0);
      const error = Math.min(...legs.map((l) => Math.abs(Date.parse(c.wait_start) - l.offered_at_ms)));
      // The wait served is `server_time − wait_start`; the truth is `server_time − offered_at`.
      expect(error, `wait of ${c.caller_number} in ${c.queue}`).toBeLessThan(1000);
    }
  } finally {
    await sub.close();
  }
}, 400_000);

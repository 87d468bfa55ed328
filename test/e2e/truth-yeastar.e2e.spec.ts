// The truth test's Yeastar half: a simulated P-Series (fake OpenAPI server: token, WebSocket)
// fed by the model, read by the real Yeastar P adapter, through Kafka and the projections.
// Yeastar events carry no time of their own — the adapter stamps receive time — so this slice
// runs in REAL time, now, for a few busy minutes (short calls, every agent logged in). Counts must
// equal the ledger exactly; durations may differ by the delivery delay of each message, so sums
// are compared within 0.5 s per leg/call involved. Threshold counts (within SL, short abandons)
// are left out here: a wait within a few ms of the threshold could fall either side.
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, queueSettings, type CallboardConfig, type ClickHouse } from '@callboard/platform';
import { startYeastarPSimulator, type RunningYeastarPSimulator } from '@callboard/simulator/run';
import { callCentreScenario, DEFAULT_BEHAVIOUR } from '@callboard/simulator/scenarios';
import { agentMetrics, callMetrics, queueMetrics } from '@callboard/projections/read';
import { startStack, type Stack } from '../../cli/stack.ts';
import { eventually, testConfig } from '../helpers.ts';
import { logFolded } from './log-folded.ts';
import { agentMetricsFromLedger, callMetricsFromLedger, queueMetricsFromLedger } from './ledger-metrics.ts';

const TZ = 'Europe/London';
const QN: Record<string, string> = { sales: '6400', support: '6401' };
const MINUTES = 3;
const log = createLogger('truth-yeastar', process.env.LOG_LEVEL ?? 'warn');
let cfg: CallboardConfig;
let ch: ClickHouse;
let stack: Stack;
let sim: RunningYeastarPSimulator;
let day: string;

beforeAll(async () => {
  const now = Date.now() + 5000;
  day = DateTime.fromMillis(now, { zone: TZ }).toISODate()!;
  const base = callCentreScenario({ tenant: 'globex', pbx: 'globex-p', timezone: TZ, seed: 31, from_ms: now, to_ms: now + MINUTES * 60_000, logout_at_end: true, first_extension: 2001 });
  // A busy, fast slice: every agent on shift, short calls, flat hour profile.
  const scenario = {
    ...base,
    hour_profile: Array(24).fill(1),
    queues: base.queues.map((q) => ({ ...q, calls_per_day: q.queue === 'sales' ? 9000 : 6000, max_wait_s: q.queue === 'sales' ? 40 : 90, ring_timeout_s: 8, retry_s: 2 })),
    agents: base.agents.map((a) => ({ ...a, shift_start: '00:00', shift_hours: 24 })),
    behaviour: { ...DEFAULT_BEHAVIOUR, talk_mean_s: 20, patience_mean_s: 30, hold_mean_s: 4, consult_mean_s: 4, ring_delay_min_s: 1, ring_delay_max_s: 4, breaks: [], extra_pause_p: 0, outbound_per_agent_hour: 6 },
  };
  process.env.TRUTH_YEASTAR_SECRET = `s-${process.pid}`;
  cfg = testConfig({
    tenants: [{ id: 'globex', timezone: TZ, week_start: 'monday' }],
    queues: [
      { tenant: 'globex', queue: QN.sales, wrap_up_s: 10 },
      { tenant: 'globex', queue: QN.support, wrap_up_s: 0 },
    ],
    pbxes: [{ id: 'globex-p', tenant: 'globex', kind: 'yeastar-p', username: 'truth', secret_env: 'TRUTH_YEASTAR_SECRET' }],
  });
  const simulators = async () => {
    sim = await startYeastarPSimulator({ scenario, queueNumbers: QN, clientId: 'truth', clientSecret: `s-${process.pid}`, speed: 1, log });
    return [{ pbx: 'globex-p', at: { base_url: sim.base_url }, stop: () => sim.stop() }];
  };
  stack = await startStack(cfg, { simulators, kafkaTopics: true, clickhouse: true, projections: true, ingest: true }, { log });
  ch = stack.ch!;
  await sim.done;
  const l = sim.ledger;
  const q0 = { tenant_id: 'globex', timezone: TZ, week_start: 'monday' as const, period: { kind: 'DAY' as const, date: day }, settings: (q: string) => queueSettings(cfg, 'globex', q) };
  await eventually(
    async () => {
      const [q] = await queueMetrics(ch, { ...q0, group_by: 'none' });
      const [c] = await callMetrics(ch, { ...q0, group_by: 'none' });
      return q && q.offered === l.legs.length && q.waiting === 0 && c && c.calls === l.calls.length ? true : undefined;
    },
    120_000,
    `projections to hold ${l.legs.length} legs and ${l.calls.length} calls`,
  );
  const folded = logFolded(cfg);
  await eventually(async () => ((await folded()) ? true : undefined), 60_000, 'the projections to fold the whole log');
}, 600_000);

afterAll(async () => {
  await stack?.stop();
});

const near = (got: number | null | undefined, want: number | null, slackS: number): boolean => (got ?? null) === want || (got != null && want != null && Math.abs(got - want) <= slackS);

describe('truth through the Yeastar P-Series adapter (real time)', () => {
  const span = () => {
    const d = DateTime.fromISO(day, { zone: TZ });
    return { start: d.startOf('day').toMillis(), end: d.startOf('day').plus({ days: 1 }).toMillis() };
  };
  const base = () => ({ tenant_id: 'globex', timezone: TZ, week_start: 'monday' as const, period: { kind: 'DAY' as const, date: day }, settings: (q: string) => queueSettings(cfg, 'globex', q) });

  it('queue counts equal the ledger; time sums within the delivery delay', async () => {
    expect(sim.ledger.legs.length, 'a busy slice').toBeGreaterThan(10);
    const rows = await queueMetrics(ch, { ...base(), group_by: 'queue' });
    const diffs: string[] = [];
    for (const [name, number] of Object.entries(QN)) {
      const legs = sim.ledger.legs.filter((x) => x.queue === name);
      const want = queueMetricsFromLedger(legs, span(), queueSettings(cfg, 'globex', number));
      const got = rows.find((r) => r.queue === number);
      if (!got) {
        diffs.push(`queue ${number}: no row`);
        continue;
      }
      for (const f of ['offered', 'answered', 'abandoned', 'exited', 'waiting', 'transferred'] as const) if (got[f] !== want[f]) diffs.push(`queue ${number} ${f}: got ${got[f]}, want ${want[f]}`);
      const n = legs.length;
      for (const f of ['talk_time', 'hold_time', 'wrap_time'] as const) if (!near(got[f], want[f], 0.5 * n)) diffs.push(`queue ${number} ${f}: got ${got[f]}, want ${want[f]} (±${0.5 * n} s)`);
      if (!near(got.asa, want.asa, 0.5)) diffs.push(`queue ${number} asa: got ${got.asa}, want ${want.asa} (±0.5 s)`);
    }
    expect(diffs).toEqual([]);
  });

  it('agent handled and missed equal the ledger; on-call time within the delivery delay', async () => {
    const rows = await agentMetrics(ch, { ...base(), group_by: 'agent' });
    const diffs: string[] = [];
    for (const a of sim.ledger.agents) {
      const want = agentMetricsFromLedger(sim.ledger, a.agent, span());
      const got = rows.find((r) => r.agent_id === a.agent);
      if (!got) {
        diffs.push(`agent ${a.agent}: no row`);
        continue;
      }
      if (got.handled !== want.handled) diffs.push(`agent ${a.agent} handled: got ${got.handled}, want ${want.handled}`);
      if (got.missed !== want.missed) diffs.push(`agent ${a.agent} missed: got ${got.missed}, want ${want.missed}`);
      const slack = 0.5 * (want.handled + want.missed + 2);
      if (!near(got.logged_in_time, want.logged_in_time, slack)) diffs.push(`agent ${a.agent} logged_in_time: got ${got.logged_in_time}, want ${want.logged_in_time}`);
      if (!near(got.talk_time, want.talk_time, slack)) diffs.push(`agent ${a.agent} talk_time: got ${got.talk_time}, want ${want.talk_time}`);
    }
    expect(diffs).toEqual([]);
  });

  it('CDR counts equal the ledger', async () => {
    const [got] = await callMetrics(ch, { ...base(), group_by: 'none' });
    const want = callMetricsFromLedger(sim.ledger, span());
    const diffs: string[] = [];
    for (const f of ['calls', 'inbound', 'outbound', 'answered', 'no_answer', 'busy'] as const) if (got?.[f] !== want[f]) diffs.push(`calls ${f}: got ${got?.[f]}, want ${want[f]}`);
    expect(diffs).toEqual([]);
  });
});

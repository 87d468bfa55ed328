// Small builders for board snapshots in the API's shape (api/schema.graphql BoardUpdate.live).
import type { LiveAgent, LiveState, QueueMetrics } from '../src/lib/model.ts';

export function qm(over: Partial<QueueMetrics> = {}): QueueMetrics {
  return {
    offered: 0,
    answered: 0,
    abandoned: 0,
    short_abandoned: 0,
    exited: 0,
    waiting: 0,
    answered_within_sl: 0,
    abandoned_within_sl: 0,
    service_level: null,
    abandon_rate: null,
    asa: null,
    avg_abandon_wait: null,
    max_wait: null,
    aht: null,
    wait_p90: null,
    transferred: 0,
    ...over,
  };
}

export function agent(id: string, state: LiveAgent['state'], over: Partial<LiveAgent> = {}): LiveAgent {
  return { agent_id: id, agent_name: `Agent ${id}`, state, reason: null, state_start: '2026-03-29T07:00:00.000Z', queues: ['sales'], pbx_id: 'pbx-1', handled_today: 0, ...over };
}

export function live(over: Partial<LiveState> = {}): LiveState {
  return {
    server_time: '2026-03-29T07:15:00.000Z',
    today_date: '2026-03-29',
    today: qm(),
    queues: [],
    waiting_calls: [],
    agents: [],
    ...over,
  };
}

// The board `callboard start` puts on the demo's TV: what a supervisor would choose for a floor
// of two queues — every headline figure with thresholds (word, shape and colour), the oldest
// waiting call, the queues by name, every agent, and today's volume against the SL target. The
// service level shows its change against yesterday (▲▼); acme's schedule (demo/demo.yaml) makes
// the queue table say when a closed queue opens and the chart shade the closed hours.
import type { BoardInput } from '@callboard/api/boards';

const SL = { metric: 'service_level', direction: 'BELOW', warn: 0.8, critical: 0.6 } as const;
const ABANDON = { metric: 'abandon_rate', direction: 'ABOVE', warn: 0.05, critical: 0.1 } as const;
const ASA = { metric: 'asa', direction: 'ABOVE', warn: 20, critical: 40 } as const;
const WAITING = { metric: 'waiting', direction: 'ABOVE', warn: 3, critical: 6 } as const;
const OLDEST = { metric: 'max_wait', direction: 'ABOVE', warn: 30, critical: 60 } as const;

/** `agentsByQueue: false` lists every agent of the tenant (a PBX that reports no queue membership, the Yeastar S-Series). */
export function demoBoard(queues: string[], o: { agentsByQueue?: boolean } = {}): BoardInput {
  return {
    name: 'Demo floor',
    columns: 12,
    tiles: [
      { id: 'sl', kind: 'KPI', title: 'Service level', x: 0, y: 0, w: 2, h: 1, metric: 'service_level', queues, thresholds: [SL], compare: 'PREVIOUS' },
      { id: 'abandon', kind: 'KPI', title: 'Abandon rate', x: 2, y: 0, w: 2, h: 1, metric: 'abandon_rate', queues, thresholds: [ABANDON] },
      { id: 'asa', kind: 'KPI', title: 'ASA', x: 4, y: 0, w: 2, h: 1, metric: 'asa', queues, thresholds: [ASA] },
      { id: 'waiting', kind: 'KPI', title: 'Waiting now', x: 6, y: 0, w: 2, h: 1, metric: 'waiting', queues, thresholds: [WAITING] },
      { id: 'oldest', kind: 'KPI', title: 'Oldest call', x: 8, y: 0, w: 2, h: 1, metric: 'max_wait', queues, thresholds: [OLDEST] },
      { id: 'abandoned', kind: 'KPI', title: 'Abandoned', x: 10, y: 0, w: 2, h: 1, metric: 'abandoned', queues },
      { id: 'queues', kind: 'QUEUE_TABLE', title: 'Queues', x: 0, y: 1, w: 6, h: 2, queues, thresholds: [SL, ABANDON, ASA, WAITING, OLDEST] },
      { id: 'agents', kind: 'AGENT_GRID', title: 'Agents', x: 6, y: 1, w: 6, h: 4, queues: o.agentsByQueue === false ? [] : queues },
      { id: 'intraday', kind: 'INTRADAY_CHART', title: 'Today', x: 0, y: 3, w: 6, h: 2, queues, interval: 'MIN_15', thresholds: [SL] },
    ],
  };
}

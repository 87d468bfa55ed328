// The parts of api/schema.graphql the wallboard selects, as TypeScript. Field names are the
// API's, which are the METRICS.md names; keep the selections in queries.ts and these in step.

export type AgentStateName = 'available' | 'ringing' | 'on_call' | 'on_hold' | 'wrap_up' | 'paused' | 'offline';
export type TileKind = 'KPI' | 'QUEUE_TABLE' | 'AGENT_GRID' | 'INTRADAY_CHART';
export type PeriodKind = 'TODAY' | 'THIS_WEEK' | 'THIS_MONTH';
export type IntradayInterval = 'MIN_15' | 'MIN_30' | 'MIN_60';

export interface QueueMetrics {
  offered: number;
  answered: number;
  abandoned: number;
  short_abandoned: number;
  exited: number;
  waiting: number;
  answered_within_sl: number;
  abandoned_within_sl: number;
  service_level: number | null;
  abandon_rate: number | null;
  asa: number | null;
  avg_abandon_wait: number | null;
  max_wait: number | null;
  aht: number | null;
  wait_p90: number | null;
  transferred: number;
}

export interface ThresholdDef {
  metric: string;
  direction: 'ABOVE' | 'BELOW';
  warn: number | null;
  critical: number | null;
}

export interface TileDef {
  id: string;
  kind: TileKind;
  title: string | null;
  x: number;
  y: number;
  w: number;
  h: number;
  metric: string | null;
  queues: string[];
  interval: IntradayInterval | null;
  thresholds: ThresholdDef[];
}

export interface BoardDef {
  id: string;
  name: string;
  columns: number;
  tiles: TileDef[];
  version: number;
}

export interface WaitingCall {
  call_id: string;
  queue: string;
  leg_id: string;
  caller_number: string | null;
  position: number | null;
  wait_start: string;
}

export interface LiveAgent {
  agent_id: string;
  agent_name: string | null;
  state: AgentStateName;
  reason: string | null;
  state_start: string;
  queues: string[];
}

export interface LiveQueue {
  queue: string;
  waiting: number;
  max_wait: number | null;
  today: QueueMetrics;
}

export interface LiveState {
  server_time: string;
  today_date: string;
  today: QueueMetrics;
  queues: LiveQueue[];
  waiting_calls: WaitingCall[];
  agents: LiveAgent[];
}

export interface BoardUpdate {
  server_time: string;
  seq: number;
  board: BoardDef;
  live: LiveState;
  /** The tenant's zone and locale: a display token cannot read `tenant`, so the board carries them. */
  timezone?: string;
  locale?: string;
  /** Today's intraday series for the board's queues (what a display token's chart shows). */
  intraday?: IntradaySeries;
}

export interface TenantInfo {
  id: string;
  name: string;
  timezone: string;
  locale: string;
  week_start: 'MONDAY' | 'SUNDAY';
}

export interface IntradayPoint {
  start: string;
  local_time: string;
  queue_metrics: Pick<QueueMetrics, 'offered' | 'answered' | 'service_level'>;
}

export interface IntradaySeries {
  date: string;
  interval: IntradayInterval;
  points: IntradayPoint[];
}

export interface MetricsRow {
  key: string;
  queue_metrics: QueueMetrics | null;
}

export interface PeriodMetrics {
  period: { kind: string; start: string; end: string; from: string; to: string };
  rows: MetricsRow[];
}

export interface QueueLeg {
  leg_id: string;
  queue: string;
  offered_at: string;
  outcome: string;
  wait: number | null;
  agent_id: string | null;
}

export interface CallSummary {
  call_id: string;
  started_at: string;
  ended_at: string | null;
  direction: string | null;
  caller_number: string | null;
  called_number: string | null;
  disposition: string | null;
  duration: number | null;
  queue_legs: QueueLeg[];
}

export interface TimelineEvent {
  event_id: string;
  type: string;
  occurred_at: string;
  source: string;
  pbx_id: string;
  agent_id: string | null;
  payload: Record<string, unknown>;
  raw: { topic: string; partition: number | null; offset: string | null } | null;
}

export interface CallDetail extends CallSummary {
  raw_disposition: string | null;
  billsec: number | null;
  timeline: TimelineEvent[];
}

export type CallOutcome = 'ANSWERED' | 'ABANDONED' | 'EXITED' | 'NO_ANSWER' | 'BUSY' | 'FAILED' | 'CONGESTION';

// The wallboard's names for what the API sends it. Every type is derived from gql-types.ts,
// which `npm run gen:graphql` generates from api/schema.graphql and the selections in
// queries.ts, so a field the schema renames or a selection drops is a type error here and in
// the components. Field names are the API's, which are the METRICS.md names.
import type {
  BoardsQuery,
  BoardSubscription,
  CallQuery,
  CallsQuery,
  IntradayQuery,
  PeriodKind as ApiPeriodKind,
  PeriodMetricsQuery,
  TenantQuery,
} from './gql-types.ts';

export type { AgentState as AgentStateName, CallOutcome, IntradayInterval, Role, TileKind, WeekStart } from './gql-types.ts';

/** The periods the board's switch offers (the API knows more). */
export type PeriodKind = Extract<ApiPeriodKind, 'TODAY' | 'THIS_WEEK' | 'THIS_MONTH'>;

export type BoardUpdate = BoardSubscription['board'];
export type BoardDef = BoardUpdate['board'];
export type TileDef = BoardDef['tiles'][number];
export type ThresholdDef = TileDef['thresholds'][number];

export type LiveState = BoardUpdate['live'];
export type QueueMetrics = LiveState['today'];
export type LiveQueue = LiveState['queues'][number];
export type WaitingCall = LiveState['waiting_calls'][number];
export type LiveAgent = LiveState['agents'][number];
export type BoardQueue = BoardUpdate['queues'][number];
export type PbxFeed = BoardUpdate['feeds'][number];
export type TileToday = BoardUpdate['tiles_today'][number];

export type IntradaySeries = IntradayQuery['intraday'];
export type IntradayPoint = IntradaySeries['points'][number];

export type TenantInfo = TenantQuery['tenant'];
export type BoardSummary = BoardsQuery['boards'][number];

export type PeriodMetrics = PeriodMetricsQuery['metrics'];
export type MetricsRow = PeriodMetrics['rows'][number];

export type CallSummary = CallsQuery['calls']['edges'][number]['node'];
export type QueueLeg = CallSummary['queue_legs'][number];
export type CallDetail = CallQuery['call'];
export type TimelineEvent = CallDetail['timeline'][number];

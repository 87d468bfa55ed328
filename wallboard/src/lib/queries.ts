// Every GraphQL operation the wallboard sends. After changing a selection run
// `npm run gen:graphql`: it regenerates gql-types.ts, from which model.ts derives its types.
import type * as G from './gql-types.ts';

/**
 * An operation's text carrying its generated result and variables types, so a call site
 * cannot pair an operation with the wrong types.
 */
export type Operation<TResult, TVariables> = string & { readonly __types?: [TResult, TVariables] };

const QUEUE_METRICS = `offered answered abandoned short_abandoned exited waiting answered_within_sl abandoned_within_sl
  service_level abandon_rate asa avg_abandon_wait max_wait aht wait_p90 transferred`;

// A board's definition and the live state as the board draws them: one selection each for the
// board subscription and the designer, so both get the same TileDef and LiveState types.
const BOARD_DEF = `id name columns version tiles { id kind title x y w h metric queues interval compare thresholds { metric direction warn critical } }`;

const LIVE_STATE = `server_time today_date
  today { ${QUEUE_METRICS} }
  queues { queue waiting max_wait today { ${QUEUE_METRICS} } }
  waiting_calls { call_id queue leg_id caller_number position wait_start pbx_id }
  agents { agent_id agent_name state reason state_start queues pbx_id handled_today }`;

export const BOARD_SUBSCRIPTION = `subscription Board($id: ID!) {
  board(id: $id) {
    server_time seq
    board { ${BOARD_DEF} }
    live { ${LIVE_STATE} }
    timezone locale
    intraday { date interval points { start local_time business_hours queue_metrics { offered answered service_level } } }
    queues { queue name sl_threshold_s interval_sl_min_legs colour open opens_at closes_at }
    feeds { pbx_id link link_since link_detail data_until catching_up clock_offset_s last_gap { from to reason } }
    comparisons { tile_id compare value period { from to } }
    tiles_today { tile_id today { ${QUEUE_METRICS} } }
  }
}` as Operation<G.BoardSubscription, G.BoardSubscriptionVariables>;

export const ME_QUERY = `query Me { me { tenant_id role board_id } }` as Operation<G.MeQuery, G.MeQueryVariables>;
export const BOARDS_QUERY = `query Boards { boards { id name } }` as Operation<G.BoardsQuery, G.BoardsQueryVariables>;
export const TENANT_QUERY = `query Tenant { tenant { id name timezone locale week_start } }` as Operation<G.TenantQuery, G.TenantQueryVariables>;

export const PERIOD_METRICS_QUERY = `query PeriodMetrics($period: PeriodInput!, $groupBy: GroupBy, $filter: MetricsFilter) {
  metrics(period: $period, groupBy: $groupBy, filter: $filter) {
    period { kind start end from to }
    rows { key queue_metrics { ${QUEUE_METRICS} } }
  }
}` as Operation<G.PeriodMetricsQuery, G.PeriodMetricsQueryVariables>;

export const INTRADAY_QUERY = `query Intraday($interval: IntradayInterval, $filter: MetricsFilter) {
  intraday(interval: $interval, filter: $filter) {
    date interval
    points { start local_time business_hours queue_metrics { offered answered service_level } }
  }
}` as Operation<G.IntradayQuery, G.IntradayQueryVariables>;

const CALL_SUMMARY = `call_id started_at ended_at direction caller_number called_number disposition duration
  queue_legs { leg_id queue offered_at outcome wait agent_id }`;

export const CALLS_QUERY = `query Calls($filter: CallFilter, $first: Int, $after: String) {
  calls(filter: $filter, first: $first, after: $after) {
    edges { cursor node { ${CALL_SUMMARY} } }
    page_info { has_next_page end_cursor }
  }
}` as Operation<G.CallsQuery, G.CallsQueryVariables>;

export const CALL_QUERY = `query Call($id: ID!) {
  call(id: $id) {
    ${CALL_SUMMARY} raw_disposition billsec
    timeline { event_id type occurred_at source pbx_id agent_id payload raw { topic partition offset } }
  }
}` as Operation<G.CallQuery, G.CallQueryVariables>;

export const ALERTS_SUBSCRIPTION = `subscription Alerts($board_id: ID) {
  alerts(board_id: $board_id) { id state level board_id tile_id tile_title metric queue queues direction threshold value current clear_level raised_at }
}` as Operation<G.AlertsSubscription, G.AlertsSubscriptionVariables>;

// The board designer (src/designer/): the board with its version, the tenant's queues to choose
// from, the live state for its preview (the draft's queues are not the stored board's, so the
// board subscription would not carry them), and the two writes, whose answer carries the new version.
export const DESIGN_BOARD_QUERY = `query DesignBoard($id: ID!) { board(id: $id) { ${BOARD_DEF} } }` as Operation<G.DesignBoardQuery, G.DesignBoardQueryVariables>;

export const QUEUES_QUERY = `query Queues { queues { queue name colour } }` as Operation<G.QueuesQuery, G.QueuesQueryVariables>;

export const DESIGN_LIVE_QUERY = `query DesignLive { live { ${LIVE_STATE} } }` as Operation<G.DesignLiveQuery, G.DesignLiveQueryVariables>;

/** Today's live figures over several queues as one (a KPI tile's; the board gets them as tiles_today). */
export const DESIGN_TILE_TODAY_QUERY = `query DesignTileToday($queues: [String!]) { live(filter: { queues: $queues }) { today { ${QUEUE_METRICS} } } }` as Operation<
  G.DesignTileTodayQuery,
  G.DesignTileTodayQueryVariables
>;

export const CREATE_BOARD_MUTATION = `mutation CreateBoard($input: BoardInput!) { createBoard(input: $input) { ${BOARD_DEF} } }` as Operation<
  G.CreateBoardMutation,
  G.CreateBoardMutationVariables
>;

export const UPDATE_BOARD_MUTATION = `mutation UpdateBoard($id: ID!, $input: BoardInput!, $expected_version: Int) {
  updateBoard(id: $id, input: $input, expected_version: $expected_version) { ${BOARD_DEF} }
}` as Operation<G.UpdateBoardMutation, G.UpdateBoardMutationVariables>;

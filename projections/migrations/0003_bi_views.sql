-- BI views: the stable, documented surface for analysts and BI tools (projections/README.md).
-- Internal tables may change; these columns keep their names and meaning (METRICS.md names).
-- Durations are in seconds. Each view reads merged rows (FINAL). Row policies on the tables
-- underneath restrict a tenant's BI user to its own rows (bi-access.ts, server only).

CREATE OR REPLACE VIEW {{db}}.bi_calls
(
    tenant_id String COMMENT 'Tenant',
    call_id String COMMENT 'call: the PBX linked id; one row per call (Local-channel legs and duplicates are one call)',
    pbx_id String COMMENT 'PBX the call came through',
    started_at DateTime64(3, 'UTC') COMMENT 'Call start (UTC); CDR metrics count calls whose start falls in the period',
    ended_at Nullable(DateTime64(3, 'UTC')) COMMENT 'Call end (UTC); null while the call is up',
    direction String COMMENT 'inbound | outbound | internal',
    caller_number String COMMENT 'Calling party number',
    called_number String COMMENT 'Dialled number or DID',
    extension String COMMENT 'Local extension on the call (busy_time per extension)',
    answered_at Nullable(DateTime64(3, 'UTC')) COMMENT 'First answer (UTC)',
    agent_id String COMMENT 'First answering agent',
    queues Array(String) COMMENT 'Queues the call entered, in order',
    legs UInt16 COMMENT 'Number of queue legs',
    transferred UInt8 COMMENT '1 when the call was transferred',
    disposition String COMMENT 'Canonical disposition: ANSWERED, NO ANSWER, BUSY, FAILED, CONGESTION (vendor values mapped)',
    raw_disposition String COMMENT 'The vendor disposition, unchanged',
    hangup_cause Nullable(UInt16) COMMENT 'Q.850 cause code',
    duration Float64 COMMENT 'duration: start to end, seconds',
    billsec Float64 COMMENT 'billsec: answer to end, seconds'
)
COMMENT 'One row per call (METRICS.md "Extension and call metrics")'
AS SELECT tenant_id, call_id, pbx_id, started_at, ended_at, direction, caller_number, called_number, extension, answered_at, agent_id,
          queues, legs, transferred, disposition, raw_disposition, hangup_cause, duration_ms / 1000 AS duration, billsec_ms / 1000 AS billsec
   FROM {{db}}.calls FINAL;

CREATE OR REPLACE VIEW {{db}}.bi_queue_legs
(
    tenant_id String COMMENT 'Tenant',
    queue String COMMENT 'Queue',
    call_id String COMMENT 'call the leg belongs to',
    leg_id String COMMENT 'queue leg: one entry of a call into one queue',
    offered_at DateTime64(3, 'UTC') COMMENT 'offered: when the leg entered the queue (UTC); the leg belongs to this instant''s period',
    bucket DateTime('UTC') COMMENT '15-minute UTC bucket of offered_at',
    outcome String COMMENT 'answered | abandoned | exited | waiting',
    exit_reason String COMMENT 'For exited legs: timeout, key, empty, full, withdraw, transfer, other',
    wait Float64 COMMENT 'Wait from queue entry to answer, hang-up or exit, seconds (asa, avg_abandon_wait, wait_p50/p90/p99, max_wait)',
    agent_id String COMMENT 'Answering agent',
    answered_at Nullable(DateTime64(3, 'UTC')) COMMENT 'When the leg was answered (UTC)',
    talk_time Float64 COMMENT 'talk_time: connected time minus hold, seconds',
    hold_time Float64 COMMENT 'hold_time: time on hold, seconds',
    wrap_time Nullable(Float64) COMMENT 'wrap_time reported by the PBX, seconds; null: the queue''s wrap_up_s setting applies',
    transferred UInt8 COMMENT 'transferred: answered leg that ended in a blind or attended transfer'
)
COMMENT 'One row per queue leg (METRICS.md "Queue metrics")'
AS SELECT tenant_id, queue, call_id, leg_id, offered_at, bucket, toString(outcome) AS outcome, exit_reason, wait_ms / 1000 AS wait, agent_id, answered_at,
          talk_ms / 1000 AS talk_time, hold_ms / 1000 AS hold_time, wrap_ms / 1000 AS wrap_time, transferred
   FROM {{db}}.queue_legs FINAL;

CREATE OR REPLACE VIEW {{db}}.bi_agent_intervals
(
    tenant_id String COMMENT 'Tenant',
    agent_id String COMMENT 'agent',
    agent_name String COMMENT 'Display name when the PBX gives one',
    state String COMMENT 'available | ringing | on_call | on_hold | wrap_up | paused | offline',
    reason String COMMENT 'Pause reason (pause_time_by_reason), for state paused',
    started_at DateTime64(3, 'UTC') COMMENT 'Interval start (UTC)',
    ended_at Nullable(DateTime64(3, 'UTC')) COMMENT 'Interval end (UTC); null: the current state',
    duration Nullable(Float64) COMMENT 'Seconds in the state; clip to the period before summing (logged_in_time, occupancy, utilization)'
)
COMMENT 'Agent state timeline (METRICS.md "Agent metrics")'
AS SELECT tenant_id, agent_id, agent_name, state, reason, started_at, ended_at,
          if(ended_at IS NULL, NULL, (toUnixTimestamp64Milli(ended_at) - toUnixTimestamp64Milli(started_at)) / 1000) AS duration
   FROM {{db}}.agent_intervals FINAL;

CREATE OR REPLACE VIEW {{db}}.bi_queue_15m
(
    tenant_id String COMMENT 'Tenant',
    bucket DateTime('UTC') COMMENT '15-minute UTC bucket; every local day, week and month is an exact union of buckets',
    queue String COMMENT 'Queue',
    offered UInt64 COMMENT 'offered',
    answered UInt64 COMMENT 'answered',
    abandoned UInt64 COMMENT 'abandoned',
    exited UInt64 COMMENT 'exited',
    waiting UInt64 COMMENT 'waiting (legs with no outcome yet)',
    transferred UInt64 COMMENT 'transferred',
    answered_wait_sum Float64 COMMENT 'Sum of answered waits, seconds (asa = answered_wait_sum / answered)',
    abandoned_wait_sum Float64 COMMENT 'Sum of abandoned waits, seconds (avg_abandon_wait = abandoned_wait_sum / abandoned)',
    max_wait Float64 COMMENT 'max_wait of finished legs, seconds',
    talk_time Float64 COMMENT 'talk_time, seconds',
    hold_time Float64 COMMENT 'hold_time, seconds',
    wrap_time_reported Float64 COMMENT 'wrap_time reported by the PBX, seconds; add wrap_default_legs × wrap_up_s for wrap_time',
    wrap_default_legs UInt64 COMMENT 'Completed answered legs without a PBX wrap time',
    answered_wait_hist Map(UInt32, UInt64) COMMENT 'Answered legs per wait key (whole seconds, rounded up; 60 s steps above 3600): answered_within_sl = sum of counts with key <= T',
    abandoned_wait_hist Map(UInt32, UInt64) COMMENT 'Abandoned legs per wait key rounded up: abandoned_within_sl = sum with key <= T',
    abandoned_wait_floor_hist Map(UInt32, UInt64) COMMENT 'Abandoned legs per wait key rounded down: short_abandoned = sum with key < short_abandon_s'
)
COMMENT '15-minute queue rollup; merge any set of buckets by summing'
AS SELECT tenant_id, bucket, queue, offered, answered, abandoned, exited, waiting, transferred,
          answered_wait_ms / 1000 AS answered_wait_sum, abandoned_wait_ms / 1000 AS abandoned_wait_sum, max_wait_ms / 1000 AS max_wait,
          talk_ms / 1000 AS talk_time, hold_ms / 1000 AS hold_time, wrap_ms / 1000 AS wrap_time_reported, wrap_default_legs,
          CAST(answered_wait_ceil_s, 'Map(UInt32, UInt64)') AS answered_wait_hist, CAST(abandoned_wait_ceil_s, 'Map(UInt32, UInt64)') AS abandoned_wait_hist,
          CAST(abandoned_wait_floor_s, 'Map(UInt32, UInt64)') AS abandoned_wait_floor_hist
   FROM {{db}}.queue_15m FINAL;

-- Parameterised daily queue report in a tenant's zone:
--   SELECT * FROM callboard.bi_queue_daily(tenant = 'acme', tz = 'Africa/Nairobi', sl_threshold_s = 20, short_abandon_s = 5)
-- Weeks and months: group its rows by toMonday(day) / toStartOfMonth(day) (README).
CREATE OR REPLACE VIEW {{db}}.bi_queue_daily
AS SELECT
    day, queue, n_offered AS offered, n_answered AS answered, n_abandoned AS abandoned, n_short AS short_abandoned,
    n_exited AS exited, n_waiting AS waiting, n_answered_sl AS answered_within_sl, n_abandoned_sl AS abandoned_within_sl,
    if(n_offered - n_short - n_waiting > 0, n_answered_sl / (n_offered - n_short - n_waiting), NULL) AS service_level,
    if(n_offered - n_short - n_waiting > 0, (n_abandoned - n_short) / (n_offered - n_short - n_waiting), NULL) AS abandon_rate,
    if(n_answered > 0, s_answered_wait / n_answered, NULL) AS asa,
    if(n_abandoned > 0, s_abandoned_wait / n_abandoned, NULL) AS avg_abandon_wait,
    m_wait AS max_wait, s_talk AS talk_time, s_hold AS hold_time, n_transferred AS transferred
FROM
(
    SELECT
        toDate(bucket, {tz:String}) AS day,
        queue,
        sum(offered) AS n_offered,
        sum(answered) AS n_answered,
        sum(abandoned) AS n_abandoned,
        sum(arraySum(mapValues(mapFilter((k, v) -> k < {short_abandon_s:UInt32}, abandoned_wait_floor_s)))) AS n_short,
        sum(exited) AS n_exited,
        sum(waiting) AS n_waiting,
        sum(arraySum(mapValues(mapFilter((k, v) -> k <= {sl_threshold_s:UInt32}, answered_wait_ceil_s)))) AS n_answered_sl,
        sum(arraySum(mapValues(mapFilter((k, v) -> k <= {sl_threshold_s:UInt32}, abandoned_wait_ceil_s)))) AS n_abandoned_sl,
        sum(answered_wait_ms) / 1000 AS s_answered_wait,
        sum(abandoned_wait_ms) / 1000 AS s_abandoned_wait,
        max(max_wait_ms) / 1000 AS m_wait,
        sum(talk_ms) / 1000 AS s_talk,
        sum(hold_ms) / 1000 AS s_hold,
        sum(transferred) AS n_transferred
    FROM {{db}}.queue_15m FINAL
    WHERE tenant_id = {tenant:String}
    GROUP BY day, queue
)

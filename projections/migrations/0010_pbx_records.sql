-- The PBX's own records (Asterisk queue_log and CDR, Yeastar CDR), stored beside Callboard's
-- projections so that a reconciliation (METRICS.md "Reconciliation against the PBX's own records")
-- can be asked of the API and of BI tools, not only of a file on the PBX host. Written by
-- `callboard reconcile` (projections/src/reconcile/stored.ts) from the files it reads; a record
-- read again from a rotated or re-imported file replaces its row (its identity is in ORDER BY,
-- never a line number, which changes with rotation).

-- One queue leg as the PBX logged it: ENTERQUEUE and its CONNECT / ABANDON / EXIT*, whole seconds.
CREATE TABLE IF NOT EXISTS {{db}}.pbx_queue_legs
(
    tenant_id LowCardinality(String),
    pbx_id LowCardinality(String),
    source LowCardinality(String),
    call_id String,
    pbx_call_id String,
    queue LowCardinality(String),
    entered_at DateTime64(3, 'UTC'),
    line UInt64,
    outcome LowCardinality(String),
    wait_s Nullable(UInt32),
    agent_id String,
    answered_at Nullable(DateTime64(3, 'UTC')),
    talk_s Nullable(UInt32),
    call_continues UInt8,
    imported_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(imported_at)
PARTITION BY toYYYYMM(entered_at)
ORDER BY (tenant_id, queue, entered_at, call_id, pbx_call_id)
SETTINGS non_replicated_deduplication_window = 0;

-- An agent's ring-no-answer, pause, connected segment or transfer as the PBX logged it.
CREATE TABLE IF NOT EXISTS {{db}}.pbx_agent_records
(
    tenant_id LowCardinality(String),
    pbx_id LowCardinality(String),
    source LowCardinality(String),
    kind LowCardinality(String),
    agent_id String,
    call_id String,
    queue LowCardinality(String),
    -- pause reason, or the transfer's kind (attended, blind)
    reason String,
    -- a blind transfer's extension
    target String,
    from_at DateTime64(3, 'UTC'),
    to_at Nullable(DateTime64(3, 'UTC')),
    line UInt64,
    imported_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(imported_at)
PARTITION BY toYYYYMM(from_at)
ORDER BY (tenant_id, kind, agent_id, from_at, call_id, queue, reason)
SETTINGS non_replicated_deduplication_window = 0;

-- What each import covered: the PBX side's data until.
CREATE TABLE IF NOT EXISTS {{db}}.pbx_imports
(
    tenant_id LowCardinality(String),
    pbx_id LowCardinality(String),
    source LowCardinality(String),
    first_at DateTime64(3, 'UTC'),
    data_until DateTime64(3, 'UTC'),
    legs UInt64,
    imported_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(imported_at)
ORDER BY (tenant_id, pbx_id, source, first_at, data_until);

-- Queue legs of both sides paired (the same call, queue and n-th entry of that call into that
-- queue), each pair classed, then counted per local day and queue. Parameterized like
-- bi_queue_daily (the zone and threshold are the tenant's and queue's settings):
--   SELECT * FROM callboard.bi_reconciliation(tenant = 'acme', tz = 'Africa/Nairobi', sl_threshold_s = 20,
--                                             from = '2026-11-01', to = '2026-11-30')
-- A pair belongs to the day of Callboard's offered time (the PBX's when Callboard has no leg).
-- Class of a pair, the first that applies (METRICS.md "Reconciliation"):
--   missing      on one side only;  in_progress  still waiting on one side where its data ends;
--   unknown      outcomes differ otherwise, or a wait or talk off by a second or more;
--   truncation   a wait or talk off by under a second, or answered within T on one side only with
--                the PBX's whole-second wait at T;  ok  the same on both sides.
-- Agent figures (handled, missed, pause time) and the transfer_target and pause_during_call
-- classes need a person's view of a call: the GraphQL `reconciliation` query and
-- `callboard reconcile` give them.
CREATE OR REPLACE VIEW {{db}}.bi_reconciliation
AS SELECT
    day, queue,
    countIf(cb_offered) AS callboard_offered, countIf(pbx_offered) AS pbx_offered,
    countIf(cb_outcome = 'answered') AS callboard_answered, countIf(pbx_outcome = 'answered') AS pbx_answered,
    countIf(cb_outcome = 'abandoned') AS callboard_abandoned, countIf(pbx_outcome = 'abandoned') AS pbx_abandoned,
    countIf(cb_outcome = 'exited') AS callboard_exited, countIf(pbx_outcome = 'exited') AS pbx_exited,
    countIf(cb_outcome = 'answered' AND cb_wait <= {sl_threshold_s:UInt32}) AS callboard_answered_within_sl,
    countIf(pbx_outcome = 'answered' AND pbx_wait <= {sl_threshold_s:UInt32}) AS pbx_answered_within_sl,
    if(callboard_answered > 0, sumIf(cb_wait, cb_outcome = 'answered') / callboard_answered, NULL) AS callboard_asa,
    if(pbx_answered > 0, sumIf(pbx_wait, pbx_outcome = 'answered') / pbx_answered, NULL) AS pbx_asa,
    sumIf(cb_talk, cb_outcome = 'answered') AS callboard_talk, sumIf(pbx_talk, pbx_outcome = 'answered') AS pbx_talk,
    countIf(class = 'ok') AS legs_ok,
    countIf(class = 'truncation') AS legs_truncation,
    countIf(class = 'in_progress') AS legs_in_progress,
    countIf(class = 'missing') AS legs_missing,
    countIf(class = 'unknown') AS legs_unknown,
    arraySlice(groupArrayIf(concat(coalesce(call_id, ''), ' ', class), class IN ('missing', 'unknown')), 1, 100) AS calls_to_check
FROM
(
    SELECT
        toDate(if(cb.call_id != '', cb.offered_at, p.entered_at), {tz:String}) AS day,
        if(cb.call_id != '', cb.queue, p.queue) AS queue,
        if(cb.call_id != '', cb.call_id, p.call_id) AS call_id,
        cb.call_id != '' AS cb_offered, p.call_id != '' AS pbx_offered,
        if(cb_offered, cb.outcome, '') AS cb_outcome, if(pbx_offered, p.outcome, '') AS pbx_outcome,
        cb.wait_ms / 1000 AS cb_wait, toFloat64(ifNull(p.wait_s, 0)) AS pbx_wait,
        cb.connected_ms / 1000 AS cb_talk, toFloat64(ifNull(p.talk_s, 0)) AS pbx_talk,
        multiIf(
            NOT cb_offered OR NOT pbx_offered, 'missing',
            (cb_outcome = 'waiting') != (pbx_outcome = '') AND (cb_outcome = 'waiting' OR NOT p.call_continues), 'in_progress',
            cb_outcome != if(pbx_outcome = '', 'waiting', pbx_outcome), 'unknown',
            abs(cb_wait - pbx_wait) >= 1 OR abs(cb_talk - pbx_talk) >= 1, 'unknown',
            cb_wait != pbx_wait OR cb_talk != pbx_talk, 'truncation',
            'ok') AS class
    FROM
    (
        SELECT call_id, queue, offered_at, toString(outcome) AS outcome, wait_ms, talk_ms + hold_ms AS connected_ms,
               row_number() OVER (PARTITION BY call_id, queue ORDER BY offered_at) AS n
        FROM {{db}}.queue_legs FINAL
        WHERE tenant_id = {tenant:String}
          AND offered_at >= toDateTime64(toStartOfDay(toDateTime({from:Date}, {tz:String}) - INTERVAL 1 DAY), 3, 'UTC')
          AND offered_at < toDateTime64(toStartOfDay(toDateTime({to:Date}, {tz:String}) + INTERVAL 2 DAY), 3, 'UTC')
    ) AS cb
    FULL OUTER JOIN
    (
        SELECT call_id, queue, entered_at, outcome, wait_s, talk_s, call_continues,
               row_number() OVER (PARTITION BY call_id, queue ORDER BY entered_at) AS n
        FROM {{db}}.pbx_queue_legs FINAL
        WHERE tenant_id = {tenant:String}
          AND entered_at >= toDateTime64(toStartOfDay(toDateTime({from:Date}, {tz:String}) - INTERVAL 1 DAY), 3, 'UTC')
          AND entered_at < toDateTime64(toStartOfDay(toDateTime({to:Date}, {tz:String}) + INTERVAL 2 DAY), 3, 'UTC')
    ) AS p
    ON cb.call_id = p.call_id AND cb.queue = p.queue AND cb.n = p.n
)
WHERE day >= {from:Date} AND day <= {to:Date}
GROUP BY day, queue
ORDER BY day, queue;

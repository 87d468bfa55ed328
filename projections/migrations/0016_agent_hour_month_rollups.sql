-- Per-agent hour and month rollups (issue #17). The profile of a month by agent over 10 M legs
-- (docs/BENCHMARKS.md): of the ~18,000 rollup rows it merged, 14,000 were the 15-minute rows of
-- its edges (a local month starts and ends off the UTC day by the zone's offset) and 4,400 its
-- whole UTC days.
--
-- The month rollup: the queue rollup's columns per (queue, answering agent) over
-- the CORE of a UTC month: its UTC days from the 2nd to the one before its last. Every local month
-- of a zone less than a day off UTC covers that core whole (its edges fall within a day of the
-- UTC month's), so a month by agent reads one core row per agent and queue here, the month's other
-- whole UTC days (one or two) from queue_agent_1d and its edges from queue_agent_1h (below):
-- ~2 rows per agent and queue from the day tables instead of ~30. Whole UTC months would serve
-- only zones on UTC.
-- Written by the same recompute as queue_agent_1d (store.ts recomputeRollup, agentMonthsSql),
-- from the latest snapshot of each core day: all rows of a month in one statement with one
-- version, so a month's highest version is its current snapshot, read that way without FINAL
-- (read/agent-rollup.ts).
CREATE TABLE IF NOT EXISTS {{db}}.queue_agent_1mo
(
    tenant_id LowCardinality(String),
    month Date,
    queue LowCardinality(String),
    agent_id String,
    offered UInt32,
    answered UInt32,
    abandoned UInt32,
    exited UInt32,
    waiting UInt32,
    transferred UInt32,
    answered_wait_ceil_s Map(UInt32, UInt32),
    abandoned_wait_ceil_s Map(UInt32, UInt32),
    abandoned_wait_floor_s Map(UInt32, UInt32),
    answered_wait_ms UInt64,
    abandoned_wait_ms UInt64,
    max_wait_ms UInt64,
    talk_ms UInt64,
    hold_ms UInt64,
    wrap_ms UInt64,
    wrap_default_legs UInt32,
    answered_wait_ds Map(UInt32, UInt32),
    min_answered_wait_ms UInt64,
    max_answered_wait_ms UInt64,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYear(month)
ORDER BY (tenant_id, month, queue, agent_id)
SETTINGS non_replicated_deduplication_window = 0
;

-- The hour rollup: the same per UTC hour, recomputed from queue_agent_15m's latest snapshots of
-- the hour's buckets whenever one of them is (store.ts recomputeRollup, agentHoursSql). A month's
-- edges are whole hours in every zone on whole hours: read here, 24 rows per agent and queue
-- instead of 96; the 15-minute rows only for the quarter hours of a zone such as Asia/Kolkata.
CREATE TABLE IF NOT EXISTS {{db}}.queue_agent_1h
(
    tenant_id LowCardinality(String),
    hour DateTime('UTC'),
    queue LowCardinality(String),
    agent_id String,
    offered UInt32,
    answered UInt32,
    abandoned UInt32,
    exited UInt32,
    waiting UInt32,
    transferred UInt32,
    answered_wait_ceil_s Map(UInt32, UInt32),
    abandoned_wait_ceil_s Map(UInt32, UInt32),
    abandoned_wait_floor_s Map(UInt32, UInt32),
    answered_wait_ms UInt64,
    abandoned_wait_ms UInt64,
    max_wait_ms UInt64,
    talk_ms UInt64,
    hold_ms UInt64,
    wrap_ms UInt64,
    wrap_default_legs UInt32,
    answered_wait_ds Map(UInt32, UInt32),
    min_answered_wait_ms UInt64,
    max_answered_wait_ms UInt64,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(hour)
ORDER BY (tenant_id, hour, queue, agent_id)
SETTINGS non_replicated_deduplication_window = 0
;

-- Both filled from the rows already rolled up (the latest snapshot of each bucket and day, as
-- store.ts agentHoursSql and agentMonthsSql write them), so reads need no fallback for periods
-- rolled up before this migration. Version 1: any later recompute writes a higher one.
INSERT INTO {{db}}.queue_agent_1h
    SELECT tenant_id, toStartOfHour(bucket) AS hour, queue, agent_id,
    sum(offered) AS offered, sum(answered) AS answered, sum(abandoned) AS abandoned, sum(exited) AS exited,
    sum(waiting) AS waiting, sum(transferred) AS transferred,
    sumMap(answered_wait_ceil_s) AS answered_wait_ceil_s, sumMap(abandoned_wait_ceil_s) AS abandoned_wait_ceil_s,
    sumMap(abandoned_wait_floor_s) AS abandoned_wait_floor_s,
    sum(answered_wait_ms) AS answered_wait_ms, sum(abandoned_wait_ms) AS abandoned_wait_ms, max(max_wait_ms) AS max_wait_ms,
    sum(talk_ms) AS talk_ms, sum(hold_ms) AS hold_ms, sum(wrap_ms) AS wrap_ms, sum(wrap_default_legs) AS wrap_default_legs,
    sumMap(answered_wait_ds) AS answered_wait_ds,
    minIf(min_answered_wait_ms, notEmpty(answered_wait_ds)) AS min_answered_wait_ms,
    maxIf(max_answered_wait_ms, notEmpty(answered_wait_ds)) AS max_answered_wait_ms, toUInt64(1) AS version
    FROM {{db}}.queue_agent_15m
    WHERE (tenant_id, bucket, version) IN (SELECT tenant_id, bucket, max(version) FROM {{db}}.queue_agent_15m GROUP BY tenant_id, bucket)
    GROUP BY tenant_id, hour, queue, agent_id
    SETTINGS prefer_column_name_to_alias = 1
;

INSERT INTO {{db}}.queue_agent_1mo
    SELECT tenant_id, toStartOfMonth(day) AS month, queue, agent_id,
    sum(offered) AS offered, sum(answered) AS answered, sum(abandoned) AS abandoned, sum(exited) AS exited,
    sum(waiting) AS waiting, sum(transferred) AS transferred,
    sumMap(answered_wait_ceil_s) AS answered_wait_ceil_s, sumMap(abandoned_wait_ceil_s) AS abandoned_wait_ceil_s,
    sumMap(abandoned_wait_floor_s) AS abandoned_wait_floor_s,
    sum(answered_wait_ms) AS answered_wait_ms, sum(abandoned_wait_ms) AS abandoned_wait_ms, max(max_wait_ms) AS max_wait_ms,
    sum(talk_ms) AS talk_ms, sum(hold_ms) AS hold_ms, sum(wrap_ms) AS wrap_ms, sum(wrap_default_legs) AS wrap_default_legs,
    sumMap(answered_wait_ds) AS answered_wait_ds,
    minIf(min_answered_wait_ms, notEmpty(answered_wait_ds)) AS min_answered_wait_ms,
    maxIf(max_answered_wait_ms, notEmpty(answered_wait_ds)) AS max_answered_wait_ms, toUInt64(1) AS version
    FROM {{db}}.queue_agent_1d
    WHERE day != toStartOfMonth(day) AND day != toLastDayOfMonth(day)
      AND (tenant_id, day, version) IN (SELECT tenant_id, day, max(version) FROM {{db}}.queue_agent_1d GROUP BY tenant_id, day)
    GROUP BY tenant_id, month, queue, agent_id
    SETTINGS prefer_column_name_to_alias = 1
;

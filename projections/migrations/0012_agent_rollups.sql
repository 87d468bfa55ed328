-- Per-agent rollups (issue #17): 15-minute and daily: the queue rollup's columns per (queue, answering agent),
-- so a month by agent reads rollup rows instead of every leg of the month through FINAL.
-- Written by the same recompute as queue_15m (store.ts recomputeRollup): each recompute writes
-- every (queue, agent) row of a bucket with one version, so the rows of a bucket's highest version
-- are a complete snapshot of it. Readers take that snapshot (read/agent-rollup.ts) instead of
-- using FINAL: a row an older snapshot had and the newer one has not (a leg re-derived to another
-- agent) is left out even before a merge. Columns in the rollup's positional order, version last.
-- Buckets rolled up before this migration are empty here until `callboard rebuild`. No block
-- deduplication (window 0), like the other derived tables (0002): a recompute may repeat a block.
CREATE TABLE IF NOT EXISTS {{db}}.queue_agent_15m
(
    tenant_id LowCardinality(String),
    bucket DateTime('UTC'),
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
PARTITION BY toYYYYMM(bucket)
ORDER BY (tenant_id, bucket, queue, agent_id)
SETTINGS non_replicated_deduplication_window = 0
;

-- The same per UTC day, recomputed from queue_agent_15m's latest snapshots of the day's buckets
-- whenever a bucket of it is (store.ts recomputeRollup). A month by agent reads its whole UTC days
-- here and only the edge buckets (a local month starts and ends off the UTC day by the zone's
-- offset) from queue_agent_15m: ~30 rows per agent and queue instead of ~2,900.
CREATE TABLE IF NOT EXISTS {{db}}.queue_agent_1d
(
    tenant_id LowCardinality(String),
    day Date,
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
PARTITION BY toYYYYMM(day)
ORDER BY (tenant_id, day, queue, agent_id)
SETTINGS non_replicated_deduplication_window = 0

-- Projections: the log tables (raw and canonical events) and the tables folded from them.
-- Internal tables; BI reads the bi_* views (0002). Times are UTC DateTime64(3); durations in
-- the tables are milliseconds (the views and queries give seconds).
--
-- Derived tables are ReplacingMergeTree with a version: the consumer re-derives a call (or an
-- agent's timeline) from every event known for it and writes the result again, so a retry,
-- a duplicate or a late event replaces the row instead of adding to it. Read them with FINAL.

CREATE TABLE IF NOT EXISTS {{db}}.raw_events
(
    tenant_id LowCardinality(String),
    pbx_id LowCardinality(String),
    source LowCardinality(String),
    connection String,
    seq UInt64,
    received_at DateTime64(3, 'UTC'),
    format LowCardinality(String),
    body String CODEC(ZSTD(3)),
    log_partition UInt32,
    log_offset UInt64
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(received_at)
ORDER BY (tenant_id, pbx_id, connection, seq)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS {{db}}.events
(
    event_id UUID,
    tenant_id LowCardinality(String),
    pbx_id LowCardinality(String),
    source LowCardinality(String),
    type LowCardinality(String),
    occurred_at DateTime64(3, 'UTC'),
    received_at DateTime64(3, 'UTC'),
    subject_kind Enum8('call' = 1, 'agent' = 2, 'pbx' = 3),
    call_id String,
    agent_id String,
    queue LowCardinality(String),
    leg_id String,
    body String CODEC(ZSTD(3)),
    log_partition UInt32,
    log_offset UInt64
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (tenant_id, subject_kind, call_id, agent_id, occurred_at, event_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS {{db}}.calls
(
    tenant_id LowCardinality(String),
    call_id String,
    pbx_id LowCardinality(String),
    started_at DateTime64(3, 'UTC'),
    ended_at Nullable(DateTime64(3, 'UTC')),
    direction LowCardinality(String),
    caller_number String,
    caller_name String,
    called_number String,
    extension String,
    trunk String,
    answered_at Nullable(DateTime64(3, 'UTC')),
    agent_id String,
    queues Array(String),
    legs UInt16,
    transferred UInt8,
    disposition LowCardinality(String),
    raw_disposition String,
    hangup_cause Nullable(UInt16),
    duration_ms UInt64,
    billsec_ms UInt64,
    events UInt32,
    version UInt64,
    INDEX call_id_bf call_id TYPE bloom_filter GRANULARITY 4
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(started_at)
ORDER BY (tenant_id, started_at, call_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS {{db}}.queue_legs
(
    tenant_id LowCardinality(String),
    bucket DateTime('UTC'),
    queue LowCardinality(String),
    call_id String,
    leg_id String,
    pbx_id LowCardinality(String),
    offered_at DateTime64(3, 'UTC'),
    position UInt16,
    caller_number String,
    outcome Enum8('waiting' = 0, 'answered' = 1, 'abandoned' = 2, 'exited' = 3),
    exit_reason LowCardinality(String),
    ended_wait_at Nullable(DateTime64(3, 'UTC')),
    wait_ms UInt64,
    agent_id String,
    answered_at Nullable(DateTime64(3, 'UTC')),
    completed_at Nullable(DateTime64(3, 'UTC')),
    talk_ms UInt64,
    hold_ms UInt64,
    wrap_ms Nullable(UInt64),
    transferred UInt8,
    rung UInt16,
    missed UInt16,
    version UInt64,
    INDEX call_id_bf call_id TYPE bloom_filter GRANULARITY 4
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(bucket)
ORDER BY (tenant_id, bucket, queue, call_id, leg_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS {{db}}.agent_calls
(
    tenant_id LowCardinality(String),
    agent_id String,
    at DateTime64(3, 'UTC'),
    event_id UUID,
    kind Enum8('handled' = 1, 'missed' = 2),
    call_id String,
    queue LowCardinality(String),
    leg_id String,
    talk_ms UInt64,
    hold_ms UInt64,
    wrap_ms Nullable(UInt64),
    completed UInt8,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(at)
ORDER BY (tenant_id, agent_id, at, event_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS {{db}}.agent_intervals
(
    tenant_id LowCardinality(String),
    agent_id String,
    started_at DateTime64(3, 'UTC'),
    event_id UUID,
    ended_at Nullable(DateTime64(3, 'UTC')),
    state LowCardinality(String),
    reason String,
    agent_name String,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(started_at)
ORDER BY (tenant_id, agent_id, started_at, event_id)
SETTINGS non_replicated_deduplication_window = 10000;

-- 15-minute UTC rollup per tenant and queue, recomputed from queue_legs for every bucket a
-- batch touched. Waits are kept as per-second histograms (key: whole seconds, see README), so
-- thresholds and percentiles are applied at query time and merge across any set of buckets.
CREATE TABLE IF NOT EXISTS {{db}}.queue_15m
(
    tenant_id LowCardinality(String),
    bucket DateTime('UTC'),
    queue LowCardinality(String),
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
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(bucket)
ORDER BY (tenant_id, bucket, queue)
SETTINGS non_replicated_deduplication_window = 10000

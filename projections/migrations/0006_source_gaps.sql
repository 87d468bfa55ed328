-- Gaps of a tenant's feed (METRICS.md "Gaps of the feed"): one row per source.gap event, so any
-- result over a period can list the gaps it overlaps without scanning the event log. Folded from
-- the events like the other derived tables; a replayed gap replaces its own row.
CREATE TABLE IF NOT EXISTS {{db}}.source_gaps
(
    tenant_id LowCardinality(String),
    pbx_id LowCardinality(String),
    from_at DateTime64(3, 'UTC'),
    to_at DateTime64(3, 'UTC'),
    reason String,
    event_id String,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(from_at)
ORDER BY (tenant_id, pbx_id, from_at, event_id)
SETTINGS non_replicated_deduplication_window = 0;

-- Gaps logged before this table existed.
INSERT INTO {{db}}.source_gaps
SELECT tenant_id, pbx_id,
       parseDateTime64BestEffort(JSONExtractString(body, 'payload', 'from'), 3, 'UTC') AS from_at,
       parseDateTime64BestEffort(JSONExtractString(body, 'payload', 'to'), 3, 'UTC') AS to_at,
       JSONExtractString(body, 'payload', 'reason') AS reason, event_id, 1 AS version
FROM {{db}}.events WHERE type = 'source.gap';

CREATE OR REPLACE VIEW {{db}}.bi_gaps
(
    tenant_id String COMMENT 'Tenant',
    pbx_id String COMMENT 'PBX whose feed was cut',
    from_at DateTime64(3, 'UTC') COMMENT 'Last moment the connection was known good (UTC); calls found ended by the resync end here',
    to_at DateTime64(3, 'UTC') COMMENT 'Moment the connection was re-established and state resynchronised (UTC)',
    reason String COMMENT 'Why the connection was lost',
    duration Float64 COMMENT 'Length of the gap, seconds'
)
COMMENT 'Gaps of the feed (METRICS.md "Gaps of the feed"): metrics over a period that overlaps one may miss what happened in it'
AS SELECT tenant_id, pbx_id, from_at, to_at, reason, (toUnixTimestamp64Milli(to_at) - toUnixTimestamp64Milli(from_at)) / 1000 AS duration
   FROM {{db}}.source_gaps FINAL;

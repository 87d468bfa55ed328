-- Wallboard definitions (layout of tiles and KPI thresholds), edited through the GraphQL API.
-- Every edit writes a new row with a higher version; deletes write a row with deleted = 1.
CREATE TABLE IF NOT EXISTS {{db}}.boards
(
    tenant_id String,
    board_id String,
    name String,
    definition String COMMENT 'JSON: {columns, tiles: [...]}, validated by api/src/boards.ts',
    version UInt32,
    deleted UInt8 DEFAULT 0,
    updated_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (tenant_id, board_id);

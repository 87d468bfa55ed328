-- API tokens: only the SHA-256 of the token is stored; the token itself is shown once.
-- One row per token; revoking writes a newer row with revoked = 1 (ReplacingMergeTree by updated_at).
CREATE TABLE IF NOT EXISTS {{db}}.api_tokens
(
    token_hash String,
    tenant_id String,
    role LowCardinality(String),
    board_id String DEFAULT '',
    label String DEFAULT '',
    created_at DateTime64(3, 'UTC') DEFAULT now64(3),
    updated_at DateTime64(3, 'UTC') DEFAULT now64(3),
    revoked UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY token_hash;

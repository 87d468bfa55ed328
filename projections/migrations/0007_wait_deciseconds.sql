-- Wait percentiles at 0.1 s (METRICS.md wait_p50/p90/p99): answered waits by decisecond key
-- (waitDeciKey: a key k holds waits in ((k − 1) / 10, k / 10] s) and the shortest and longest
-- answered wait, to clamp a percentile into the period's range. Placed before `version`, since
-- the rollup is written by a positional INSERT … SELECT. Buckets rolled up before this migration
-- have empty sketches until `callboard rebuild` (or a new event in the bucket) recomputes them.
ALTER TABLE {{db}}.queue_15m ADD COLUMN IF NOT EXISTS answered_wait_ds Map(UInt32, UInt32) AFTER wrap_default_legs;
ALTER TABLE {{db}}.queue_15m ADD COLUMN IF NOT EXISTS min_answered_wait_ms UInt64 AFTER answered_wait_ds;
ALTER TABLE {{db}}.queue_15m ADD COLUMN IF NOT EXISTS max_answered_wait_ms UInt64 AFTER min_answered_wait_ms;

-- When a row reached the events table: lets a rebuild re-derive what the live consumer wrote
-- while the replay ran, after the swap.
ALTER TABLE {{db}}.events ADD COLUMN IF NOT EXISTS ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)

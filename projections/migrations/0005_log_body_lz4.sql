-- The log bodies are written on every batch and read back for every touched call: LZ4 costs
-- less CPU per insert than ZSTD(3), which matters more than disk on the 2-core target.
ALTER TABLE {{db}}.events MODIFY COLUMN body String CODEC(LZ4);
ALTER TABLE {{db}}.raw_events MODIFY COLUMN body String CODEC(LZ4)

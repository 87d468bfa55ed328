-- Derived tables are versioned replacements: a re-derived row must always be written, even when
-- its block looks like an earlier one. Only the log tables (raw_events, events) deduplicate
-- inserts, and always by an explicit insert_deduplication_token (partition + offset range).
ALTER TABLE {{db}}.calls MODIFY SETTING non_replicated_deduplication_window = 0;
ALTER TABLE {{db}}.queue_legs MODIFY SETTING non_replicated_deduplication_window = 0;
ALTER TABLE {{db}}.agent_calls MODIFY SETTING non_replicated_deduplication_window = 0;
ALTER TABLE {{db}}.agent_intervals MODIFY SETTING non_replicated_deduplication_window = 0;
ALTER TABLE {{db}}.queue_15m MODIFY SETTING non_replicated_deduplication_window = 0;

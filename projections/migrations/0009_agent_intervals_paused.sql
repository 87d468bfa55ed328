-- METRICS.md pause_time_by_reason is wall time from each pause to its unpause, whatever the agent
-- did meanwhile; the `paused` state yields to ringing, on_call and on_hold. So each interval keeps,
-- beside its state, whether a pause was in force (agent.state_changed pause_reason) and `reason`
-- holds that pause's reason in any state. Rows folded before this migration only knew the paused
-- state, which is what the default says, until the agent is re-derived or rebuilt.
ALTER TABLE {{db}}.agent_intervals ADD COLUMN IF NOT EXISTS paused UInt8 DEFAULT state = 'paused' AFTER reason;

CREATE OR REPLACE VIEW {{db}}.bi_agent_intervals
(
    tenant_id String COMMENT 'Tenant',
    agent_id String COMMENT 'agent',
    agent_name String COMMENT 'Display name when the PBX gives one',
    state String COMMENT 'available | ringing | on_call | on_hold | wrap_up | paused | offline',
    reason String COMMENT 'Pause reason while paused = 1 (pause_time_by_reason), in any state; empty otherwise',
    paused UInt8 COMMENT '1 while a pause is in force, whatever the state (a pause taken on a call keeps state on_call): pause_time_by_reason sums the duration of these rows per reason',
    started_at DateTime64(3, 'UTC') COMMENT 'Interval start (UTC)',
    ended_at Nullable(DateTime64(3, 'UTC')) COMMENT 'Interval end (UTC); null: the current state',
    duration Nullable(Float64) COMMENT 'Seconds in the state; clip to the period before summing (logged_in_time, occupancy, utilization)'
)
COMMENT 'Agent state timeline (METRICS.md "Agent metrics")'
AS SELECT tenant_id, agent_id, agent_name, state, reason, paused, started_at, ended_at,
          if(ended_at IS NULL, NULL, (toUnixTimestamp64Milli(ended_at) - toUnixTimestamp64Milli(started_at)) / 1000) AS duration
   FROM {{db}}.agent_intervals FINAL;

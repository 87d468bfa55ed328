-- Calls cut by a gap of the feed are flagged (METRICS.md "Gaps of the feed"): call.ended carries
-- ended_in 'gap' when the resync found the call ended; the call row and bi_calls keep it. Rows
-- folded before this migration read '' until their call is re-derived or rebuilt.
ALTER TABLE {{db}}.calls ADD COLUMN IF NOT EXISTS ended_in LowCardinality(String) DEFAULT '' AFTER billsec_ms;

CREATE OR REPLACE VIEW {{db}}.bi_calls
(
    tenant_id String COMMENT 'Tenant',
    call_id String COMMENT 'call: the PBX linked id; one row per call (Local-channel legs and duplicates are one call)',
    pbx_id String COMMENT 'PBX the call came through',
    started_at DateTime64(3, 'UTC') COMMENT 'Call start (UTC); CDR metrics count calls whose start falls in the period',
    ended_at Nullable(DateTime64(3, 'UTC')) COMMENT 'Call end (UTC); null while the call is up',
    direction String COMMENT 'inbound | outbound | internal',
    caller_number String COMMENT 'Calling party number',
    called_number String COMMENT 'Dialled number or DID',
    extension String COMMENT 'Local extension on the call (busy_time per extension)',
    answered_at Nullable(DateTime64(3, 'UTC')) COMMENT 'First answer (UTC)',
    agent_id String COMMENT 'First answering agent',
    queues Array(String) COMMENT 'Queues the call entered, in order',
    legs UInt16 COMMENT 'Number of queue legs',
    transferred UInt8 COMMENT '1 when the call was transferred',
    disposition String COMMENT 'Canonical disposition: ANSWERED, NO ANSWER, BUSY, FAILED, CONGESTION (vendor values mapped)',
    raw_disposition String COMMENT 'The vendor disposition, unchanged',
    hangup_cause Nullable(UInt16) COMMENT 'Q.850 cause code',
    duration Float64 COMMENT 'duration: start to end, seconds',
    billsec Float64 COMMENT 'billsec: answer to end, seconds',
    ended_in String COMMENT '''gap'' when the resync after a gap of the feed found the call ended: it ended at the gap''s start with its durations up to then (METRICS.md "Gaps of the feed"), empty otherwise'
)
COMMENT 'One row per call (METRICS.md "Extension and call metrics")'
AS SELECT tenant_id, call_id, pbx_id, started_at, ended_at, direction, caller_number, called_number, extension, answered_at, agent_id,
          queues, legs, transferred, disposition, raw_disposition, hangup_cause, duration_ms / 1000 AS duration, billsec_ms / 1000 AS billsec, ended_in
   FROM {{db}}.calls FINAL;

-- Business hours for BI (docs/business-hours.md). The API and reports apply schedules at query
-- time from the config; a view cannot read the config, so the projections service writes each
-- tenant's open intervals here whenever it starts (schedule/sync.ts), as a new version: the
-- views read the latest version only, so a changed schedule changes BI figures after the next
-- start, without a rebuild. queue '' holds the tenant's default schedule; a queue with its own
-- schedule has its own rows; a tenant without a schedule has one interval covering everything.
CREATE TABLE IF NOT EXISTS {{db}}.business_hours
(
    tenant_id LowCardinality(String),
    queue String,
    schedule String,
    start DateTime64(3, 'UTC'),
    end DateTime64(3, 'UTC'),
    version UInt64
)
ENGINE = MergeTree
ORDER BY (tenant_id, version, queue, start);

CREATE OR REPLACE VIEW {{db}}.bi_business_hours
(
    tenant_id String COMMENT 'Tenant',
    queue String COMMENT 'Queue with its own schedule; empty: every other queue of the tenant (the default schedule)',
    schedule String COMMENT 'Schedule name; empty: no schedule, always open',
    start DateTime64(3, 'UTC') COMMENT 'An open interval starts (UTC); local wall-clock hours already turned into instants across DST',
    end DateTime64(3, 'UTC') COMMENT 'First instant after the open interval (UTC)'
)
COMMENT 'Open business-hours intervals per tenant and queue, as last written by the projections service (METRICS.md "Business hours")'
AS SELECT tenant_id, queue, schedule, start, end
   FROM {{db}}.business_hours
   WHERE (tenant_id, version) IN (SELECT tenant_id, max(version) FROM {{db}}.business_hours GROUP BY tenant_id);

CREATE OR REPLACE VIEW {{db}}.bi_queue_legs_hours
(
    tenant_id String COMMENT 'Tenant',
    queue String COMMENT 'Queue',
    call_id String COMMENT 'call the leg belongs to',
    leg_id String COMMENT 'queue leg',
    offered_at DateTime64(3, 'UTC') COMMENT 'offered: when the leg entered the queue (UTC)',
    bucket DateTime('UTC') COMMENT '15-minute UTC bucket of offered_at',
    outcome String COMMENT 'answered | abandoned | exited | waiting',
    wait Float64 COMMENT 'Wait, seconds',
    in_hours UInt8 COMMENT '1: offered while the queue''s business hours were open; 0: closed (counted by `closed`); filter on it for hours OPEN / CLOSED'
)
COMMENT 'bi_queue_legs with in_hours (METRICS.md "Business hours"); sum any bi_queue_legs figure over in_hours = 1 or 0'
AS SELECT l.tenant_id AS tenant_id, l.queue AS queue, l.call_id AS call_id, l.leg_id AS leg_id, l.offered_at AS offered_at, l.bucket AS bucket,
          l.outcome AS outcome, l.wait AS wait, toUInt8(l.offered_at < h.end) AS in_hours
   FROM
   (
       SELECT *, if((tenant_id, queue) IN (SELECT tenant_id, queue FROM {{db}}.bi_business_hours WHERE queue != ''), queue, '') AS schedule_queue
       FROM {{db}}.bi_queue_legs
   ) AS l
   ASOF LEFT JOIN {{db}}.bi_business_hours AS h ON l.tenant_id = h.tenant_id AND l.schedule_queue = h.queue AND l.offered_at >= h.start;

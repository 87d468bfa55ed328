-- bi_reconciliation again (first in 0010), now also over the Yeastar CDR calls that `callboard
-- import yeastar` and `callboard reconcile --yeastar-cdr` keep in pbx_queue_legs (source
-- 'yeastar_cdr', outcome answered or unanswered, talk, no wait: what a CDR row tells). For such a
-- pair Callboard's abandoned and exited count as unanswered, and waits are not compared (the row has
-- none); pbx_answered_within_sl and pbx_asa count only PBX legs with a wait. A new last column,
-- pbx_unanswered, counts the CDR's unanswered calls (neither pbx_abandoned nor pbx_exited: a CDR
-- cannot tell them apart). Agent figures of a CDR (handled_direct) are in the GraphQL
-- `reconciliation` query and `callboard reconcile --yeastar-cdr`, not in this view.
--   SELECT * FROM callboard.bi_reconciliation(tenant = 'acme', tz = 'Africa/Nairobi', sl_threshold_s = 20,
--                                             from = '2026-11-01', to = '2026-11-30')
CREATE OR REPLACE VIEW {{db}}.bi_reconciliation
AS SELECT
    day, queue,
    countIf(cb_offered) AS callboard_offered, countIf(pbx_offered) AS pbx_offered,
    countIf(cb_outcome = 'answered') AS callboard_answered, countIf(pbx_outcome = 'answered') AS pbx_answered,
    countIf(cb_outcome = 'abandoned') AS callboard_abandoned, countIf(pbx_outcome = 'abandoned') AS pbx_abandoned,
    countIf(cb_outcome = 'exited') AS callboard_exited, countIf(pbx_outcome = 'exited') AS pbx_exited,
    countIf(cb_outcome = 'answered' AND cb_wait <= {sl_threshold_s:UInt32}) AS callboard_answered_within_sl,
    countIf(pbx_outcome = 'answered' AND pbx_wait_known AND pbx_wait <= {sl_threshold_s:UInt32}) AS pbx_answered_within_sl,
    if(callboard_answered > 0, sumIf(cb_wait, cb_outcome = 'answered') / callboard_answered, NULL) AS callboard_asa,
    if(countIf(pbx_outcome = 'answered' AND pbx_wait_known) > 0,
       sumIf(pbx_wait, pbx_outcome = 'answered' AND pbx_wait_known) / countIf(pbx_outcome = 'answered' AND pbx_wait_known), NULL) AS pbx_asa,
    sumIf(cb_talk, cb_outcome = 'answered') AS callboard_talk, sumIf(pbx_talk, pbx_outcome = 'answered') AS pbx_talk,
    countIf(class = 'ok') AS legs_ok,
    countIf(class = 'truncation') AS legs_truncation,
    countIf(class = 'in_progress') AS legs_in_progress,
    countIf(class = 'missing') AS legs_missing,
    countIf(class = 'unknown') AS legs_unknown,
    arraySlice(groupArrayIf(concat(coalesce(call_id, ''), ' ', class), class IN ('missing', 'unknown')), 1, 100) AS calls_to_check,
    countIf(pbx_outcome = 'unanswered') AS pbx_unanswered
FROM
(
    SELECT
        toDate(if(cb.call_id != '', cb.offered_at, p.entered_at), {tz:String}) AS day,
        if(cb.call_id != '', cb.queue, p.queue) AS queue,
        if(cb.call_id != '', cb.call_id, p.call_id) AS call_id,
        cb.call_id != '' AS cb_offered, p.call_id != '' AS pbx_offered,
        if(cb_offered, cb.outcome, '') AS cb_outcome, if(pbx_offered, p.outcome, '') AS pbx_outcome,
        cb.wait_ms / 1000 AS cb_wait, toFloat64(ifNull(p.wait_s, 0)) AS pbx_wait, p.wait_s IS NOT NULL AS pbx_wait_known,
        cb.connected_ms / 1000 AS cb_talk, toFloat64(ifNull(p.talk_s, 0)) AS pbx_talk,
        pbx_offered AND p.source = 'yeastar_cdr' AS pbx_cdr,
        -- A CDR row says answered or not: Callboard's abandoned and exited are its unanswered.
        if(pbx_cdr AND cb_outcome IN ('abandoned', 'exited'), 'unanswered', cb_outcome) AS cb_cmp,
        multiIf(
            NOT cb_offered OR NOT pbx_offered, 'missing',
            (cb_outcome = 'waiting') != (pbx_outcome = '') AND (cb_outcome = 'waiting' OR NOT p.call_continues), 'in_progress',
            cb_cmp != if(pbx_outcome = '', 'waiting', pbx_outcome), 'unknown',
            pbx_wait_known AND abs(cb_wait - pbx_wait) >= 1 OR abs(cb_talk - pbx_talk) >= 1, 'unknown',
            pbx_wait_known AND cb_wait != pbx_wait OR cb_talk != pbx_talk, 'truncation',
            'ok') AS class
    FROM
    (
        SELECT call_id, queue, offered_at, toString(outcome) AS outcome, wait_ms, talk_ms + hold_ms AS connected_ms,
               row_number() OVER (PARTITION BY call_id, queue ORDER BY offered_at) AS n
        FROM {{db}}.queue_legs FINAL
        WHERE tenant_id = {tenant:String}
          AND offered_at >= toDateTime64(toStartOfDay(toDateTime({from:Date}, {tz:String}) - INTERVAL 1 DAY), 3, 'UTC')
          AND offered_at < toDateTime64(toStartOfDay(toDateTime({to:Date}, {tz:String}) + INTERVAL 2 DAY), 3, 'UTC')
    ) AS cb
    FULL OUTER JOIN
    (
        SELECT call_id, queue, entered_at, outcome, wait_s, talk_s, call_continues, source,
               row_number() OVER (PARTITION BY call_id, queue ORDER BY entered_at) AS n
        FROM {{db}}.pbx_queue_legs FINAL
        WHERE tenant_id = {tenant:String}
          AND entered_at >= toDateTime64(toStartOfDay(toDateTime({from:Date}, {tz:String}) - INTERVAL 1 DAY), 3, 'UTC')
          AND entered_at < toDateTime64(toStartOfDay(toDateTime({to:Date}, {tz:String}) + INTERVAL 2 DAY), 3, 'UTC')
    ) AS p
    ON cb.call_id = p.call_id AND cb.queue = p.queue AND cb.n = p.n
)
WHERE day >= {from:Date} AND day <= {to:Date}
GROUP BY day, queue
ORDER BY day, queue;

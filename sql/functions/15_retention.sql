-- Retention: the outbox pruned once the analytics loader has applied it
-- (kept's workers call it in small batches; see service/src/retention/).

-- Removes at most p_limit outbox events that the loader has applied (at or
-- before its cursor (p_tx, p_id) in the (tx_id, id) order it reads in) and
-- that were written before p_before; answers how many. A DELETE takes no
-- lock a writer of new events waits for, and the loader only reads after
-- its cursor, so neither notices.
CREATE OR REPLACE FUNCTION kept.outbox_prune(p_tx xid8, p_id bigint, p_before timestamptz, p_limit integer)
RETURNS integer LANGUAGE sql AS $$
    WITH gone AS (
        DELETE FROM kept.outbox_events e
        WHERE e.id IN (SELECT o.id FROM kept.outbox_events o
                       WHERE (o.tx_id, o.id) <= (p_tx, p_id) AND o.occurred_at < p_before
                       ORDER BY o.tx_id, o.id LIMIT p_limit)
        RETURNING 1)
    SELECT count(*)::integer FROM gone;
$$;

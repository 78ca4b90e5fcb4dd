-- 0007: evaluation judges due installments in batches, walking them in
-- (due_end_at, plan_id, seq) order (see kept.evaluate_outcomes_batch in
-- sql/functions/71_adherence.sql), so the index carries the whole key.
DROP INDEX kept.installments_to_evaluate_idx;
CREATE INDEX installments_to_evaluate_idx ON kept.installments (due_end_at, plan_id, seq) WHERE outcome = 'scheduled';

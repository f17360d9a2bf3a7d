-- 0005: a metric point is identified by (run, key, step), so a resumed run
-- that redoes steps after its last checkpoint cannot log them twice
-- (points are inserted with ON CONFLICT DO NOTHING: the first committed
-- value stays). Duplicates written before this migration are dropped,
-- keeping the first one written.
--
-- checkpoint_step is the step of the run's newest checkpoint whose metric
-- points are all committed: it is written in the same transaction as the
-- last of those points, before the checkpoint file is renamed into place.
-- NULL: no checkpoint yet.

DELETE FROM metrics WHERE rowid NOT IN (SELECT MIN(rowid) FROM metrics GROUP BY run_id, key, step);
DROP INDEX metrics_by_run_key_step;
CREATE UNIQUE INDEX metrics_by_run_key_step ON metrics (run_id, key, step);

ALTER TABLE runs ADD COLUMN checkpoint_step INTEGER;

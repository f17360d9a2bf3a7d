-- 0005: a metric point is identified by (run, key, step); the checkpoint
-- step of a run is committed with its last points (see SQLite's 0005).

DELETE FROM metrics a USING metrics b
    WHERE a.run_id = b.run_id AND a.key = b.key AND a.step = b.step AND a.ctid > b.ctid;
DROP INDEX metrics_by_run_key_step;
CREATE UNIQUE INDEX metrics_by_run_key_step ON metrics (run_id, key, step);

ALTER TABLE runs ADD COLUMN checkpoint_step BIGINT;

-- 0003: a run can belong to several studies. Runs are identified by their
-- config hash, whichever study or label asked for them, so table10's "sync"
-- variant reuses the identical "two-step" run of table9. study_runs records
-- each study's label for each run it uses; runs.study and runs.variant stay
-- the study and label the run was first created for.

CREATE TABLE study_runs (
    study   TEXT NOT NULL REFERENCES studies(name),
    variant TEXT NOT NULL,
    run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    added   INTEGER NOT NULL,
    PRIMARY KEY (study, variant, run_id)
) WITHOUT ROWID;
CREATE INDEX study_runs_by_run ON study_runs (run_id);

INSERT INTO study_runs (study, variant, run_id, added)
    SELECT study, variant, id, created FROM runs;

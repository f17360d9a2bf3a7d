-- 0003: a run can belong to several studies (see SQLite's 0003).

CREATE TABLE study_runs (
    study   TEXT NOT NULL REFERENCES studies(name),
    variant TEXT NOT NULL,
    run_id  BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    added   BIGINT NOT NULL,
    PRIMARY KEY (study, variant, run_id)
);
CREATE INDEX study_runs_by_run ON study_runs (run_id);

INSERT INTO study_runs (study, variant, run_id, added)
    SELECT study, variant, id, created FROM runs;

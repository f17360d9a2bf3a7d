-- 0001: the experiment-tracking schema.
-- Times are Unix milliseconds (UTC). A run's config is its canonical JSON;
-- config_hash identifies identical runs (config + data set fingerprint + code version).

CREATE TABLE studies (
    name      TEXT PRIMARY KEY,
    title     TEXT NOT NULL DEFAULT '',
    spec      TEXT NOT NULL,          -- the spec file's text, as run
    spec_hash TEXT NOT NULL,
    created   INTEGER NOT NULL,
    updated   INTEGER NOT NULL
);

CREATE TABLE runs (
    id            INTEGER PRIMARY KEY,
    -- identity
    study         TEXT NOT NULL REFERENCES studies(name),
    variant       TEXT NOT NULL,
    seed          INTEGER NOT NULL,
    config        TEXT NOT NULL,
    config_hash   TEXT NOT NULL,
    -- status
    status        TEXT NOT NULL DEFAULT 'queued'
                  CHECK (status IN ('queued', 'running', 'finished', 'failed', 'interrupted', 'diverged')),
    error         TEXT NOT NULL DEFAULT '',
    diverged_step INTEGER,
    -- timing
    created       INTEGER NOT NULL,
    started       INTEGER,
    ended         INTEGER,
    heartbeat     INTEGER,
    -- provenance
    host          TEXT NOT NULL DEFAULT '',
    pid           INTEGER NOT NULL DEFAULT 0,
    go_version    TEXT NOT NULL DEFAULT '',
    git_commit    TEXT NOT NULL DEFAULT '',
    git_dirty     INTEGER NOT NULL DEFAULT 0,
    code_version  TEXT NOT NULL DEFAULT '',
    dataset       TEXT NOT NULL DEFAULT '',
    dataset_fingerprint TEXT NOT NULL DEFAULT ''
);
CREATE INDEX runs_by_study  ON runs (study, variant, seed);
CREATE INDEX runs_by_hash   ON runs (config_hash, status);
CREATE INDEX runs_by_status ON runs (status);

CREATE TABLE params (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE INDEX params_by_key_value ON params (key, value);

-- Append-only. value is NULL where the logged number was NaN.
CREATE TABLE metrics (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key    TEXT NOT NULL,
    step   INTEGER NOT NULL,
    epoch  INTEGER NOT NULL,
    value  REAL,
    time   INTEGER NOT NULL
);
CREATE INDEX metrics_by_run_key_step ON metrics (run_id, key, step);

CREATE TABLE summaries (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key    TEXT NOT NULL,
    value  REAL,
    PRIMARY KEY (run_id, key)
) WITHOUT ROWID;

CREATE TABLE artifacts (
    id      INTEGER PRIMARY KEY,
    run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    kind    TEXT NOT NULL,            -- "checkpoint", "gradcam", ...
    name    TEXT NOT NULL DEFAULT '',
    path    TEXT,                     -- a file next to runs.db, or
    blob    BLOB,                     -- the bytes themselves
    created INTEGER NOT NULL,
    CHECK (path IS NOT NULL OR blob IS NOT NULL)
);
CREATE INDEX artifacts_by_run ON artifacts (run_id, kind);

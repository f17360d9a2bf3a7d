-- 0007: what a researcher marks on a run: archived (when; NULL: not), a
-- note and tags (see SQLite's 0007).

ALTER TABLE runs ADD COLUMN archived BIGINT;
ALTER TABLE runs ADD COLUMN note     TEXT NOT NULL DEFAULT '';

CREATE TABLE run_tags (
    run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    tag    TEXT NOT NULL,
    added  BIGINT NOT NULL,
    PRIMARY KEY (run_id, tag)
);
CREATE INDEX run_tags_by_tag ON run_tags (tag);

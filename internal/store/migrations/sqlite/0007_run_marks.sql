-- 0007: what a researcher marks on a run (workbench archive, note, tag).
-- archived is when the run was archived (NULL: not archived): archived
-- runs are hidden from run lists unless asked for; they still count
-- wherever else a run counts (tables, reuse). note is one free text.
-- run_tags holds the run's tags, one row each.

ALTER TABLE runs ADD COLUMN archived INTEGER;
ALTER TABLE runs ADD COLUMN note     TEXT NOT NULL DEFAULT '';

CREATE TABLE run_tags (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    tag    TEXT NOT NULL,
    added  INTEGER NOT NULL,
    PRIMARY KEY (run_id, tag)
) WITHOUT ROWID;
CREATE INDEX run_tags_by_tag ON run_tags (tag);

-- 0002: live progress of running runs, written with each heartbeat, so that
-- readers (the TUI, `workbench runs`) show where a run is without scanning
-- its metrics; and how many times a run was started (resumes count).

ALTER TABLE runs ADD COLUMN attempts       INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN step           INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN batch          INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN total_batches  INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN epoch          INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN images_per_sec REAL NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN latest         TEXT NOT NULL DEFAULT '{}'; -- JSON {key: value} of the newest metrics

-- Runs that started before this migration count as started once.
UPDATE runs SET attempts = 1 WHERE started IS NOT NULL;

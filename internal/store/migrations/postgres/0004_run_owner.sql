-- 0004: the process that owns a queued or running run (see SQLite's 0004).

ALTER TABLE runs ADD COLUMN owner TEXT NOT NULL DEFAULT '';

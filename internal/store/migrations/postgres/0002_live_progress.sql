-- 0002: live progress of running runs and the number of starts (see SQLite's 0002).

ALTER TABLE runs ADD COLUMN attempts       INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN step           BIGINT NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN batch          BIGINT NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN total_batches  BIGINT NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN epoch          BIGINT NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN images_per_sec DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN latest         TEXT NOT NULL DEFAULT '{}';

UPDATE runs SET attempts = 1 WHERE started IS NOT NULL;

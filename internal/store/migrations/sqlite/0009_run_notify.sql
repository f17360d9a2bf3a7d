-- 0009: PostgreSQL announces run changes with NOTIFY (see its 0009). SQLite
-- has no server to announce anything: readers of runs.db poll, which on
-- one machine costs a few indexed reads a second. Nothing changes here;
-- the number keeps both backends' versions equal.

SELECT 1;

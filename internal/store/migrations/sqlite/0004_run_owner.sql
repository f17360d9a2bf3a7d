-- 0004: the process that owns a queued or running run, as a random token
-- made when the process starts. Host and pid alone cannot tell a dead
-- process from a new one that got the same pid (containers start every
-- process as pid 1): a run on this host with our own pid but another owner
-- was left behind by a process that is gone.

ALTER TABLE runs ADD COLUMN owner TEXT NOT NULL DEFAULT '';

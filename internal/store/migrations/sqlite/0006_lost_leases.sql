-- 0006: how many times a run's worker died under it (its lease expired).
-- A run is failed after max_attempts lost leases; starts after a graceful
-- release (SIGTERM, preemption, a time limit) do not count.

ALTER TABLE runs ADD COLUMN lost_leases INTEGER NOT NULL DEFAULT 0;

-- 0008 (PostgreSQL; see SQLite's 0008): at most one queued or running run per config hash. Two processes
-- that plan the same study at once (two `submit`s, a `run` beside a
-- worker) cannot both create or re-queue the same run: the second insert
-- meets this index and the planner reuses the first run instead.
-- Live duplicates left by older versions keep the newest; the others end
-- interrupted (their checkpoints stay and can be resumed by hand).

UPDATE runs SET status = 'interrupted', owner = '',
        error = 'a duplicate of a newer queued or running run with the same config (migration 0008)'
    WHERE status IN ('queued', 'running')
      AND id NOT IN (SELECT MAX(id) FROM runs WHERE status IN ('queued', 'running') GROUP BY config_hash);
CREATE UNIQUE INDEX runs_one_live_per_config ON runs (config_hash) WHERE status IN ('queued', 'running');

-- 0009: every change of a run that a view shows — created, claimed,
-- progressed, checkpointed, ended — is announced on the channel
-- workbench_runs with the run's id as payload, delivered when the writing
-- transaction commits (Store.Watch listens). Heartbeats alone do not
-- notify: they change nothing a reader sees but the lease age.

CREATE FUNCTION workbench_notify_run() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('workbench_runs', NEW.id::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER runs_notify_insert AFTER INSERT ON runs
    FOR EACH ROW EXECUTE FUNCTION workbench_notify_run();
CREATE TRIGGER runs_notify_update AFTER UPDATE OF status, owner, step, epoch, checkpoint_step ON runs
    FOR EACH ROW EXECUTE FUNCTION workbench_notify_run();

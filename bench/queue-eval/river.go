package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// SleepArgs is a stand-in for a training run: it "trains" for Dur of wall
// time, then writes its result and completes the job in one transaction.
type SleepArgs struct {
	Dur time.Duration `json:"dur"`
}

func (SleepArgs) Kind() string { return "sleep" }

type sleepWorker struct {
	river.WorkerDefaults[SleepArgs]
	pool     *pgxpool.Pool
	name     string
	onCancel string // "error": return ctx.Err(); "snooze": return river.JobSnooze(0)
	// ignoreCtx: the job does not observe its context (a training step
	// blocked in a long BLAS call, or a loop that only checks between epochs).
	ignoreCtx bool
}

func (w *sleepWorker) Work(ctx context.Context, job *river.Job[SleepArgs]) error {
	bg := context.Background()
	var execID int64
	if err := w.pool.QueryRow(bg, `INSERT INTO eval_exec (job_id, attempt, worker, pid) VALUES ($1, $2, $3, $4) RETURNING id`,
		job.ID, job.Attempt, w.name, os.Getpid()).Scan(&execID); err != nil {
		return err
	}
	start := time.Now()
	for time.Since(start) < job.Args.Dur {
		done := ctx.Done()
		if w.ignoreCtx {
			done = nil
		}
		select {
		case <-done:
			// Graceful stop: here the workbench would write a checkpoint.
			w.pool.Exec(bg, `UPDATE eval_exec SET ended = clock_timestamp(), outcome = $2 WHERE id = $1`, execID, "cancelled:"+w.onCancel)
			if w.onCancel == "snooze" {
				return river.JobSnooze(0)
			}
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	// Write the result and complete the job in one transaction (River's
	// transactional completion, JobCompleteTx).
	tx, err := w.pool.Begin(bg)
	if err != nil {
		return err
	}
	defer tx.Rollback(bg)
	before := jobState(bg, tx, job.ID)
	done, err := river.JobCompleteTx[*riverpgxv5.Driver](context.WithoutCancel(ctx), tx, job)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(bg, `INSERT INTO eval_result (job_id, worker, attempt, state_before, state_after) VALUES ($1, $2, $3, $4, $5)`,
		job.ID, w.name, job.Attempt, before, fmt.Sprintf("%s/attempt=%d", done.State, done.Attempt)); err != nil {
		return err
	}
	if err := tx.Commit(bg); err != nil {
		return err
	}
	w.pool.Exec(bg, `UPDATE eval_exec SET ended = clock_timestamp(), outcome = $2 WHERE id = $1`, execID, "completed->"+string(done.State))
	return nil
}

func jobState(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, id int64) string {
	var st string
	var att int
	if err := q.QueryRow(ctx, `SELECT state::text, attempt FROM river_job WHERE id = $1`, id).Scan(&st, &att); err != nil {
		return "?" + err.Error()
	}
	return fmt.Sprintf("%s/attempt=%d", st, att)
}

// evalURL is the PostgreSQL URL of the evaluation database (created if
// missing) derived from $WORKBENCH_TEST_PG.
func evalURL(ctx context.Context, base string) (string, error) {
	if base == "" {
		base = os.Getenv("WORKBENCH_TEST_PG")
	}
	if base == "" {
		return "", errors.New("no -db and no $WORKBENCH_TEST_PG (source /tmp/workbench-cluster/env)")
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	if u.Path == "/rivereval" {
		return base, nil
	}
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	var n int
	conn.QueryRow(ctx, `SELECT count(*) FROM pg_database WHERE datname = 'rivereval'`).Scan(&n)
	if n == 0 {
		if _, err := conn.Exec(ctx, `CREATE DATABASE rivereval`); err != nil {
			return "", err
		}
	}
	u.Path = "/rivereval"
	return u.String(), nil
}

func openPool(ctx context.Context, dbURL, schema string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, err
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	cfg.MaxConns = 8
	return pgxpool.NewWithConfig(ctx, cfg)
}

func newClient(pool *pgxpool.Pool, schema, name string, rescueAfter, jobTimeout time.Duration, workers *river.Workers, logLevel slog.Level) (*river.Client[pgx.Tx], error) {
	cfg := &river.Config{
		ID:                   name,
		Schema:               schema,
		JobTimeout:           jobTimeout, // -1: none
		RescueStuckJobsAfter: rescueAfter,
		FetchPollInterval:    200 * time.Millisecond,
		Logger:               slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel})),
	}
	if workers != nil {
		cfg.Workers = workers
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 1}}
	}
	return river.NewClient(riverpgxv5.New(pool), cfg)
}

// riverWorker is one worker process: a River client with MaxWorkers 1 that
// on SIGTERM calls StopAndCancel and exits 0.
func riverWorker(args []string) error {
	fs := flag.NewFlagSet("river-worker", flag.ExitOnError)
	dbURL := fs.String("db", "", "PostgreSQL URL")
	schema := fs.String("schema", "", "schema")
	name := fs.String("name", "w", "worker name")
	rescue := fs.Duration("rescue-after", time.Hour, "RescueStuckJobsAfter")
	onCancel := fs.String("on-cancel", "error", "error|snooze")
	jobTimeout := fs.Duration("job-timeout", -1, "JobTimeout (-1: none)")
	ignoreCtx := fs.Bool("ignore-ctx", false, "the job ignores its context")
	fs.Parse(args)
	ctx := context.Background()
	pool, err := openPool(ctx, *dbURL, *schema)
	if err != nil {
		return err
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &sleepWorker{pool: pool, name: *name, onCancel: *onCancel, ignoreCtx: *ignoreCtx})
	client, err := newClient(pool, *schema, *name, *rescue, *jobTimeout, workers, slog.LevelWarn)
	if err != nil {
		return err
	}
	if err := client.Start(ctx); err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	stopCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := client.StopAndCancel(stopCtx); err != nil {
		return err
	}
	return nil
}

type scenario struct {
	dbURL, schema string
	pool          *pgxpool.Pool
	client        *river.Client[pgx.Tx] // insert-only
	procs         map[string]*exec.Cmd
	t0            time.Time
}

func (s *scenario) logf(format string, a ...any) {
	fmt.Printf("[%s %6.1fs] %s\n", s.schema, time.Since(s.t0).Seconds(), fmt.Sprintf(format, a...))
}

func setupScenario(ctx context.Context, dbFlag, schema string) (*scenario, error) {
	dbURL, err := evalURL(ctx, dbFlag)
	if err != nil {
		return nil, err
	}
	s := &scenario{dbURL: dbURL, schema: schema, procs: map[string]*exec.Cmd{}, t0: time.Now()}
	admin, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, fmt.Sprintf(`DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s`, schema, schema)); err != nil {
		return nil, err
	}
	if s.pool, err = openPool(ctx, dbURL, schema); err != nil {
		return nil, err
	}
	m, err := rivermigrate.New(riverpgxv5.New(s.pool), &rivermigrate.Config{Schema: schema})
	if err != nil {
		return nil, err
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return nil, fmt.Errorf("river migrate: %w", err)
	}
	if _, err := s.pool.Exec(ctx, `
		CREATE TABLE eval_exec (id bigserial PRIMARY KEY, job_id bigint, attempt int, worker text, pid int,
			started timestamptz NOT NULL DEFAULT clock_timestamp(), ended timestamptz, outcome text);
		CREATE TABLE eval_result (id bigserial PRIMARY KEY, job_id bigint, worker text, attempt int,
			state_before text, state_after text, at timestamptz NOT NULL DEFAULT clock_timestamp())`); err != nil {
		return nil, err
	}
	s.client, err = newClient(s.pool, schema, "inserter", time.Hour, -1, nil, slog.LevelWarn)
	return s, err
}

func (s *scenario) startWorker(name string, extra ...string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	args := append([]string{"river-worker", "-db", s.dbURL, "-schema", s.schema, "-name", name}, extra...)
	cmd := exec.Command(self, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	s.procs[name] = cmd
	return nil
}

func (s *scenario) stopAll() {
	for _, c := range s.procs {
		if c.ProcessState == nil {
			c.Process.Signal(syscall.SIGCONT)
			c.Process.Kill()
			c.Wait()
		}
	}
}

type execRow struct {
	id, jobID int64
	attempt   int
	worker    string
	pid       int
	started   time.Time
	ended     *time.Time
	outcome   *string
}

func (s *scenario) execs(ctx context.Context) []execRow {
	rows, err := s.pool.Query(ctx, `SELECT id, job_id, attempt, worker, pid, started, ended, outcome FROM eval_exec ORDER BY id`)
	if err != nil {
		s.logf("query execs: %v", err)
		return nil
	}
	defer rows.Close()
	var out []execRow
	for rows.Next() {
		var e execRow
		rows.Scan(&e.id, &e.jobID, &e.attempt, &e.worker, &e.pid, &e.started, &e.ended, &e.outcome)
		out = append(out, e)
	}
	return out
}

// waitFor polls cond every 100 ms until it holds or timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	end := time.Now().Add(timeout)
	for time.Now().Before(end) {
		if cond() {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

func (s *scenario) leader(ctx context.Context) string {
	var id string
	s.pool.QueryRow(ctx, `SELECT leader_id FROM river_leader`).Scan(&id)
	return id
}

func (s *scenario) dump(ctx context.Context) {
	rows, _ := s.pool.Query(ctx, `SELECT id, state::text, attempt, max_attempts, coalesce(attempted_by::text,''), coalesce(array_length(errors,1),0),
		metadata::text, coalesce(finalized_at::text, '') FROM river_job ORDER BY id`)
	for rows.Next() {
		var id int64
		var st, by, md, fin string
		var att, maxAtt, nerr int
		rows.Scan(&id, &st, &att, &maxAtt, &by, &nerr, &md, &fin)
		s.logf("river_job %d: state=%s attempt=%d/%d attempted_by=%s errors=%d metadata=%s finalized=%s", id, st, att, maxAtt, by, nerr, md, fin)
	}
	rows.Close()
	for _, e := range s.execs(ctx) {
		end, out := "-", "-"
		if e.ended != nil {
			end = fmt.Sprintf("%.1fs", e.ended.Sub(s.t0).Seconds())
		}
		if e.outcome != nil {
			out = *e.outcome
		}
		s.logf("exec %d: job %d attempt %d on %s: started %.1fs ended %s outcome %s", e.id, e.jobID, e.attempt, e.worker, e.started.Sub(s.t0).Seconds(), end, out)
	}
	rows, _ = s.pool.Query(ctx, `SELECT job_id, worker, attempt, state_before, state_after, at FROM eval_result ORDER BY id`)
	for rows.Next() {
		var job int64
		var w, b, a string
		var att int
		var at time.Time
		rows.Scan(&job, &w, &att, &b, &a, &at)
		s.logf("result: job %d written by %s (attempt %d) at %.1fs; job row before its JobCompleteTx %s, after %s", job, w, att, at.Sub(s.t0).Seconds(), b, a)
	}
	rows.Close()
}

func riverScenario(name string, args []string) error {
	fs := flag.NewFlagSet(name, flag.ExitOnError)
	dbFlag := fs.String("db", "", "PostgreSQL URL (default: $WORKBENCH_TEST_PG, database rivereval)")
	jobDur := fs.Duration("job", 20*time.Second, "job run time")
	rescue := fs.Duration("rescue-after", 30*time.Second, "RescueStuckJobsAfter")
	killAt := fs.Duration("kill-at", 3*time.Second, "kill/stop/TERM the worker this long after its job starts")
	onCancel := fs.String("on-cancel", "error", "sigterm: what the job returns when cancelled: error|snooze")
	workers := fs.Int("workers", 2, "worker processes")
	jobs := fs.Int("jobs", 1, "jobs")
	timeout := fs.Duration("timeout", 150*time.Second, "give up after")
	keep := fs.Bool("keep", false, "keep the schema")
	jobTimeout := fs.Duration("job-timeout", -1, "JobTimeout (-1: none; River then never rescues)")
	ignoreCtx := fs.Bool("ignore-ctx", false, "the job ignores its context (cancellation, timeout)")
	tag := fs.String("tag", "", "suffix of the schema name")
	fs.Parse(args)
	ctx := context.Background()
	schema := "ev_" + name + *tag
	if name == "sigterm" {
		schema += "_" + *onCancel
	}
	s, err := setupScenario(ctx, *dbFlag, schema)
	if err != nil {
		return err
	}
	defer func() {
		s.stopAll()
		s.client.Stop(ctx)
		if !*keep {
			s.pool.Exec(ctx, fmt.Sprintf(`DROP SCHEMA %s CASCADE`, schema))
		}
		s.pool.Close()
	}()
	s.logf("scenario %s: job %s, RescueStuckJobsAfter %s, JobTimeout %s, job ignores ctx %v, %d workers, %d jobs", name, *jobDur, *rescue, *jobTimeout, *ignoreCtx, *workers, *jobs)
	for i := 1; i <= *workers; i++ {
		if err := s.startWorker(fmt.Sprintf("w%d", i), "-rescue-after", rescue.String(), "-on-cancel", *onCancel,
			"-job-timeout", jobTimeout.String(), fmt.Sprintf("-ignore-ctx=%v", *ignoreCtx)); err != nil {
			return err
		}
	}
	time.Sleep(1 * time.Second)
	for i := 0; i < *jobs; i++ {
		if _, err := s.client.Insert(ctx, SleepArgs{Dur: *jobDur}, nil); err != nil {
			return err
		}
	}
	s.logf("inserted %d jobs", *jobs)
	if !waitFor(30*time.Second, func() bool { return len(s.execs(ctx)) >= 1 }) {
		return errors.New("no job started within 30 s")
	}
	first := s.execs(ctx)[0]
	victim := s.procs[first.worker]
	s.logf("job %d attempt %d started on %s (pid %d); leader is %q", first.jobID, first.attempt, first.worker, first.pid, s.leader(ctx))

	switch name {
	case "live":
		// Nobody dies: count executions per job and overlapping ones.
		waitFor(*timeout, func() bool {
			var n int
			s.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE state NOT IN ('completed','discarded','cancelled')`).Scan(&n)
			return n == 0
		})
		time.Sleep(*jobDur + time.Second) // let re-executions still running finish
		s.dump(ctx)
		var execs, overlapping, results, jobsN int
		s.pool.QueryRow(ctx, `SELECT count(*) FROM eval_exec`).Scan(&execs)
		s.pool.QueryRow(ctx, `SELECT count(DISTINCT job_id) FROM eval_exec`).Scan(&jobsN)
		s.pool.QueryRow(ctx, `SELECT count(*) FROM eval_result`).Scan(&results)
		s.pool.QueryRow(ctx, `SELECT count(*) FROM eval_exec a JOIN eval_exec b ON a.job_id = b.job_id AND a.id < b.id
			AND b.started < coalesce(a.ended, now()) AND a.started < coalesce(b.ended, now())`).Scan(&overlapping)
		s.logf("RESULT live: %d jobs, %d executions (%d extra), %d pairs of executions of the same job overlapping in time, %d result writes (one per job expected)",
			jobsN, execs, execs-jobsN, overlapping, results)
	case "kill":
		time.Sleep(*killAt)
		victim.Process.Signal(syscall.SIGKILL)
		victim.Wait()
		killed := time.Now()
		s.logf("SIGKILL %s (pid %d) holding job %d; leader was %q", first.worker, first.pid, first.jobID, s.leader(ctx))
		var second execRow
		ok := waitFor(*timeout, func() bool {
			for _, e := range s.execs(ctx) {
				if e.id != first.id {
					second = e
					return true
				}
			}
			return false
		})
		if !ok {
			s.dump(ctx)
			return fmt.Errorf("job not handed over within %s", *timeout)
		}
		s.logf("RESULT kill: job %d handed to %s (attempt %d) %.1f s after the SIGKILL (%.1f s after its first start; RescueStuckJobsAfter %s; leader now %q)",
			second.jobID, second.worker, second.attempt, second.started.Sub(killed).Seconds(), second.started.Sub(first.started).Seconds(), *rescue, s.leader(ctx))
		s.dump(ctx)
	case "zombie":
		// Stop (SIGSTOP) the worker in the middle of its job: a stalled or
		// partitioned worker. Another worker gets the job after the rescue;
		// then the stalled one continues (SIGCONT) and completes "its" job.
		time.Sleep(*killAt)
		victim.Process.Signal(syscall.SIGSTOP)
		s.logf("SIGSTOP %s (pid %d) holding job %d", first.worker, first.pid, first.jobID)
		var second execRow
		if !waitFor(*timeout, func() bool {
			for _, e := range s.execs(ctx) {
				if e.id != first.id {
					second = e
					return true
				}
			}
			return false
		}) {
			s.dump(ctx)
			return fmt.Errorf("job not handed over within %s", *timeout)
		}
		s.logf("job %d now attempt %d on %s; row: %s", second.jobID, second.attempt, second.worker, jobState(ctx, s.pool, second.jobID))
		time.Sleep(1 * time.Second)
		victim.Process.Signal(syscall.SIGCONT)
		s.logf("SIGCONT %s: the old owner resumes", first.worker)
		waitFor(10*time.Second, func() bool {
			var n int
			s.pool.QueryRow(ctx, `SELECT count(*) FROM eval_result WHERE worker = $1`, first.worker).Scan(&n)
			return n > 0
		})
		s.logf("after the old owner's completion: row %s while %s is still running attempt %d", jobState(ctx, s.pool, second.jobID), second.worker, second.attempt)
		waitFor(*jobDur+10*time.Second, func() bool {
			var n int
			s.pool.QueryRow(ctx, `SELECT count(*) FROM eval_exec WHERE ended IS NULL`).Scan(&n)
			return n == 0
		})
		s.dump(ctx)
		var results int
		s.pool.QueryRow(ctx, `SELECT count(*) FROM eval_result`).Scan(&results)
		s.logf("RESULT zombie: %d result writes for one job; see the result lines for which completion changed the row", results)
	case "sigterm":
		time.Sleep(*killAt)
		sent := time.Now()
		victim.Process.Signal(syscall.SIGTERM)
		err := victim.Wait()
		code := victim.ProcessState.ExitCode()
		s.logf("SIGTERM %s: exited with %d (%v) after %.2f s; job row now %s", first.worker, code, err, time.Since(sent).Seconds(), jobState(ctx, s.pool, first.jobID))
		var second execRow
		if !waitFor(*timeout, func() bool {
			for _, e := range s.execs(ctx) {
				if e.id != first.id {
					second = e
					return true
				}
			}
			return false
		}) {
			s.dump(ctx)
			return fmt.Errorf("job not re-run within %s", *timeout)
		}
		s.logf("re-run on %s as attempt %d, %.1f s after SIGTERM", second.worker, second.attempt, second.started.Sub(sent).Seconds())
		waitFor(*jobDur+10*time.Second, func() bool {
			var st string
			s.pool.QueryRow(ctx, `SELECT state::text FROM river_job WHERE id = $1`, first.jobID).Scan(&st)
			return st == "completed"
		})
		s.dump(ctx)
		var att, nerr int
		s.pool.QueryRow(ctx, `SELECT attempt, coalesce(array_length(errors,1),0) FROM river_job WHERE id = $1`, first.jobID).Scan(&att, &nerr)
		s.logf("RESULT sigterm(%s): exit %d; re-run after %.1f s as attempt %d; final attempt %d, %d attempt errors recorded",
			*onCancel, code, second.started.Sub(sent).Seconds(), second.attempt, att, nerr)
	}
	_ = strings.TrimSpace
	return nil
}

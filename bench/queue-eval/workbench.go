package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mksmt/workbench/internal/store"
)

// The same measurements against the workbench's own queue (internal/store:
// ClaimRun, Renew every 5 s, EndLeased, RequeueExpired with a 30 s grace),
// driven like internal/runner/worker.go does: requeue expired leases, then
// claim; poll every second when idle.

func schemaURL(base, schema string) string {
	u, _ := url.Parse(base)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func wbWorker(args []string) error {
	fs := flag.NewFlagSet("wb-worker", flag.ExitOnError)
	dbURL := fs.String("db", "", "URL")
	schema := fs.String("schema", "", "schema")
	name := fs.String("name", "w", "name")
	dur := fs.Duration("job", time.Hour, "run time")
	grace := fs.Duration("grace", 30*time.Second, "grace")
	fs.Parse(args)
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "qe-wb")
	defer os.RemoveAll(dir)
	st, err := store.OpenURL(schemaURL(*dbURL, *schema), store.Options{Artifacts: dir})
	if err != nil {
		return err
	}
	pool, err := openPool(ctx, *dbURL, *schema)
	if err != nil {
		return err
	}
	prov := store.Provenance{Host: "host-" + *name, PID: os.Getpid(), GoVersion: "go", CodeVersion: "eval"}
	for {
		st.RequeueExpired(ctx, *grace, 3)
		run, lease, err := st.ClaimRun(ctx, prov, store.ClaimFilter{})
		if errors.Is(err, store.ErrNotFound) {
			time.Sleep(time.Second)
			continue
		}
		if err != nil {
			return err
		}
		var execID int64
		if err := pool.QueryRow(ctx, `INSERT INTO eval_exec (job_id, attempt, worker, pid) VALUES ($1, $2, $3, $4) RETURNING id`,
			run.ID, lease.Attempt, *name, os.Getpid()).Scan(&execID); err != nil {
			return err
		}
		start, outcome := time.Now(), ""
		last := time.Now()
		for time.Since(start) < *dur {
			time.Sleep(100 * time.Millisecond)
			if time.Since(last) >= store.HeartbeatEvery {
				last = time.Now()
				if err := st.Renew(ctx, lease, store.Progress{Step: int(time.Since(start).Seconds())}); err != nil {
					outcome = "renew refused: " + err.Error()
					break
				}
			}
		}
		if outcome == "" {
			if err := st.EndLeased(ctx, lease, store.End{Status: store.Finished, Summaries: map[string]float64{"by_" + *name: 1}}); err != nil {
				outcome = "end refused: " + err.Error()
			} else {
				outcome = "end ok"
			}
		}
		pool.Exec(ctx, `UPDATE eval_exec SET ended = clock_timestamp(), outcome = $2 WHERE id = $1`, execID, outcome)
	}
}

func wbScenario(name string, args []string) error {
	fs := flag.NewFlagSet(name, flag.ExitOnError)
	dbFlag := fs.String("db", "", "PostgreSQL URL")
	jobDur := fs.Duration("job", time.Hour, "run time")
	killAt := fs.Duration("kill-at", 3*time.Second, "kill/stop the worker this long after its run starts")
	timeout := fs.Duration("timeout", 120*time.Second, "give up after")
	fs.Parse(args)
	ctx := context.Background()
	dbURL, err := evalURL(ctx, *dbFlag)
	if err != nil {
		return err
	}
	schema := "ev_" + strings.ReplaceAll(name, "-", "_")
	s := &scenario{dbURL: dbURL, schema: schema, procs: map[string]*exec.Cmd{}, t0: time.Now()}
	admin, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, fmt.Sprintf(`DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s`, schema, schema)); err != nil {
		return err
	}
	defer admin.Exec(ctx, fmt.Sprintf(`DROP SCHEMA IF EXISTS %s CASCADE`, schema))
	dir, _ := os.MkdirTemp("", "qe-wb")
	defer os.RemoveAll(dir)
	st, err := store.OpenURL(schemaURL(dbURL, schema), store.Options{Artifacts: dir})
	if err != nil {
		return err
	}
	defer st.Close()
	if s.pool, err = openPool(ctx, dbURL, schema); err != nil {
		return err
	}
	defer s.pool.Close()
	if _, err := s.pool.Exec(ctx, `CREATE TABLE eval_exec (id bigserial PRIMARY KEY, job_id bigint, attempt int, worker text, pid int,
			started timestamptz NOT NULL DEFAULT clock_timestamp(), ended timestamptz, outcome text)`); err != nil {
		return err
	}
	if err := st.PutStudy(ctx, store.Study{Name: "eval", Spec: "{}", SpecHash: "x"}); err != nil {
		return err
	}
	id, err := st.CreateRun(ctx, store.NewRun{Study: "eval", Variant: "v", Seed: 1, Config: "{}", ConfigHash: "eval-1"})
	if err != nil {
		return err
	}
	self, _ := os.Executable()
	for _, w := range []string{"w1", "w2"} {
		cmd := exec.Command(self, "wb-worker", "-db", dbURL, "-schema", schema, "-name", w, "-job", jobDur.String())
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			return err
		}
		s.procs[w] = cmd
	}
	defer s.stopAll()
	s.logf("scenario %s: workbench queue, run %d of %s, heartbeat 5 s, grace 30 s, 2 workers", name, id, *jobDur)
	if !waitFor(30*time.Second, func() bool { return len(s.execs(ctx)) >= 1 }) {
		return errors.New("no run claimed within 30 s")
	}
	first := s.execs(ctx)[0]
	victim := s.procs[first.worker]
	s.logf("run %d attempt %d claimed by %s (pid %d)", first.jobID, first.attempt, first.worker, first.pid)
	time.Sleep(*killAt)
	sig := syscall.SIGKILL
	if name == "wb-zombie" {
		sig = syscall.SIGSTOP
	}
	victim.Process.Signal(sig)
	sent := time.Now()
	s.logf("%v %s", sig, first.worker)
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
		return fmt.Errorf("run not handed over within %s", *timeout)
	}
	s.logf("RESULT %s: run %d handed to %s (attempt %d) %.1f s after the signal (%.1f s after its first start; run length %s)",
		name, second.jobID, second.worker, second.attempt, second.started.Sub(sent).Seconds(), second.started.Sub(first.started).Seconds(), *jobDur)
	if name == "wb-zombie" {
		time.Sleep(time.Second)
		victim.Process.Signal(syscall.SIGCONT)
		s.logf("SIGCONT %s: the old owner resumes", first.worker)
		waitFor(*jobDur+15*time.Second, func() bool {
			n := 0
			for _, e := range s.execs(ctx) {
				if e.ended != nil {
					n++
				}
			}
			return n >= 2
		})
		var status, owner string
		var attempts int
		s.pool.QueryRow(ctx, `SELECT status, owner, attempts FROM runs WHERE id = $1`, id).Scan(&status, &owner, &attempts)
		var sums []string
		rows, _ := s.pool.Query(ctx, `SELECT key FROM summaries WHERE run_id = $1`, id)
		for rows.Next() {
			var k string
			rows.Scan(&k)
			sums = append(sums, k)
		}
		rows.Close()
		s.logf("run row: status %s, attempts %d, owner %q, summaries written by %v", status, attempts, owner, sums)
	}
	for _, e := range s.execs(ctx) {
		out := "-"
		if e.outcome != nil {
			out = *e.outcome
		}
		s.logf("exec %d: run %d attempt %d on %s started %.1fs outcome %s", e.id, e.jobID, e.attempt, e.worker, e.started.Sub(s.t0).Seconds(), out)
	}
	return nil
}

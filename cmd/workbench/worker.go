package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/mksmt/workbench/internal/runner"
	"github.com/mksmt/workbench/internal/store"
)

func init() {
	register(&command{
		Name:    "worker",
		Summary: "claim queued runs from a shared database and train them until none is left",
		Run:     runWorker,
	})
}

// envDB names the database when --db is not given (workers started by
// Slurm or Kubernetes get it this way, so its password is in no file).
const envDB = "WORKBENCH_DB"

// defaultDB is $WORKBENCH_DB, else runs.db.
func defaultDB(io IO) string {
	if io.Getenv != nil {
		if v := io.Getenv(envDB); v != "" {
			return v
		}
	}
	return "runs.db"
}

// openShared opens --db for a verb that writes: an SQLite file (created if
// missing) or a PostgreSQL URL, whose artifacts directory must be given.
func openShared(io IO, verb, db, artifacts string) (*store.Store, error) {
	if store.IsURL(db) {
		if artifacts == "" {
			return nil, fmt.Errorf("%s: --artifacts DIR (or $%s) is required with a PostgreSQL --db: checkpoints go there, on storage every worker sees at the same path", verb, envArtifacts)
		}
		st, err := store.OpenURL(db, store.Options{Artifacts: artifacts})
		if err != nil {
			return nil, err
		}
		if ids := st.Recovered(); len(ids) > 0 {
			fmt.Fprintf(io.Err, "marked %d run(s) interrupted whose workbench process is gone: %s\n", len(ids), joinIDs(ids))
		}
		return st, nil
	}
	if err := checkDBFlag(verb, db); err != nil {
		return nil, err
	}
	st, err := openForWrite(io, db, false)
	if err != nil {
		return nil, err
	}
	if artifacts != "" {
		st.Close()
		return store.OpenURL(db, store.Options{Artifacts: artifacts})
	}
	return st, nil
}

func runWorker(ctx context.Context, args []string, io IO) error {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	fs.SetOutput(io.Err)
	db := fs.String("db", defaultDB(io), "the shared database: a postgres:// URL or an SQLite file ($"+envDB+")")
	artifacts := fs.String("artifacts", artifactsDefault(io), "the artifacts directory (checkpoints), the same path on every machine (required with PostgreSQL)")
	var opt runner.WorkerOptions
	fs.IntVar(&opt.MaxRuns, "max-runs", 0, "stop after this many runs (0: no limit)")
	fs.DurationVar(&opt.IdleExit, "idle-exit", 30*time.Second, "stop when no run has been queued for this long (0: never)")
	fs.DurationVar(&opt.Grace, "grace", 30*time.Second, "a running run without a heartbeat for this long is queued again (its worker died)")
	fs.IntVar(&opt.MaxAttempts, "max-attempts", store.DefaultMaxAttempts, "starts of a run before a dying worker makes it failed")
	fs.IntVar(&opt.CheckpointEvery, "checkpoint-every", 50, "write a checkpoint every N batches")
	var studies multiFlag
	fs.Var(&studies, "study", "claim only runs of this study (repeatable)")
	fs.Usage = func() {
		fmt.Fprintln(io.Err, "usage: workbench worker [--db URL] [--artifacts DIR] [--study NAME]... [--max-runs N] [--idle-exit 30s]")
		fmt.Fprintln(io.Err, "\nClaims queued runs one at a time and trains them under a lease; any number of workers on any")
		fmt.Fprintln(io.Err, "number of machines share one database. SIGTERM or SIGUSR1 (scancel, preemption, the time limit)")
		fmt.Fprintln(io.Err, "checkpoints the run in progress and gives it back to the queue; the worker then exits 0.")
		fs.PrintDefaults()
	}
	if err := parseFlagsOnly(fs, args); err != nil {
		return err
	}
	switch {
	case opt.MaxRuns < 0:
		return fmt.Errorf("worker: --max-runs %d: want 0 or more", opt.MaxRuns)
	case opt.IdleExit < 0:
		return fmt.Errorf("worker: --idle-exit %s: want 0 (never) or more", opt.IdleExit)
	case opt.Grace < 3*store.HeartbeatEvery:
		return fmt.Errorf("worker: --grace %s: want at least %s (three heartbeats)", opt.Grace, 3*store.HeartbeatEvery)
	case opt.MaxAttempts < 1:
		return fmt.Errorf("worker: --max-attempts %d: want 1 or more", opt.MaxAttempts)
	case opt.CheckpointEvery < 0:
		return fmt.Errorf("worker: --checkpoint-every %d: want 0 or more", opt.CheckpointEvery)
	}
	if opt.IdleExit == 0 {
		opt.IdleExit = -1
	}
	st, err := openShared(io, "worker", *db, *artifacts)
	if err != nil {
		return err
	}
	defer st.Close()
	version := runner.DetectVersion(".")
	prov := version.Provenance()
	opt.Provenance, opt.Studies, opt.Log = &prov, studies, io.Err
	host, _ := os.Hostname()
	fmt.Fprintf(io.Err, "worker %d on %s: %s\n", os.Getpid(), host, st.Path())
	stats, err := runner.NewWorker(st, opt).Run(ctx)
	fmt.Fprintf(io.Out, "worker %d: %d run(s): %d ended, %d given back, %d lost to another worker\n",
		os.Getpid(), stats.Runs, stats.Finished, stats.Released, stats.Lost)
	return err
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string { return fmt.Sprint([]string(*m)) }

func (m *multiFlag) Set(v string) error {
	if v == "" {
		return fmt.Errorf("empty value")
	}
	*m = append(*m, v)
	return nil
}

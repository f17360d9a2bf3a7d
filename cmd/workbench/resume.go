package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/mksmt/workbench/internal/runner"
	"github.com/mksmt/workbench/internal/store"
)

func init() {
	register(&command{
		Name:    "resume",
		Summary: "continue interrupted runs from their checkpoints",
		Run:     runResume,
	})
}

func runResume(ctx context.Context, args []string, io IO) error {
	fs := flag.NewFlagSet("resume", flag.ContinueOnError)
	fs.SetOutput(io.Err)
	db := fs.String("db", defaultDB(io), "the runs database: a file, or a postgres:// URL ($WORKBENCH_DB)")
	var tf trainFlags
	tf.register(fs)
	yes := fs.Bool("yes", false, fmt.Sprintf("resume more than %d runs without asking", confirmAbove))
	fs.Usage = func() {
		fmt.Fprintln(io.Err, "usage: workbench resume [RUN...] [--jobs N] [--db runs.db] [--yes]")
		fmt.Fprintln(io.Err, "\nContinues every interrupted run (or the runs named, which may also be failed ones)")
		fmt.Fprintln(io.Err, "from its checkpoint; a run without a checkpoint starts again from the beginning.")
		fs.PrintDefaults()
	}
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if err := checkDBFlag("resume", *db); err != nil {
		return err
	}
	if err := tf.validate("resume"); err != nil {
		return err
	}
	var ids []int64
	for _, a := range rest {
		id, err := parseRunID("resume", a)
		if err != nil {
			return err
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	st, err := openForWrite(io, *db, true)
	if err != nil {
		return err
	}
	defer st.Close()
	// Count before the runner queues anything: the runs named, or every
	// interrupted one.
	n := len(ids)
	if n == 0 {
		runs, err := st.Runs(ctx, store.RunFilter{Statuses: []store.Status{store.Interrupted}})
		if err != nil {
			return err
		}
		n = len(runs)
	}
	if err := confirmRuns(io, "resume", n, *yes); err != nil {
		return err
	}
	r, err := runner.New(ctx, st, runner.Options{Jobs: tf.jobs, Progress: io.Out, TTY: io.IsTTY, Width: termWidth(io),
		CheckpointEvery: tf.checkpointEvery, DropFinishedCheckpoints: tf.dropCheckpoints})
	if err != nil {
		return err
	}
	plan, err := r.Resume(ctx, ids...)
	if err != nil {
		_, cerr := r.Close()
		return errors.Join(err, cerr)
	}
	if plan.Train() == 0 && len(plan.Busy) == 0 {
		r.Close()
		fmt.Fprintln(io.Out, "nothing to resume: no interrupted runs")
		return nil
	}
	fmt.Fprintf(io.Out, "resuming %d run(s)\n", plan.Train())
	r.Wait()
	outcomes, closeErr := r.Close()
	return errors.Join(reportOutcomes(io, outcomes, "", len(plan.Busy)), closeErr)
}

// parseRunID reads a run id (1 or more; "#12" as runs prints it is fine).
func parseRunID(verb, s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a run id (see workbench runs)", verb, s)
	}
	if id < 1 {
		return 0, fmt.Errorf("%s: run id %d is out of range (run ids start at 1)", verb, id)
	}
	return id, nil
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"

	"github.com/mksmt/workbench/internal/runner"
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
	db := fs.String("db", "runs.db", "the runs database")
	var tf trainFlags
	tf.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(io.Err, "usage: workbench resume [RUN...] [--jobs N] [--db runs.db]")
		fmt.Fprintln(io.Err, "\nContinues every interrupted run (or the runs named, which may also be failed ones)")
		fmt.Fprintln(io.Err, "from its checkpoint; a run without a checkpoint starts again from the beginning.")
		fs.PrintDefaults()
	}
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	var ids []int64
	for _, a := range rest {
		id, err := strconv.ParseInt(a, 10, 64)
		if err != nil {
			return fmt.Errorf("resume: %q is not a run id", a)
		}
		ids = append(ids, id)
	}
	st, err := openRuns(io, *db, false)
	if err != nil {
		return err
	}
	defer st.Close()
	r, err := runner.New(ctx, st, runner.Options{Jobs: tf.jobs, Progress: io.Out, TTY: io.IsTTY, Width: termWidth(io),
		CheckpointEvery: tf.checkpointEvery})
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

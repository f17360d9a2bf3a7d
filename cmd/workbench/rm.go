package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/mksmt/workbench/internal/filter"
	"github.com/mksmt/workbench/internal/store"
)

func init() {
	register(&command{
		Name:    "rm",
		Summary: "remove runs for good: their rows, metrics and checkpoints",
		Run:     runRm,
	})
}

func runRm(ctx context.Context, args []string, io IO) error {
	fs := flag.NewFlagSet("rm", flag.ContinueOnError)
	fs.SetOutput(io.Err)
	db := fs.String("db", defaultDB(io), "the runs database: a file, or a postgres:// URL ($WORKBENCH_DB)")
	artifacts := fs.String("artifacts", "", "the artifacts directory of a PostgreSQL --db, where the checkpoints are ($"+envArtifacts+")")
	var where multiFlag
	fs.Var(&where, "where", "the runs matching this filter (repeatable, ANDed; see workbench runs -h), archived ones included")
	yes := fs.Bool("yes", false, "remove more than one run without asking")
	dryRun := fs.Bool("dry-run", false, "only list what would be removed")
	fs.Usage = func() {
		fmt.Fprintln(io.Err, "usage: workbench rm RUN... [--where FILTER] [--yes] [--dry-run] [--db runs.db]")
		fmt.Fprintln(io.Err, "\nRemoves runs for good: the run, its params, metric points, summaries, tags, artifact")
		fmt.Fprintln(io.Err, "records and study memberships (one transaction: all the runs or none), then its")
		fmt.Fprintln(io.Err, "checkpoint files under the artifacts directory. Queued and running runs are refused.")
		fmt.Fprintln(io.Err, "More than one run asks first (--yes does not). A study that used a removed run trains")
		fmt.Fprintln(io.Err, "it again when run. RUN is an id, a range (3-7) or a list (3,5,9). To only hide runs,")
		fmt.Fprintln(io.Err, "use workbench archive.")
		fs.PrintDefaults()
	}
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	ids, err := parseRunIDs("rm", rest)
	if err != nil {
		return err
	}
	if len(ids) == 0 && len(where) == 0 {
		fs.Usage()
		return errors.New("rm: name the runs: ids (see workbench runs) or --where FILTER")
	}
	st, err := openForMarks(io, "rm", *db, *artifacts, true)
	if err != nil {
		return err
	}
	defer st.Close()
	runs, err := namedRuns(ctx, st, "rm", ids)
	if err != nil {
		return err
	}
	if len(where) > 0 {
		sel, f, err := selectRuns(ctx, st, "rm", store.RunFilter{}, nil, where, filter.WithArchived)
		if err != nil {
			return err
		}
		for _, rec := range sel.Records {
			if !containsRun(runs, rec.Run.ID) {
				runs = append(runs, rec.Run)
			}
		}
		if len(runs) == 0 {
			fmt.Fprintf(io.Out, "nothing to remove: no runs match %s\n", f)
			return nil
		}
	}
	for _, r := range runs {
		if err := busyRun("rm", r, "nothing removed"); err != nil {
			return err
		}
	}
	if *dryRun {
		for _, r := range runs {
			fmt.Fprintf(io.Out, "would remove %s, %s\n", runLabel(r), r.Status)
			if fi, err := os.Stat(st.CheckpointPath(r.ID)); err == nil {
				fmt.Fprintf(io.Out, "  and its checkpoint %s (%s)\n", st.CheckpointPath(r.ID), fmtBytes(fi.Size()))
			}
		}
		fmt.Fprintf(io.Out, "would remove %d run(s); nothing removed (--dry-run)\n", len(runs))
		return nil
	}
	if err := confirmRemove(io, runs, *yes); err != nil {
		return err
	}
	ids = ids[:0]
	var size int64 // of the checkpoints, for the report
	for _, r := range runs {
		ids = append(ids, r.ID)
		if fi, err := os.Stat(st.CheckpointPath(r.ID)); err == nil {
			size += fi.Size()
		}
	}
	rep, err := st.DeleteRuns(ctx, ids)
	if len(rep.IDs) == 0 && err != nil {
		return storeErr("rm", err)
	}
	for _, r := range runs {
		fmt.Fprintf(io.Out, "removed %s, %s\n", runLabel(r), r.Status)
	}
	msg := fmt.Sprintf("removed %d run(s) and %d file(s)", len(rep.IDs), len(rep.Files))
	if len(rep.Files) > 0 && size > 0 {
		msg += fmt.Sprintf(" (checkpoints: %s)", fmtBytes(size))
	}
	if len(rep.Kept) > 0 {
		msg += fmt.Sprintf("; left %d file(s) outside the artifacts directory or shared with other runs: %s", len(rep.Kept), strings.Join(rep.Kept, ", "))
	}
	fmt.Fprintln(io.Out, msg)
	if err != nil {
		return fmt.Errorf("rm: %w", err)
	}
	return nil
}

// confirmRemove asks before removing more than one run: --yes goes ahead,
// a terminal (stdin and stdout) gets a y/N question listing them, anything
// else is refused with what to do.
func confirmRemove(io IO, runs []store.Run, yes bool) error {
	if len(runs) <= 1 || yes {
		return nil
	}
	in, ok := io.In.(*os.File)
	if !io.IsTTY || !ok || !isTerminal(in) {
		return fmt.Errorf("rm: %d runs to remove (%s): pass --yes to confirm; nothing removed", len(runs), joinIDs(runIDs(runs)))
	}
	for _, r := range runs {
		fmt.Fprintf(io.Err, "  %s, %s\n", runLabel(r), r.Status)
	}
	fmt.Fprintf(io.Err, "rm: remove these %d runs for good? [y/N] ", len(runs))
	line, err := bufio.NewReader(io.In).ReadString('\n')
	if err != nil && line == "" {
		return fmt.Errorf("rm: %d runs not removed: no answer", len(runs))
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return errors.New("rm: nothing removed (answered no)")
}

func runIDs(runs []store.Run) []int64 {
	out := make([]int64, len(runs))
	for i, r := range runs {
		out[i] = r.ID
	}
	return out
}

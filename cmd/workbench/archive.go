package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/mksmt/workbench/internal/filter"
	"github.com/mksmt/workbench/internal/store"
)

func init() {
	register(&command{
		Name:    "archive",
		Summary: "hide runs from run lists (unarchive shows them again)",
		Run:     func(ctx context.Context, args []string, io IO) error { return runArchive(ctx, "archive", args, io) },
	})
	register(&command{
		Name:    "unarchive",
		Summary: "list archived runs again",
		Run:     func(ctx context.Context, args []string, io IO) error { return runArchive(ctx, "unarchive", args, io) },
	})
}

func runArchive(ctx context.Context, verb string, args []string, io IO) error {
	archive := verb == "archive"
	fs := flag.NewFlagSet(verb, flag.ContinueOnError)
	fs.SetOutput(io.Err)
	db := fs.String("db", defaultDB(io), "the runs database: a file, or a postgres:// URL ($WORKBENCH_DB)")
	var where multiFlag
	fs.Var(&where, "where", "the runs matching this filter (repeatable, ANDed; see workbench runs -h), e.g. --where status:failed")
	fs.Usage = func() {
		fmt.Fprintf(io.Err, "usage: workbench %s RUN... [--where FILTER] [--db runs.db]\n", verb)
		if archive {
			fmt.Fprintln(io.Err, "\nArchived runs are hidden from workbench runs and the TUI's Runs (runs --archived or")
			fmt.Fprintln(io.Err, "--all lists them); they stay in the database, and tables and reuse still count them")
			fmt.Fprintln(io.Err, "(workbench rm removes a run for good). Queued and running runs are not archived.")
			fmt.Fprintln(io.Err, "RUN is an id, a range (3-7) or a list (3,5,9).")
		}
		fs.PrintDefaults()
	}
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	ids, err := parseRunIDs(verb, rest)
	if err != nil {
		return err
	}
	if len(ids) == 0 && len(where) == 0 {
		fs.Usage()
		return fmt.Errorf("%s: name the runs: ids (see workbench runs) or --where FILTER", verb)
	}
	st, err := openForMarks(io, verb, *db, "", false)
	if err != nil {
		return err
	}
	defer st.Close()
	runs, err := namedRuns(ctx, st, verb, ids)
	if err != nil {
		return err
	}
	if len(where) > 0 {
		arch := filter.HideArchived
		if !archive {
			arch = filter.OnlyArchived
		}
		sel, f, err := selectRuns(ctx, st, verb, store.RunFilter{}, nil, where, arch)
		if err != nil {
			return err
		}
		if len(sel.Records) == 0 && len(runs) == 0 {
			fmt.Fprintf(io.Out, "nothing to %s: no runs match %s\n", verb, f)
			return nil
		}
		for _, rec := range sel.Records {
			r := rec.Run
			if archive && (r.Status == store.Queued || r.Status == store.Running) {
				// Named by a filter, not by id: left alone, and said so.
				fmt.Fprintf(io.Err, "%s: skipped %s: it is %s\n", verb, runLabel(r), r.Status)
				continue
			}
			if !containsRun(runs, r.ID) {
				runs = append(runs, r)
			}
		}
	}
	ids = ids[:0]
	for _, r := range runs {
		if archive {
			if err := busyRun(verb, r, "nothing archived"); err != nil {
				return err
			}
		}
		ids = append(ids, r.ID)
	}
	if len(ids) == 0 {
		fmt.Fprintf(io.Out, "nothing to %s\n", verb)
		return nil
	}
	changed, err := st.Archive(ctx, ids, archive)
	if err != nil {
		return storeErr(verb, err)
	}
	done := verb + "d"
	for _, r := range runs {
		if containsID(changed, r.ID) {
			fmt.Fprintf(io.Out, "%s %s\n", done, runLabel(r))
		} else if archive {
			fmt.Fprintf(io.Out, "%s was archived already\n", runLabel(r))
		} else {
			fmt.Fprintf(io.Out, "%s was not archived\n", runLabel(r))
		}
	}
	if archive && len(changed) > 0 {
		fmt.Fprintf(io.Out, "archived %d run(s): hidden from workbench runs (--archived lists them; workbench unarchive %s shows them again)\n",
			len(changed), joinIDs(changed))
	}
	return nil
}

func containsRun(runs []store.Run, id int64) bool {
	for _, r := range runs {
		if r.ID == id {
			return true
		}
	}
	return false
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

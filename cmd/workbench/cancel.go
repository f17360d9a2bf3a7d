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
		Name:    "cancel",
		Summary: "stop queued or running runs, on any machine (they can be resumed)",
		Run:     runCancel,
	})
}

// runCancel stops runs wherever they are: a queued run is never started,
// and a running one's worker or local runner, on any host, loses its lease
// at its next heartbeat (5 s) and stops, keeping its last checkpoint.
func runCancel(ctx context.Context, args []string, io IO) error {
	fs := flag.NewFlagSet("cancel", flag.ContinueOnError)
	fs.SetOutput(io.Err)
	db := fs.String("db", defaultDB(io), "the runs database: a file, or a postgres:// URL ($WORKBENCH_DB)")
	var where multiFlag
	fs.Var(&where, "where", "the runs matching this filter (repeatable, ANDed; see workbench runs -h), e.g. --where 'study:table9 status:queued'")
	fs.Usage = func() {
		fmt.Fprintln(io.Err, "usage: workbench cancel RUN... [--where FILTER] [--db runs.db]")
		fmt.Fprintln(io.Err, "\nQueued runs are not started; running ones stop at their worker's next heartbeat,")
		fmt.Fprintln(io.Err, "wherever they run, keeping their last checkpoint. Both end interrupted:")
		fmt.Fprintln(io.Err, "workbench resume (or submit) continues them. RUN is an id, a range (3-7) or a list (3,5,9).")
		fs.PrintDefaults()
	}
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	ids, err := parseRunIDs("cancel", rest)
	if err != nil {
		return err
	}
	if len(ids) == 0 && len(where) == 0 {
		fs.Usage()
		return fmt.Errorf("cancel: name the runs: ids (see workbench runs) or --where FILTER")
	}
	st, err := openForMarks(io, "cancel", *db, "", false)
	if err != nil {
		return err
	}
	defer st.Close()
	runs, err := namedRuns(ctx, st, "cancel", ids)
	if err != nil {
		return err
	}
	if len(where) > 0 {
		sel, _, err := selectRuns(ctx, st, "cancel", store.RunFilter{Statuses: []store.Status{store.Queued, store.Running}},
			nil, where, filter.WithArchived)
		if err != nil {
			return err
		}
		for _, rec := range sel.Records {
			if !containsRun(runs, rec.Run.ID) {
				runs = append(runs, rec.Run)
			}
		}
	}
	ids = ids[:0]
	for _, r := range runs {
		ids = append(ids, r.ID)
	}
	stopped, err := st.Cancel(ctx, ids, "interrupted: cancelled (workbench cancel)")
	if err != nil {
		return storeErr("cancel", err)
	}
	for _, r := range runs {
		switch {
		case !containsID(stopped, r.ID):
			fmt.Fprintf(io.Out, "%s was %s: nothing to cancel\n", runLabel(r), r.Status)
		case r.Status == store.Running:
			fmt.Fprintf(io.Out, "cancelled %s: its process on %s stops at its next heartbeat\n", runLabel(r), orDash(r.Host))
		default:
			fmt.Fprintf(io.Out, "cancelled %s: it will not start\n", runLabel(r))
		}
	}
	if len(stopped) > 0 {
		fmt.Fprintf(io.Out, "cancelled %d run(s); workbench resume %s continues them\n", len(stopped), joinIDs(stopped))
	}
	return nil
}

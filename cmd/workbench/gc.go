package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/mksmt/workbench/internal/runner"
)

func init() {
	register(&command{
		Name:    "gc",
		Summary: "remove checkpoints nothing needs and report the space freed",
		Run:     runGC,
	})
}

func runGC(ctx context.Context, args []string, io IO) error {
	fs := flag.NewFlagSet("gc", flag.ContinueOnError)
	fs.SetOutput(io.Err)
	db := fs.String("db", defaultDB(io), "the runs database: a file, or a postgres:// URL ($WORKBENCH_DB)")
	var opt runner.GCOptions
	fs.BoolVar(&opt.KeepFinished, "keep-finished", false, "keep the final checkpoints of finished runs (Figure 4's Grad-CAM maps are drawn from them)")
	fs.BoolVar(&opt.DryRun, "dry-run", false, "only list what would be removed")
	verbose := fs.Bool("v", false, "list every file")
	fs.Usage = func() {
		fmt.Fprintln(io.Err, "usage: workbench gc [--keep-finished] [--dry-run] [-v] [--db runs.db]")
		fmt.Fprintln(io.Err, "\nRemoves the checkpoints of finished and diverged runs, of runs no longer in the")
		fmt.Fprintln(io.Err, "database and half-written ones left by a killed process. Checkpoints of queued,")
		fmt.Fprintln(io.Err, "running, interrupted and failed runs are kept: resume continues them.")
		fs.PrintDefaults()
	}
	if err := parseFlagsOnly(fs, args); err != nil {
		return err
	}
	if err := checkDBFlag("gc", *db); err != nil {
		return err
	}
	st, err := openForWrite(io, *db, true)
	if err != nil {
		return err
	}
	defer st.Close()
	rep, err := runner.CollectCheckpoints(ctx, st, opt)
	verb := "removed"
	if opt.DryRun {
		verb = "would remove"
	}
	if *verbose || opt.DryRun {
		for _, f := range rep.Removed {
			fmt.Fprintf(io.Out, "%s %s (%s): %s\n", verb, f.Path, fmtBytes(f.Bytes), f.Why)
		}
	}
	fmt.Fprintf(io.Out, "%s %d checkpoint file(s), %s; kept %d\n", verb, len(rep.Removed), fmtBytes(rep.Freed), rep.Kept)
	return err
}

// fmtBytes shows a size in B, KB, MB or GB (powers of 1000).
func fmtBytes(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f KB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}

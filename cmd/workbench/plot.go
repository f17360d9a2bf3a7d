package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/mksmt/workbench/internal/plot"
	"github.com/mksmt/workbench/internal/report"
)

func init() {
	register(&command{
		Name:    "plot",
		Summary: "write the figures of studies to plots/ (learning curves, bar charts, Figure 3)",
		Run:     runPlot,
	})
}

// plotOptions are the flags of `workbench plot`.
type plotOptions struct {
	db      string
	out     string
	format  string
	profile string
}

func runPlot(ctx context.Context, args []string, io IO) error {
	var o plotOptions
	fs := flag.NewFlagSet("plot", flag.ContinueOnError)
	fs.SetOutput(io.Err)
	fs.StringVar(&o.db, "db", "runs.db", "the runs database")
	fs.StringVar(&o.out, "out", "plots", "directory the figures are written to")
	fs.StringVar(&o.format, "format", "png,svg", "image formats, comma-separated: png, svg")
	fs.StringVar(&o.profile, "profile", "", "plot the runs of this profile (default: each study's own)")
	fs.Usage = func() {
		fmt.Fprintln(io.Err, "usage: workbench plot NAME|SPEC... [--out plots/] [--format png|svg|png,svg] [--profile P] [--db runs.db]")
		fs.PrintDefaults()
	}
	names, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		fs.Usage()
		return errors.New("plot: name a study (e.g. workbench plot table9)")
	}
	formats, err := parsePlotFormats(o.format)
	if err != nil {
		return err
	}
	st, err := openExistingDB(o.db)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, name := range names {
		study, err := loadStudyArg(ctx, st, name)
		if err != nil {
			return err
		}
		t, l, err := studyTable(ctx, st, study, o.profile, true)
		if err != nil {
			return err
		}
		if _, err := writeStudyPlots(io, t, l, o.out, formats); err != nil {
			return err
		}
	}
	return nil
}

func parsePlotFormats(s string) ([]plot.Format, error) {
	var out []plot.Format
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		pf, err := plot.ParseFormat(f)
		if err != nil {
			return nil, err
		}
		out = append(out, pf)
	}
	if len(out) == 0 {
		return nil, errors.New("plot: --format names no format (want png, svg or png,svg)")
	}
	return out, nil
}

// writeStudyPlots writes every figure of one study in every format, says
// which files it wrote on Out and what it skipped on Err, and returns the
// paths.
func writeStudyPlots(io IO, t *report.Table, l *report.Loaded, dir string, formats []plot.Format) ([]string, error) {
	figs, notes := plot.StudyFigures(t, report.Curves(l.Series, l.Spec.Variants))
	for _, n := range notes {
		fmt.Fprintf(io.Err, "plot: skipped: %s\n", n)
	}
	var paths []string
	for _, f := range figs {
		for _, format := range formats {
			path, err := f.Save(dir, format)
			if err != nil {
				return paths, err
			}
			paths = append(paths, path)
			fmt.Fprintf(io.Out, "wrote %s\n", path)
		}
	}
	if len(figs) == 0 {
		fmt.Fprintf(io.Err, "plot: %s: nothing to draw yet (no finished runs)\n", t.Study)
	}
	return paths, nil
}

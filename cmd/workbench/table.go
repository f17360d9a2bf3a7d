package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"

	"github.com/mksmt/workbench/internal/experiment"
	"github.com/mksmt/workbench/internal/report"
	"github.com/mksmt/workbench/internal/store"
)

func init() {
	register(&command{
		Name:    "table",
		Summary: "print the comparison table of studies (paper tables 7–11, Figure 3's data)",
		Run:     runTable,
	})
}

// tableOptions are the flags of `workbench table`.
type tableOptions struct {
	db      string
	format  string
	profile string
}

func runTable(ctx context.Context, args []string, io IO) error {
	var o tableOptions
	fs := flag.NewFlagSet("table", flag.ContinueOnError)
	fs.SetOutput(io.Err)
	fs.StringVar(&o.db, "db", defaultDB(io), "the runs database: a file, or a postgres:// URL ($WORKBENCH_DB)")
	fs.StringVar(&o.format, "format", "term", "output format: term, md, csv, json or latex")
	fs.StringVar(&o.profile, "profile", "", "tabulate the runs of this profile (default: each study's own)")
	fs.Usage = func() {
		fmt.Fprintln(io.Err, "usage: workbench table NAME|SPEC... [--format term|md|csv|json|latex] [--profile P] [--db runs.db]")
		fmt.Fprintln(io.Err, "\nNAME is a study in experiments/ (or recorded in the db); SPEC a study file.")
		fs.PrintDefaults()
	}
	names, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		fs.Usage()
		return errors.New("table: name a study (e.g. workbench table table9)")
	}
	if err := checkDBFlag("table", o.db); err != nil {
		return err
	}
	format, err := report.ParseFormat(o.format)
	if err != nil {
		return fmt.Errorf("table: --format: %w", err)
	}
	if err := checkProfile("table", o.profile); err != nil {
		return err
	}
	st, err := openForRead(io, o.db)
	if err != nil {
		return err
	}
	defer st.Close()
	var tables []*report.Table
	for _, name := range names {
		study, err := loadStudyArg(ctx, st, name)
		if err != nil {
			return err
		}
		t, _, err := report.StudyTable(ctx, st, study, o.profile, false)
		if err != nil {
			return err
		}
		tables = append(tables, t)
	}
	// The tables shown together are one family for Holm's adjustment.
	report.AdjustClaims(tables...)
	return report.Render(io.Out, format, termRenderer(io), tables...)
}

// termRenderer styles terminal tables in colour when Out is a terminal
// (and NO_COLOR is not set); nil renders plain text.
func termRenderer(io IO) *lipgloss.Renderer {
	if !io.IsTTY || (io.Getenv != nil && io.Getenv("NO_COLOR") != "") {
		return nil
	}
	return lipgloss.NewRenderer(io.Out)
}

// loadStudyArg resolves NAME|SPEC as experiment.Resolve does (a spec
// file, or a study name or paper table in experiments/); a name found
// nowhere there may still be a study runs.db recorded, with its spec text
// (one defined in the TUI, say).
func loadStudyArg(ctx context.Context, st *store.Store, arg string) (*experiment.Study, error) {
	path, err := experiment.Resolve(arg, "experiments")
	if err == nil {
		return experiment.Load(path)
	}
	if st != nil && experiment.ValidName(arg) == nil {
		if rec, dbErr := st.Study(ctx, arg); dbErr == nil && strings.TrimSpace(rec.Spec) != "" {
			return experiment.Parse(arg+" (as recorded in runs.db)", []byte(rec.Spec))
		}
	}
	return nil, err
}

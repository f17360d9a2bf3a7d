package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
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
	fs.StringVar(&o.profile, "profile", "", "tabulate the runs of this profile (default: each study's own, or else the profile that has finished runs; the table says which)")
	fs.Usage = func() {
		fmt.Fprintln(io.Err, "usage: workbench table NAME|SPEC... [--format term|md|csv|json|latex] [--profile P] [--db runs.db]")
		fmt.Fprintln(io.Err, "\nNAME is a study in ./experiments/ (relative to the current directory, or recorded in the db); SPEC a study file.")
		fmt.Fprintln(io.Err, "Terminal tables fit $COLUMNS (else the terminal's width): cells wrap, and the claims table leaves out columns its lines repeat.")
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
	sayHeadlines(io, "table", format, tables...)
	return report.RenderWidth(io.Out, format, termRenderer(io), tableWidth(io), tables...)
}

// sayHeadlines repeats on Err what a table says before its cells (the
// profile picked, why it is empty) for the formats that have no place for
// it: CSV, and JSON read by a program ("headline" holds it too).
func sayHeadlines(io IO, verb string, f report.Format, tables ...*report.Table) {
	if f != report.CSV && f != report.JSON {
		return
	}
	for _, t := range tables {
		for _, h := range t.Headline {
			fmt.Fprintf(io.Err, "%s: %s: %s\n", verb, t.Study, h)
		}
	}
}

// tableWidth is the width terminal tables are fitted to: $COLUMNS when set
// to a positive number, else the terminal's when Out is one, else 0 (no
// limit: a table piped to a file keeps its rows on one line).
func tableWidth(io IO) int {
	if io.Getenv != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(io.Getenv("COLUMNS"))); err == nil && n > 0 {
			return n
		}
	}
	return termWidth(io)
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
// file, or a study name or paper table in ./experiments/, relative to the
// current directory); a name found nowhere there may still be a study the
// database recorded, with its spec text (one defined in the TUI, or run
// from another directory). When neither has it and the current directory
// has no experiments/, the error says so.
func loadStudyArg(ctx context.Context, st *store.Store, arg string) (*experiment.Study, error) {
	path, err := experiment.Resolve(arg, "experiments")
	if err == nil {
		return experiment.Load(path)
	}
	if st != nil && experiment.ValidName(arg) == nil {
		if rec, dbErr := st.Study(ctx, arg); dbErr == nil && strings.TrimSpace(rec.Spec) != "" {
			return experiment.Parse(arg+" (as recorded in "+filepath.Base(st.Path())+")", []byte(rec.Spec))
		}
	}
	if fi, statErr := os.Stat("experiments"); statErr != nil || !fi.IsDir() {
		wd, _ := os.Getwd()
		return nil, fmt.Errorf("%w; study names are looked up in experiments/ under the current directory (%s), which has none, and in the database: run from the repository root or give the spec's path", err, wd)
	}
	return nil, err
}

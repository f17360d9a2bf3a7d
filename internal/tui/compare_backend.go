package tui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/lipgloss"

	"github.com/mksmt/workbench/internal/experiment"
	"github.com/mksmt/workbench/internal/plot"
	"github.com/mksmt/workbench/internal/report"
	"github.com/mksmt/workbench/internal/store"
)

// loadStudy reads a study by name: experiments/NAME.toml, else the spec
// text runs.db recorded when it was last run (as `workbench table` does).
func (b *backend) loadStudy(ctx context.Context, name string) (*experiment.Study, error) {
	if err := experiment.ValidName(name); err != nil {
		return nil, fmt.Errorf("study %q: %w", name, err)
	}
	path := filepath.Join(b.specDir, name+".toml")
	if _, err := os.Stat(path); err == nil {
		return experiment.Load(path)
	}
	rec, err := b.store.Study(ctx, name)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("study %s: no %s and no study of that name in %s", name, path, b.dbName())
		}
		return nil, err
	}
	if strings.TrimSpace(rec.Spec) == "" {
		return nil, fmt.Errorf("study %s: no %s and runs.db holds no spec for it", name, path)
	}
	return experiment.Parse(name+" (as recorded in "+b.dbName()+")", []byte(rec.Spec))
}

// studyTable builds the study's table exactly as `workbench table` does
// (report.StudyTable): the runs of the study's own profile, the paper's
// figures and claims, and notes on what is missing.
func (b *backend) studyTable(ctx context.Context, name string, series bool) (*report.Table, *report.Loaded, error) {
	study, err := b.loadStudy(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	return report.StudyTable(ctx, b.store, study, "", series)
}

// tableText renders the study's table for the terminal, as `workbench
// table` prints it.
func (b *backend) tableText(ctx context.Context, name string) (string, error) {
	t, _, err := b.studyTable(ctx, name, false)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	buf.WriteString(claimsSummary(t))
	if err := report.Render(&buf, report.Term, lipgloss.DefaultRenderer(), t); err != nil {
		return "", fmt.Errorf("table of %s: %w", name, err)
	}
	return buf.String(), nil
}

// claimsSummary puts the verdicts first, narrow enough for an 80-column
// screen: per claim the verdict and its words, then the raw and
// Holm-adjusted p and the seeds an open claim needs (the claim table
// below has them too, but wide).
func claimsSummary(t *report.Table) string {
	if len(t.Claims) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", report.CountVerdicts(t))
	for _, c := range t.Claims {
		fmt.Fprintf(&b, "  %s: %s\n", c.Verdict, c.Text)
		line := "p raw " + pShort(c.P) + " · p Holm " + pShort(c.PAdjusted)
		switch {
		case c.Deterministic:
			line = "exact (a count, not a reproduction)"
		case c.Verdict == report.NoSpread:
			line = "no CI, no p-value: add seeds"
		}
		switch {
		case c.SeedsNeeded > report.MaxSeedsNeeded:
			line += fmt.Sprintf(" · seeds needed >%d", report.MaxSeedsNeeded)
		case c.SeedsNeeded > 0:
			line += fmt.Sprintf(" · seeds needed %d (%s)", c.SeedsNeeded, c.SeedsBasis)
		}
		b.WriteString("      " + line + "\n")
	}
	return b.String()
}

// pShort prints a p-value in three decimals, "<0.001" or "—".
func pShort(p float64) string {
	switch {
	case math.IsNaN(p):
		return "—"
	case p < 0.001:
		return "<0.001"
	}
	return fmt.Sprintf("%.3f", p)
}

// exportFormats are the table formats `e` writes.
var exportFormats = []report.Format{report.Markdown, report.CSV, report.LaTeX}

// export writes the study's table as Markdown, CSV and LaTeX and its
// figures as PNG and SVG into the plot directory, and returns the paths.
func (b *backend) export(ctx context.Context, name string) ([]string, error) {
	t, l, err := b.studyTable(ctx, name, true)
	if err != nil {
		return nil, err
	}
	// Each file is replaced whole or not at all, and none may be the
	// runs database (writeWith).
	var paths []string
	for _, f := range exportFormats {
		path := filepath.Join(b.plotDir, name+"."+f.Ext())
		var renderErr error
		err := b.writeWith(path, func(w io.Writer) error {
			renderErr = report.Render(w, f, nil, t)
			return renderErr
		})
		if renderErr != nil {
			return paths, fmt.Errorf("export %s as %s: %w", name, f, renderErr)
		}
		if err != nil {
			return paths, fmt.Errorf("export %s: %w", name, err)
		}
		paths = append(paths, path)
	}
	figs, _ := plot.StudyFigures(t, report.Curves(l.Series, l.Spec.Variants))
	for _, fig := range figs {
		for _, format := range []plot.Format{plot.PNG, plot.SVG} {
			path := fig.File(b.plotDir, format)
			if err := b.writeWith(path, func(w io.Writer) error { return fig.Encode(w, format) }); err != nil {
				return paths, fmt.Errorf("export %s: %w", name, err)
			}
			paths = append(paths, path)
		}
	}
	return paths, nil
}

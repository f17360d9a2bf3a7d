package report

import (
	"fmt"
	"math"
	"strconv"
)

// The text grids below are shared by the terminal and Markdown renderers.

// mainGrid is the header and rows of the main table: one row per variant,
// each metric column followed by its paper column where the spec gives one.
func (t *Table) mainGrid() (header []string, rows [][]string) {
	header = []string{"Variant"}
	if t.Sweep != nil {
		header = append(header, sweepLabel(t.Sweep))
	}
	for _, c := range t.Columns {
		header = append(header, c.HeaderWithUnit())
		if c.HasPaper {
			header = append(header, c.Header+" paper")
		}
	}
	for _, r := range t.Rows {
		row := []string{r.Variant}
		if t.Sweep != nil {
			row = append(row, formatX(r.X))
		}
		for i, c := range t.Columns {
			row = append(row, c.CellText(r.Cells[i]))
			if c.HasPaper {
				row = append(row, c.PaperText(r.Cells[i]))
			}
		}
		rows = append(rows, row)
	}
	return header, rows
}

// deltaGrid is the paired comparison of every variant with the baseline.
func (t *Table) deltaGrid() (header []string, rows [][]string) {
	header = []string{"Δ vs " + t.Baseline}
	for _, c := range t.Columns {
		header = append(header, c.HeaderWithUnit())
	}
	for _, d := range t.Deltas {
		row := []string{d.Variant}
		for i, c := range t.Columns {
			row = append(row, deltaCell(c, d.Cells[i]))
		}
		rows = append(rows, row)
	}
	return header, rows
}

// deltaCell is DeltaText with the paired test's p-value.
func deltaCell(c Column, p Paired) string {
	s := c.DeltaText(p)
	if p.N() >= 2 && p.Delta.Std > 0 {
		s += " " + pText(p.P)
	}
	return s
}

// claimGrid is one row per claim: the evidence, the raw and Holm-adjusted
// p, the verdict and, for an open claim, the seeds it needs.
func (t *Table) claimGrid() (header []string, rows [][]string) {
	header = []string{"Claim", "Metric", "Compared", "Δ [95% CI] (n)", "Res.", "Paper Δ", "p raw", "p Holm", "Verdict", "Seeds needed"}
	for _, c := range t.Claims {
		col := Column{Metric: c.Metric, Unit: t.unitOf(c.Metric)}
		rows = append(rows, []string{claimText(c), c.Metric, comparedText(c), col.DeltaText(c.Paired),
			resText(c), paperDeltaText(col, c), rawPText(c), pText(c.PAdjusted), string(c.Verdict), seedsText(c.SeedsNeeded)})
	}
	return header, rows
}

// claimText is the claim's words, marked when the workbench (not the
// paper) makes it.
func claimText(c ClaimResult) string {
	if c.Source == "workbench" {
		return c.Text + " (workbench's claim)"
	}
	return c.Text
}

// comparedText says what is subtracted from what.
func comparedText(c ClaimResult) string {
	if c.Interaction() {
		if c.VersusMetric == "" || c.VersusMetric == c.Metric {
			return fmt.Sprintf("(%s − %s) − (%s − %s)", c.Variant, c.Baseline, c.Variant2, c.Baseline2)
		}
		return fmt.Sprintf("(%s %s − %s %s) − (%s %s − %s %s)", c.Variant, c.Metric, c.Baseline, c.VersusMetric,
			c.Variant2, c.Metric, c.Baseline2, c.VersusMetric)
	}
	switch {
	case c.VersusMetric == "" || c.VersusMetric == c.Metric:
		return c.Variant + " vs " + c.Baseline
	case c.Variant == c.Baseline:
		return fmt.Sprintf("%s: %s − %s", c.Variant, c.Metric, c.VersusMetric)
	}
	return fmt.Sprintf("%s %s − %s %s", c.Variant, c.Metric, c.Baseline, c.VersusMetric)
}

// resText is the accuracy resolution of the claim's runs ("" when none).
func resText(c ClaimResult) string {
	if math.IsNaN(c.Resolution) {
		return ""
	}
	return trimFloat(c.Resolution)
}

// paperDeltaText is the paper's effect and how the runs' CI compares.
func paperDeltaText(col Column, c ClaimResult) string {
	if c.Delta == nil {
		return ""
	}
	s := col.Unit.FormatDelta(*c.Delta)
	switch c.Magnitude {
	case MagnitudeConsistent:
		s += " consistent"
	case "":
	default:
		s += " " + string(c.Magnitude)
	}
	return s
}

// rawPText is the raw p with its test ("exact" for deterministic claims).
func rawPText(c ClaimResult) string {
	switch {
	case c.Deterministic:
		return "exact"
	case c.Test == "TOST" && !math.IsNaN(c.P):
		return pText(c.P) + " TOST"
	}
	return pText(c.P)
}

// paperDiffGrid sets each difference the paper states beside the runs'.
func (t *Table) paperDiffGrid() (header []string, rows [][]string) {
	header = []string{"Paper's difference", "Compared", "Paper", "Runs [95% CI] (n)"}
	for _, d := range t.PaperDiffs {
		f := d.Figure
		col := Column{Metric: f.Metric, Unit: t.unitOf(f.Metric)}
		paper := col.Unit.FormatDelta(f.Value)
		ours := col.DeltaText(d.Paired)
		if f.Percent {
			paper = fmt.Sprintf("%+.1f %%", f.Value)
			ours = fmt.Sprintf("%+.1f %% (%d)", d.Ours(), d.Paired.N())
			if d.Paired.N() == 0 {
				ours = "— (0)"
			}
		}
		rows = append(rows, []string{f.Note, diffLabel(f), paper, ours})
	}
	return header, rows
}

// diffLabel says what a difference figure subtracts from what.
func diffLabel(f PaperFigure) string {
	versus, vm := subtrahend(f)
	switch {
	case vm == f.Metric:
		return fmt.Sprintf("%s − %s, %s", f.Variant, versus, f.Metric)
	case versus == f.Variant:
		return fmt.Sprintf("%s: %s − %s", f.Variant, f.Metric, vm)
	}
	return fmt.Sprintf("%s %s − %s %s", f.Variant, f.Metric, versus, vm)
}

// subtrahend is what a difference figure subtracts: Versus (default
// Variant) and VersusMetric (default Metric).
func subtrahend(f PaperFigure) (variant, metric string) {
	variant, metric = f.Versus, f.VersusMetric
	if variant == "" {
		variant = f.Variant
	}
	if metric == "" {
		metric = f.Metric
	}
	return variant, metric
}

// unitOf is the unit of metric's column, or the unit UnitFor picks for it
// from the claim values when it is not a column.
func (t *Table) unitOf(metric string) Unit {
	if i := t.Column(metric); i >= 0 {
		return t.Columns[i].Unit
	}
	var vs []float64
	for _, c := range t.Claims {
		if c.Metric == metric {
			vs = append(vs, c.Paired.BaselineMean, c.Paired.VariantMean)
		}
	}
	for _, d := range t.PaperDiffs {
		if d.Figure.Metric == metric {
			vs = append(vs, d.Paired.BaselineMean, d.Paired.VariantMean)
		}
	}
	return UnitFor(metric, vs)
}

func pText(p float64) string {
	switch {
	case math.IsNaN(p):
		return "—"
	case p < 0.001:
		return "p<0.001"
	}
	return fmt.Sprintf("p=%.3f", p)
}

func sweepLabel(s *Sweep) string {
	if s.Label == "" {
		return "x"
	}
	return s.Label
}

func formatX(x float64) string {
	if math.IsNaN(x) {
		return "—"
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

// Title is the table's heading line.
func (t *Table) heading() string {
	h := t.Study
	if t.Title != "" {
		h = t.Title + " (" + t.Study + ")"
	}
	return h
}

// legend explains the cells in one sentence.
func (t *Table) legend() string {
	s := "Cells: mean ± sample std (n seeds)"
	for _, c := range t.Columns {
		if c.HasPaper {
			s += "; paper: the figure the paper reports"
			break
		}
	}
	if len(t.Deltas) > 0 {
		s += "; Δ: paired over matching seeds, 95% t CI, paired t-test p"
	}
	s += "."
	if len(t.Claims) > 0 {
		s += " Claims: p raw from the paired t-test (two-sided) or TOST (equal claims), p Holm adjusted over the distinct claims shown; res.: accuracy resolution, 100/N_test; seeds needed: paired seeds for 80% power. Rules: docs/verdicts.md."
	}
	return s
}

package report

import (
	"fmt"
	"math"

	"github.com/mksmt/workbench/internal/experiment"
	"github.com/mksmt/workbench/internal/runspec"
)

// Spec is what report needs to know about a study, as plain values. The
// store adapter fills it from internal/experiment's Study; tests write it
// by hand.
type Spec struct {
	Name  string // study name, e.g. "table9"
	Title string
	// Table is the paper table or figure the study reproduces: "table7" …
	// "table11", "fig3", or "" for a study of one's own. It picks the
	// default columns and the plots.
	Table    string
	Variants []string // display order
	Seeds    []int64  // the seeds the study asks for (to report incomplete cells)
	Baseline string   // variant the deltas and claims compare against; may be ""
	// Metrics are the columns: summary keys (train's KeyAcc…, FlipKey, …) or
	// derived keys (experiment.MetricKeys: params.total, drop.vflip.S4, …).
	// Empty: DefaultMetrics(Table).
	Metrics []string
	Paper   []PaperFigure
	Claims  []Claim
	// Sweep is set for studies whose variants are points on a numeric axis
	// (Figure 3: temperature).
	Sweep *Sweep
}

// PaperFigure is a number the paper states, as the study spec gives it: a
// level (Metric of Variant) or, with Versus/VersusMetric set, a difference
// (see experiment.PaperFigure).
type PaperFigure = experiment.PaperFigure

// Claim is one statement of the paper that a study checks: Metric of
// Variant compared with Baseline (default: the study's) is Expect
// ("higher", "lower" or "equal").
type Claim = experiment.Claim

// Sweep places each variant on a numeric axis.
type Sweep struct {
	Label string             // axis label, e.g. "temperature T"
	X     map[string]float64 // variant → position
}

// RunResult is one finished run's final numbers.
type RunResult struct {
	Variant   string
	Seed      int64
	Summaries map[string]float64
	// RunID identifies the run in runs.db (0 when not from a database):
	// claims whose pairs are the same runs are one hypothesis in Holm's
	// family, even across studies.
	RunID int64
	// TestImages is the size of the run's test set (0: unknown); accuracies
	// move in steps of 100/TestImages points.
	TestImages int
}

// metricValue is the value of metric key for a run: a stored summary, or a
// derived metric (params.total, flops.total, drop.<flip>.<head>) computed
// from them as experiment.MetricValue defines. ok is false when an input is
// missing or not finite.
func metricValue(key string, summaries map[string]float64) (float64, bool) {
	v, ok := experiment.MetricValue(key, summaries)
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// DropKey names the accuracy that head loses under a test-time flip, in
// points: acc.<head> − acc.<flip>.<head>, e.g. DropKey("vflip", "S4") =
// "drop.vflip.S4" (positive when the flip hurts). Table 8's last columns.
func DropKey(flip, head string) string { return "drop." + flip + "." + head }

// DefaultMetrics are the columns of a paper table when the study names none.
func DefaultMetrics(table string) []string {
	switch table {
	case "table7":
		return []string{runspec.KeyParamsInference, runspec.KeyParamsExtra, "params.total",
			runspec.KeyFLOPsInference, runspec.KeyFLOPsExtra, runspec.KeyAccS4}
	case "table8":
		return []string{runspec.KeyAccS4, runspec.FlipKey("hflip", "S4"), runspec.FlipKey("vflip", "S4"),
			DropKey("hflip", "S4"), DropKey("vflip", "S4")}
	case "table9":
		return []string{runspec.KeyAccS2, runspec.KeyAccS3, runspec.KeyAccS4}
	default: // table10, table11, fig3, studies of one's own
		return []string{runspec.KeyAccS3, runspec.KeyAccS4}
	}
}

// Validate checks that the spec is usable: names present, the baseline and
// every claim's variants among the variants, known expectations.
func (s Spec) Validate() error {
	if s.Name == "" {
		return fmt.Errorf("study has no name")
	}
	if len(s.Variants) == 0 {
		return fmt.Errorf("study %s: no variants", s.Name)
	}
	known := map[string]bool{}
	for _, v := range s.Variants {
		if known[v] {
			return fmt.Errorf("study %s: variant %q listed twice", s.Name, v)
		}
		known[v] = true
	}
	if s.Baseline != "" && !known[s.Baseline] {
		return fmt.Errorf("study %s: baseline %q is not one of the variants %v", s.Name, s.Baseline, s.Variants)
	}
	for i, c := range s.Claims {
		if c.Metric == "" {
			return fmt.Errorf("study %s: claim %d (%q): no metric", s.Name, i+1, c.Text)
		}
		vs := []string{c.Variant, claimBaseline(c, s)}
		if c.Interaction() {
			if c.Variant2 == "" || c.Baseline2 == "" {
				return fmt.Errorf("study %s: claim %d (%q): an interaction claim needs both variant2 and baseline2", s.Name, i+1, c.Text)
			}
			if c.Variant2 == c.Variant && c.Baseline2 == claimBaseline(c, s) {
				return fmt.Errorf("study %s: claim %d (%q): compares the gain %s − %s with itself", s.Name, i+1, c.Text, c.Variant, c.Baseline2)
			}
			vs = append(vs, c.Variant2, c.Baseline2)
		}
		for _, v := range vs {
			if !known[v] {
				return fmt.Errorf("study %s: claim %d (%q): variant %q is not one of %v", s.Name, i+1, c.Text, v, s.Variants)
			}
		}
		switch c.Expect {
		case "higher", "lower", "equal":
		default:
			return fmt.Errorf("study %s: claim %d (%q): expect %q, want higher, lower or equal", s.Name, i+1, c.Text, c.Expect)
		}
		sameMetric := c.VersusMetric == "" || c.VersusMetric == c.Metric
		if c.Variant == claimBaseline(c, s) && sameMetric {
			return fmt.Errorf("study %s: claim %d (%q): compares %s with itself", s.Name, i+1, c.Text, c.Variant)
		}
		if c.Interaction() && c.Variant2 == c.Baseline2 && sameMetric {
			return fmt.Errorf("study %s: claim %d (%q): compares variant2 %s with itself", s.Name, i+1, c.Text, c.Variant2)
		}
		if c.Tolerance < 0 || math.IsNaN(c.Tolerance) {
			return fmt.Errorf("study %s: claim %d (%q): tolerance %v, want > 0 (0: the default)", s.Name, i+1, c.Text, c.Tolerance)
		}
	}
	for _, p := range s.Paper {
		if !known[p.Variant] {
			return fmt.Errorf("study %s: paper figure for unknown variant %q", s.Name, p.Variant)
		}
		if p.Versus != "" && !known[p.Versus] {
			return fmt.Errorf("study %s: paper figure compares with unknown variant %q", s.Name, p.Versus)
		}
		if p.Metric == "" {
			return fmt.Errorf("study %s: paper figure for %s has no metric", s.Name, p.Variant)
		}
	}
	return nil
}

// claimBaseline is the claim's baseline, defaulting to the study's.
func claimBaseline(c Claim, s Spec) string {
	if c.Baseline != "" {
		return c.Baseline
	}
	return s.Baseline
}

func (s Spec) metrics() []string {
	if len(s.Metrics) > 0 {
		return s.Metrics
	}
	return DefaultMetrics(s.Table)
}

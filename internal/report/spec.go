package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/mksmt/workbench/internal/train"
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
	// the derived keys of this package (ChangeKey, KeyParamsTotal, …). Empty:
	// DefaultMetrics(Table).
	Metrics []string
	Paper   []PaperFigure
	Claims  []Claim
	// Sweep is set for studies whose variants are points on a numeric axis
	// (Figure 3: temperature).
	Sweep *Sweep
}

// PaperFigure is a number the paper reports for one variant and metric.
type PaperFigure struct {
	Variant string
	Metric  string
	Value   float64
	Note    string
}

// Claim is one statement of the paper that a study checks: Metric of
// Variant compared with Baseline is Expect ("higher", "lower" or "equal").
type Claim struct {
	Text     string
	Metric   string
	Variant  string
	Baseline string
	Expect   string
	// Tolerance of an "equal" claim, in the metric's unit; 0 picks the
	// default (see the package doc).
	Tolerance float64
}

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
}

// Derived metric keys, computed per run from the stored summaries.
const (
	KeyParamsTotal = "params.total" // params.inference + params.extra
	KeyFLOPsTotal  = "flops.total"  // flops.inference + flops.extra
)

// ChangeKey names the accuracy change of head under a test-time flip, in
// points: acc.<flip>.<head> − acc.<head> (negative when the flip hurts),
// e.g. ChangeKey("vflip", "S4") = "change.vflip.S4". Table 8's last columns.
func ChangeKey(flip, head string) string { return "change." + flip + "." + head }

// derive returns the run's summaries with the derived keys added where their
// inputs exist. The input map is not modified.
func derive(sum map[string]float64) map[string]float64 {
	out := make(map[string]float64, len(sum)+4)
	for k, v := range sum {
		out[k] = v
	}
	if a, ok := sum[train.KeyParamsInference]; ok {
		if b, ok := sum[train.KeyParamsExtra]; ok {
			out[KeyParamsTotal] = a + b
		}
	}
	if a, ok := sum[train.KeyFLOPsInference]; ok {
		if b, ok := sum[train.KeyFLOPsExtra]; ok {
			out[KeyFLOPsTotal] = a + b
		}
	}
	for k, v := range sum {
		// acc.<flip>.<head>
		parts := strings.SplitN(k, ".", 3)
		if len(parts) != 3 || parts[0] != "acc" || (parts[1] != "hflip" && parts[1] != "vflip") {
			continue
		}
		if clean, ok := sum["acc."+parts[2]]; ok {
			out[ChangeKey(parts[1], parts[2])] = v - clean
		}
	}
	return out
}

// DefaultMetrics are the columns of a paper table when the study names none.
func DefaultMetrics(table string) []string {
	switch table {
	case "table7":
		return []string{train.KeyParamsInference, train.KeyParamsExtra, KeyParamsTotal,
			train.KeyFLOPsInference, train.KeyFLOPsExtra, train.KeyAccS4}
	case "table8":
		return []string{train.KeyAccS4, train.FlipKey("hflip", "S4"), train.FlipKey("vflip", "S4"),
			ChangeKey("hflip", "S4"), ChangeKey("vflip", "S4")}
	case "table9":
		return []string{train.KeyAccS2, train.KeyAccS3, train.KeyAccS4}
	default: // table10, table11, fig3, studies of one's own
		return []string{train.KeyAccS3, train.KeyAccS4}
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
		for _, v := range []string{c.Variant, c.baseline(s)} {
			if !known[v] {
				return fmt.Errorf("study %s: claim %d (%q): variant %q is not one of %v", s.Name, i+1, c.Text, v, s.Variants)
			}
		}
		switch c.Expect {
		case "higher", "lower", "equal":
		default:
			return fmt.Errorf("study %s: claim %d (%q): expect %q, want higher, lower or equal", s.Name, i+1, c.Text, c.Expect)
		}
		if c.Tolerance < 0 || math.IsNaN(c.Tolerance) {
			return fmt.Errorf("study %s: claim %d (%q): tolerance %v must be ≥ 0", s.Name, i+1, c.Text, c.Tolerance)
		}
	}
	for _, p := range s.Paper {
		if !known[p.Variant] {
			return fmt.Errorf("study %s: paper figure for unknown variant %q", s.Name, p.Variant)
		}
	}
	return nil
}

// baseline is the claim's baseline, defaulting to the study's.
func (c Claim) baseline(s Spec) string {
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

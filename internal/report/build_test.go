package report

import (
	"math"
	"strings"
	"testing"
)

func TestBuildErrors(t *testing.T) {
	ok := Spec{Name: "s", Variants: []string{"a", "b"}, Baseline: "a"}
	for _, c := range []struct {
		name    string
		mutate  func(*Spec)
		results []RunResult
		want    string
	}{
		{"no name", func(s *Spec) { s.Name = "" }, nil, "no name"},
		{"no variants", func(s *Spec) { s.Variants = nil; s.Baseline = "" }, nil, "no variants"},
		{"duplicate variant", func(s *Spec) { s.Variants = []string{"a", "a"} }, nil, `variant "a" listed twice`},
		{"unknown baseline", func(s *Spec) { s.Baseline = "z" }, nil, `baseline "z" is not one of the variants`},
		{"claim variant", func(s *Spec) { s.Claims = []Claim{{Text: "c", Metric: "acc.S4", Variant: "z", Expect: "higher"}} }, nil, `claim 1 ("c"): variant "z"`},
		{"claim expect", func(s *Spec) { s.Claims = []Claim{{Text: "c", Metric: "acc.S4", Variant: "b", Expect: "more"}} }, nil, `expect "more"`},
		{"claim metric", func(s *Spec) { s.Claims = []Claim{{Text: "c", Variant: "b", Expect: "higher"}} }, nil, "no metric"},
		{"paper versus", func(s *Spec) {
			s.Paper = []PaperFigure{{Variant: "b", Metric: "acc.S4", Versus: "z", Value: 1}}
		}, nil, `compares with unknown variant "z"`},
		{"paper variant", func(s *Spec) { s.Paper = []PaperFigure{{Variant: "z", Metric: "acc.S4", Value: 1}} }, nil, `paper figure for unknown variant "z"`},
		{"duplicate run", func(*Spec) {}, []RunResult{{Variant: "a", Seed: 1}, {Variant: "a", Seed: 1}}, `two finished runs for variant "a" seed 1`},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := ok
			c.mutate(&s)
			_, err := Build(s, c.results)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// Derived metrics come from experiment.MetricValue; Build computes them per
// run and skips runs that lack an input.
func TestBuildDerived(t *testing.T) {
	spec := Spec{Name: "s", Variants: []string{"a"},
		Metrics: []string{"drop.vflip.S4", "drop.vflip.S3", "params.total", "flops.total"}}
	rs := []RunResult{{Variant: "a", Seed: 1, Summaries: map[string]float64{
		"acc.S4": 60, "acc.vflip.S4": 49, "acc.vflip.S3": 40,
		"params.inference": 100, "params.extra": 5, "flops.inference": 1000,
	}}}
	tb, err := Build(spec, rs)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"drop.vflip.S4": 11, "drop.vflip.S3": math.NaN(), "params.total": 105, "flops.total": math.NaN()}
	for i, c := range tb.Columns {
		cell := tb.Rows[0].Cells[i]
		if w := want[c.Metric]; math.IsNaN(w) != (cell.N == 0) || (cell.N > 0 && cell.Mean != w) {
			t.Errorf("%s: n=%d mean=%v, want %v", c.Metric, cell.N, cell.Mean, w)
		}
	}
}

func TestBuildCells(t *testing.T) {
	spec := Spec{Name: "s", Variants: []string{"a", "b"}, Baseline: "a", Seeds: []int64{1, 2, 3},
		Metrics: []string{"acc.S4"}, Sweep: &Sweep{Label: "T", X: map[string]float64{"a": 1, "b": 2}}}
	rs := []RunResult{
		{Variant: "a", Seed: 1, Summaries: map[string]float64{"acc.S4": 50}},
		{Variant: "a", Seed: 2, Summaries: map[string]float64{"acc.S4": 52}},
		{Variant: "b", Seed: 2, Summaries: map[string]float64{"acc.S4": 55}},
		{Variant: "b", Seed: 3, Summaries: map[string]float64{"acc.S4": math.NaN()}},
	}
	tb, err := Build(spec, rs)
	if err != nil {
		t.Fatal(err)
	}
	a := tb.Row("a").Cells[0]
	if a.N != 2 || a.Mean != 51 || len(a.Missing) != 1 || a.Missing[0] != 3 || tb.Row("a").X != 1 {
		t.Errorf("cell a: %+v", a)
	}
	b := tb.Row("b").Cells[0]
	if b.N != 1 || b.Mean != 55 {
		t.Errorf("cell b: a NaN summary must not count: %+v", b)
	}
	d := tb.Deltas[0].Cells[0]
	if d.N() != 1 || d.Delta.Mean != 3 || d.Seeds[0] != 2 {
		t.Errorf("delta b−a over seed 2: %+v", d)
	}
	if tb.Row("z") != nil || tb.Column("acc.S3") != -1 {
		t.Error("lookups of absent rows/columns must fail")
	}
}

package tui

import (
	"strconv"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/mksmt/workbench/internal/report"
)

// The Compare screen leads with the verdicts: raw and Holm-adjusted p and
// the seeds an open claim needs, within 80 columns.
func TestClaimsSummary(t *testing.T) {
	run := func(v string, seed int64, s4 float64) report.RunResult {
		return report.RunResult{Variant: v, Seed: seed, TestImages: 1000,
			Summaries: map[string]float64{"acc.S4": s4, "params.inference": 100}}
	}
	spec := report.Spec{Name: "s", Variants: []string{"a", "b", "c"}, Baseline: "a", Metrics: []string{"acc.S4", "params.inference"},
		Claims: []report.Claim{
			{Text: "b beats a", Metric: "acc.S4", Variant: "b", Expect: "higher"},
			{Text: "c beats a", Metric: "acc.S4", Variant: "c", Expect: "higher"},
			{Text: "b has a's size", Metric: "params.inference", Variant: "b", Expect: "equal"}}}
	// b − a: 1, 1.2, 0.8 (p = 0.0131, ×2 by Holm); c − a: 1, −0.5, 2 (open).
	tb, err := report.Build(spec, []report.RunResult{run("a", 1, 60), run("a", 2, 61), run("a", 3, 62),
		run("b", 1, 61), run("b", 2, 62.2), run("b", 3, 62.8), run("c", 1, 61), run("c", 2, 60.5), run("c", 3, 64)})
	if err != nil {
		t.Fatal(err)
	}
	got := claimsSummary(tb)
	c := tb.Claims[1]
	for _, want := range []string{
		"verdicts: 1 reproduced, 0 not reproduced, 1 inconclusive of 2 stochastic claim(s); 1 deterministic",
		"  reproduced: b beats a\n      p raw 0.013 · p Holm 0.026\n",
		"  inconclusive: c beats a\n      p raw " + pShort(c.P) + " · p Holm " + pShort(c.PAdjusted) + " · seeds needed " +
			strconv.Itoa(c.SeedsNeeded) + " (observed Δ)\n",
		"  holds exactly: b has a's size\n      exact (a count, not a reproduction)\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
	if c.SeedsNeeded <= 3 {
		t.Errorf("open claim needs %d seeds", c.SeedsNeeded)
	}
	for _, l := range strings.Split(strings.TrimSpace(got), "\n")[1:] {
		if len([]rune(l)) > 80 {
			t.Errorf("line wider than 80 columns: %q", l)
		}
	}
}

// Compare says first what the table says before its cells (the profile
// picked, why it is empty), once, and fits every line to the screen,
// wrapping the verdicts between words.
func TestCompareTextFits(t *testing.T) {
	spec := report.Spec{Name: "s", Variants: []string{"a", "b"}, Baseline: "a", Metrics: []string{"acc.S4"},
		Claims: []report.Claim{{Text: "b beats a by a margin that the paper states in a long sentence", Metric: "acc.S4", Variant: "b", Expect: "higher"}}}
	tb, err := report.Build(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	tb.Profile = "quick"
	tb.Headline = []string{"no finished runs of study s at profile quick yet: the cells are empty and the verdicts inconclusive until some finish (workbench run s --profile quick)"}
	for _, w := range []int{60, 80} {
		got := ansi.Strip(compareText(tb, w))
		lines := strings.Split(strings.TrimRight(got, "\n"), "\n")
		if !strings.HasPrefix(lines[0], "no finished runs of study s at profile quick yet") {
			t.Errorf("width %d: the explanation is not first:\n%s", w, got)
		}
		if n := strings.Count(got, "no finished runs of study s"); n != 1 {
			t.Errorf("width %d: the explanation is shown %d times", w, n)
		}
		for _, l := range lines {
			if ansi.StringWidth(l) > w {
				t.Errorf("width %d: line of %d columns: %q", w, ansi.StringWidth(l), l)
			}
		}
		if !strings.Contains(got, "stochastic") {
			t.Errorf("width %d: the verdict line lost its end:\n%s", w, got)
		}
	}
}

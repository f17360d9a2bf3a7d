package report

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func TestWrapCell(t *testing.T) {
	for _, c := range []struct {
		in   string
		w    int
		want string
	}{
		{"-0.1 [-0.6, +0.4] (3)", 10, "-0.1\n[-0.6,\n+0.4] (3)"},
		{"two-step-nokd vs two-step", 10, "two-step-\nnokd vs\ntwo-step"},
		{"(one-step − two-step) − (x − y)", 12, "(one-step −\ntwo-step) −\n(x − y)"},
		{"inconclusive", 8, "inconcl…"},
		{"short", 8, "short"},
		{"a-b-c-d-e-f-g-h-i", 4, "a-b-\nc-d-\ne-f-\ng-h-\ni"},
	} {
		got := wrapCell(c.in, c.w)
		if got != c.want {
			t.Errorf("wrapCell(%q, %d) = %q, want %q", c.in, c.w, got, c.want)
		}
		for _, l := range strings.Split(got, "\n") {
			if ansi.StringWidth(l) > c.w {
				t.Errorf("wrapCell(%q, %d): line %q is wider", c.in, c.w, l)
			}
		}
	}
}

// Prose wraps between words: every line is whole words of the text (or a
// word cut with "…" when one alone is wider than the line).
func TestWrapProse(t *testing.T) {
	s := "  no KD: S4 lower: Δ -0.9, 95% CI [-3.633, +1.833], n=3; paired t p=0.292, Holm-adjusted p=0.292 (family of 5)"
	for _, w := range []int{20, 40, 80} {
		lines := wrapProse(s, w)
		var words []string
		for i, l := range lines {
			if ansi.StringWidth(l) > w {
				t.Errorf("width %d: line %q is wider", w, l)
			}
			if i > 0 && !strings.HasPrefix(l, "    ") {
				t.Errorf("width %d: continuation %q has no hanging indent", w, l)
			}
			words = append(words, strings.Fields(l)...)
		}
		if strings.Join(words, " ") != strings.Join(strings.Fields(s), " ") {
			t.Errorf("width %d: the words changed:\n%q", w, lines)
		}
	}
	if got := wrapProse("x "+strings.Repeat("y", 30), 12); got[1] != "  yyyyyyyyy…" {
		t.Errorf("a word wider than the line: %q", got)
	}
}

// Columns go in their drop order, and only when wrapping cannot fit.
func TestFitGridDrops(t *testing.T) {
	header := []string{"Claim", "Metric", "Verdict"}
	rows := [][]string{{"a long claim that wraps well", "acc.S4", "inconclusive"}}
	specs := []colFit{1: {drop: 1}, 2: {noWrap: true}}
	g := fitGrid(header, rows, 40, specs)
	if len(g.dropped) != 0 || !g.wrapped || gridWidth([]int{12, 6, 12}) > 40 && len(g.cols) != 3 {
		t.Errorf("40 columns: dropped %q, wrapped %v", g.dropped, g.wrapped)
	}
	g = fitGrid(header, rows, 28, specs)
	if strings.Join(g.dropped, ",") != "Metric" || g.rows[0][1] != "inconclusive" {
		t.Errorf("28 columns: dropped %q, rows %q", g.dropped, g.rows)
	}
	g = fitGrid(header, rows, 0, specs)
	if g.wrapped || len(g.dropped) != 0 || g.rows[0][0] != rows[0][0] {
		t.Errorf("no limit: %+v", g)
	}
}

package plot

import (
	"math"
	"slices"
	"testing"

	"gonum.org/v1/plot/plotter"

	"github.com/mksmt/workbench/internal/report"
	"github.com/mksmt/workbench/internal/report/reporttest"
)

// panelTitled is the panel of f with title, or nil.
func panelTitled(f *Figure, title string) *panel {
	for _, p := range f.panels {
		if p.Title.Text == title {
			return p
		}
	}
	return nil
}

// A one-epoch run's accuracy is one point per variant: it gets a marker
// (there is no line to draw), in the variant's colour and shape, and its
// spread over the two seeds an error bar (there is no band either).
func TestOneEpochCurvesDrawMarkers(t *testing.T) {
	var series []report.Series
	for _, v := range []string{"baseline", "two-step"} {
		for seed := int64(1); seed <= 2; seed++ {
			series = append(series,
				report.Series{Variant: v, Seed: seed, Metric: "acc.S4", Points: []report.Point{{X: 1, Y: 25 + float64(seed)}}},
				report.Series{Variant: v, Seed: seed, Metric: "loss.ce4", Points: []report.Point{{X: 1, Y: 1.4}, {X: 2, Y: 1.39 + 0.01*float64(seed)}}})
		}
	}
	f, err := LearningCurves("one", "one epoch", report.Curves(series, []string{"baseline", "two-step"}), []string{"baseline", "two-step"})
	if err != nil {
		t.Fatal(err)
	}
	p := panelTitled(f, "S4")
	if p == nil {
		t.Fatalf("no S4 panel among %d", len(f.panels))
	}
	var marks []*plotter.Scatter
	bars := 0
	for _, it := range p.items {
		switch x := it.(type) {
		case *plotter.YErrorBars:
			bars++
		case *plotter.Scatter:
			marks = append(marks, x)
		case *plotter.Line:
			t.Errorf("a line of %d point(s) in a one-point panel", len(x.XYs))
		}
	}
	if len(marks) != 2 || bars != 2 {
		t.Fatalf("%d marker sets and %d error bars in the S4 panel, want one of each per variant", len(marks), bars)
	}
	for i, m := range marks {
		if len(m.XYs) != 1 || math.Abs(m.XYs[0].X-1) > 0.2 || m.GlyphStyle.Radius <= 0 || m.GlyphStyle.Shape == nil {
			t.Errorf("variant %d: markers %v, radius %v, shape %T", i, m.XYs, m.GlyphStyle.Radius, m.GlyphStyle.Shape)
		}
	}
	if marks[0].GlyphStyle.Color == marks[1].GlyphStyle.Color || marks[0].GlyphStyle.Shape == marks[1].GlyphStyle.Shape {
		t.Error("the two variants' markers look the same")
	}
	if marks[0].XYs[0].X == marks[1].XYs[0].X {
		t.Error("the two variants' single points are drawn at the same place")
	}
}

// Bands are light and under every line: in each panel all bands come
// before any line or marker, and two variants' lines differ in dash
// pattern as well as colour.
func TestCurvesLinesOverLightBands(t *testing.T) {
	s, _ := reporttest.ByName("table9")
	f, err := LearningCurves("c", "", report.Curves(s.Series, s.Spec.Variants), s.Spec.Variants)
	if err != nil {
		t.Fatal(err)
	}
	bands := 0
	for _, p := range f.panels {
		drawnLine := false
		var dashes [][]float64
		for _, it := range p.items {
			switch x := it.(type) {
			case *plotter.Polygon:
				bands++
				if drawnLine {
					t.Errorf("panel %s: a band drawn over a line", p.Title.Text)
				}
				if _, _, _, a := x.Color.RGBA(); a > 0xffff*50/255 {
					t.Errorf("panel %s: band opacity %d/65535, want at most 50/255", p.Title.Text, a)
				}
			case *plotter.Line:
				drawnLine = true
				var d []float64
				for _, l := range x.Dashes {
					d = append(d, float64(l))
				}
				dashes = append(dashes, d)
			case *plotter.Scatter:
				drawnLine = true
			}
		}
		if len(dashes) >= 2 && slices.Equal(dashes[0], dashes[1]) {
			t.Errorf("panel %s: the first two lines have the same dash pattern %v", p.Title.Text, dashes[:2])
		}
	}
	if bands == 0 {
		t.Fatal("the fixture drew no band: the test tests nothing")
	}
	// Losses placed in epochs are drawn against epochs, as accuracies are.
	if p := panelTitled(f, "CE4 loss"); p == nil || p.X.Label.Text != "epoch" {
		t.Errorf("the CE4 loss panel is not against epochs")
	}
}

// Tick labels are distinct on every axis, at the spacings that printed
// "1.4 1.4 1.4" before, and on every panel of every fixture figure.
func TestTickLabelsDistinct(t *testing.T) {
	check := func(where string, lo, hi float64) {
		t.Helper()
		seen := map[string]bool{}
		n := 0
		for _, tk := range (precisionTicks{}).Ticks(lo, hi) {
			if tk.Label == "" {
				continue
			}
			n++
			if seen[tk.Label] {
				t.Errorf("%s [%v, %v]: label %q repeats", where, lo, hi, tk.Label)
			}
			seen[tk.Label] = true
		}
		if n < 2 {
			t.Errorf("%s [%v, %v]: %d labelled tick(s)", where, lo, hi, n)
		}
	}
	for _, r := range [][2]float64{{1.395, 1.405}, {1.38, 1.52}, {25.2, 26.8}, {0, 1}, {0, 100}, {0.001, 0.0011}, {1e6, 1e6 + 3}, {-0.03, 0.07}} {
		check("range", r[0], r[1])
	}
	for _, f := range fixtureFigures(t) {
		for _, p := range f.panels {
			check(f.Name+" "+p.Title.Text+" y", p.Y.Min, p.Y.Max)
			if p.X.Max > p.X.Min && p.X.Tick.Marker == (precisionTicks{}) {
				check(f.Name+" "+p.Title.Text+" x", p.X.Min, p.X.Max)
			}
		}
	}
	if got := (precisionTicks{}).Ticks(0, 1); got[0].Label != "0.0" && got[0].Label != "0" {
		t.Errorf("ticks of [0, 1] start at %q", got[0].Label)
	}
}

// Table 7's bars show parameters and FLOPs (inference and what training
// adds) beside the accuracy; Table 8's accuracies and drops are on separate
// axes, so that a drop of 2 points is not drawn on an axis of 30.
func TestBarsPanels(t *testing.T) {
	build := func(name string) *Figure {
		s, _ := reporttest.ByName(name)
		tb, err := report.Build(s.Spec, s.Results)
		if err != nil {
			t.Fatal(err)
		}
		f, err := Bars(tb)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	titles := func(f *Figure) []string {
		var out []string
		for _, p := range f.panels {
			out = append(out, p.Title.Text)
		}
		return out
	}
	f7 := build("table7")
	if got := titles(f7); len(got) != 3 || got[0] != "Parameters" || got[1] != "FLOPs" || got[2] != "Accuracy" {
		t.Errorf("table 7 panels %q, want Parameters, FLOPs, Accuracy", got)
	}
	if p := panelTitled(f7, "Parameters"); p != nil {
		ticks := p.X.Tick.Marker.Ticks(p.X.Min, p.X.Max)
		if len(ticks) < 2 || ticks[0].Label != "inference" || ticks[1].Label != "training extra" {
			t.Errorf("parameter groups %v", ticks)
		}
	}
	f8 := build("table8")
	if got := titles(f8); len(got) != 2 || got[0] != "Accuracy" || got[1] != "Accuracy drop" {
		t.Fatalf("table 8 panels %q, want Accuracy and Accuracy drop", got)
	}
	acc, drop := f8.panels[0], f8.panels[1]
	if drop.Y.Max-drop.Y.Min >= (acc.Y.Max-acc.Y.Min)/2 {
		t.Errorf("drop axis [%v, %v] is not its own scale beside accuracy [%v, %v]", drop.Y.Min, drop.Y.Max, acc.Y.Min, acc.Y.Max)
	}
}

// Figure 3's heads differ in dash pattern and marker as well as colour.
func TestSweepLineStyles(t *testing.T) {
	s, _ := reporttest.ByName("fig3-temperature")
	tb, err := report.Build(s.Spec, s.Results)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Sweep(tb)
	if err != nil {
		t.Fatal(err)
	}
	var lines []*plotter.Line
	var marks []*plotter.Scatter
	for _, it := range f.panels[0].items {
		switch x := it.(type) {
		case *plotter.Line:
			lines = append(lines, x)
		case *plotter.Scatter:
			marks = append(marks, x)
		}
	}
	if len(lines) < 2 || len(marks) < 2 {
		t.Fatalf("%d lines, %d marker sets: want one per head", len(lines), len(marks))
	}
	if slices.Equal(lines[0].Dashes, lines[1].Dashes) || marks[0].Shape == marks[1].Shape {
		t.Errorf("the first two heads are drawn alike: dashes %v and %v, shapes %T and %T",
			lines[0].Dashes, lines[1].Dashes, marks[0].Shape, marks[1].Shape)
	}
}

package plot

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/mksmt/workbench/internal/report"
)

// LearningCurves draws one panel per metric (accuracy of each head against
// epoch, each loss against step): for every variant the seed mean as a line
// and mean ± std as a translucent band (no band where only one seed has the
// point). variants fixes the colours and legend order. name is the file
// stem.
func LearningCurves(name, title string, curves []report.Curve, variants []string) (*Figure, error) {
	if len(curves) == 0 {
		return nil, fmt.Errorf("learning curves %s: no metric series recorded", name)
	}
	colour := map[string]int{}
	var entries []legendEntry
	addVariant := func(v string) {
		if _, ok := colour[v]; !ok {
			colour[v] = len(colour)
			entries = append(entries, legendEntry{Label: v, Color: colorOf(colour[v])})
		}
	}
	for _, v := range variants {
		addVariant(v)
	}
	byMetric := map[string][]report.Curve{}
	for _, c := range curves {
		addVariant(c.Variant)
		byMetric[c.Metric] = append(byMetric[c.Metric], c)
	}
	metrics := make([]string, 0, len(byMetric))
	for m := range byMetric {
		metrics = append(metrics, m)
	}
	sort.Slice(metrics, func(i, j int) bool { return metricOrder(metrics[i]) < metricOrder(metrics[j]) })

	var panels []*plot.Plot
	for _, m := range metrics {
		xl, yl := "step", m
		if strings.HasPrefix(m, "acc.") {
			xl, yl = "epoch", "top-1 (%)"
		} else if strings.HasPrefix(m, "loss.") {
			yl = "loss"
		}
		p := newPanel(report.Header(m), xl, yl)
		for _, c := range byMetric[m] {
			col := colorOf(colour[c.Variant])
			if band := bandPolygon(c); band != nil {
				poly, err := plotter.NewPolygon(band)
				if err != nil {
					return nil, fmt.Errorf("learning curves %s: %s %s band: %w", name, c.Variant, m, err)
				}
				poly.Color = faded(col, 60)
				poly.LineStyle.Width = 0
				p.Add(poly)
			}
			xy := make(plotter.XYs, len(c.X))
			for i := range c.X {
				xy[i] = plotter.XY{X: c.X[i], Y: c.Mean[i]}
			}
			line, err := plotter.NewLine(xy)
			if err != nil {
				return nil, fmt.Errorf("learning curves %s: %s %s: %w", name, c.Variant, m, err)
			}
			line.Color = col
			line.Width = vg.Points(1.5)
			p.Add(line)
		}
		panels = append(panels, p)
	}
	cols := min(3, len(panels))
	rows := (len(panels) + cols - 1) / cols
	w := vg.Length(cols) * 3.4 * vg.Inch
	hh := headerHeight(title, entries, w)
	f := &Figure{Name: name, Width: w, Height: vg.Length(rows)*2.6*vg.Inch + hh}
	f.draw = func(c draw.Canvas) {
		rest := header(c, title, entries)
		tiles(rest, panels, cols)
	}
	return f, nil
}

// bandPolygon is the outline of mean ± std over the points that have a
// std (two or more seeds), or nil when fewer than two such points exist.
func bandPolygon(c report.Curve) plotter.XYs {
	var up, down plotter.XYs
	for i := range c.X {
		if math.IsNaN(c.Std[i]) {
			continue
		}
		up = append(up, plotter.XY{X: c.X[i], Y: c.Mean[i] + c.Std[i]})
		down = append(down, plotter.XY{X: c.X[i], Y: c.Mean[i] - c.Std[i]})
	}
	if len(up) < 2 {
		return nil
	}
	for i := len(down) - 1; i >= 0; i-- {
		up = append(up, down[i])
	}
	return up
}

// metricOrder sorts accuracy panels first (S2, S3, S4, S3+S4), then losses
// (ce2, ce3, ce4, kd), then the rest by name.
func metricOrder(m string) string {
	switch {
	case strings.HasPrefix(m, "acc.") && strings.Contains(m, "+"):
		return "0~" + m // the ensemble after the single heads
	case strings.HasPrefix(m, "acc."):
		return "0" + m
	case strings.HasPrefix(m, "loss."):
		return "1" + m
	}
	return "2" + m
}

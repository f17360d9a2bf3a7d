package plot

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/mksmt/workbench/internal/report"
)

// LearningCurves draws one panel per metric (accuracy of each head against
// epoch, each loss against epoch too when the curves are placed in epochs,
// else against step; see report.Series.Axis): for every variant the seed mean as a line
// with a marker on its points, and mean ± std as a light band (no band where
// only one seed has the point). Bands are drawn first and every line over
// all of them; variants differ in colour, dash pattern and marker shape, so
// that overlapping bands and lines stay apart. A curve of one point (a
// one-epoch run's accuracy) is its marker. variants fixes the styles and
// legend order. name is the file stem.
//
// A curve of one point gets its ± std as an error bar instead of a band,
// and the variants' single points are dodged a little apart along X.
func LearningCurves(name, title string, curves []report.Curve, variants []string) (*Figure, error) {
	if len(curves) == 0 {
		return nil, fmt.Errorf("learning curves %s: no metric series recorded", name)
	}
	index := map[string]int{}
	var entries []legendEntry
	addVariant := func(v string) {
		if _, ok := index[v]; !ok {
			i := len(index)
			index[v] = i
			entries = append(entries, legendEntry{Label: v, Color: colorOf(i), Dashes: dashesOf(i), Shape: shapeOf(i)})
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

	var panels []*panel
	for _, m := range metrics {
		xl, yl := "step", m
		if a := byMetric[m][0].Axis; a != "" {
			xl = a
		}
		if strings.HasPrefix(m, "acc.") {
			xl, yl = "epoch", "top-1 (%)"
		} else if strings.HasPrefix(m, "loss.") {
			yl = "loss"
		}
		p := &panel{Plot: newPanel(report.Header(m), xl, yl)}
		for _, c := range byMetric[m] {
			if band := bandPolygon(c); band != nil {
				poly, err := plotter.NewPolygon(band)
				if err != nil {
					return nil, fmt.Errorf("learning curves %s: %s %s band: %w", name, c.Variant, m, err)
				}
				poly.Color = faded(colorOf(index[c.Variant]), bandAlpha)
				poly.LineStyle.Width = 0
				p.add(poly)
			}
		}
		for _, c := range byMetric[m] {
			i := index[c.Variant]
			xy := make(plotter.XYs, len(c.X))
			for k := range c.X {
				xy[k] = plotter.XY{X: c.X[k], Y: c.Mean[k]}
			}
			if len(xy) == 1 {
				// Single points of several variants at one epoch sit side
				// by side (dodged), so that their error bars do not hide
				// each other.
				xy[0].X += dodge * (float64(i) - float64(len(index)-1)/2)
			}
			if len(xy) > 1 {
				line, err := plotter.NewLine(xy)
				if err != nil {
					return nil, fmt.Errorf("learning curves %s: %s %s: %w", name, c.Variant, m, err)
				}
				line.Color, line.Width, line.Dashes = colorOf(i), vg.Points(1.5), dashesOf(i)
				p.add(line)
			}
			marks, err := plotter.NewScatter(markerPoints(xy))
			if err != nil {
				return nil, fmt.Errorf("learning curves %s: %s %s markers: %w", name, c.Variant, m, err)
			}
			marks.GlyphStyle = draw.GlyphStyle{Color: colorOf(i), Radius: vg.Points(2.2), Shape: shapeOf(i)}
			p.add(marks)
			if len(xy) == 1 && !math.IsNaN(c.Std[0]) && c.Std[0] > 0 {
				// One point has no band: its spread is an error bar.
				bars, err := plotter.NewYErrorBars(pointError{xy, plotter.YErrors{{Low: c.Std[0], High: c.Std[0]}}})
				if err != nil {
					return nil, fmt.Errorf("learning curves %s: %s %s error bar: %w", name, c.Variant, m, err)
				}
				bars.Color, bars.Width = colorOf(i), vg.Points(1)
				p.add(bars)
			}
		}
		panels = append(panels, p)
	}
	cols := min(3, len(panels))
	rows := (len(panels) + cols - 1) / cols
	w := vg.Length(cols) * 3.4 * vg.Inch
	hh := headerHeight(title, entries, w)
	f := &Figure{Name: name, Width: w, Height: vg.Length(rows)*2.6*vg.Inch + hh, panels: panels}
	f.draw = func(c draw.Canvas) {
		rest := header(c, title, entries)
		tiles(rest, plots(panels), cols)
	}
	return f, nil
}

// dodge is how far apart (in X units: epochs) the single points of two
// neighbouring variants are drawn.
const dodge = 0.06

// pointError is a point with its ± std, for plotter.NewYErrorBars.
type pointError struct {
	plotter.XYs
	plotter.YErrors
}

// bandAlpha is the opacity of a ± std band: light enough that two bands
// over each other leave both lines readable.
const bandAlpha = 36

// maxMarkers is the most markers a curve gets: every point up to it (each
// epoch's accuracy), else every k-th point and the last (losses logged per
// step), so that markers name the variant without hiding the line.
const maxMarkers = 40

// markerPoints are the points of a curve that get a marker.
func markerPoints(xy plotter.XYs) plotter.XYs {
	if len(xy) <= maxMarkers {
		return xy
	}
	k := (len(xy) + maxMarkers - 1) / maxMarkers
	var out plotter.XYs
	for i := 0; i < len(xy); i += k {
		out = append(out, xy[i])
	}
	if last := xy[len(xy)-1]; out[len(out)-1] != last {
		out = append(out, last)
	}
	return out
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

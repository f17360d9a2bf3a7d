package plot

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/mksmt/workbench/internal/report"
)

// Sweep draws a table whose variants lie on a numeric axis (the paper's
// Figure 3: accuracy against temperature): one line per column (head), the
// seed mean at each point with ± std error bars. The paper's figures stay in
// the table: at the workbench's scale they are tens of points above the
// runs, and one axis for both would flatten every difference.
func Sweep(t *report.Table) (*Figure, error) {
	if t.Sweep == nil {
		return nil, fmt.Errorf("sweep plot %s: the study has no numeric axis", t.Study)
	}
	name := safeName(t.Study) + "-sweep"
	xl := t.Sweep.Label
	if xl == "" {
		xl = "x"
	}
	p := &panel{Plot: newPanel("", xl, yLabel(t.Columns))}
	var entries []legendEntry
	drawn := 0
	for ci, col := range t.Columns {
		type pt struct{ x, y, e float64 }
		var pts []pt
		for _, r := range t.Rows {
			if math.IsNaN(r.X) {
				continue
			}
			cell := r.Cells[ci]
			if cell.N > 0 {
				e := cell.Std
				if math.IsNaN(e) {
					e = 0
				}
				pts = append(pts, pt{r.X, cell.Mean, e})
			}
		}
		if len(pts) == 0 {
			continue
		}
		colr := colorOf(ci)
		sort.Slice(pts, func(i, j int) bool { return pts[i].x < pts[j].x })
		var ep struct {
			plotter.XYs
			plotter.YErrors
		}
		for _, q := range pts {
			ep.XYs = append(ep.XYs, plotter.XY{X: q.x, Y: q.y})
			ep.YErrors = append(ep.YErrors, struct{ Low, High float64 }{q.e, q.e})
		}
		line, points, err := plotter.NewLinePoints(ep.XYs)
		if err != nil {
			return nil, fmt.Errorf("sweep plot %s: %s: %w", t.Study, col.Metric, err)
		}
		line.Color, line.Width, line.Dashes = colr, vg.Points(1.5), dashesOf(ci)
		points.Color, points.Shape, points.Radius = colr, shapeOf(ci), vg.Points(3)
		bars, err := plotter.NewYErrorBars(ep)
		if err != nil {
			return nil, fmt.Errorf("sweep plot %s: %s error bars: %w", t.Study, col.Metric, err)
		}
		bars.Color, bars.Width = colr, vg.Points(1.2)
		p.add(line, points, bars)
		entries = append(entries, legendEntry{Label: col.Header + ": mean ± std over seeds", Color: colr, Dashes: dashesOf(ci), Shape: shapeOf(ci)})
		drawn++
	}
	if drawn == 0 {
		return nil, fmt.Errorf("sweep plot %s: no finished run to plot", t.Study)
	}
	title := tableTitle(t)
	w := 6.5 * vg.Inch
	f := &Figure{Name: name, Width: w, Height: 4.2*vg.Inch + headerHeight(title, entries, w), panels: []*panel{p}}
	f.draw = func(c draw.Canvas) {
		rest := header(c, title, entries)
		tiles(rest, []*plot.Plot{p.Plot}, 1)
	}
	return f, nil
}

// yLabel names the y axis after the columns' kind.
func yLabel(cols []report.Column) string {
	for _, c := range cols {
		if len(c.Metric) > 4 && c.Metric[:4] == "acc." {
			return "top-1 (%)"
		}
	}
	return "value"
}

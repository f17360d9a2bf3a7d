package plot

import (
	"fmt"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/mksmt/workbench/internal/report"
)

// barFamily is one panel of a bar chart: the columns of one kind, on an
// axis of their own (an accuracy and a drop, or a count and a percentage,
// never share one).
type barFamily struct {
	prefix, title, axis string
}

// barFamilies are the panels, in the order drawn: Table 7's cost (params
// and FLOPs, inference vs what training adds) before its accuracy; Table
// 8's accuracies apart from their drops.
var barFamilies = []barFamily{
	{"params.", "Parameters", "parameters"},
	{"flops.", "FLOPs", "FLOPs per image"},
	{"acc.", "Accuracy", "top-1 (%)"},
	{"drop.", "Accuracy drop", "drop (points)"},
}

// Bars draws a table as grouped bar charts, one panel per kind of column
// (barFamilies): one group per column, one bar per variant, each bar the
// seed mean with a ± std error bar and its value printed above. Counts are
// scaled to one unit per panel (K, M or G). Bars start at zero; the printed
// values carry the differences that a zero-based axis makes small. Time
// columns are left to the table.
func Bars(t *report.Table) (*Figure, error) {
	var entries []legendEntry
	for vi, r := range t.Rows {
		entries = append(entries, legendEntry{Label: r.Variant, Color: colorOf(vi)})
	}
	var panels []*panel
	perPanel := 0.0
	found := false
	for _, fam := range barFamilies {
		var cols []int
		var values []float64
		for i, c := range t.Columns {
			if strings.HasPrefix(c.Metric, fam.prefix) {
				cols = append(cols, i)
				for _, r := range t.Rows {
					if r.Cells[i].N > 0 {
						values = append(values, r.Cells[i].Mean)
					}
				}
			}
		}
		if len(cols) == 0 {
			continue
		}
		unit := report.UnitFor(t.Columns[cols[0]].Metric, values)
		g := &groupedBars{decimals: unit.Decimals}
		var groups []string
		for _, ci := range cols {
			groups = append(groups, barGroup(t.Columns[ci]))
		}
		for vi, r := range t.Rows {
			g.colors = append(g.colors, colorOf(vi))
			var means, stds []float64
			var ns []int
			for _, ci := range cols {
				cell := r.Cells[ci]
				means = append(means, cell.Mean/unit.Scale)
				stds = append(stds, cell.Std/unit.Scale)
				ns = append(ns, cell.N)
				found = found || cell.N > 0
			}
			g.mean = append(g.mean, means)
			g.std = append(g.std, stds)
			g.n = append(g.n, ns)
		}
		axis := fam.axis
		if unit.Suffix != "" {
			axis += " (" + unit.Suffix + ")"
		}
		p := &panel{Plot: newPanel(fam.title, "", axis)}
		p.add(g)
		p.NominalX(groups...)
		p.X.Tick.Label.Font.Size = vg.Points(10)
		panels = append(panels, p)
		perPanel = math.Max(perPanel, math.Max(3.2, 0.9+float64(len(groups)*len(t.Rows))*0.5))
	}
	if len(panels) == 0 {
		return nil, fmt.Errorf("bar chart %s: no accuracy, drop, parameter or FLOP column to draw", t.Study)
	}
	if !found {
		return nil, fmt.Errorf("bar chart %s: no finished run to plot", t.Study)
	}
	title := tableTitle(t)
	title += " — mean ± std over seeds"
	w := vg.Length(math.Max(6.5, perPanel*float64(len(panels)))) * vg.Inch
	f := &Figure{Name: safeName(t.Study) + "-bars", Width: w, Height: 4.2*vg.Inch + headerHeight(title, entries, w), panels: panels}
	f.draw = func(c draw.Canvas) {
		rest := header(c, title, entries)
		tiles(rest, plots(panels), len(panels))
	}
	return f, nil
}

// barGroup names a column under its group of bars: what part of the count
// (inference, training extra) for params and FLOPs, the header otherwise.
func barGroup(c report.Column) string {
	for _, pre := range []string{"params.", "flops."} {
		if rest, ok := strings.CutPrefix(c.Metric, pre); ok {
			if rest == "extra" {
				return "training extra"
			}
			return rest
		}
	}
	return c.Header
}

// groupedBars is a plot.Plotter: groups at x = 0, 1, …, within a group one
// bar per series side by side, with error bars and value labels. Cells with
// no value are left empty.
type groupedBars struct {
	mean, std [][]float64 // [series][group]
	n         [][]int
	colors    []color.Color
	decimals  int // of the printed values
}

func (g *groupedBars) groups() int {
	if len(g.mean) == 0 {
		return 0
	}
	return len(g.mean[0])
}

// Plot implements plot.Plotter.
func (g *groupedBars) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	ns := len(g.mean)
	if ns == 0 || g.groups() == 0 {
		return
	}
	groupW := trX(1) - trX(0)
	if g.groups() == 1 {
		groupW = (c.Max.X - c.Min.X) / 2
	}
	barW := groupW * 0.8 / vg.Length(ns)
	label := textStyle(vg.Points(7))
	label.XAlign, label.YAlign = draw.XCenter, draw.YBottom
	errStyle := draw.LineStyle{Color: color.Black, Width: vg.Points(1)}
	y0 := trY(0)
	for s := range ns {
		for gi := range g.groups() {
			m := g.mean[s][gi]
			if g.n[s][gi] == 0 || math.IsNaN(m) {
				continue
			}
			xc := trX(float64(gi)) + (vg.Length(s)-vg.Length(ns-1)/2)*barW
			x0, x1 := xc-barW/2*0.9, xc+barW/2*0.9
			ym := trY(m)
			c.FillPolygon(g.colors[s], c.ClipPolygonY([]vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: ym}, {X: x0, Y: ym}}))
			top, bottom := ym, ym
			if e := g.std[s][gi]; !math.IsNaN(e) && e > 0 {
				lo, hi := trY(m-e), trY(m+e)
				capW := barW * 0.2
				c.StrokeLines(errStyle, c.ClipLinesY([]vg.Point{{X: xc, Y: lo}, {X: xc, Y: hi}})...)
				c.StrokeLine2(errStyle, xc-capW, lo, xc+capW, lo)
				c.StrokeLine2(errStyle, xc-capW, hi, xc+capW, hi)
				top, bottom = max(top, hi), min(bottom, lo)
			}
			// The value sits beyond the bar's end: above a positive bar,
			// below a negative one.
			if m >= 0 {
				c.FillText(label, vg.Point{X: xc, Y: top + vg.Points(2)}, fmt.Sprintf("%.*f", g.decimals, m))
			} else {
				below := label
				below.YAlign = draw.YTop
				c.FillText(below, vg.Point{X: xc, Y: bottom - vg.Points(2)}, fmt.Sprintf("%.*f", g.decimals, m))
			}
		}
	}
}

// DataRange implements plot.DataRanger: every bar from 0 to mean ± std,
// with head room for the labels.
func (g *groupedBars) DataRange() (xmin, xmax, ymin, ymax float64) {
	ymin, ymax = 0, 0
	for s := range g.mean {
		for gi, m := range g.mean[s] {
			if g.n[s][gi] == 0 || math.IsNaN(m) {
				continue
			}
			e := g.std[s][gi]
			if math.IsNaN(e) {
				e = 0
			}
			ymin = math.Min(ymin, m-e)
			ymax = math.Max(ymax, m+e)
		}
	}
	if ymax == ymin {
		ymax = ymin + 1
	}
	room := 0.08 * (ymax - ymin) // for the value labels
	if ymin < 0 {
		ymin -= room
	}
	return -0.5, float64(g.groups()) - 0.5, ymin, ymax + room
}

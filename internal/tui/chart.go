package tui

import (
	"fmt"
	"math"

	"github.com/NimbleMarkets/ntcharts/canvas"
	"github.com/NimbleMarkets/ntcharts/linechart"

	"github.com/mksmt/workbench/internal/store"
)

// chartBounds are the axes' ranges of a chart; nil: fitted to its points.
type chartBounds struct{ minX, maxX, minY, maxY float64 }

// seriesBounds are the ranges that fit every series given.
func seriesBounds(series ...[]store.Point) *chartBounds {
	b := &chartBounds{math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)}
	for _, pts := range series {
		for _, p := range pts {
			b.minX, b.maxX = math.Min(b.minX, float64(p.Step)), math.Max(b.maxX, float64(p.Step))
			if !math.IsNaN(p.Value) && !math.IsInf(p.Value, 0) {
				b.minY, b.maxY = math.Min(b.minY, p.Value), math.Max(b.maxY, p.Value)
			}
		}
	}
	return b
}

// lossChart draws a series as a braille line chart with axes, w×h, over
// the given bounds (nil: fitted to the points).
func lossChart(pts []store.Point, w, h int, bounds *chartBounds) string {
	b := bounds
	if b == nil {
		b = seriesBounds(pts)
	}
	minX, maxX, minY, maxY := b.minX, b.maxX, b.minY, b.maxY
	if math.IsInf(minY, 0) || math.IsInf(minX, 0) {
		return stDim.Render("no finite values yet")
	}
	if maxY-minY < 1e-9 {
		maxY = minY + 1
	}
	if maxX <= minX {
		maxX = minX + 1
	}
	pad := (maxY - minY) * 0.05
	lc := linechart.New(w, h, minX, maxX, minY-pad, maxY+pad,
		linechart.WithXYSteps(max(w/8, 1), max(h/3, 1)),
		linechart.WithXLabelFormatter(func(_ int, v float64) string { return fmt.Sprintf("%.0f", v) }),
		linechart.WithYLabelFormatter(func(_ int, v float64) string { return fmt.Sprintf("%.2f", v) }),
	)
	lc.DrawXYAxisAndLabel()
	var prev *canvas.Float64Point
	for _, p := range pts {
		if math.IsNaN(p.Value) || math.IsInf(p.Value, 0) {
			prev = nil
			continue
		}
		cur := canvas.Float64Point{X: float64(p.Step), Y: p.Value}
		if prev != nil {
			lc.DrawBrailleLine(*prev, cur)
		}
		prev = &cur
	}
	return lc.View()
}

package plot

import (
	"image/color"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// palette is a qualitative colour set (Tableau 10), one colour per variant.
var palette = []color.RGBA{
	{0x4e, 0x79, 0xa7, 0xff}, {0xf2, 0x8e, 0x2b, 0xff}, {0xe1, 0x57, 0x59, 0xff},
	{0x76, 0xb7, 0xb2, 0xff}, {0x59, 0xa1, 0x4f, 0xff}, {0xed, 0xc9, 0x48, 0xff},
	{0xb0, 0x7a, 0xa1, 0xff}, {0xff, 0x9d, 0xa7, 0xff}, {0x9c, 0x75, 0x5f, 0xff},
	{0xba, 0xb0, 0xac, 0xff},
}

// colorOf is the colour of the i-th series.
func colorOf(i int) color.RGBA { return palette[i%len(palette)] }

// faded is c with opacity a (non-premultiplied).
func faded(c color.RGBA, a uint8) color.NRGBA {
	return color.NRGBA{R: c.R, G: c.G, B: c.B, A: a}
}

func textStyle(size vg.Length) draw.TextStyle {
	return draw.TextStyle{
		Color:   color.Black,
		Font:    font.From(plot.DefaultFont, size),
		Handler: plot.DefaultTextHandler,
		XAlign:  draw.XLeft,
		YAlign:  draw.YBottom,
	}
}

// legendEntry is one swatch of a shared legend.
type legendEntry struct {
	Label string
	Color color.Color
	Glyph bool // a marker instead of a line
	// Dashes and Shape, when set, draw the swatch as the series is drawn:
	// a line in its dash pattern with its marker in the middle.
	Dashes []vg.Length
	Shape  draw.GlyphDrawer
}

// header draws a title line and, below it, a horizontal legend that wraps,
// and returns the canvas left below them.
func header(c draw.Canvas, title string, entries []legendEntry) draw.Canvas {
	pad := vg.Points(6)
	y := c.Max.Y - pad
	if title != "" {
		ts := textStyle(vg.Points(13))
		ts.XAlign, ts.YAlign = draw.XCenter, draw.YTop
		c.FillText(ts, vg.Point{X: (c.Min.X + c.Max.X) / 2, Y: y}, title)
		y -= ts.Height(title) + pad
	}
	if len(entries) > 0 {
		ts := textStyle(vg.Points(10))
		ts.YAlign = draw.YCenter
		lineH := ts.Height("Mg") + vg.Points(4)
		swatch := vg.Points(18)
		x := c.Min.X + pad*2
		rowY := y - lineH/2
		for _, e := range entries {
			w := swatch + vg.Points(4) + ts.Width(e.Label) + vg.Points(14)
			if x+w > c.Max.X-pad && x > c.Min.X+pad*2 {
				x = c.Min.X + pad*2
				rowY -= lineH
			}
			if e.Glyph {
				c.DrawGlyph(draw.GlyphStyle{Color: e.Color, Radius: vg.Points(3), Shape: draw.CircleGlyph{}},
					vg.Point{X: x + swatch/2, Y: rowY})
			} else {
				c.StrokeLine2(draw.LineStyle{Color: e.Color, Width: vg.Points(2), Dashes: e.Dashes}, x, rowY, x+swatch, rowY)
				if e.Shape != nil {
					c.DrawGlyph(draw.GlyphStyle{Color: e.Color, Radius: vg.Points(2.5), Shape: e.Shape}, vg.Point{X: x + swatch/2, Y: rowY})
				}
			}
			c.FillText(ts, vg.Point{X: x + swatch + vg.Points(4), Y: rowY}, e.Label)
			x += w
		}
		y = rowY - lineH/2 - pad/2
	}
	return draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{Min: c.Min, Max: vg.Point{X: c.Max.X, Y: y}}}
}

// headerHeight estimates the height header needs for entries at width w,
// so that figures can grow rather than squash their panels.
func headerHeight(title string, entries []legendEntry, w vg.Length) vg.Length {
	pad := vg.Points(6)
	h := pad
	if title != "" {
		h += textStyle(vg.Points(13)).Height(title) + pad
	}
	if len(entries) > 0 {
		ts := textStyle(vg.Points(10))
		lineH := ts.Height("Mg") + vg.Points(4)
		rows := 1
		x := pad * 2
		for _, e := range entries {
			ew := vg.Points(18) + vg.Points(4) + ts.Width(e.Label) + vg.Points(14)
			if x+ew > w-pad && x > pad*2 {
				x = pad * 2
				rows++
			}
			x += ew
		}
		h += vg.Length(rows)*lineH + pad/2
	}
	return h
}

// tiles draws plots in a grid of cols columns with aligned axes.
func tiles(c draw.Canvas, plots []*plot.Plot, cols int) {
	if len(plots) == 0 {
		return
	}
	rows := (len(plots) + cols - 1) / cols
	grid := make([][]*plot.Plot, rows)
	for r := range grid {
		grid[r] = make([]*plot.Plot, cols)
		for k := range cols {
			if i := r*cols + k; i < len(plots) {
				grid[r][k] = plots[i]
			}
		}
	}
	t := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(10), PadY: vg.Points(10),
		PadLeft: vg.Points(4), PadRight: vg.Points(8), PadBottom: vg.Points(4), PadTop: vg.Points(2)}
	canvases := plot.Align(grid, t, c)
	for r := range grid {
		for k, p := range grid[r] {
			if p != nil {
				p.Draw(canvases[r][k])
			}
		}
	}
}

// newPanel is a plot with the workbench's look: small fonts, a light grid.
func newPanel(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(11)
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.X.Label.TextStyle.Font.Size = vg.Points(10)
	p.Y.Label.TextStyle.Font.Size = vg.Points(10)
	p.X.Tick.Label.Font.Size = vg.Points(8)
	p.Y.Tick.Label.Font.Size = vg.Points(8)
	p.X.Tick.Marker = precisionTicks{}
	p.Y.Tick.Marker = precisionTicks{}
	return p
}

// precisionTicks labels gonum's default tick positions with as many
// decimals as their spacing needs (0.25 apart: two), and more while two
// labels would read the same, so that an axis never says "1.4 1.4 1.4".
type precisionTicks struct{}

// Ticks implements plot.Ticker.
func (precisionTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	var major []int
	for i, t := range ticks {
		if t.Label != "" {
			major = append(major, i)
		}
	}
	step := math.Inf(1)
	for k := 1; k < len(major); k++ {
		step = math.Min(step, math.Abs(ticks[major[k]].Value-ticks[major[k-1]].Value))
	}
	dec := 0
	if !math.IsInf(step, 0) && step > 0 {
		// A step of 0.25 needs two decimals, 0.2 one, 5 none.
		for dec < 12 && math.Abs(step*math.Pow10(dec)-math.Round(step*math.Pow10(dec))) > 1e-6*step*math.Pow10(dec) {
			dec++
		}
	}
	for ; dec <= 12; dec++ {
		seen := map[string]bool{}
		distinct := true
		for _, i := range major {
			l := formatTick(ticks[i].Value, dec)
			distinct = distinct && !seen[l]
			seen[l] = true
		}
		if distinct {
			break
		}
	}
	for _, i := range major {
		ticks[i].Label = formatTick(ticks[i].Value, dec)
	}
	return ticks
}

// formatTick prints v with dec decimals, large and tiny magnitudes in
// exponent form, and never "-0".
func formatTick(v float64, dec int) string {
	if a := math.Abs(v); a != 0 && (a >= 1e7 || a < 1e-4) {
		return strconv.FormatFloat(v, 'g', max(dec, 2), 64)
	}
	s := strconv.FormatFloat(v, 'f', dec, 64)
	if strings.HasPrefix(s, "-") && strings.Trim(s, "-0.") == "" {
		s = s[1:]
	}
	return s
}

// dashesOf is the dash pattern of the i-th series: solid, dashed, dotted,
// dash-dot, …, so that lines differ in more than colour.
func dashesOf(i int) []vg.Length {
	patterns := [][]vg.Length{nil, {vg.Points(6), vg.Points(3)}, {vg.Points(1.5), vg.Points(2)},
		{vg.Points(7), vg.Points(2.5), vg.Points(1.5), vg.Points(2.5)}, {vg.Points(3), vg.Points(3)}}
	return patterns[i%len(patterns)]
}

// shapeOf is the marker of the i-th series.
func shapeOf(i int) draw.GlyphDrawer {
	shapes := []draw.GlyphDrawer{draw.CircleGlyph{}, draw.BoxGlyph{}, draw.TriangleGlyph{}, draw.PyramidGlyph{},
		draw.RingGlyph{}, draw.SquareGlyph{}, draw.CrossGlyph{}, draw.PlusGlyph{}}
	return shapes[i%len(shapes)]
}

package plot

import (
	"image/color"

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
				c.StrokeLine2(draw.LineStyle{Color: e.Color, Width: vg.Points(2.5)}, x, rowY, x+swatch, rowY)
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
	return p
}

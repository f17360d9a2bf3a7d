// Package plot draws the workbench's figures with gonum.org/v1/plot and
// writes them as PNG or SVG: learning curves (seed mean ± std band per
// variant and head), the paper's Figure 3 (accuracy against temperature with
// error bars), grouped bar charts with error bars for tables 8–11, and
// Figure 4 (Grad-CAM heat maps of S2/S3/S4 over the input images, baseline
// vs MKSMT).
//
// Every figure is built from values internal/report has already computed
// (tables and curves) or from plain float maps and images (Grad-CAM), so it
// can be tested with synthetic data. This package must not compute
// statistics (report does), read runs.db, or train anything.
package plot

import (
	"fmt"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/mksmt/workbench/internal/atomicfile"
)

// DPI is the resolution of PNG output: a figure W inches wide is W·DPI
// pixels wide.
const DPI = 144

// Format is an image format the figures are written in.
type Format string

// The formats.
const (
	PNG Format = "png"
	SVG Format = "svg"
)

// ParseFormat accepts "png" or "svg".
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "png":
		return PNG, nil
	case "svg":
		return SVG, nil
	}
	return "", fmt.Errorf("unknown plot format %q (want png or svg)", s)
}

// Figure is a picture of a given size that draws itself on a canvas.
type Figure struct {
	// Name is the file stem, e.g. "table9-bars"; Save appends the extension.
	Name          string
	Width, Height vg.Length
	draw          func(c draw.Canvas)
	// panels are the figure's plots with what each draws, for tests (nil
	// for figures not made of plots, such as Figure 4).
	panels []*panel
}

// panel is a plot and the plotters added to it, in drawing order.
type panel struct {
	*plot.Plot
	items []plot.Plotter
}

// add adds plotters to the plot and records them.
func (p *panel) add(ps ...plot.Plotter) {
	p.Plot.Add(ps...)
	p.items = append(p.items, ps...)
}

// plots are the panels' plots, for tiles.
func plots(panels []*panel) []*plot.Plot {
	out := make([]*plot.Plot, len(panels))
	for i, p := range panels {
		out[i] = p.Plot
	}
	return out
}

// Pixels is the size of the figure as PNG.
func (f *Figure) Pixels() (w, h int) {
	return int(float64(f.Width/vg.Inch)*DPI + 0.5), int(float64(f.Height/vg.Inch)*DPI + 0.5)
}

// Encode writes the figure in format to w.
func (f *Figure) Encode(w io.Writer, format Format) error {
	var c vg.CanvasWriterTo
	switch format {
	case PNG:
		img := vgimg.NewWith(vgimg.UseWH(f.Width, f.Height), vgimg.UseDPI(DPI), vgimg.UseBackgroundColor(color.White))
		c = vgimg.PngCanvas{Canvas: img}
	case SVG:
		svg := vgsvg.NewWith(vgsvg.UseWH(f.Width, f.Height))
		// A white page, as in the PNG.
		dc := draw.New(svg)
		dc.FillPolygon(color.White, []vg.Point{dc.Min, {X: dc.Max.X, Y: dc.Min.Y}, dc.Max, {X: dc.Min.X, Y: dc.Max.Y}})
		c = svg
	default:
		return fmt.Errorf("figure %s: unknown format %q", f.Name, format)
	}
	f.draw(draw.New(c))
	_, err := c.WriteTo(w)
	if err != nil {
		return fmt.Errorf("figure %s: encode %s: %w", f.Name, format, err)
	}
	return nil
}

// File is the path Save writes the figure to in dir.
func (f *Figure) File(dir string, format Format) string {
	return filepath.Join(dir, f.Name+"."+string(format))
}

// Save writes the figure to dir/Name.<format> (File), creating dir, and
// returns the path. The file is written whole or not at all
// (internal/atomicfile): a failed encode or a full disk leaves the previous
// figure in place.
func (f *Figure) Save(dir string, format Format) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("figure %s: %w", f.Name, err)
	}
	path := f.File(dir, format)
	var encErr error // already names the figure
	err := atomicfile.Write(path, 0o644, func(w io.Writer) error {
		encErr = f.Encode(w, format)
		return encErr
	})
	if encErr != nil {
		return "", encErr
	}
	if err != nil {
		return "", fmt.Errorf("figure %s: %w", f.Name, err)
	}
	return path, nil
}

// safeName turns a study or variant name into a file-name part.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
}

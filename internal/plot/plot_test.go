package plot

import (
	"bytes"
	"encoding/xml"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mksmt/workbench/internal/report"
	"github.com/mksmt/workbench/internal/report/reporttest"
)

// fixtureFigures renders every figure of every fixture study, plus a
// Grad-CAM grid from synthetic maps.
func fixtureFigures(t *testing.T) []*Figure {
	t.Helper()
	var figs []*Figure
	for _, s := range reporttest.Studies() {
		tb, err := report.Build(s.Spec, s.Results)
		if err != nil {
			t.Fatal(err)
		}
		fs, notes := StudyFigures(tb, report.Curves(s.Series, s.Spec.Variants))
		if len(notes) > 0 {
			t.Errorf("%s: %v", s.Spec.Name, notes)
		}
		figs = append(figs, fs...)
	}
	figs = append(figs, gradCAMFixture(t))
	return figs
}

// gradCAMFixture is Figure 4 from synthetic inputs: a gradient image and
// Gaussian blobs at a different place per head and model.
func gradCAMFixture(t *testing.T) *Figure {
	t.Helper()
	var rows []CAMRow
	for i, model := range []string{"baseline", "mksmt"} {
		for img := range 2 {
			in := image.NewRGBA(image.Rect(0, 0, 32, 32))
			for y := range 32 {
				for x := range 32 {
					in.SetRGBA(x, y, color.RGBA{uint8(8 * x), uint8(8 * y), uint8(100 + 50*img), 255})
				}
			}
			maps := map[string]CAM{}
			for h, head := range []string{"S2", "S3", "S4"} {
				m := CAM{W: 32, H: 32, Values: make([]float64, 32*32)}
				cx, cy := float64(8+8*h), float64(10+6*i+4*img)
				for y := range 32 {
					for x := range 32 {
						d := (float64(x)-cx)*(float64(x)-cx) + (float64(y)-cy)*(float64(y)-cy)
						m.Values[y*32+x] = math.Exp(-d / 40)
					}
				}
				maps[head] = m
			}
			if i == 0 && img == 1 {
				delete(maps, "S2") // a head without a map
			}
			rows = append(rows, CAMRow{Label: model + "\ntest #" + string(rune('0'+img)), Image: in, Maps: maps})
		}
	}
	f, err := GradCAMGrid("fig4-gradcam", "Figure 4: Grad-CAM, baseline vs MKSMT", []string{"S2", "S3", "S4"}, rows)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFiguresPNG(t *testing.T) {
	figs := fixtureFigures(t)
	names := map[string]bool{}
	for _, f := range figs {
		names[f.Name] = true
	}
	for _, want := range []string{"table7-curves", "table7-bars", "table8-bars", "table9-bars", "table10-bars",
		"table11-bars", "fig3-temperature-sweep", "fig3-temperature-curves", "fig4-gradcam"} {
		if !names[want] {
			t.Errorf("no figure %s among %v", want, names)
		}
	}
	for _, f := range figs {
		t.Run(f.Name, func(t *testing.T) {
			var b bytes.Buffer
			if err := f.Encode(&b, PNG); err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(&b)
			if err != nil {
				t.Fatalf("PNG does not decode: %v", err)
			}
			w, h := f.Pixels()
			if got := img.Bounds(); got.Dx() != w || got.Dy() != h {
				t.Fatalf("PNG is %dx%d, want %dx%d", got.Dx(), got.Dy(), w, h)
			}
			checkNotBlank(t, img)
		})
	}
}

// checkNotBlank asks for ink (non-white pixels) over a real part of the
// image and for colour beyond black and grey: something was drawn.
func checkNotBlank(t *testing.T, img image.Image) {
	t.Helper()
	b := img.Bounds()
	ink, coloured := 0, 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bb, _ := img.At(x, y).RGBA()
			if r < 0xf000 || g < 0xf000 || bb < 0xf000 {
				ink++
			}
			mx, mn := max(r, g, bb), min(r, g, bb)
			if mx-mn > 0x2000 {
				coloured++
			}
		}
	}
	total := b.Dx() * b.Dy()
	if ink < total/100 {
		t.Errorf("only %d of %d pixels are not white", ink, total)
	}
	if coloured < total/500 {
		t.Errorf("only %d of %d pixels have colour", coloured, total)
	}
}

func TestFiguresSVGAndSave(t *testing.T) {
	dir := t.TempDir()
	for _, f := range fixtureFigures(t) {
		for _, format := range []Format{SVG, PNG} {
			path, err := f.Save(dir, format)
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Base(path) != f.Name+"."+string(format) {
				t.Errorf("saved as %s", path)
			}
			if format != SVG {
				continue
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := wellFormed(data); err != nil {
				t.Errorf("%s: SVG is not well-formed XML: %v", path, err)
			}
			if !bytes.Contains(data, []byte("<svg")) || !bytes.Contains(data, []byte("<path")) {
				t.Errorf("%s: no <svg> with paths", path)
			}
		}
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*"))
	if len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func wellFormed(data []byte) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func TestFigureErrors(t *testing.T) {
	empty, err := report.Build(report.Spec{Name: "e", Variants: []string{"a"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	times, err := report.Build(report.Spec{Name: "p", Variants: []string{"a"}, Metrics: []string{"train_seconds"}},
		[]report.RunResult{{Variant: "a", Seed: 1, Summaries: map[string]float64{"train_seconds": 5}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		err  func() error
		want string
	}{
		{"bars without runs", func() error { _, err := Bars(empty); return err }, "no finished run"},
		{"bars without a column to draw", func() error { _, err := Bars(times); return err }, "no accuracy, drop, parameter or FLOP column"},
		{"sweep without axis", func() error { _, err := Sweep(empty); return err }, "no numeric axis"},
		{"curves without series", func() error { _, err := LearningCurves("x", "", nil, nil); return err }, "no metric series"},
		{"grad-cam without rows", func() error { _, err := GradCAMGrid("g", "", []string{"S4"}, nil); return err }, "no images"},
		{"grad-cam bad map", func() error {
			_, err := GradCAMGrid("g", "", []string{"S4"}, []CAMRow{{Label: "r", Image: image.NewRGBA(image.Rect(0, 0, 4, 4)),
				Maps: map[string]CAM{"S4": {W: 2, H: 2, Values: []float64{1}}}}})
			return err
		}, "map is 2×2 with 1 values"},
		{"format", func() error { _, err := ParseFormat("gif"); return err }, `unknown plot format "gif"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.err()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
}

func TestJet(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want color.RGBA
	}{{0, color.RGBA{0, 0, 128, 255}}, {0.5, color.RGBA{128, 255, 128, 255}}, {1, color.RGBA{128, 0, 0, 255}}} {
		if got := jet(c.v); got != c.want {
			t.Errorf("jet(%v) = %v, want %v", c.v, got, c.want)
		}
	}
}

// Row labels never run off the page: the label column grows with them.
func TestGradCAMLabelWidth(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	cam := CAM{W: 2, H: 2, Values: []float64{0, 1, 2, 3}}
	short, err := GradCAMGrid("g", "", []string{"S4"}, []CAMRow{{Label: "a", Image: img, Maps: map[string]CAM{"S4": cam}}})
	if err != nil {
		t.Fatal(err)
	}
	long, err := GradCAMGrid("g", "", []string{"S4"}, []CAMRow{{Label: "baseline\ntest #12: stubby-twobar-ringed-bib-and-more", Image: img, Maps: map[string]CAM{"S4": cam}}})
	if err != nil {
		t.Fatal(err)
	}
	if long.Width <= short.Width {
		t.Errorf("a long label (%v wide figure) does not widen the figure (%v)", long.Width, short.Width)
	}
}

// TestSaveFailureKeepsOldFigure: a figure that fails to encode leaves the
// previous file whole and no temporary file, and its error names the
// figure once.
func TestSaveFailureKeepsOldFigure(t *testing.T) {
	dir := t.TempDir()
	f := fixtureFigures(t)[0]
	old := filepath.Join(dir, f.Name+".bogus")
	if err := os.WriteFile(old, []byte("old figure"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := f.Save(dir, Format("bogus"))
	if err == nil {
		t.Fatal("saving in an unknown format succeeded")
	}
	if n := strings.Count(err.Error(), "figure "+f.Name+":"); n != 1 {
		t.Errorf("error %q names the figure %d times, want once", err, n)
	}
	if b, _ := os.ReadFile(old); string(b) != "old figure" {
		t.Errorf("the previous figure now holds %q", b)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
	// A directory in the figure's place cannot be replaced: the error says
	// where, and the directory is untouched.
	if err := os.Mkdir(f.File(dir, SVG), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Save(dir, SVG); err == nil || !strings.Contains(err.Error(), f.File(dir, SVG)) {
		t.Errorf("saving over a directory: %v, want an error naming the path", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

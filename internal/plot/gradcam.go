package plot

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// CAM is one Grad-CAM heat map: W×H non-negative values, row-major (y
// down, like the image). Its scale does not matter: each map is drawn
// normalised to its own maximum.
type CAM struct {
	W, H   int
	Values []float64
}

// CAMRow is one input image seen by one model: the image and the heat map
// of each head ("S2", "S3", "S4").
type CAMRow struct {
	Label string // e.g. "baseline\ntest #17, class 3"; may hold newlines
	Image image.Image
	Maps  map[string]CAM
}

// camCellPx is the side of one grid cell in pixels of the rendered bitmap.
const camCellPx = 160

// GradCAMGrid draws the paper's Figure 4: one row per CAMRow (e.g. each
// test image under the baseline and under MKSMT), the input image in the
// first column and, in one column per head, the heat map over the image
// (jet colours, red = strongest, blended at 50 %). A head without a map is
// drawn as the plain image, marked "no map".
func GradCAMGrid(name, title string, heads []string, rows []CAMRow) (*Figure, error) {
	if len(rows) == 0 {
		return nil, fmt.Errorf("grad-cam figure %s: no images", name)
	}
	type cell struct {
		img    image.Image
		hasMap bool
	}
	cells := make([][]cell, len(rows))
	for i, r := range rows {
		if r.Image == nil || r.Image.Bounds().Empty() {
			return nil, fmt.Errorf("grad-cam figure %s: row %d (%s): no input image", name, i+1, r.Label)
		}
		base := resize(r.Image, camCellPx)
		cells[i] = append(cells[i], cell{img: base, hasMap: true})
		for _, h := range heads {
			m, ok := r.Maps[h]
			if !ok {
				cells[i] = append(cells[i], cell{img: base})
				continue
			}
			if m.W <= 0 || m.H <= 0 || len(m.Values) != m.W*m.H {
				return nil, fmt.Errorf("grad-cam figure %s: row %d (%s) head %s: map is %d×%d with %d values", name, i+1, r.Label, h, m.W, m.H, len(m.Values))
			}
			cells[i] = append(cells[i], cell{img: overlay(base, m), hasMap: true})
		}
	}
	side := 1.25 * vg.Inch
	gap := vg.Points(4)
	// The label column is as wide as the widest label line.
	labelW := 0.8 * vg.Inch
	ls := textStyle(vg.Points(9))
	for _, r := range rows {
		for _, line := range strings.Split(r.Label, "\n") {
			labelW = max(labelW, ls.Width(line)+vg.Points(12))
		}
	}
	colHead := vg.Points(16)
	hh := headerHeight(title, nil, 0)
	w := labelW + vg.Length(len(heads)+1)*(side+gap) + gap
	h := hh + colHead + vg.Length(len(rows))*(side+gap) + gap
	f := &Figure{Name: name, Width: w, Height: h}
	f.draw = func(c draw.Canvas) {
		rest := header(c, title, nil)
		ts := textStyle(vg.Points(10))
		ts.XAlign, ts.YAlign = draw.XCenter, draw.YBottom
		top := rest.Max.Y - colHead
		for k, name := range append([]string{"input"}, heads...) {
			x := rest.Min.X + labelW + vg.Length(k)*(side+gap) + side/2
			c.FillText(ts, vg.Point{X: x, Y: top + vg.Points(3)}, name)
		}
		ls.XAlign, ls.YAlign = draw.XRight, draw.YCenter
		note := textStyle(vg.Points(8))
		note.XAlign, note.YAlign = draw.XCenter, draw.YTop
		note.Color = color.White
		for i, r := range rows {
			y1 := top - vg.Length(i)*(side+gap)
			y0 := y1 - side
			c.FillText(ls, vg.Point{X: rest.Min.X + labelW - gap*2, Y: (y0 + y1) / 2}, r.Label)
			for k, cl := range cells[i] {
				x0 := rest.Min.X + labelW + vg.Length(k)*(side+gap)
				c.DrawImage(vg.Rectangle{Min: vg.Point{X: x0, Y: y0}, Max: vg.Point{X: x0 + side, Y: y1}}, cl.img)
				if !cl.hasMap {
					c.FillText(note, vg.Point{X: x0 + side/2, Y: y1 - vg.Points(2)}, "no map")
				}
			}
		}
	}
	return f, nil
}

// resize scales img to side×side pixels, bilinearly (the inputs are small,
// e.g. 32×32, and a grid cell is larger).
func resize(img image.Image, side int) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, side, side))
	sx := float64(b.Dx()) / float64(side)
	sy := float64(b.Dy()) / float64(side)
	at := func(x, y int) [3]float64 {
		x = min(max(x, 0), b.Dx()-1)
		y = min(max(y, 0), b.Dy()-1)
		r, g, bb, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
		return [3]float64{float64(r >> 8), float64(g >> 8), float64(bb >> 8)}
	}
	for y := range side {
		y0, ty := texel(y, sy)
		for x := range side {
			x0, tx := texel(x, sx)
			p00, p10, p01, p11 := at(x0, y0), at(x0+1, y0), at(x0, y0+1), at(x0+1, y0+1)
			var c [3]uint8
			for k := range 3 {
				v := (p00[k]*(1-tx)+p10[k]*tx)*(1-ty) + (p01[k]*(1-tx)+p11[k]*tx)*ty
				c[k] = uint8(math.Round(math.Min(255, math.Max(0, v))))
			}
			out.SetRGBA(x, y, color.RGBA{c[0], c[1], c[2], 255})
		}
	}
	return out
}

// texel maps output pixel i, at scale source pixels per output pixel (pixel
// centres aligned), to the source pixel at or left of its centre and the
// weight of the next one.
func texel(i int, scale float64) (int, float64) {
	f := (float64(i)+0.5)*scale - 0.5
	i0 := int(math.Floor(f))
	return i0, f - float64(i0)
}

// overlay blends the heat map m, normalised to its maximum and sampled
// bilinearly, over base in jet colours.
func overlay(base *image.RGBA, m CAM) *image.RGBA {
	side := base.Bounds().Dx()
	maxV := 0.0
	for _, v := range m.Values {
		if !math.IsNaN(v) {
			maxV = math.Max(maxV, v)
		}
	}
	val := func(x, y int) float64 {
		x = min(max(x, 0), m.W-1)
		y = min(max(y, 0), m.H-1)
		v := m.Values[y*m.W+x]
		if math.IsNaN(v) || v < 0 || maxV == 0 {
			return 0
		}
		return v / maxV
	}
	out := image.NewRGBA(base.Bounds())
	sx, sy := float64(m.W)/float64(side), float64(m.H)/float64(side)
	for y := range side {
		y0, ty := texel(y, sy)
		for x := range side {
			x0, tx := texel(x, sx)
			v := (val(x0, y0)*(1-tx)+val(x0+1, y0)*tx)*(1-ty) + (val(x0, y0+1)*(1-tx)+val(x0+1, y0+1)*tx)*ty
			h := jet(v)
			b := base.RGBAAt(x, y)
			out.SetRGBA(x, y, color.RGBA{
				R: uint8((int(b.R) + int(h.R)) / 2),
				G: uint8((int(b.G) + int(h.G)) / 2),
				B: uint8((int(b.B) + int(h.B)) / 2),
				A: 255,
			})
		}
	}
	return out
}

// jet maps v in [0, 1] to the classic blue–cyan–yellow–red heat colours.
func jet(v float64) color.RGBA {
	v = math.Min(1, math.Max(0, v))
	ch := func(center float64) uint8 {
		return uint8(math.Round(255 * math.Min(1, math.Max(0, 1.5-math.Abs(4*v-center)))))
	}
	return color.RGBA{R: ch(3), G: ch(2), B: ch(1), A: 255}
}

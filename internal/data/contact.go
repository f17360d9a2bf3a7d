package data

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// SheetOptions lay out a contact sheet.
type SheetOptions struct {
	Split      SplitKind
	PerClass   int // images per class (row); default 8
	MaxClasses int // rows; default 20 (the first classes)
	Scale      int // each pixel drawn as Scale x Scale; default 3
}

// ContactSheet draws a grid of examples: one row per class, labelled with
// the class number and name, holding the first PerClass images of that
// class in the split as the network sees them in test mode (centre crop,
// not normalised), enlarged by Scale. A title line names the data set.
func (d *Dataset) ContactSheet(o SheetOptions) *image.RGBA {
	if o.PerClass <= 0 {
		o.PerClass = 8
	}
	if o.MaxClasses <= 0 {
		o.MaxClasses = 20
	}
	if o.Scale <= 0 {
		o.Scale = 3
	}
	rows := min(o.MaxClasses, d.NumClasses())
	const gap, margin, lineH, charW = 2, 6, 13, 7
	labelChars := 0
	labels := make([]string, rows)
	for c := 0; c < rows; c++ {
		labels[c] = fmt.Sprintf("%d %s", c, d.classes[c])
		if len(labels[c]) > 32 {
			labels[c] = labels[c][:31] + "~"
		}
		labelChars = max(labelChars, len(labels[c]))
	}
	cell := d.size * o.Scale
	labelW := labelChars*charW + 8
	title := fmt.Sprintf("%s  (%s split: %d images, %d classes; fingerprint %s)", d.spec, o.Split, d.Len(o.Split), d.NumClasses(), d.fingerprint)
	w := max(margin*2+labelW+o.PerClass*(cell+gap), margin*2+len(title)*charW)
	h := margin*2 + lineH + 6 + rows*(cell+gap)
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.RGBA{250, 250, 250, 255}), image.Point{}, draw.Src)
	text := func(x, y int, s string) {
		(&font.Drawer{Dst: img, Src: image.NewUniform(color.RGBA{20, 20, 20, 255}), Face: basicfont.Face7x13,
			Dot: fixed.P(x, y)}).DrawString(s)
	}
	text(margin, margin+lineH-3, title)

	// The first PerClass images of each shown class, in split order.
	byClass := make([][]int, rows)
	for i := 0; i < d.Len(o.Split); i++ {
		l := d.Label(o.Split, i)
		if l < rows && len(byClass[l]) < o.PerClass {
			byClass[l] = append(byClass[l], i)
		}
	}
	for c := 0; c < rows; c++ {
		y0 := margin + lineH + 6 + c*(cell+gap)
		text(margin, y0+cell/2+4, labels[c])
		for k, i := range byClass[c] {
			src, _ := d.Raw(o.Split, i)
			x0 := margin + labelW + k*(cell+gap)
			for y := 0; y < cell; y++ {
				for x := 0; x < cell; x++ {
					img.Set(x0+x, y0+y, src.At(x/o.Scale, y/o.Scale))
				}
			}
		}
	}
	return img
}

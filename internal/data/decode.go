package data

import (
	"fmt"
	"image"
	_ "image/gif" // registered decoders: GIF, JPEG, PNG
	_ "image/jpeg"
	_ "image/png"
	"math"
	"os"
	"sync"
)

// box is a crop rectangle in pixels of the original image (x, y of the top
// left corner, width, height), as in CUB's bounding_boxes.txt.
type box struct{ X, Y, W, H float64 }

// loadImage decodes an image file, converts it to planar RGB (or keeps one
// channel for grayscale), crops it to b when b is not nil, and resizes it so
// that its shorter side is side.
func loadImage(path string, b *box, side int) (picture, error) {
	f, err := os.Open(path)
	if err != nil {
		return picture{}, err
	}
	defer f.Close()
	img, format, err := image.Decode(f)
	if err != nil {
		return picture{}, fmt.Errorf("image %s: cannot decode: %w", path, err)
	}
	if b != nil {
		r := image.Rect(int(math.Floor(b.X)), int(math.Floor(b.Y)), int(math.Ceil(b.X+b.W)), int(math.Ceil(b.Y+b.H)))
		r = r.Add(img.Bounds().Min).Intersect(img.Bounds())
		if r.Dx() < 1 || r.Dy() < 1 {
			return picture{}, fmt.Errorf("image %s (%s, %dx%d): bounding box %+v lies outside the image", path, format, img.Bounds().Dx(), img.Bounds().Dy(), *b)
		}
		img = subImage(img, r)
	}
	return resizeShorter(toPlanar(img), side), nil
}

// subImage crops img to r, for the image types that can; others are
// converted first.
func subImage(img image.Image, r image.Rectangle) image.Image {
	if s, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	}); ok {
		return s.SubImage(r)
	}
	p := toPlanar(img)
	out := image.NewRGBA(img.Bounds())
	for y := 0; y < p.H; y++ {
		for x := 0; x < p.W; x++ {
			o := (y*p.W + x)
			i := out.PixOffset(x+img.Bounds().Min.X, y+img.Bounds().Min.Y)
			for c := 0; c < 3; c++ {
				out.Pix[i+c] = p.Pix[min(c, p.C-1)*p.W*p.H+o]
			}
			out.Pix[i+3] = 255
		}
	}
	return out.SubImage(r)
}

// toPlanar converts any decoded image to planar 8-bit pixels: one channel
// for grayscale, RGB for everything else (paletted, CMYK, YCbCr, with or
// without alpha; colours are alpha-premultiplied, that is composited onto
// black).
func toPlanar(img image.Image) picture {
	r := img.Bounds()
	w, h := r.Dx(), r.Dy()
	switch m := img.(type) {
	case *image.Gray:
		p := picture{W: w, H: h, C: 1, Pix: make([]uint8, w*h)}
		for y := 0; y < h; y++ {
			copy(p.Pix[y*w:(y+1)*w], m.Pix[m.PixOffset(r.Min.X, r.Min.Y+y):])
		}
		return p
	case *image.YCbCr:
		p := picture{W: w, H: h, C: 3, Pix: make([]uint8, 3*w*h)}
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				yi := m.YOffset(r.Min.X+x, r.Min.Y+y)
				ci := m.COffset(r.Min.X+x, r.Min.Y+y)
				cr, cg, cb := ycbcrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				o := y*w + x
				p.Pix[o], p.Pix[w*h+o], p.Pix[2*w*h+o] = cr, cg, cb
			}
		}
		return p
	case *image.RGBA:
		p := picture{W: w, H: h, C: 3, Pix: make([]uint8, 3*w*h)}
		for y := 0; y < h; y++ {
			row := m.Pix[m.PixOffset(r.Min.X, r.Min.Y+y):]
			for x := 0; x < w; x++ {
				o := y*w + x
				p.Pix[o], p.Pix[w*h+o], p.Pix[2*w*h+o] = row[4*x], row[4*x+1], row[4*x+2]
			}
		}
		return p
	}
	p := picture{W: w, H: h, C: 3, Pix: make([]uint8, 3*w*h)}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			cr, cg, cb, _ := img.At(r.Min.X+x, r.Min.Y+y).RGBA() // premultiplied
			o := y*w + x
			p.Pix[o], p.Pix[w*h+o], p.Pix[2*w*h+o] = uint8(cr>>8), uint8(cg>>8), uint8(cb>>8)
		}
	}
	return p
}

// ycbcrToRGB is the JFIF conversion (as color.YCbCrToRGB, inlined here
// because it is the hot path of JPEG loading).
func ycbcrToRGB(y, cb, cr uint8) (uint8, uint8, uint8) {
	yy := int32(y) * 0x10101
	b := int32(cb) - 128
	r := int32(cr) - 128
	clip := func(v int32) uint8 {
		if uint32(v)&0xff000000 == 0 {
			return uint8(v >> 16)
		}
		if v < 0 {
			return 0
		}
		return 255
	}
	return clip(yy + 91881*r), clip(yy - 22554*b - 46802*r), clip(yy + 116130*b)
}

// resizeShorter scales p so that its shorter side is side (aspect kept).
func resizeShorter(p picture, side int) picture {
	w, h := side, side
	if p.W > p.H {
		w = max(side, int(math.Round(float64(p.W)*float64(side)/float64(p.H))))
	} else if p.H > p.W {
		h = max(side, int(math.Round(float64(p.H)*float64(side)/float64(p.W))))
	}
	return resize(p, w, h)
}

// resize scales p to w x h with a separable triangle filter whose support
// widens when shrinking, so that downscaling averages (no aliasing).
func resize(p picture, w, h int) picture {
	if p.W == w && p.H == h {
		return p
	}
	xs, ys := filterTaps(p.W, w), filterTaps(p.H, h)
	tmp := make([]float32, p.H*w)
	out := picture{W: w, H: h, C: p.C, Pix: make([]uint8, p.C*w*h)}
	for c := 0; c < p.C; c++ {
		src := p.Pix[c*p.W*p.H : (c+1)*p.W*p.H]
		for y := 0; y < p.H; y++ {
			row := src[y*p.W : (y+1)*p.W]
			o := tmp[y*w : (y+1)*w]
			for x := range o {
				t := &xs[x]
				var s float32
				for k, wt := range t.w {
					s += wt * float32(row[t.first+k])
				}
				o[x] = s
			}
		}
		dst := out.Pix[c*w*h : (c+1)*w*h]
		acc := make([]float32, w)
		for y := 0; y < h; y++ {
			t := &ys[y]
			clear(acc)
			for k, wt := range t.w {
				r := tmp[(t.first+k)*w : (t.first+k+1)*w]
				for x, v := range r {
					acc[x] += wt * v
				}
			}
			o := dst[y*w : (y+1)*w]
			for x, v := range acc {
				switch {
				case v <= 0:
					o[x] = 0
				case v >= 255:
					o[x] = 255
				default:
					o[x] = uint8(v + 0.5)
				}
			}
		}
	}
	return out
}

var (
	tapsMu   sync.Mutex
	tapsMemo = map[[2]int][]taps{}
)

type taps struct {
	first int
	w     []float32
}

// filterTaps returns, for each of out output samples, the input samples
// and weights of a triangle filter mapping in samples to out.
func filterTaps(in, out int) []taps {
	tapsMu.Lock()
	defer tapsMu.Unlock()
	if t, ok := tapsMemo[[2]int{in, out}]; ok {
		return t
	}
	scale := float64(in) / float64(out)
	support := math.Max(1, scale)
	ts := make([]taps, out)
	for o := range ts {
		c := (float64(o)+0.5)*scale - 0.5
		lo := int(math.Floor(c-support)) + 1
		hi := int(math.Ceil(c + support))
		lo, hi = max(lo, 0), min(hi, in)
		var sum float64
		ws := make([]float64, 0, hi-lo)
		for i := lo; i < hi; i++ {
			wt := math.Max(0, 1-math.Abs(float64(i)-c)/support)
			ws = append(ws, wt)
			sum += wt
		}
		if sum == 0 { // c exactly on a clamped edge
			lo, ws, sum = min(max(int(math.Round(c)), 0), in-1), []float64{1}, 1
		}
		t := taps{first: lo, w: make([]float32, len(ws))}
		for i, wt := range ws {
			t.w[i] = float32(wt / sum)
		}
		ts[o] = t
	}
	if len(tapsMemo) > 256 {
		clear(tapsMemo)
	}
	tapsMemo[[2]int{in, out}] = ts
	return ts
}

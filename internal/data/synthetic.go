package data

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
)

// Synthetic generator defaults (spec keys seed, classes, train, test,
// difficulty).
const (
	DefaultSyntheticSeed       = 1
	DefaultSyntheticClasses    = 10
	DefaultSyntheticTrain      = 300 // training images per class
	DefaultSyntheticTest       = 100 // test images per class
	DefaultSyntheticDifficulty = 0.2
	maxSyntheticClasses        = 200
	// syntheticVersion is part of the fingerprint: bump it whenever the
	// generator changes its output for the same parameters.
	syntheticVersion = 3
)

// SyntheticParams are the parameters that fix the synthetic set.
type SyntheticParams struct {
	Seed          int64
	Classes       int
	TrainPerClass int
	TestPerClass  int
	Difficulty    float64 // 0 (easy) .. 1 (hard)
	Side          int     // side of the generated square images
}

// syntheticParams reads the generator parameters from a synthetic spec.
func syntheticParams(sp Spec, side int) SyntheticParams {
	return SyntheticParams{
		Seed:          sp.int64Opt("seed", DefaultSyntheticSeed),
		Classes:       sp.intOpt("classes", DefaultSyntheticClasses),
		TrainPerClass: sp.intOpt("train", DefaultSyntheticTrain),
		TestPerClass:  sp.intOpt("test", DefaultSyntheticTest),
		Difficulty:    sp.floatOpt("difficulty", DefaultSyntheticDifficulty),
		Side:          side,
	}
}

func (d *Dataset) loadSynthetic(ctx context.Context) error {
	p := syntheticParams(d.parsed, d.stored)
	g := newGenerator(p)
	d.classes = g.classNames()
	d.source = fmt.Sprintf("generated in memory (seed %d, difficulty %g)", p.Seed, p.Difficulty)
	for s, per := range []int{p.TrainPerClass, p.TestPerClass} {
		n := per * p.Classes
		sp := split{pics: make([]picture, n), labels: make([]int, n)}
		// Interleave classes so that a prefix of the split is balanced.
		for i := 0; i < n; i++ {
			sp.labels[i] = i % p.Classes
		}
		if err := parallel(ctx, n, func(i int) {
			sp.pics[i] = g.render(SplitKind(s), sp.labels[i], i/p.Classes)
		}); err != nil {
			return err
		}
		d.splits[s] = sp
	}
	fp := newFingerprint(d.parsed, d.size, fmt.Sprintf("synthetic v%d seed=%d classes=%d train=%d test=%d difficulty=%g side=%d",
		syntheticVersion, p.Seed, p.Classes, p.TrainPerClass, p.TestPerClass, p.Difficulty, p.Side))
	d.fingerprint = fp.sum()
	return nil
}

// parallel calls f(i) for i in [0, n) on GOMAXPROCS goroutines. f must
// write only to its own index.
func parallel(ctx context.Context, n int, f func(i int)) error {
	workers := min(runtime.GOMAXPROCS(0), n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if ctx.Err() != nil {
					return
				}
				i := next.Add(16) - 16
				if i >= int64(n) {
					return
				}
				for j := i; j < i+16 && j < int64(n); j++ {
					f(int(j))
				}
			}
		}()
	}
	wg.Wait()
	return ctx.Err()
}

// ---- the class template ----

// Part attributes a class is defined by, with their number of levels.
// Every class shares the same bird; classes differ only in these small
// local parts.
const (
	attrBeak  = iota // short, medium, long
	attrBar          // plain wing, white bar, yellow bar, two white bars
	attrRing         // no eye ring, white eye ring
	attrTail         // rounded, forked
	attrCrown        // plain, red cap, black cap
	attrBib          // none, dark throat patch
	numAttrs
)

var attrLevels = [numAttrs]int{3, 4, 2, 2, 3, 2}

var attrWords = [numAttrs][]string{
	{"stubby", "midbill", "longbill"},
	{"plainwing", "whitebar", "yellowbar", "twobar"},
	{"", "ringed"},
	{"", "forktail"},
	{"", "redcap", "blackcap"},
	{"", "bib"},
}

type birdClass [numAttrs]int

func (c birdClass) name() string {
	var w []string
	for a, l := range c {
		if s := attrWords[a][l]; s != "" {
			w = append(w, s)
		}
	}
	return strings.Join(w, "-")
}

// generator renders the synthetic set; it is safe for concurrent use.
type generator struct {
	p       SyntheticParams
	classes []birdClass
}

// genusSize is the number of species (classes) per genus.
const genusSize = 3

func newGenerator(p SyntheticParams) *generator {
	g := &generator{p: p}
	// Classes come in genera, as in a real bird data set. A genus starts at
	// a random point of attribute space; its other species are a random
	// walk from it, one attribute at a time. So every class has a sibling
	// that differs in a single small part (the fine-grained confusions),
	// while different genera differ in several parts.
	r := rand.New(rand.NewPCG(uint64(p.Seed), 0xc1a55e5))
	used := map[birdClass]bool{}
	genus := 0 // index of the first class of the current genus
	for len(g.classes) < p.Classes {
		left := p.Classes - len(g.classes)
		members := len(g.classes) - genus
		// Start a new genus when the current one is full, unless that
		// would leave a genus of one species at the end.
		if len(g.classes) == 0 || (members >= genusSize && left >= 2) {
			var c birdClass
			for a := range c {
				c[a] = r.IntN(attrLevels[a])
			}
			if !used[c] {
				used[c] = true
				genus = len(g.classes)
				g.classes = append(g.classes, c)
			}
			continue
		}
		c := g.classes[genus+r.IntN(members)]
		a := r.IntN(numAttrs)
		c[a] = (c[a] + 1 + r.IntN(attrLevels[a]-1)) % attrLevels[a]
		if !used[c] {
			used[c] = true
			g.classes = append(g.classes, c)
		}
	}
	return g
}

func (g *generator) classNames() []string {
	names := make([]string, len(g.classes))
	for i, c := range g.classes {
		names[i] = c.name()
	}
	return names
}

// ---- colours and small geometry helpers ----

type rgb struct{ r, g, b float64 }

func (c rgb) mix(o rgb, t float64) rgb {
	return rgb{c.r + (o.r-c.r)*t, c.g + (o.g-c.g)*t, c.b + (o.b-c.b)*t}
}

func (c rgb) scale(f float64) rgb { return rgb{c.r * f, c.g * f, c.b * f} }

func hsv(h, s, v float64) rgb {
	h = math.Mod(h, 1) * 6
	i := math.Floor(h)
	f := h - i
	p, q, t := v*(1-s), v*(1-s*f), v*(1-s*(1-f))
	switch int(i) {
	case 0:
		return rgb{v, t, p}
	case 1:
		return rgb{q, v, p}
	case 2:
		return rgb{p, v, t}
	case 3:
		return rgb{p, q, v}
	case 4:
		return rgb{t, p, v}
	}
	return rgb{v, p, q}
}

func uni(r *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }

// sym is uniform in [-a, a].
func sym(r *rand.Rand, a float64) float64 { return a * (2*r.Float64() - 1) }

func (c rgb) jitter(r *rand.Rand, a float64) rgb {
	return rgb{clamp01(c.r + sym(r, a)), clamp01(c.g + sym(r, a)), clamp01(c.b + sym(r, a))}
}

func clamp01(v float64) float64 {
	if v < 0 {
		return 0
	}
	if v > 1 {
		return 1
	}
	return v
}

// fmax, fmin and hypot skip the NaN and overflow care of package math:
// the generator never produces NaN or huge values, and they are hot.
func fmax(a, b float64) float64 {
	if a > b {
		return a
	}
	return b
}

func fmin(a, b float64) float64 {
	if a < b {
		return a
	}
	return b
}

func hypot(x, y float64) float64 { return math.Sqrt(x*x + y*y) }

// cover turns a signed distance (negative inside) measured in units of one
// pixel into an anti-aliased coverage in [0, 1].
func cover(sdPixels float64) float64 {
	return clamp01(0.5 - sdPixels)
}

func sdCircle(x, y, cx, cy, r float64) float64 { return hypot(x-cx, y-cy) - r }

// sdEllipse is an approximate signed distance to an ellipse with radii
// rx, ry rotated by an angle whose sine and cosine are sin, cos.
func sdEllipse(x, y, cx, cy, rx, ry, sin, cos float64) float64 {
	x, y = x-cx, y-cy
	x, y = cos*x+sin*y, -sin*x+cos*y
	k := hypot(x/rx, y/ry)
	return (k - 1) * fmin(rx, ry)
}

// Tilt of the body and the wing in the bird frame.
var (
	bodySin, bodyCos = math.Sincos(0.1)
	wingSin, wingCos = math.Sincos(wingRot)
)

const wingRot = -0.18

// sdSegment is the distance to the segment a-b minus r (a capsule).
func sdSegment(x, y, ax, ay, bx, by, r float64) float64 {
	px, py := x-ax, y-ay
	dx, dy := bx-ax, by-ay
	t := (px*dx + py*dy) / (dx*dx + dy*dy + 1e-12)
	t = clamp01(t)
	return hypot(px-dx*t, py-dy*t) - r
}

// sdPoly is an approximate signed distance to a convex polygon given
// counter-clockwise (exact inside and along edges, approximate at corners).
func sdPoly(x, y float64, pts ...[2]float64) float64 {
	d := math.Inf(-1)
	for i := range pts {
		a, b := pts[i], pts[(i+1)%len(pts)]
		ex, ey := b[0]-a[0], b[1]-a[1]
		l := hypot(ex, ey)
		// outward normal of a CCW polygon is (ey, -ex)
		dist := ((x-a[0])*ey - (y-a[1])*ex) / l
		if dist > d {
			d = dist
		}
	}
	return d
}

// ---- one image ----

// bird holds everything drawn for one image, in the bird's own frame:
// x forward (towards the beak), y up, one unit = half a body length.
type bird struct {
	body, belly, wing, head, crown, bar, ring, bib, beak, eye, legs rgb
	cls                                                             birdClass
	headX, headY, beakLen, beakDroop, barW, ringW, notch            float64
}

// render generates image i of class c in split s. The random stream is
// fixed by (seed, split, class, i), so the result does not depend on the
// order or the goroutine it is generated on.
func (g *generator) render(s SplitKind, c, i int) picture {
	p := g.p
	r := rand.New(rand.NewPCG(uint64(p.Seed)^0x5eed5eed5eed, uint64(s)<<56|uint64(c)<<32|uint64(i)))
	d := p.Difficulty
	n := p.Side
	fn := float64(n)
	cv := newCanvas(n)

	// Background: a sky-to-ground gradient (lighter above: the scene has an
	// up direction) plus value-noise texture.
	sky := hsv(r.Float64(), uni(r, 0.05, 0.5), uni(r, 0.55, 0.95))
	ground := hsv(r.Float64(), uni(r, 0.15, 0.6), uni(r, 0.15, 0.55))
	horizon := uni(r, 0.35, 0.85) * fn
	soft := uni(r, 0.08, 0.3) * fn
	amp := 0.04 + 0.22*d
	tex := textureField(r, n, amp)
	nn := n * n
	for y := 0; y < n; y++ {
		t := smooth((float64(y) - horizon) / soft)
		row := sky.mix(ground, t)
		for x := 0; x < n; x++ {
			o := y*n + x
			k := 1 + tex[o]
			cv.pix[o], cv.pix[nn+o], cv.pix[2*nn+o] = row.r*k, row.g*k, row.b*k
		}
	}

	// Pose of the bird in the image.
	mirror := 1.0
	if r.IntN(2) == 0 {
		mirror = -1
	}
	rot := sym(r, 0.1+0.35*d)
	unit := fn / 6.0 * math.Exp(sym(r, 0.06+0.22*d))
	jit := fn * (0.015 + 0.07*d)
	// The bird's extent is [-2.2, 2.8] x [-1.2, 1.2]: centre it.
	cx, cy := fn/2-mirror*0.3*unit+sym(r, jit), fn/2+sym(r, jit)+0.1*unit
	sinR, cosR := math.Sincos(rot)
	// toImage maps a bird-frame point to pixel coordinates (y down).
	toImage := func(bx, by float64) (float64, float64) {
		bx *= mirror
		return cx + unit*(cosR*bx-sinR*by), cy - unit*(sinR*bx+cosR*by)
	}

	// Clutter behind the bird: twigs and blobs, some in the colours of the
	// class parts, so that colour alone does not give the class away.
	nClutter := int(uni(r, 0, 0.5+8*d))
	for k := 0; k < nClutter; k++ {
		drawClutter(cv, r, fn)
	}

	// The perch: a branch under the feet.
	if r.Float64() < 0.85 {
		fx, fy := toImage(0, -1.12)
		a := sym(r, 0.25)
		w := uni(r, 0.5, 1.1)
		col := hsv(uni(r, 0.03, 0.12), uni(r, 0.3, 0.7), uni(r, 0.15, 0.45))
		cv.line(fx, fy+w, a, w, col)
	}

	b := g.newBird(r, c, d)
	// Bounding box of the bird frame [-2.2, 2.8] x [-1.3, 1.4] in pixels.
	x0, y0, x1, y1 := fn, fn, 0.0, 0.0
	for _, q := range [4][2]float64{{-2.2, -1.3}, {2.8, -1.3}, {-2.2, 1.4}, {2.8, 1.4}} {
		px, py := toImage(q[0], q[1])
		x0, x1 = fmin(x0, px), fmax(x1, px)
		y0, y1 = fmin(y0, py), fmax(y1, py)
	}
	px := 1 / unit // one pixel in bird units
	for y := max(0, int(y0)); y < min(n, int(y1)+1); y++ {
		for x := max(0, int(x0)); x < min(n, int(x1)+1); x++ {
			// pixel centre -> bird frame
			dx, dy := float64(x)+0.5-cx, cy-(float64(y)+0.5)
			bx := (cosR*dx + sinR*dy) / unit * mirror
			by := (-sinR*dx + cosR*dy) / unit
			cv.set(x, y, b.shade(bx, by, px, cv.get(x, y)))
		}
	}

	// Occluders in front of the bird (leaves, twigs).
	for k := int(uni(r, 0, 0.2+1.8*d)); k > 0; k-- {
		drawClutter(cv, r, fn)
	}

	// Illumination: light from above, brightness, colour cast, contrast,
	// sensor noise.
	bright := math.Exp(sym(r, 0.08+0.3*d))
	cast := [3]float64{math.Exp(sym(r, 0.03+0.15*d)), math.Exp(sym(r, 0.03+0.15*d)), math.Exp(sym(r, 0.03+0.15*d))}
	grad := uni(r, 0.1, 0.25+0.25*d)
	contrast := uni(r, 1-0.35*d, 1+0.15*d)
	noise := 0.01 + 0.05*d
	pic := picture{W: n, H: n, C: 3, Pix: make([]uint8, 3*n*n)}
	for y := 0; y < n; y++ {
		light := bright * (1 + grad*(0.5-(float64(y)+0.5)/fn))
		for x := 0; x < n; x++ {
			o := y*n + x
			bits := r.Uint64() // 21 bits of uniform noise per channel
			for ch := 0; ch < 3; ch++ {
				u := float64(bits>>(21*ch)&(1<<21-1))/(1<<21) - 0.5
				v := cv.pix[ch*n*n+o] * light * cast[ch]
				v = 0.5 + (v-0.5)*contrast + noise*u*3.4
				pic.Pix[ch*n*n+o] = uint8(clamp01(v)*255 + 0.5)
			}
		}
	}
	return pic
}

// newBird draws the within-class variation (colours, part sizes) of one
// bird of class c; d is the difficulty.
func (g *generator) newBird(r *rand.Rand, c int, d float64) *bird {
	cls := g.classes[c]
	b := &bird{cls: cls}
	// Plumage colour varies freely within a class: it carries no label.
	b.body = hsv(r.Float64(), uni(r, 0.15, 0.8), uni(r, 0.3, 0.85))
	b.belly = b.body.mix(rgb{0.92, 0.9, 0.82}, uni(r, 0.2, 0.75))
	if r.Float64() < 0.3 {
		b.wing = hsv(r.Float64(), uni(r, 0.15, 0.7), uni(r, 0.2, 0.6))
	} else {
		b.wing = b.body.scale(uni(r, 0.45, 0.8))
	}
	b.head = b.body
	if r.Float64() < 0.15+0.3*d {
		b.head = hsv(r.Float64(), uni(r, 0.1, 0.8), uni(r, 0.15, 0.85))
	}
	b.beak = hsv(uni(r, 0.05, 0.15), uni(r, 0, 0.8), uni(r, 0.1, 0.8))
	b.eye = rgb{0.05, 0.05, 0.06}.jitter(r, 0.04)
	b.legs = hsv(uni(r, 0, 0.12), uni(r, 0, 0.5), uni(r, 0.1, 0.5))
	b.headX, b.headY = 0.92+sym(r, 0.08), 0.6+sym(r, 0.1)

	// Class parts, with within-class jitter that grows with difficulty.
	cj := 0.06 + 0.2*d // colour jitter of part colours
	b.beakLen = [3]float64{0.18, 0.6, 1.05}[cls[attrBeak]] + sym(r, 0.03+0.15*d)
	b.beakDroop = uni(r, -0.05, 0.15)
	b.barW = (0.17 - 0.06*d) * uni(r, 0.75, 1.25)
	switch cls[attrBar] {
	case 1, 3:
		b.bar = rgb{0.95, 0.95, 0.9}.jitter(r, cj)
	case 2:
		b.bar = rgb{0.95, 0.82, 0.15}.jitter(r, cj)
	}
	b.bar = b.bar.mix(b.wing, uni(r, 0, 0.5*d))
	b.ringW = (0.15 - 0.04*d) * uni(r, 0.75, 1.25)
	b.ring = rgb{0.95, 0.95, 0.92}.jitter(r, cj).mix(b.head, uni(r, 0, 0.45*d))
	b.notch = (0.5 - 0.1*d) * uni(r, 1-0.5*d, 1.2)
	switch cls[attrCrown] {
	case 1:
		b.crown = rgb{0.8, 0.08, 0.08}.jitter(r, cj)
	case 2:
		b.crown = rgb{0.06, 0.06, 0.06}.jitter(r, cj*0.5)
	}
	b.crown = b.crown.mix(b.head, uni(r, 0, 0.4*d))
	b.bib = rgb{0.1, 0.08, 0.08}.jitter(r, cj*0.5).mix(b.belly, uni(r, 0, 0.4*d))
	return b
}

// shade returns the colour at bird-frame point (x, y) drawn over bg; px is
// the size of one pixel in bird units (for anti-aliasing).
func (b *bird) shade(x, y, px float64, bg rgb) rgb {
	col := bg
	paint := func(sd float64, c rgb) {
		if a := cover(sd / px); a > 0 {
			col = col.mix(c, a)
		}
	}
	cls := b.cls
	// Cheap boxes around the parts skip most distance evaluations.
	// Legs (behind the body).
	if y < -0.3 && y > -1.25 && x > -0.4 && x < 0.35 {
		paint(fmin(
			sdSegment(x, y, 0.1, -0.45, 0.16, -1.08, 0.07),
			sdSegment(x, y, -0.22, -0.45, -0.2, -1.08, 0.07)), b.legs)
	}
	// Tail: a wedge towards the back, rounded or forked (longer, with a
	// notch). Polygons are counter-clockwise.
	if x < -0.6 && y < 0.5 && y > -0.8 {
		var tail float64
		if cls[attrTail] == 1 {
			tail = sdPoly(x, y, [2]float64{-0.7, 0.3}, [2]float64{-2.05, 0.16}, [2]float64{-2.05, -0.56}, [2]float64{-0.7, -0.2})
			notch := sdPoly(x, y, [2]float64{-2.1 + b.notch, -0.2}, [2]float64{-2.15, 0.08}, [2]float64{-2.15, -0.48})
			tail = fmax(tail, -notch)
		} else {
			tail = sdPoly(x, y, [2]float64{-0.7, 0.3}, [2]float64{-1.8, 0.1}, [2]float64{-1.8, -0.46}, [2]float64{-0.7, -0.2})
			tail = fmin(tail, sdCircle(x, y, -1.72, -0.18, 0.28))
		}
		paint(tail, b.wing)
	}
	// Body with a lighter belly.
	if sd := sdEllipse(x, y, 0, 0, 1.0, 0.62, bodySin, bodyCos); sd/px < 0.5 {
		t := smooth((0.05 - y) / 0.35)
		paint(sd, b.body.mix(b.belly, t))
		if cls[attrBib] == 1 {
			paint(fmax(sdCircle(x, y, 0.72, 0.18, 0.42), sd), b.bib)
		}
	}
	// Wing, with its bars.
	const wcx, wcy = -0.2, 0.12
	wing := 1.0
	if x > -1.1 && x < 0.7 && y > -0.4 && y < 0.65 {
		wing = sdEllipse(x, y, wcx, wcy, 0.74, 0.36, wingSin, wingCos)
		paint(wing, b.wing)
	}
	if cls[attrBar] != 0 && wing/px < 0.5 {
		// coordinate along the wing axis
		wx := wingCos*(x-wcx) + wingSin*(y-wcy)
		bars := math.Abs(wx-0.12) - b.barW
		if cls[attrBar] == 3 {
			bars = fmin(bars, math.Abs(wx+0.25)-b.barW)
		}
		paint(fmax(bars, wing), b.bar)
	}
	// Head, crown, throat, eye ring, eye, beak.
	hx, hy := b.headX, b.headY
	if x < hx-0.8 || x > hx+1.9 || math.Abs(y-hy) > 0.8 {
		return col // the beak is inside this box too
	}
	head := sdCircle(x, y, hx, hy, 0.52)
	if head/px < 1.5 {
		paint(head, b.head)
		if cls[attrCrown] != 0 {
			paint(fmax(head, fmax(hy+0.1-y, x-(hx+0.32))), b.crown)
		}
		if cls[attrBib] == 1 {
			paint(fmax(head, fmax(y-(hy-0.14), x-(hx+0.38))), b.bib)
		}
		ex, ey := hx+0.2, hy+0.06
		if cls[attrRing] == 1 {
			paint(sdCircle(x, y, ex, ey, 0.12+b.ringW), b.ring)
		}
		paint(sdCircle(x, y, ex, ey, 0.12), b.eye)
	}
	bx := hx + 0.44
	tipY := hy - 0.02 - b.beakDroop
	if x > bx-0.3 {
		paint(sdPoly(x, y, [2]float64{bx - 0.05, hy - 0.12}, [2]float64{bx + b.beakLen, tipY}, [2]float64{bx - 0.05, hy + 0.14}), b.beak)
	}
	return col
}

// smooth is a smoothstep from 0 (t <= -1) to 1 (t >= 1).
func smooth(t float64) float64 {
	t = clamp01((t + 1) / 2)
	return t * t * (3 - 2*t)
}

// drawClutter draws one twig, blob or leaf at random.
func drawClutter(cv *canvas, r *rand.Rand, fn float64) {
	var col rgb
	switch r.IntN(4) {
	case 0: // a colour of some class part
		col = [...]rgb{{0.95, 0.95, 0.9}, {0.95, 0.82, 0.15}, {0.8, 0.08, 0.08}, {0.06, 0.06, 0.06}}[r.IntN(4)].jitter(r, 0.1)
	case 1: // leafy
		col = hsv(uni(r, 0.2, 0.4), uni(r, 0.3, 0.9), uni(r, 0.2, 0.8))
	default:
		col = hsv(r.Float64(), uni(r, 0, 0.8), uni(r, 0.1, 0.9))
	}
	x, y := uni(r, 0, fn), uni(r, 0, fn)
	if r.IntN(5) < 3 {
		a := r.Float64() * 2 * math.Pi
		l := uni(r, 3, 12) * fn / 36
		cv.capsule(x, y, x+l*math.Cos(a), y+l*math.Sin(a), uni(r, 0.35, 0.9), col)
	} else {
		cv.ellipse(x, y, uni(r, 0.8, 3)*fn/36, uni(r, 0.6, 2)*fn/36, r.Float64()*math.Pi, col)
	}
}

// ---- canvas ----

// canvas is a float RGB image, planar.
type canvas struct {
	n   int
	pix []float64
}

func newCanvas(n int) *canvas { return &canvas{n: n, pix: make([]float64, 3*n*n)} }

func (c *canvas) set(x, y int, v rgb) {
	o := y*c.n + x
	nn := c.n * c.n
	c.pix[o], c.pix[nn+o], c.pix[2*nn+o] = v.r, v.g, v.b
}

func (c *canvas) get(x, y int) rgb {
	o := y*c.n + x
	nn := c.n * c.n
	return rgb{c.pix[o], c.pix[nn+o], c.pix[2*nn+o]}
}

// region calls f for every pixel centre within [x0,x1]x[y0,y1] (clipped).
func (c *canvas) region(x0, y0, x1, y1 float64, f func(x, y int, px, py float64)) {
	for y := max(0, int(math.Floor(y0))); y < min(c.n, int(math.Ceil(y1))+1); y++ {
		for x := max(0, int(math.Floor(x0))); x < min(c.n, int(math.Ceil(x1))+1); x++ {
			f(x, y, float64(x)+0.5, float64(y)+0.5)
		}
	}
}

func (c *canvas) capsule(ax, ay, bx, by, w float64, col rgb) {
	c.region(fmin(ax, bx)-w-1, fmin(ay, by)-w-1, fmax(ax, bx)+w+1, fmax(ay, by)+w+1,
		func(x, y int, px, py float64) {
			if a := cover(sdSegment(px, py, ax, ay, bx, by, w)); a > 0 {
				c.set(x, y, c.get(x, y).mix(col, a))
			}
		})
}

// line draws an infinite straight band of half-width w through (x0, y0) at
// angle a (radians from the x axis, |a| < pi/4).
func (c *canvas) line(x0, y0, a, w float64, col rgb) {
	t, ca := math.Tan(a), math.Cos(a)
	for x := 0; x < c.n; x++ {
		yc := y0 + (float64(x)+0.5-x0)*t
		for y := max(0, int(yc-w-2)); y < min(c.n, int(yc+w+2)+1); y++ {
			if a := cover(math.Abs(float64(y)+0.5-yc)*ca - w); a > 0 {
				c.set(x, y, c.get(x, y).mix(col, a))
			}
		}
	}
}

func (c *canvas) ellipse(cx, cy, rx, ry, rot float64, col rgb) {
	m := fmax(rx, ry) + 1
	sin, cos := math.Sincos(rot)
	c.region(cx-m, cy-m, cx+m, cy+m, func(x, y int, px, py float64) {
		if a := cover(sdEllipse(px, py, cx, cy, rx, ry, sin, cos)); a > 0 {
			c.set(x, y, c.get(x, y).mix(col, a))
		}
	})
}

// textureField returns amp times two octaves of bilinear value noise (a 4x4
// and a 9x9 grid of random values in [-1, 1]) sampled at the n*n pixel
// centres.
func textureField(r *rand.Rand, n int, amp float64) []float64 {
	out := make([]float64, n*n)
	for oct, g := range [2]int{4, 9} {
		a := amp
		if oct == 1 {
			a = amp / 2
		}
		grid := make([]float64, (g+1)*(g+1))
		for i := range grid {
			grid[i] = a * (2*r.Float64() - 1)
		}
		// Interpolate every grid row along x at the pixel centres, then
		// each pixel row between two of those.
		rows := make([]float64, (g+1)*n)
		for j := 0; j <= g; j++ {
			for x := 0; x < n; x++ {
				u := (float64(x) + 0.5) / float64(n) * float64(g)
				i := min(int(u), g-1)
				f := u - float64(i)
				rows[j*n+x] = grid[j*(g+1)+i] + (grid[j*(g+1)+i+1]-grid[j*(g+1)+i])*f
			}
		}
		for y := 0; y < n; y++ {
			v := (float64(y) + 0.5) / float64(n) * float64(g)
			j := min(int(v), g-1)
			f := v - float64(j)
			r0, r1 := rows[j*n:(j+1)*n], rows[(j+1)*n:(j+2)*n]
			o := out[y*n : (y+1)*n]
			for x := range o {
				o[x] += r0[x] + (r1[x]-r0[x])*f
			}
		}
	}
	return out
}

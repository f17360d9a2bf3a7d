package ops

import (
	"fmt"
	"sync"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Conv2d convolves x (N,C,H,W) with w (O,C,KH,KW) into (N,O,H',W'), with
// symmetric zero padding pad, stride stride and no bias. H' =
// (H+2·pad−KH)/stride+1, likewise W'. noInputGrad marks a convolution whose
// input needs no gradient (the stem, reading the image): its backward pass
// computes dL/dw only.
//
// Float32 runs on oneDNN (dnnl.go). Float64 — the gradient checks, and the
// reference oneDNN is tested against — runs on these kernels (all OpenBLAS
// dgemm, images spread over the workers of parallelForWorker, workspaces
// from a pool shared by all convolutions):
//   - stride 1 on maps at least 16 wide with at least 16 channels: KH·KW
//     GEMMs that read shifted views of the zero-padded image, no column
//     matrix (forward, dx and dw);
//   - otherwise im2col per group of images and one GEMM per group, written
//     straight into the NCHW output; 1×1 stride-1 convolutions use x itself;
//   - dx of other stride-1 convolutions is the convolution of dy with the
//     flipped filters; dx of strided ones is a GEMM and col2im.
func Conv2d(x, w *gorgonia.Node, stride, pad int, noInputGrad bool) (*gorgonia.Node, error) {
	xs, ws := x.Shape(), w.Shape()
	if xs.Dims() != 4 || ws.Dims() != 4 {
		return nil, fmt.Errorf("conv2d of %v with %v: shapes %v and %v, want (N,C,H,W) and (O,C,KH,KW)", x.Name(), w.Name(), xs, ws)
	}
	if xs[1] != ws[1] {
		return nil, fmt.Errorf("conv2d of %v with %v: x has %d channels, w expects %d", x.Name(), w.Name(), xs[1], ws[1])
	}
	if stride < 1 || pad < 0 {
		return nil, fmt.Errorf("conv2d of %v with %v: stride %d, pad %d: want stride ≥ 1, pad ≥ 0", x.Name(), w.Name(), stride, pad)
	}
	if xs[2]+2*pad < ws[2] || xs[3]+2*pad < ws[3] {
		return nil, fmt.Errorf("conv2d of %v with %v: kernel %dx%d larger than the padded input %dx%d", x.Name(), w.Name(), ws[2], ws[3], xs[2]+2*pad, xs[3]+2*pad)
	}
	geo := newConvGeom(xs, ws, stride, pad)
	op := &convOp{base: newBase(fmt.Sprintf("conv%dx%d-s%d-p%d", ws[2], ws[3], stride, pad)), geo: geo, noInputGrad: noInputGrad}
	n, err := gorgonia.ApplyOp(op, x, w)
	if err != nil {
		return nil, fmt.Errorf("conv2d of %v with %v: %w", x.Name(), w.Name(), err)
	}
	return n, nil
}

// convGeom is the fixed geometry of one convolution node.
type convGeom struct {
	n, c, h, w     int // input
	o, kh, kw      int // filters
	stride, pad    int
	oh, ow         int // output spatial size
	ckk, ohw       int // rows of the column matrix, output pixels per image
	group          int // images per GEMM
	direct         bool
	inSize, outSiz int // elements per image
	// shift computes a stride-1 convolution as KH·KW GEMMs that read the
	// zero-padded image at shifted offsets, with no column matrix: the
	// output is computed on the padded-width grid and compacted. Used on
	// large maps, where the wasted columns are few (see useShift).
	shift bool
	// tr, when set, is the geometry of dx as a convolution of dy with the
	// flipped, transposed filters (stride 1, square kernels, at least 8
	// input channels, else the GEMM is too thin to pay off): an im2col of
	// dy and a forward-shaped GEMM instead of a col2im scatter-add.
	tr *convGeom
}

func newConvGeom(xs, ws tensor.Shape, stride, pad int) convGeom {
	g := baseConvGeom(xs, ws, stride, pad)
	if stride == 1 && !g.direct && g.kh == g.kw && pad <= g.kh-1 && g.c >= 8 {
		tr := baseConvGeom(tensor.Shape{g.n, g.o, g.oh, g.ow}, tensor.Shape{g.c, g.o, g.kh, g.kw}, 1, g.kh-1-pad)
		g.tr = &tr
	}
	return g
}

func baseConvGeom(xs, ws tensor.Shape, stride, pad int) convGeom {
	g := convGeom{n: xs[0], c: xs[1], h: xs[2], w: xs[3], o: ws[0], kh: ws[2], kw: ws[3], stride: stride, pad: pad}
	g.oh = (g.h+2*pad-g.kh)/stride + 1
	g.ow = (g.w+2*pad-g.kw)/stride + 1
	g.ckk = g.c * g.kh * g.kw
	g.ohw = g.oh * g.ow
	g.inSize = g.c * g.h * g.w
	g.outSiz = g.o * g.ohw
	// A 1×1, stride-1, unpadded convolution reads x as its column matrix.
	g.direct = g.kh == 1 && g.kw == 1 && stride == 1 && pad == 0
	g.group = chooseGroup(g.n, g.ohw)
	if g.direct {
		g.group = 1
	}
	g.shift = useShift(&g)
	return g
}

// useShift decides between im2col and shifted GEMMs for a convolution.
// Measured on the reference layers (CPU time, batch 32): shifted GEMMs
// win by 20–25% on 32×32 and 16×16 maps with 16 or 32 channels, tie on
// 8×8 maps, and lose on 4×4 maps (half the computed columns are padding)
// and on the 3-channel stem (GEMMs with K = 3).
func useShift(g *convGeom) bool {
	return g.stride == 1 && !g.direct && g.c >= 16 && g.ow >= 16
}

// flipFilters writes w (O,C,KH,KW) as the filters of the transposed
// convolution: wt[c][o][i][j] = w[o][c][KH−1−i][KW−1−j].
func flipFilters[T float](g *convGeom, w, wt []T) {
	kk := g.kh * g.kw
	for o := range g.o {
		for c := range g.c {
			src := w[(o*g.c+c)*kk : (o*g.c+c+1)*kk]
			dst := wt[(c*g.o+o)*kk : (c*g.o+o+1)*kk]
			for i, v := range src {
				dst[kk-1-i] = v
			}
		}
	}
}

// chooseGroup picks how many images share one GEMM: enough that the GEMM
// has at least minGEMMCols columns (very skinny GEMMs on the 4×4 maps are
// slow), but at most half the batch so both workers get work. Measured on
// the reference layers: larger groups lose more to their column matrices
// falling out of L2 than they gain in GEMM efficiency.
const minGEMMCols = 64

func chooseGroup(n, ohw int) int {
	g := 1
	for g*ohw < minGEMMCols && g*2 <= max(n/2, 1) {
		g *= 2
	}
	return g
}

func (g *convGeom) outShape() tensor.Shape { return tensor.Shape{g.n, g.o, g.oh, g.ow} }

func (g *convGeom) check(x, w *tensor.Dense) error {
	if !x.Shape().Eq(tensor.Shape{g.n, g.c, g.h, g.w}) {
		return fmt.Errorf("x has shape %v, the graph was built for (%d,%d,%d,%d)", x.Shape(), g.n, g.c, g.h, g.w)
	}
	if !w.Shape().Eq(tensor.Shape{g.o, g.c, g.kh, g.kw}) {
		return fmt.Errorf("w has shape %v, the graph was built for (%d,%d,%d,%d)", w.Shape(), g.o, g.c, g.kh, g.kw)
	}
	return nil
}

// convWork is one worker's scratch space.
type convWork[T float] struct {
	col, tmp, pad []T
	// Worker 0's holds the buffers shared by all workers: the filters by
	// tap (convForwardShift) and the partial dw of each slot.
	wtap  []T
	slots [dwSlots][]T
	sum   *slotSum[T] // sumSlots' loop, made once
}

// dwSlots is the number of fixed parts of the batch whose dw are summed
// separately and then added in order. Workers take slots dynamically, but
// the summation order stays fixed: dw is bit-for-bit reproducible, which
// exact resumption from a checkpoint relies on.
const dwSlots = 4

// slotRange returns the items [lo,hi) of slot s when n items are split
// into dwSlots slots.
func slotRange(s, n int) (lo, hi int) {
	return s * n / dwSlots, (s + 1) * n / dwSlots
}

// sumSlots sets dst to the sum, in slot order, of the non-empty slots'
// partials (each the size of dst). Workers take ranges of elements; each
// element's sum has the same order whoever computes it.
func sumSlots[T float](dst []T, ws []convWork[T], n int) {
	if ws[0].sum == nil {
		ws[0].sum = new(slotSum[T])
		ws[0].sum.body = ws[0].sum.run
	}
	j := ws[0].sum
	j.dst, j.k = dst, 0
	for s := range dwSlots {
		if lo, hi := slotRange(s, n); lo < hi {
			j.parts[j.k] = ws[0].slots[s][:len(dst)]
			j.k++
		}
	}
	parallelFor((len(dst)+slotSumChunk-1)/slotSumChunk, j.body)
	j.dst, j.parts = nil, [dwSlots][]T{}
}

const slotSumChunk = 4096

// slotSum is one sumSlots call's state; its body is made once per
// workspace, so the call allocates nothing.
type slotSum[T float] struct {
	dst   []T
	parts [dwSlots][]T
	k     int
	body  func(lo, hi int)
}

func (j *slotSum[T]) run(lo, hi int) {
	lo, hi = lo*slotSumChunk, min(hi*slotSumChunk, len(j.dst))
	d := j.dst[lo:hi]
	copy(d, j.parts[0][lo:hi])
	for _, p := range j.parts[1:j.k] {
		for i, v := range p[lo:hi] {
			d[i] += v
		}
	}
}

// convScratch holds per-worker workspaces of both dtypes.
type convScratch struct {
	f32 []convWork[float32]
	f64 []convWork[float64]
}

// scratchPool shares workspaces among all convolutions: the ops of a
// machine run one at a time, so the process needs one set (per machine
// running concurrently), sized by the largest layer, instead of one per op.
var scratchPool struct {
	sync.Mutex
	free []*convScratch
}

func getScratch() *convScratch {
	scratchPool.Lock()
	defer scratchPool.Unlock()
	if n := len(scratchPool.free); n > 0 {
		s := scratchPool.free[n-1]
		scratchPool.free = scratchPool.free[:n-1]
		return s
	}
	return &convScratch{}
}

func putScratch(s *convScratch) {
	scratchPool.Lock()
	scratchPool.free = append(scratchPool.free, s)
	scratchPool.Unlock()
}

func workspaces[T float](s *convScratch) []convWork[T] {
	var z T
	switch any(z).(type) {
	case float32:
		if len(s.f32) < maxWorkers {
			s.f32 = make([]convWork[float32], maxWorkers)
		}
		return any(s.f32).([]convWork[T])
	default:
		if len(s.f64) < maxWorkers {
			s.f64 = make([]convWork[float64], maxWorkers)
		}
		return any(s.f64).([]convWork[T])
	}
}

type convOp struct {
	base
	geo         convGeom
	noInputGrad bool
	out         buffer
}

func (op *convOp) Arity() int { return 2 }

func (op *convOp) Type() hm.Type {
	return hm.NewFnType(tensorType(4), tensorType(4), tensorType(4))
}

func (op *convOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return op.geo.outShape(), nil
}

func (op *convOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	in, err := denses(op, vs, 2)
	if err != nil {
		return nil, err
	}
	x, w := in[0], in[1]
	if err := op.geo.check(x, w); err != nil {
		return nil, fmt.Errorf("%v: %w", op, err)
	}
	out := op.out.get(x.Dtype(), op.geo.outShape()...)
	scratch := getScratch()
	defer putScratch(scratch)
	switch x.Dtype() {
	case tensor.Float32:
		xd := x.Float32s()
		if err := convForwardDNNL(&op.geo, workspaces[float32](scratch), xd, w.Float32s(), out.Float32s()); err != nil {
			return nil, fmt.Errorf("%v: %w", op, err)
		}
	case tensor.Float64:
		xd := x.Float64s()
		convForward(&op.geo, workspaces[float64](scratch), xd, w.Float64s(), out.Float64s())
	}
	return out, nil
}

// convForward: for each group of images, y = W (O, CKK) · col (CKK, G·OHW).
func convForward[T float](g *convGeom, ws []convWork[T], x, w, y []T) {
	if g.shift {
		convForwardShift(g, ws, x, w, y)
		return
	}
	groups := (g.n + g.group - 1) / g.group
	parallelForWorker(groups, func(worker, lo, hi int, _ bool) {
		wk := &ws[worker]
		for gi := lo; gi < hi; gi++ {
			i0, i1 := gi*g.group, min((gi+1)*g.group, g.n)
			cols := (i1 - i0) * g.ohw
			if g.direct {
				// 1×1 stride 1: x_i (C, HW) is the column matrix.
				gemm(false, false, g.o, g.ohw, g.c, 1, w, g.c, x[i0*g.inSize:], g.ohw, 0, y[i0*g.outSiz:], g.ohw)
				continue
			}
			wk.col = grow(wk.col, g.ckk*cols)
			for i := i0; i < i1; i++ {
				wk.pad = im2col(g, x[i*g.inSize:(i+1)*g.inSize], wk.col, cols, (i-i0)*g.ohw, wk.pad)
			}
			if i1-i0 == 1 {
				gemm(false, false, g.o, g.ohw, g.ckk, 1, w, g.ckk, wk.col, g.ohw, 0, y[i0*g.outSiz:], g.ohw)
				continue
			}
			// (O, G·OHW) then scatter to NCHW.
			wk.tmp = grow(wk.tmp, g.o*cols)
			gemm(false, false, g.o, cols, g.ckk, 1, w, g.ckk, wk.col, cols, 0, wk.tmp, cols)
			for i := i0; i < i1; i++ {
				yi := y[i*g.outSiz:]
				for oc := range g.o {
					copy(yi[oc*g.ohw:(oc+1)*g.ohw], wk.tmp[oc*cols+(i-i0)*g.ohw:])
				}
			}
		}
	})
}

// convForwardShift: with x̃ the zero-padded image (C, HP·WP) and W_t the
// filters' tap t = (i,j) as an (O, C) matrix, y on the padded-width grid is
// Σ_t W_t · x̃[:, i·WP+j :] — each term one GEMM whose B operand is a view of
// x̃ with row stride HP·WP. Columns ox ≥ OW of each output row are padding
// and dropped when y is compacted into NCHW.
func convForwardShift[T float](g *convGeom, ws []convWork[T], x, w, y []T) {
	kk := g.kh * g.kw
	wtap := grow(ws[0].wtap, len(w))
	ws[0].wtap = wtap
	for o := range g.o {
		for c := range g.c {
			for t, v := range w[(o*g.c+c)*kk : (o*g.c+c+1)*kk] {
				wtap[(t*g.o+o)*g.c+c] = v
			}
		}
	}
	hp, wp := g.h+2*g.pad, g.w+2*g.pad
	ncols := g.oh * wp
	parallelForWorker(g.n, func(worker, lo, hi int, first bool) {
		wk := &ws[worker]
		if first {
			// The last tap's view reads KW−1 elements past the last channel.
			wk.pad = grow(wk.pad, g.c*hp*wp+g.kw)
			wk.tmp = grow(wk.tmp, g.o*ncols)
			clear(wk.pad) // borders stay zero; interiors are overwritten per image
		}
		for i := lo; i < hi; i++ {
			xi := x[i*g.inSize : (i+1)*g.inSize]
			for c := range g.c {
				for yy := range g.h {
					copy(wk.pad[(c*hp+yy+g.pad)*wp+g.pad:], xi[(c*g.h+yy)*g.w:(c*g.h+yy+1)*g.w])
				}
			}
			var beta T
			for t := range kk {
				ki, kj := t/g.kw, t%g.kw
				gemm(false, false, g.o, ncols, g.c, 1, wtap[t*g.o*g.c:], g.c, wk.pad[ki*wp+kj:], hp*wp, beta, wk.tmp, ncols)
				beta = 1
			}
			yi := y[i*g.outSiz : (i+1)*g.outSiz]
			for r := range g.o * g.oh {
				o, oy := r/g.oh, r%g.oh
				copy(yi[r*g.ow:(r+1)*g.ow], wk.tmp[o*ncols+oy*wp:])
			}
		}
	})
}

// convDWShift is dw for a shifted-GEMM convolution: with dY on the
// padded-width grid (zero in the padding columns), tap t = (i,j) of dw is
// dW_t (O, C) = Σ_images dY · x̃[:, i·WP+j :]ᵀ, the same views of the padded
// image as the forward pass. Each worker sums its images tap-major; the
// parts are then added into dw (O, C, KH, KW).
func convDWShift[T float](g *convGeom, ws []convWork[T], x, dy, dw []T) {
	kk := g.kh * g.kw
	hp, wp := g.h+2*g.pad, g.w+2*g.pad
	ncols := g.oh * wp
	wsize := g.o * g.ckk
	for k := range dwSlots {
		ws[0].slots[k] = grow(ws[0].slots[k], wsize) // tap-major (KH·KW, O, C)
	}
	parallelForWorker(dwSlots, func(worker, slo, shi int, first bool) {
		wk := &ws[worker]
		if first {
			wk.pad = grow(wk.pad, g.c*hp*wp+g.kw)
			wk.tmp = grow(wk.tmp, g.o*ncols)
			clear(wk.pad)
			clear(wk.tmp) // the padding columns stay zero
		}
		for slot := slo; slot < shi; slot++ {
			lo, hi := slotRange(slot, g.n)
			acc := ws[0].slots[slot]
			var beta T
			for i := lo; i < hi; i++ {
				xi := x[i*g.inSize : (i+1)*g.inSize]
				for c := range g.c {
					for yy := range g.h {
						copy(wk.pad[(c*hp+yy+g.pad)*wp+g.pad:], xi[(c*g.h+yy)*g.w:(c*g.h+yy+1)*g.w])
					}
				}
				dyi := dy[i*g.outSiz : (i+1)*g.outSiz]
				for r := range g.o * g.oh {
					o, oy := r/g.oh, r%g.oh
					copy(wk.tmp[o*ncols+oy*wp:o*ncols+oy*wp+g.ow], dyi[r*g.ow:(r+1)*g.ow])
				}
				for t := range kk {
					ki, kj := t/g.kw, t%g.kw
					gemm(false, true, g.o, g.c, ncols, 1, wk.tmp, ncols, wk.pad[ki*wp+kj:], hp*wp, beta, acc[t*g.o*g.c:], g.c)
				}
				beta = 1
			}
		}
	})
	tapMajor := grow(ws[0].wtap, wsize)
	ws[0].wtap = tapMajor
	sumSlots(tapMajor, ws, g.n)
	for o := range g.o {
		for c := range g.c {
			d := dw[(o*g.c+c)*kk : (o*g.c+c+1)*kk]
			for t := range d {
				d[t] = tapMajor[(t*g.o+o)*g.c+c]
			}
		}
	}
}

// im2col writes image x (C,H,W) into columns [off, off+OHW) of col, a
// (CKK, ld) row-major matrix: col[(c·KH+i)·KW+j][off+p] is the input pixel
// under kernel tap (i,j) of output pixel p, or 0 in the padding. pad is a
// workspace for the zero-padded image, so the inner loops have no bounds
// logic.
func im2col[T float](g *convGeom, x, col []T, ld, off int, pad []T) []T {
	src, wp := x, g.w
	if g.pad > 0 {
		hp := g.h + 2*g.pad
		wp = g.w + 2*g.pad
		pad = grow(pad, g.c*hp*wp)
		clear(pad)
		for c := range g.c {
			for y := range g.h {
				copy(pad[(c*hp+y+g.pad)*wp+g.pad:], x[(c*g.h+y)*g.w:(c*g.h+y+1)*g.w])
			}
		}
		src = pad
	}
	hp := g.h + 2*g.pad
	ow, oh, s := g.ow, g.oh, g.stride
	for c := range g.c {
		xc := src[c*hp*wp : (c+1)*hp*wp]
		for ki := range g.kh {
			for kj := range g.kw {
				r := ((c*g.kh+ki)*g.kw + kj) * ld
				row := col[r+off : r+off+g.ohw]
				in := xc[ki*wp+kj:]
				// Output row oy reads input row oy·s (+ki, +kj).
				switch {
				// Unrolled element moves: in generic code a fixed-size array
				// copy becomes a memmove call.
				case s == 1 && ow == 8:
					for oy := range oh {
						d, v := row[oy*8:oy*8+8], in[oy*wp:oy*wp+8]
						d[0], d[1], d[2], d[3] = v[0], v[1], v[2], v[3]
						d[4], d[5], d[6], d[7] = v[4], v[5], v[6], v[7]
					}
				case s == 1 && ow == 4:
					for oy := range oh {
						d, v := row[oy*4:oy*4+4], in[oy*wp:oy*wp+4]
						d[0], d[1], d[2], d[3] = v[0], v[1], v[2], v[3]
					}
				case s == 1:
					for oy := range oh {
						copy(row[oy*ow:(oy+1)*ow], in[oy*wp:])
					}
				case s == 2:
					for oy := range oh {
						dst := row[oy*ow : (oy+1)*ow]
						src := in[oy*2*wp:]
						src = src[:2*len(dst)-1]
						for k := range dst {
							dst[k] = src[2*k]
						}
					}
				default:
					for oy := range oh {
						dst := row[oy*ow : (oy+1)*ow]
						src := in[oy*s*wp:]
						src = src[:(len(dst)-1)*s+1]
						for k := range dst {
							dst[k] = src[k*s]
						}
					}
				}
			}
		}
	}
	return pad
}

// col2im adds columns [off, off+OHW) of col (CKK, ld) back into image dx
// (C,H,W), which it overwrites: the adjoint of im2col. pad is a workspace
// for the padded gradient.
func col2im[T float](g *convGeom, col []T, ld, off int, dx, pad []T) []T {
	hp, wp := g.h+2*g.pad, g.w+2*g.pad
	dst := dx
	if g.pad > 0 {
		pad = grow(pad, g.c*hp*wp)
		dst = pad
	}
	clear(dst[:g.c*hp*wp])
	ow, s := g.ow, g.stride
	for c := range g.c {
		dc := dst[c*hp*wp : (c+1)*hp*wp]
		for ki := range g.kh {
			for kj := range g.kw {
				row := col[((c*g.kh+ki)*g.kw+kj)*ld+off:]
				row = row[:g.ohw]
				for oy := range g.oh {
					d := dc[(oy*s+ki)*wp+kj:]
					src := row[oy*ow : (oy+1)*ow]
					switch {
					case s == 1 && ow == 8:
						dd, ss := (*[8]T)(d), (*[8]T)(src)
						dd[0] += ss[0]
						dd[1] += ss[1]
						dd[2] += ss[2]
						dd[3] += ss[3]
						dd[4] += ss[4]
						dd[5] += ss[5]
						dd[6] += ss[6]
						dd[7] += ss[7]
						continue
					case s == 1 && ow == 4:
						dd, ss := (*[4]T)(d), (*[4]T)(src)
						dd[0] += ss[0]
						dd[1] += ss[1]
						dd[2] += ss[2]
						dd[3] += ss[3]
						continue
					case s == 1:
						d = d[:len(src)]
						for k, v := range src {
							d[k] += v
						}
						continue
					}
					d = d[:(ow-1)*s+1]
					for k, v := range src {
						d[k*s] += v
					}
				}
			}
		}
	}
	if g.pad > 0 {
		for c := range g.c {
			for y := range g.h {
				copy(dx[(c*g.h+y)*g.w:(c*g.h+y+1)*g.w], pad[(c*hp+y+g.pad)*wp+g.pad:])
			}
		}
	}
	return pad
}

func (op *convOp) DiffWRT(int) []bool { return []bool{!op.noInputGrad, true} }

// SymDiff: one backward op computes dx and dw in a pass over the groups;
// dw is returned by a getter that reads it from that op. Without an input
// gradient the backward op returns dw itself.
func (op *convOp) SymDiff(inputs gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if len(inputs) != 2 {
		return nil, fmt.Errorf("%v: SymDiff got %d inputs, want 2", op, len(inputs))
	}
	bwd := &convBwdOp{base: newBase(op.name + "-diff"), fwd: op, wOnly: op.noInputGrad}
	first, err := gorgonia.ApplyOp(bwd, inputs[0], inputs[1], grad)
	if err != nil {
		return nil, fmt.Errorf("%v: gradient: %w", op, err)
	}
	if op.noInputGrad {
		return gorgonia.Nodes{nil, first}, nil
	}
	dw, err := gorgonia.ApplyOp(&paramGradOp{base: newBase(op.name + "-dw"), src: &bwd.dw, inDims: 4, shape: inputs[1].Shape().Clone()}, first)
	if err != nil {
		return nil, fmt.Errorf("%v: dw: %w", op, err)
	}
	return gorgonia.Nodes{first, dw}, nil
}

// convBwdOp takes (x, w, dy) and returns dx, keeping dw for a getter; with
// wOnly it returns dw and computes no dx.
type convBwdOp struct {
	base
	fwd    *convOp
	wOnly  bool
	dx, dw buffer
	wt     buffer // flipped filters, when dx is computed as a convolution
}

func (op *convBwdOp) Arity() int { return 3 }

func (op *convBwdOp) Type() hm.Type {
	return hm.NewFnType(tensorType(4), tensorType(4), tensorType(4), tensorType(4))
}

func (op *convBwdOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	g := &op.fwd.geo
	if op.wOnly {
		return tensor.Shape{g.o, g.c, g.kh, g.kw}, nil
	}
	return tensor.Shape{g.n, g.c, g.h, g.w}, nil
}

func (op *convBwdOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	in, err := denses(op, vs, 3)
	if err != nil {
		return nil, err
	}
	x, w, dy := in[0], in[1], in[2]
	g := &op.fwd.geo
	if err := g.check(x, w); err != nil {
		return nil, fmt.Errorf("%v: %w", op, err)
	}
	if !dy.Shape().Eq(g.outShape()) {
		return nil, fmt.Errorf("%v: dy has shape %v, want %v", op, dy.Shape(), g.outShape())
	}
	dt := x.Dtype()
	dw := op.dw.get(dt, g.o, g.c, g.kh, g.kw)
	var dx *tensor.Dense
	if !op.wOnly {
		dx = op.dx.get(dt, g.n, g.c, g.h, g.w)
	}
	scratch := getScratch()
	defer putScratch(scratch)
	switch x.Dtype() {
	case tensor.Float32:
		xd := x.Float32s()
		var dxd []float32
		if dx != nil {
			dxd = dx.Float32s()
		}
		if err := convBackwardDNNL(g, workspaces[float32](scratch), xd, w.Float32s(), dy.Float32s(), dxd, dw.Float32s()); err != nil {
			return nil, fmt.Errorf("%v: %w", op, err)
		}
	case tensor.Float64:
		xd := x.Float64s()
		var dxd []float64
		if dx != nil {
			dxd = dx.Float64s()
		}
		wt := op.wt.get(dt, g.c, g.o, g.kh, g.kw)
		convBackward(g, workspaces[float64](scratch), xd, w.Float64s(), dy.Float64s(), dxd, dw.Float64s(), wt.Float64s())
	}
	if op.wOnly {
		return dw, nil
	}
	return dx, nil
}

// convBackward, per group of images with dY_g (O, G·OHW) and col_g:
// dW += dY_g · col_gᵀ (per worker, summed at the end) and, when dx is
// wanted, dcol = Wᵀ · dY_g scattered back by col2im.
func convBackward[T float](g *convGeom, ws []convWork[T], x, w, dy, dx, dw, wt []T) {
	if g.shift {
		convDWShift(g, ws, x, dy, dw)
		if dx != nil {
			flipFilters(g, w, wt)
			convForward(g.tr, ws, dy, wt, dx)
		}
		return
	}
	if g.tr != nil && dx != nil {
		convBackward(g, ws, x, w, dy, nil, dw, nil)
		flipFilters(g, w, wt)
		convForward(g.tr, ws, dy, wt, dx)
		return
	}
	groups := (g.n + g.group - 1) / g.group
	wsize := g.o * g.ckk
	for k := range dwSlots {
		ws[0].slots[k] = grow(ws[0].slots[k], wsize)
	}
	parallelForWorker(dwSlots, func(worker, slo, shi int, _ bool) {
		wk := &ws[worker]
		for slot := slo; slot < shi; slot++ {
			acc := ws[0].slots[slot]
			var beta T
			glo, ghi := slotRange(slot, groups)
			for gi := glo; gi < ghi; gi++ {
				i0, i1 := gi*g.group, min((gi+1)*g.group, g.n)
				cols := (i1 - i0) * g.ohw
				if g.direct {
					xi, dyi := x[i0*g.inSize:], dy[i0*g.outSiz:]
					gemm(false, true, g.o, g.c, g.ohw, 1, dyi, g.ohw, xi, g.ohw, beta, acc, g.c)
					beta = 1
					if dx != nil {
						gemm(true, false, g.c, g.ohw, g.o, 1, w, g.c, dyi, g.ohw, 0, dx[i0*g.inSize:], g.ohw)
					}
					continue
				}
				wk.col = grow(wk.col, g.ckk*cols)
				for i := i0; i < i1; i++ {
					wk.pad = im2col(g, x[i*g.inSize:(i+1)*g.inSize], wk.col, cols, (i-i0)*g.ohw, wk.pad)
				}
				// dY of the group as an (O, cols) matrix: in place for one
				// image, else gathered from NCHW.
				dyg, ld := dy[i0*g.outSiz:], g.ohw
				if i1-i0 > 1 {
					wk.tmp = grow(wk.tmp, g.o*cols)
					for i := i0; i < i1; i++ {
						yi := dy[i*g.outSiz:]
						for oc := range g.o {
							copy(wk.tmp[oc*cols+(i-i0)*g.ohw:], yi[oc*g.ohw:(oc+1)*g.ohw])
						}
					}
					dyg, ld = wk.tmp, cols
				}
				gemm(false, true, g.o, g.ckk, cols, 1, dyg, ld, wk.col, cols, beta, acc, g.ckk)
				beta = 1
				if dx == nil {
					continue
				}
				// dcol overwrites col, which is no longer needed.
				gemm(true, false, g.ckk, cols, g.o, 1, w, g.ckk, dyg, ld, 0, wk.col, cols)
				for i := i0; i < i1; i++ {
					wk.pad = col2im(g, wk.col, cols, (i-i0)*g.ohw, dx[i*g.inSize:(i+1)*g.inSize], wk.pad)
				}
			}
		}
	})
	sumSlots(dw, ws, groups)
}

func (op *convBwdOp) DiffWRT(int) []bool { return []bool{false, false, false} }

func (op *convBwdOp) SymDiff(gorgonia.Nodes, *gorgonia.Node, *gorgonia.Node) (gorgonia.Nodes, error) {
	return nil, fmt.Errorf("%v: second derivatives are not supported", op)
}

package ops

import (
	"fmt"
	"math"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// WindowAttention is Swin's (shifted) window multi-head self-attention on
// projected tokens q, k, v (N, side², C), row-major in the image, with the
// relative position bias table ((2·win−1)², heads); it returns the heads'
// outputs (N, side², C) in the same token order, ready for the output
// projection.
//
// The cyclic shift by −shift and the window partition are an index map
// (each window's tokens are gathered from their places in the image, and
// its outputs scattered back), not transposes and concatenations: the
// linear layers around it are per token, so they run on the image order.
// Per window and head: S = QKᵀ/√hd + bias + mask (−100 between tokens from
// different regions of the rolled image, Swin's shift mask), P = softmax(S)
// by rows, O = P·V, with the two products as OpenBLAS gemms on the gathered
// window. The backward pass recomputes nothing but P's saved values; it
// returns dq and, through getters, dk, dv and the table's gradient (summed
// over windows in a fixed order). With sh, dq, dk and dv live in sh's
// Arena.
func WindowAttention(q, k, v, table *gorgonia.Node, side, win, shift, heads int, sh *Shared) (*gorgonia.Node, error) {
	qs := q.Shape()
	name := "window-attention " + table.Name()
	if qs.Dims() != 3 || qs[1] != side*side || !k.Shape().Eq(qs) || !v.Shape().Eq(qs) {
		return nil, fmt.Errorf("%s: q %v, k %v, v %v: want (N, %d, C) each", name, qs, k.Shape(), v.Shape(), side*side)
	}
	c := qs[2]
	if win < 1 || side%win != 0 || heads < 1 || c%heads != 0 || shift < 0 || shift >= win {
		return nil, fmt.Errorf("%s: side %d, window %d, shift %d, heads %d, %d channels", name, side, win, shift, heads, c)
	}
	r := 2*win - 1
	if ts := table.Shape(); ts.Dims() != 2 || ts[0] != r*r || ts[1] != heads {
		return nil, fmt.Errorf("%s: table %v, want (%d, %d)", name, table.Shape(), r*r, heads)
	}
	a := newWinAttn(qs[0], side, win, shift, heads, c)
	dqSlot := sh.take()
	a.dkSlot, a.dvSlot = sh.take(), sh.take()
	op := &fnOp{base: newBase(name), inDims: []int{3, 3, 3, 2}, shape: qs.Clone(), diff: []bool{true, true, true, true}, slot: sh.take()}
	a.pSlot = sh.take()
	op.run = a.forward
	op.grad = func(in gorgonia.Nodes, _, dy *gorgonia.Node) (gorgonia.Nodes, error) {
		bwd := &fnOp{base: newBase(name + "-diff"), inDims: []int{3, 3, 3, 3}, shape: qs.Clone(), run: a.backward, slot: dqSlot}
		dq, err := apply(bwd, in[0], in[1], in[2], dy)
		if err != nil {
			return nil, err
		}
		dk, err := getter(name+"-dk", &a.dk, dq, qs)
		if err != nil {
			return nil, err
		}
		dv, err := getter(name+"-dv", &a.dv, dq, qs)
		if err != nil {
			return nil, err
		}
		dt, err := getter(name+"-dtable", &a.dt, dq, tensor.Shape{r * r, heads})
		if err != nil {
			return nil, err
		}
		return gorgonia.Nodes{dq, dk, dv, dt}, nil
	}
	return apply(op, q, k, v, table)
}

// winAttn is the geometry and saved state of one window attention.
type winAttn struct {
	n, side, win, shift, heads, c, hd int
	w2, nw, bw                        int // tokens per window, windows per image, windows in the batch
	scale                             float64
	tok                               []int32   // (nw, w2): the image token in each window slot
	rel                               []int32   // (w2, w2): the table row of each (query, key) pair
	mask                              []float64 // (nw, w2, w2), nil without a shift

	p              buffer // saved probabilities (bw, heads, w2, w2)
	dk, dv, dt     buffer // the backward pass's secondary outputs
	dkSlot, dvSlot *slot  // where dk and dv live when shared
	pSlot          *slot  // where p lives when shared
}

func newWinAttn(n, side, win, shift, heads, c int) *winAttn {
	g := side / win
	a := &winAttn{n: n, side: side, win: win, shift: shift, heads: heads, c: c, hd: c / heads,
		w2: win * win, nw: g * g, bw: n * g * g, scale: 1 / math.Sqrt(float64(c/heads))}
	w2, r := a.w2, 2*win-1
	// Window slot (wr, wc, t) holds the rolled grid's token (wr·win + t/win,
	// wc·win + t%win), which is the image's token shift further on (mod side).
	a.tok = make([]int32, a.nw*w2)
	for wr := range g {
		for wc := range g {
			for t := range w2 {
				y, x := (wr*win+t/win+shift)%side, (wc*win+t%win+shift)%side
				a.tok[(wr*g+wc)*w2+t] = int32(y*side + x)
			}
		}
	}
	a.rel = make([]int32, w2*w2)
	for i := range w2 {
		for j := range w2 {
			dr, dc := i/win-j/win+win-1, i%win-j%win+win-1
			a.rel[i*w2+j] = int32(dr*r + dc)
		}
	}
	if shift > 0 {
		region := func(i int) int {
			switch {
			case i < side-win:
				return 0
			case i < side-shift:
				return 1
			}
			return 2
		}
		a.mask = make([]float64, a.nw*w2*w2)
		for wr := range g {
			for wc := range g {
				label := func(t int) int { return 3*region(wr*win+t/win) + region(wc*win+t%win) }
				m := a.mask[(wr*g+wc)*w2*w2:]
				for i := range w2 {
					for j := range w2 {
						if label(i) != label(j) {
							m[i*w2+j] = -100
						}
					}
				}
			}
		}
	}
	return a
}

func (a *winAttn) forward(in []*tensor.Dense, out *tensor.Dense) error {
	w := getWork()
	defer putWork(w)
	p := a.p.in(a.pSlot, out.Dtype(), a.bw, a.heads, a.w2, a.w2)
	switch in[0].Dtype() {
	case tensor.Float32:
		q := in[0].Float32s()
		attnForward(a, w, q, in[1].Float32s(), in[2].Float32s(), in[3].Float32s(), p.Float32s(), out.Float32s())
	case tensor.Float64:
		q := in[0].Float64s()
		attnForward(a, w, q, in[1].Float64s(), in[2].Float64s(), in[3].Float64s(), p.Float64s(), out.Float64s())
	}
	return nil
}

// rowOf is the row, in the batch's (N·side², C) token matrix, of slot t of
// window win (windows numbered image by image).
func (a *winAttn) rowOf(win, t int) int {
	img, wl := win/a.nw, win%a.nw
	return img*a.side*a.side + int(a.tok[wl*a.w2+t])
}

// gatherRows copies window win's token rows of src into dst (w2, C).
func gatherRows[T float](a *winAttn, dst, src []T, win int) {
	c := a.c
	for t := range a.w2 {
		r := a.rowOf(win, t)
		copy(dst[t*c:(t+1)*c], src[r*c:(r+1)*c])
	}
}

// scatterRows is gatherRows' inverse: dst's rows of window win from src.
func scatterRows[T float](a *winAttn, dst, src []T, win int) {
	c := a.c
	for t := range a.w2 {
		r := a.rowOf(win, t)
		copy(dst[r*c:(r+1)*c], src[t*c:(t+1)*c])
	}
}

func attnForward[T float](a *winAttn, wk *work, q, k, v, table, p, out []T) {
	w2, c, hd, heads := a.w2, a.c, a.hd, a.heads
	ww, per := w2*w2, 4*w2*c
	buf := workSlice[T](wk, heads*ww+maxWorkers*per)
	bias, scratch := buf[:heads*ww], buf[heads*ww:]
	for h := range heads {
		for e, r := range a.rel {
			bias[h*ww+e] = table[int(r)*heads+h]
		}
	}
	scale := T(a.scale)
	parallelForWorker(a.bw, func(worker, lo, hi int, _ bool) {
		s := scratch[worker*per : (worker+1)*per]
		qw, kw, vw, ow := s[:w2*c], s[w2*c:2*w2*c], s[2*w2*c:3*w2*c], s[3*w2*c:]
		for win := lo; win < hi; win++ {
			gatherRows(a, qw, q, win)
			gatherRows(a, kw, k, win)
			gatherRows(a, vw, v, win)
			var mask []float64
			if a.mask != nil {
				mask = a.mask[(win%a.nw)*ww : (win%a.nw+1)*ww]
			}
			for h := range heads {
				sm := p[(win*heads+h)*ww : (win*heads+h+1)*ww]
				gemm(false, true, w2, w2, hd, scale, qw[h*hd:], c, kw[h*hd:], c, 0, sm, w2)
				bh := bias[h*ww : (h+1)*ww]
				for i := range w2 {
					row, br := sm[i*w2:(i+1)*w2], bh[i*w2:(i+1)*w2]
					for j := range row {
						row[j] += br[j]
					}
					if mask != nil {
						for j, m := range mask[i*w2 : (i+1)*w2] {
							row[j] += T(m)
						}
					}
					softmaxRow(row)
				}
				gemm(false, false, w2, hd, w2, 1, sm, w2, vw[h*hd:], c, 0, ow[h*hd:], c)
			}
			scatterRows(a, out, ow, win)
		}
	})
}

// softmaxRow replaces row by its softmax.
func softmaxRow[T float](row []T) {
	if r32, ok := any(row).([]float32); ok {
		softmax32(r32)
		return
	}
	mx := row[0]
	for _, v := range row[1:] {
		mx = max(mx, v)
	}
	var z float64
	for j, v := range row {
		e := math.Exp(float64(v - mx))
		row[j] = T(e)
		z += e
	}
	inv := T(1 / z)
	for j := range row {
		row[j] *= inv
	}
}

func softmax32(row []float32) {
	mx := row[0]
	for _, v := range row[1:] {
		mx = max(mx, v)
	}
	var z float32
	for j, v := range row {
		e := expNeg32(v - mx)
		row[j] = e
		z += e
	}
	inv := 1 / z
	for j := range row {
		row[j] *= inv
	}
}

func (a *winAttn) backward(in []*tensor.Dense, dq *tensor.Dense) error {
	if a.p.t == nil || a.p.t.Dtype() != dq.Dtype() {
		return fmt.Errorf("the forward pass has not run")
	}
	w := getWork()
	defer putWork(w)
	dt := dq.Dtype()
	dk, dv := a.dk.in(a.dkSlot, dt, a.n, a.side*a.side, a.c), a.dv.in(a.dvSlot, dt, a.n, a.side*a.side, a.c)
	r := 2*a.win - 1
	dtab := a.dt.get(dt, r*r, a.heads)
	switch in[0].Dtype() {
	case tensor.Float32:
		q := in[0].Float32s()
		attnBackward(a, w, q, in[1].Float32s(), in[2].Float32s(), in[3].Float32s(), a.p.t.Float32s(),
			dq.Float32s(), dk.Float32s(), dv.Float32s(), dtab.Float32s())
	case tensor.Float64:
		q := in[0].Float64s()
		attnBackward(a, w, q, in[1].Float64s(), in[2].Float64s(), in[3].Float64s(), a.p.t.Float64s(),
			dq.Float64s(), dk.Float64s(), dv.Float64s(), dtab.Float64s())
	}
	return nil
}

// attnBackward: per window and head, with dO the output's gradient,
// dP = dO·Vᵀ, dV = Pᵀ·dO, dS = P ⊙ (dP − rowsum(dP ⊙ P)), dQ = dS·K/√hd,
// dK = dSᵀ·Q/√hd; the bias's gradient is dS summed over windows.
func attnBackward[T float](a *winAttn, wk *work, q, k, v, dout, p, dq, dk, dv, dtab []T) {
	w2, c, hd, heads := a.w2, a.c, a.hd, a.heads
	ww, per := w2*w2, 7*w2*c+w2*w2
	all := a.bw * heads * ww
	buf := workSlice[T](wk, all+heads*ww+maxWorkers*per)
	ds, dbias, scratch := buf[:all], buf[all:all+heads*ww], buf[all+heads*ww:]
	scale := T(a.scale)
	parallelForWorker(a.bw, func(worker, lo, hi int, _ bool) {
		s := scratch[worker*per : (worker+1)*per]
		m := w2 * c
		qw, kw, vw, dow := s[:m], s[m:2*m], s[2*m:3*m], s[3*m:4*m]
		dqw, dkw, dvw, dp := s[4*m:5*m], s[5*m:6*m], s[6*m:7*m], s[7*m:]
		for win := lo; win < hi; win++ {
			gatherRows(a, qw, q, win)
			gatherRows(a, kw, k, win)
			gatherRows(a, vw, v, win)
			gatherRows(a, dow, dout, win)
			for h := range heads {
				off := (win*heads + h) * ww
				ph, dsh := p[off:off+ww], ds[off:off+ww]
				gemm(false, true, w2, w2, hd, 1, dow[h*hd:], c, vw[h*hd:], c, 0, dp, w2)
				gemm(true, false, w2, hd, w2, 1, ph, w2, dow[h*hd:], c, 0, dvw[h*hd:], c)
				for i := range w2 {
					pr, dr, sr := ph[i*w2:(i+1)*w2], dp[i*w2:(i+1)*w2], dsh[i*w2:(i+1)*w2]
					var dot T
					for j, x := range pr {
						dot += x * dr[j]
					}
					for j, x := range pr {
						sr[j] = x * (dr[j] - dot)
					}
				}
				gemm(false, false, w2, hd, w2, scale, dsh, w2, kw[h*hd:], c, 0, dqw[h*hd:], c)
				gemm(true, false, w2, hd, w2, scale, dsh, w2, qw[h*hd:], c, 0, dkw[h*hd:], c)
			}
			scatterRows(a, dq, dqw, win)
			scatterRows(a, dk, dkw, win)
			scatterRows(a, dv, dvw, win)
		}
	})
	// The bias's gradient, summed over windows in window order.
	hw := heads * ww
	parallelRows(hw, a.bw*hw, func(lo, hi int) {
		d := dbias[lo:hi]
		copy(d, ds[lo:hi])
		for win := 1; win < a.bw; win++ {
			for e, x := range ds[win*hw+lo : win*hw+hi] {
				d[e] += x
			}
		}
	})
	clear(dtab)
	for h := range heads {
		for e, r := range a.rel {
			dtab[int(r)*heads+h] += dbias[h*ww+e]
		}
	}
}

// Patches cuts images x (N, C, S, S) into p×p patches: (N, (S/p)², C·p·p),
// each patch's values channel-major like a p×p stride-p convolution's
// input. An index map of rows of p values; its gradient scatters back
// (into sh's Arena with sh).
func Patches(x *gorgonia.Node, p int, sh *Shared) (*gorgonia.Node, error) {
	xs := x.Shape()
	if xs.Dims() != 4 || xs[2] != xs[3] || p < 1 || xs[2]%p != 0 {
		return nil, fmt.Errorf("patches of %v: shape %v, patch %d", x.Name(), xs, p)
	}
	n, c, s := xs[0], xs[1], xs[2]
	g := s / p
	idx := make([]int32, 0, n*g*g*c*p)
	for i := range n {
		for gi := range g {
			for gj := range g {
				for ch := range c {
					for pi := range p {
						idx = append(idx, int32(((i*c+ch)*s+gi*p+pi)*g+gj))
					}
				}
			}
		}
	}
	return rowGather("patches", x, p, idx, tensor.Shape{n, g * g, c * p * p}, sh)
}

// PatchMerge concatenates each 2×2 group of tokens x (N, side², C) into
// (N, (side/2)², 4C), in Swin's order (0,0), (1,0), (0,1), (1,1) in
// (row, column) offsets. An index map of token rows (its gradient in sh's
// Arena with sh).
func PatchMerge(x *gorgonia.Node, side int, sh *Shared) (*gorgonia.Node, error) {
	xs := x.Shape()
	if xs.Dims() != 3 || xs[1] != side*side || side%2 != 0 {
		return nil, fmt.Errorf("patch merging of %v: shape %v, side %d", x.Name(), xs, side)
	}
	n, c, h := xs[0], xs[2], side/2
	idx := make([]int32, 0, n*side*side)
	for i := range n {
		for y := range h {
			for x := range h {
				for q := range 4 {
					dy, dx := q%2, q/2
					idx = append(idx, int32(i*side*side+(2*y+dy)*side+2*x+dx))
				}
			}
		}
	}
	return rowGather("patch-merge", x, c, idx, tensor.Shape{n, h * h, 4 * c}, sh)
}

// rowGather is out row j = x row idx[j], x and out viewed as rows of width
// values; idx must not repeat a row. Its gradient scatters dy's rows back
// (zero for rows of x that idx leaves out).
func rowGather(name string, x *gorgonia.Node, width int, idx []int32, shape tensor.Shape, sh *Shared) (*gorgonia.Node, error) {
	xs := x.Shape()
	rows := xs.TotalSize() / width
	if xs.TotalSize()%width != 0 || shape.TotalSize() != len(idx)*width {
		return nil, fmt.Errorf("%s of %v: %v in rows of %d into %v", name, x.Name(), xs, width, shape)
	}
	seen := make([]bool, rows)
	for _, r := range idx {
		if r < 0 || int(r) >= rows || seen[r] {
			return nil, fmt.Errorf("%s of %v: row %d out of range or repeated", name, x.Name(), r)
		}
		seen[r] = true
	}
	complete := len(idx) == rows
	dxSlot := sh.take()
	op := &fnOp{base: newBase(name), inDims: []int{xs.Dims()}, shape: shape.Clone(), diff: []bool{true}, slot: sh.take()}
	op.run = func(in []*tensor.Dense, out *tensor.Dense) error {
		switch in[0].Dtype() {
		case tensor.Float32:
			xd := in[0].Float32s()
			gatherIdx(xd, out.Float32s(), idx, width, false)
		case tensor.Float64:
			xd := in[0].Float64s()
			gatherIdx(xd, out.Float64s(), idx, width, false)
		}
		return nil
	}
	op.grad = func(_ gorgonia.Nodes, _, dy *gorgonia.Node) (gorgonia.Nodes, error) {
		bwd := &fnOp{base: newBase(name + "-diff"), inDims: []int{shape.Dims()}, shape: xs.Clone(), slot: dxSlot}
		bwd.run = func(in []*tensor.Dense, out *tensor.Dense) error {
			switch in[0].Dtype() {
			case tensor.Float32:
				d := in[0].Float32s()
				if !complete {
					clear(out.Float32s())
				}
				gatherIdx(d, out.Float32s(), idx, width, true)
			case tensor.Float64:
				d := in[0].Float64s()
				if !complete {
					clear(out.Float64s())
				}
				gatherIdx(d, out.Float64s(), idx, width, true)
			}
			return nil
		}
		dx, err := apply(bwd, dy)
		if err != nil {
			return nil, err
		}
		return gorgonia.Nodes{dx}, nil
	}
	return apply(op, x)
}

// gatherIdx copies rows of width values: out[j] = x[idx[j]], or with
// scatter the other way, out[idx[j]] = x[j].
func gatherIdx[T float](x, out []T, idx []int32, width int, scatter bool) {
	parallelRows(len(idx), len(idx)*width, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			r := int(idx[j])
			if scatter {
				copy(out[r*width:(r+1)*width], x[j*width:(j+1)*width])
			} else {
				copy(out[j*width:(j+1)*width], x[r*width:(r+1)*width])
			}
		}
	})
}

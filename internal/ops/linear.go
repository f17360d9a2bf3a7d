package ops

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Linear is x·W (+ b) over the last axis of x, any rank ≥ 2:
// (..., in) → (..., out), with W (in, out) and b (out) or nil. x is read
// as a (rows, in) matrix where it lies: no reshape, no transposed copy;
// the forward pass and dx are one sgemm per block of rows, dW = xᵀ·dy one
// per fixed row range (summed in a fixed order, so the gradient does not
// depend on which worker ran what). With noInputGrad no dx is computed
// (x is data, e.g. the image patches). With sh, dx lives in sh's Arena.
func Linear(x, w, b *gorgonia.Node, noInputGrad bool, sh *Shared) (*gorgonia.Node, error) {
	xs, ws := x.Shape(), w.Shape()
	if xs.Dims() < 2 || ws.Dims() != 2 || xs[len(xs)-1] != ws[0] {
		return nil, fmt.Errorf("linear %v: x %v, W %v: want (..., in) and (in, out)", w.Name(), xs, ws)
	}
	in, out := ws[0], ws[1]
	if b != nil && (b.Shape().Dims() != 1 || b.Shape()[0] != out) {
		return nil, fmt.Errorf("linear %v: bias %v, want (%d)", w.Name(), b.Shape(), out)
	}
	l := &linear{rows: xs.TotalSize() / in, in: in, out: out, bias: b != nil, noInputGrad: noInputGrad}
	if !noInputGrad { // dW is read by the optimizer: never shared
		l.dxSlot = sh.take()
	}
	op := &fnOp{base: newBase("linear " + w.Name()), inDims: []int{xs.Dims(), 2}, shape: with(xs, out), run: l.forward, slot: sh.take()}
	op.diff = []bool{!noInputGrad, true}
	inputs := []*gorgonia.Node{x, w}
	if b != nil {
		op.inDims = append(op.inDims, 1)
		op.diff = append(op.diff, true)
		inputs = append(inputs, b)
	}
	op.grad = func(in gorgonia.Nodes, _, dy *gorgonia.Node) (gorgonia.Nodes, error) {
		return l.gradient(op.name, xs, in, dy)
	}
	return apply(op, inputs...)
}

type linear struct {
	rows, in, out     int
	bias, noInputGrad bool
	dw, db            buffer // the backward pass's secondary outputs
	dxSlot            *slot  // where dx lives when shared
}

func (l *linear) forward(in []*tensor.Dense, y *tensor.Dense) error {
	switch in[0].Dtype() {
	case tensor.Float32:
		x := in[0].Float32s()
		var b []float32
		if l.bias {
			b = in[2].Float32s()
		}
		linearForward(l, x, in[1].Float32s(), b, y.Float32s())
	case tensor.Float64:
		x := in[0].Float64s()
		var b []float64
		if l.bias {
			b = in[2].Float64s()
		}
		linearForward(l, x, in[1].Float64s(), b, y.Float64s())
	}
	return nil
}

func linearForward[T float](l *linear, x, w, b, y []T) {
	in, out := l.in, l.out
	parallelRows(l.rows, l.rows*in*out, func(lo, hi int) {
		gemm(false, false, hi-lo, out, in, 1, x[lo*in:hi*in], in, w, out, 0, y[lo*out:hi*out], out)
		if b != nil {
			addBias(y[lo*out:hi*out], b)
		}
	})
}

// addBias adds b to every row of y (rows of len(b)).
func addBias[T float](y, b []T) {
	n := len(b)
	for r := 0; r+n <= len(y); r += n {
		row := y[r : r+n]
		for j, v := range b {
			row[j] += v
		}
	}
}

// gradient builds the backward op (x, W, dy) → dx (or dW without an input
// gradient) and the getters for dW and db.
func (l *linear) gradient(name string, xs tensor.Shape, in gorgonia.Nodes, dy *gorgonia.Node) (gorgonia.Nodes, error) {
	shape := xs
	if l.noInputGrad {
		shape = tensor.Shape{l.in, l.out}
	}
	op := &fnOp{base: newBase(name + "-diff"), inDims: []int{xs.Dims(), 2, xs.Dims()}, shape: shape}
	op.slot = l.dxSlot
	op.run = func(v []*tensor.Dense, out *tensor.Dense) error {
		dt := out.Dtype()
		dw := l.dw.get(dt, l.in, l.out)
		if l.noInputGrad {
			dw = out
		}
		var db *tensor.Dense
		if l.bias {
			db = l.db.get(dt, l.out)
		}
		w := getWork()
		defer putWork(w)
		switch v[0].Dtype() {
		case tensor.Float32:
			x := v[0].Float32s()
			linearBackward(l, w, x, v[1].Float32s(), v[2].Float32s(), outData[float32](out, !l.noInputGrad), dw.Float32s(), outData[float32](db, l.bias))
		case tensor.Float64:
			x := v[0].Float64s()
			linearBackward(l, w, x, v[1].Float64s(), v[2].Float64s(), outData[float64](out, !l.noInputGrad), dw.Float64s(), outData[float64](db, l.bias))
		}
		return nil
	}
	first, err := apply(op, in[0], in[1], dy)
	if err != nil {
		return nil, err
	}
	grads := gorgonia.Nodes{first, first}
	if l.noInputGrad {
		grads[0] = nil
	} else if grads[1], err = getter(name+"-dw", &l.dw, first, tensor.Shape{l.in, l.out}); err != nil {
		return nil, err
	}
	if l.bias {
		db, err := getter(name+"-db", &l.db, first, tensor.Shape{l.out})
		if err != nil {
			return nil, err
		}
		grads = append(grads, db)
	}
	return grads, nil
}

// outData is t's data, or nil when !use.
func outData[T float](t *tensor.Dense, use bool) []T {
	if !use || t == nil {
		return nil
	}
	var z T
	if _, ok := any(z).(float32); ok {
		return same[T](t.Float32s())
	}
	return same[T](t.Float64s())
}

// linearBackward: dx = dy·Wᵀ (when dx != nil), dW = xᵀ·dy, db = Σ_rows dy
// (when db != nil). With many rows, each of linearSlots fixed row ranges
// computes its dx rows and its partial dW and db in one task, and the
// partials are summed in range order; with few rows (the deep stages), dx
// is split by rows and dW and db by fixed blocks of columns, each summed
// over all rows in one gemm. Either way every value is computed the same
// way whichever worker runs it.
func linearBackward[T float](l *linear, wk *work, x, w, dy, dx, dw, db []T) {
	in, out, rows := l.in, l.out, l.rows
	slots := linearSlots(rows, rows*in*out)
	if slots == 1 && rows*in*out >= smallWork {
		if dx != nil {
			parallelRows(rows, rows*in*out, func(lo, hi int) {
				gemm(false, true, hi-lo, in, out, 1, dy[lo*out:hi*out], out, w, out, 0, dx[lo*in:hi*in], in)
			})
		}
		const block = 64 // columns of dW per task
		parallelFor((out+block-1)/block, func(lo, hi int) {
			c0, c1 := lo*block, min(hi*block, out)
			gemm(true, false, in, c1-c0, rows, 1, x, in, dy[c0:], out, 0, dw[c0:], out)
			if db != nil {
				d := db[c0:c1]
				clear(d)
				for r := range rows {
					for j, v := range dy[r*out+c0 : r*out+c1] {
						d[j] += v
					}
				}
			}
		})
		return
	}
	stride := in*out + out
	part := workSlice[T](wk, slots*stride)
	task := func(s int) {
		lo, hi := rows*s/slots, rows*(s+1)/slots
		if dx != nil {
			gemm(false, true, hi-lo, in, out, 1, dy[lo*out:hi*out], out, w, out, 0, dx[lo*in:hi*in], in)
		}
		p := part[s*stride : (s+1)*stride]
		gemm(true, false, in, out, hi-lo, 1, x[lo*in:hi*in], in, dy[lo*out:hi*out], out, 0, p[:in*out], out)
		if db != nil {
			pb := p[in*out:]
			clear(pb)
			sumRowsInto(pb, dy[lo*out:hi*out])
		}
	}
	if slots == 1 {
		task(0)
	} else {
		parallelFor(slots, func(lo, hi int) {
			for s := lo; s < hi; s++ {
				task(s)
			}
		})
	}
	sumStrided(dw, part, 0, stride, slots)
	if db != nil {
		sumStrided(db, part, in*out, stride, slots)
	}
}

// linearSlots is the number of row ranges dW is summed over: ranges of at
// least 1024 rows (shorter ones make skinny gemms and large partials to
// add), at most 8.
func linearSlots(rows, work int) int {
	if work < smallWork {
		return 1
	}
	return max(1, min(8, rows/1024))
}

// sumStrided sets dst to Σ_s part[s·stride+off : …+len(dst)], in slot order.
func sumStrided[T float](dst, part []T, off, stride, slots int) {
	n := len(dst)
	copy(dst, part[off:off+n])
	for s := 1; s < slots; s++ {
		p := part[s*stride+off : s*stride+off+n]
		for j, v := range p {
			dst[j] += v
		}
	}
}

// sumRowsInto adds every row of m (rows of len(dst)) to dst.
func sumRowsInto[T float](dst, m []T) {
	n := len(dst)
	for r := 0; r+n <= len(m); r += n {
		for j, v := range m[r : r+n] {
			dst[j] += v
		}
	}
}

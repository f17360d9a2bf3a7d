package ops

import (
	"fmt"
	"math"

	"github.com/mksmt/workbench/internal/ops/vec"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The transformer's element-wise and per-row layers: LayerNorm, GELU, the
// residual sum and the mean over tokens. Each is one pass over buffers the
// op owns, split over the workers by rows; parameter gradients are summed
// over fixed row ranges in a fixed order (gradSlots).

// LayerNorm normalises x over its last axis (any rank ≥ 1, ε = 1e-5) and
// applies the per-feature scale g and shift b, both (C). With sh, dx lives
// in sh's Arena.
func LayerNorm(x, g, b *gorgonia.Node, sh *Shared) (*gorgonia.Node, error) {
	xs := x.Shape()
	c := xs[len(xs)-1]
	for _, p := range []*gorgonia.Node{g, b} {
		if p.Shape().Dims() != 1 || p.Shape()[0] != c {
			return nil, fmt.Errorf("layernorm %v: %v has shape %v, want (%d)", g.Name(), p.Name(), p.Shape(), c)
		}
	}
	rows := xs.TotalSize() / c
	dxSlot := sh.take()
	op := &fnOp{base: newBase("layernorm " + g.Name()), inDims: []int{xs.Dims(), 1, 1}, shape: xs.Clone(), slot: sh.take(),
		diff: []bool{true, true, true}}
	op.run = func(in []*tensor.Dense, out *tensor.Dense) error {
		switch in[0].Dtype() {
		case tensor.Float32:
			xd := in[0].Float32s()
			lnForward(xd, in[1].Float32s(), in[2].Float32s(), out.Float32s(), rows)
		case tensor.Float64:
			xd := in[0].Float64s()
			lnForward(xd, in[1].Float64s(), in[2].Float64s(), out.Float64s(), rows)
		}
		return nil
	}
	op.grad = func(in gorgonia.Nodes, _, dy *gorgonia.Node) (gorgonia.Nodes, error) {
		var dg, db buffer
		bwd := &fnOp{base: newBase(op.name + "-diff"), inDims: []int{xs.Dims(), 1, xs.Dims()}, shape: xs.Clone(), slot: dxSlot}
		bwd.run = func(in []*tensor.Dense, dx *tensor.Dense) error {
			w := getWork()
			defer putWork(w)
			dt := dx.Dtype()
			g, b := dg.get(dt, c), db.get(dt, c)
			switch in[0].Dtype() {
			case tensor.Float32:
				xd := in[0].Float32s()
				lnBackward(w, xd, in[1].Float32s(), in[2].Float32s(), dx.Float32s(), g.Float32s(), b.Float32s(), rows)
			case tensor.Float64:
				xd := in[0].Float64s()
				lnBackward(w, xd, in[1].Float64s(), in[2].Float64s(), dx.Float64s(), g.Float64s(), b.Float64s(), rows)
			}
			return nil
		}
		dx, err := apply(bwd, in[0], in[1], dy)
		if err != nil {
			return nil, err
		}
		gn, err := getter(op.name+"-dgamma", &dg, dx, tensor.Shape{c})
		if err != nil {
			return nil, err
		}
		bn, err := getter(op.name+"-dbeta", &db, dx, tensor.Shape{c})
		if err != nil {
			return nil, err
		}
		return gorgonia.Nodes{dx, gn, bn}, nil
	}
	return apply(op, x, g, b)
}

const lnEps = 1e-5

// lnStats is the mean and 1/σ of one row, in float64.
func lnStats[T float](row []T) (mean, rstd float64) {
	var s float64
	for _, v := range row {
		s += float64(v)
	}
	mean = s / float64(len(row))
	var v2 float64
	for _, v := range row {
		d := float64(v) - mean
		v2 += d * d
	}
	return mean, 1 / math.Sqrt(v2/float64(len(row))+lnEps)
}

func lnForward[T float](x, g, b, y []T, rows int) {
	c := len(g)
	parallelRows(rows, rows*c*4, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			row, out := x[r*c:(r+1)*c], y[r*c:(r+1)*c]
			mean, rstd := lnStats(row)
			m, s := T(mean), T(rstd)
			for i, v := range row {
				out[i] = (v-m)*s*g[i] + b[i]
			}
		}
	})
}

// lnBackward: with x̂ = (x−μ)·r and h = dy·γ, dx = r·(h − mean(h) − x̂·mean(h·x̂));
// dγ = Σ_rows dy·x̂, dβ = Σ_rows dy (per fixed row range, then in range order).
func lnBackward[T float](wk *work, x, g, dy, dx, dg, db []T, rows int) {
	c := len(g)
	slots := gradSlots(rows, rows*c*8)
	part := workSlice[T](wk, slots*2*c)
	clear(part)
	task := func(s int) {
		pg, pb := part[s*2*c:s*2*c+c], part[s*2*c+c:(s+1)*2*c]
		for r := rows * s / slots; r < rows*(s+1)/slots; r++ {
			row, d, out := x[r*c:(r+1)*c], dy[r*c:(r+1)*c], dx[r*c:(r+1)*c]
			mean, rstd := lnStats(row)
			m, rs := T(mean), T(rstd)
			var sh, shx T
			for i, v := range row {
				xh := (v - m) * rs
				h := d[i] * g[i]
				sh += h
				shx += h * xh
				pg[i] += d[i] * xh
				pb[i] += d[i]
			}
			sh /= T(c)
			shx /= T(c)
			for i, v := range row {
				xh := (v - m) * rs
				out[i] = rs * (d[i]*g[i] - sh - xh*shx)
			}
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
	sumStrided(dg, part, 0, 2*c, slots)
	sumStrided(db, part, c, 2*c, slots)
}

// GELU is x·Φ(x) (the exact, erf form), element-wise. With sh, dx lives
// in sh's Arena.
func GELU(x *gorgonia.Node, sh *Shared) (*gorgonia.Node, error) {
	xs := x.Shape()
	dxSlot := sh.take()
	op := &fnOp{base: newBase("gelu"), inDims: []int{xs.Dims()}, shape: xs.Clone(), diff: []bool{true}, slot: sh.take()}
	op.run = func(in []*tensor.Dense, out *tensor.Dense) error {
		switch in[0].Dtype() {
		case tensor.Float32:
			xd := in[0].Float32s()
			elementwise(xd, nil, out.Float32s(), geluForward[float32])
		case tensor.Float64:
			xd := in[0].Float64s()
			elementwise(xd, nil, out.Float64s(), geluForward[float64])
		}
		return nil
	}
	op.grad = func(in gorgonia.Nodes, _, dy *gorgonia.Node) (gorgonia.Nodes, error) {
		bwd := &fnOp{base: newBase("gelu-diff"), inDims: []int{xs.Dims(), xs.Dims()}, shape: xs.Clone(), slot: dxSlot}
		bwd.run = func(in []*tensor.Dense, out *tensor.Dense) error {
			switch in[0].Dtype() {
			case tensor.Float32:
				xd := in[0].Float32s()
				elementwise(xd, in[1].Float32s(), out.Float32s(), geluBackward[float32])
			case tensor.Float64:
				xd := in[0].Float64s()
				elementwise(xd, in[1].Float64s(), out.Float64s(), geluBackward[float64])
			}
			return nil
		}
		dx, err := apply(bwd, in[0], dy)
		if err != nil {
			return nil, err
		}
		return gorgonia.Nodes{dx}, nil
	}
	return apply(op, x)
}

// elementwise runs f on blocks of 4096 elements of x (and y, when not nil)
// into out, in parallel.
func elementwise[T float](x, y, out []T, f func(x, y, out []T)) {
	const block = 4096
	n := len(out)
	parallelRows((n+block-1)/block, n*8, func(lo, hi int) {
		lo, hi = lo*block, min(hi*block, n)
		var ys []T
		if y != nil {
			ys = y[lo:hi]
		}
		f(x[lo:hi], ys, out[lo:hi])
	})
}

func geluForward[T float](x, _, y []T) {
	if x32, ok := any(x).([]float32); ok {
		gelu32(x32, nil, any(y).([]float32), false)
		return
	}
	fast := isF32(x)
	y = y[:len(x)]
	for i, v := range x {
		f := float64(v)
		y[i] = T(f * phi(f, math.Exp(-0.5*f*f), fast))
	}
}

// geluBackward is dy·(Φ(x) + x·φ(x)).
func geluBackward[T float](x, dy, dx []T) {
	const invSqrt2Pi = 0.3989422804014327 // 1/√(2π)
	if x32, ok := any(x).([]float32); ok {
		gelu32(x32, any(dy).([]float32), any(dx).([]float32), true)
		return
	}
	fast := isF32(x)
	dy, dx = dy[:len(x)], dx[:len(x)]
	for i, v := range x {
		f := float64(v)
		e := math.Exp(-0.5 * f * f)
		dx[i] = T(float64(dy[i]) * (phi(f, e, fast) + f*invSqrt2Pi*e))
	}
}

// gelu32 is GELU in float32 arithmetic: y = x·Φ(x), or with diff
// out = dy·(Φ(x) + x·φ(x)). Φ as phi's fast form, exp by expNeg32; no
// branches (the sign of x is applied through its bits).
func gelu32(x, dy, out []float32, diff bool) {
	const (
		invSqrt2   = 0.70710678118654752
		invSqrt2Pi = 0.3989422804014327
		sign       = 1 << 31
	)
	out = out[:len(x)]
	if diff {
		dy = dy[:len(x)]
	}
	var k int
	if diff {
		k = vec.GELUDiff(x, dy, out)
	} else {
		k = vec.GELU(x, out)
	}
	if k > 0 {
		x, out = x[k:], out[k:]
		if diff {
			dy = dy[k:]
		}
	}
	for i, v := range x {
		z := math.Float32frombits(math.Float32bits(v)&^sign) * invSqrt2
		e := expNeg32(-0.5 * v * v)
		t := 1 / (1 + 0.3275911*z)
		poly := t * (0.254829592 + t*(-0.284496736+t*(1.421413741+t*(-1.453152027+t*1.061405429))))
		erf := 1 - poly*e
		erf = math.Float32frombits(math.Float32bits(erf) ^ math.Float32bits(v)&sign)
		p := 0.5 * (1 + erf)
		if diff {
			out[i] = dy[i] * (p + v*invSqrt2Pi*e)
		} else {
			out[i] = v * p
		}
	}
}

// expNeg32 is e^x for x ≤ 0 (inputs below −87 count as −87, e^−87 ≈
// 1.6e-38), in float32 without branches: x = n·ln2 + r, |r| ≤ ln2/2, with
// Cephes expf's polynomial for e^r (relative error about 1e-7) and 2^n
// built in the exponent bits.
func expNeg32(x float32) float32 {
	const magic = 12582912 // 1.5·2²³: adding it rounds a float32 to an integer
	x = max(x, -87)
	n := x*1.44269504088896341 + magic
	n -= magic
	r := x - n*0.693359375
	r -= n * -2.12194440e-4
	p := ((((1.9875691500e-4*r+1.3981999507e-3)*r+8.3334519073e-3)*r+4.1665795894e-2)*r+1.6666665459e-1)*r + 5.0000001201e-1
	p = p*r*r + r + 1
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}

func isF32[T float](_ []T) bool {
	var z T
	_, ok := any(z).(float32)
	return ok
}

// phi is Φ(x), the standard normal CDF, given e = exp(−x²/2). In float64
// (gradient checks) it is exact; in float32 it uses Abramowitz & Stegun
// 7.1.26 for erf (absolute error < 1.5e-7, below float32's resolution),
// which reuses e instead of calling math.Erf.
func phi(x, e float64, fast bool) float64 {
	if !fast {
		return 0.5 * (1 + math.Erf(x/math.Sqrt2))
	}
	z := math.Abs(x) / math.Sqrt2
	t := 1 / (1 + 0.3275911*z)
	poly := t * (0.254829592 + t*(-0.284496736+t*(1.421413741+t*(-1.453152027+t*1.061405429))))
	erf := 1 - poly*e // e = exp(−z²)
	if x < 0 {
		erf = -erf
	}
	return 0.5 * (1 + erf)
}

// Add is a + b for two tensors of the same shape: a residual join. Its
// gradient passes dy to both. With sh, the sum lives in sh's Arena.
func Add(a, b *gorgonia.Node, sh *Shared) (*gorgonia.Node, error) {
	if !a.Shape().Eq(b.Shape()) || a.Shape().Dims() == 0 {
		return nil, fmt.Errorf("add %v + %v: shapes %v and %v", a.Name(), b.Name(), a.Shape(), b.Shape())
	}
	xs := a.Shape()
	op := &fnOp{base: newBase("add"), inDims: []int{xs.Dims(), xs.Dims()}, shape: xs.Clone(), diff: []bool{true, true}, slot: sh.take()}
	op.run = func(in []*tensor.Dense, out *tensor.Dense) error {
		switch in[0].Dtype() {
		case tensor.Float32:
			ad := in[0].Float32s()
			elementwise(ad, in[1].Float32s(), out.Float32s(), addTo[float32])
		case tensor.Float64:
			ad := in[0].Float64s()
			elementwise(ad, in[1].Float64s(), out.Float64s(), addTo[float64])
		}
		return nil
	}
	op.grad = func(_ gorgonia.Nodes, _, dy *gorgonia.Node) (gorgonia.Nodes, error) {
		return gorgonia.Nodes{dy, dy}, nil
	}
	return apply(op, a, b)
}

func addTo[T float](a, b, y []T) {
	b, y = b[:len(a)], y[:len(a)]
	for i, v := range a {
		y[i] = v + b[i]
	}
}

// MeanTokens averages tokens (N, L, C) into (N, C). With sh, dx lives in
// sh's Arena.
func MeanTokens(x *gorgonia.Node, sh *Shared) (*gorgonia.Node, error) {
	xs := x.Shape()
	if xs.Dims() != 3 {
		return nil, fmt.Errorf("mean over tokens of %v: shape %v, want (N, L, C)", x.Name(), xs)
	}
	n, l, c := xs[0], xs[1], xs[2]
	dxSlot := sh.take()
	op := &fnOp{base: newBase("mean-tokens"), inDims: []int{3}, shape: tensor.Shape{n, c}, diff: []bool{true}, slot: sh.take()}
	op.run = func(in []*tensor.Dense, out *tensor.Dense) error {
		switch in[0].Dtype() {
		case tensor.Float32:
			xd := in[0].Float32s()
			meanTokens(xd, out.Float32s(), n, l, c)
		case tensor.Float64:
			xd := in[0].Float64s()
			meanTokens(xd, out.Float64s(), n, l, c)
		}
		return nil
	}
	op.grad = func(_ gorgonia.Nodes, _, dy *gorgonia.Node) (gorgonia.Nodes, error) {
		bwd := &fnOp{base: newBase("mean-tokens-diff"), inDims: []int{2}, shape: xs.Clone(), slot: dxSlot}
		bwd.run = func(in []*tensor.Dense, out *tensor.Dense) error {
			switch in[0].Dtype() {
			case tensor.Float32:
				d := in[0].Float32s()
				spreadTokens(d, out.Float32s(), n, l, c)
			case tensor.Float64:
				d := in[0].Float64s()
				spreadTokens(d, out.Float64s(), n, l, c)
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

func meanTokens[T float](x, y []T, n, l, c int) {
	clear(y)
	inv := 1 / T(l)
	for i := range n {
		yi := y[i*c : (i+1)*c]
		for t := range l {
			for j, v := range x[(i*l+t)*c : (i*l+t+1)*c] {
				yi[j] += v
			}
		}
		for j := range yi {
			yi[j] *= inv
		}
	}
}

func spreadTokens[T float](dy, dx []T, n, l, c int) {
	inv := 1 / T(l)
	for i := range n {
		for t := range l {
			row := dx[(i*l+t)*c : (i*l+t+1)*c]
			for j, v := range dy[i*c : (i+1)*c] {
				row[j] = v * inv
			}
		}
	}
}

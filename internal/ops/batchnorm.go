package ops

import (
	"fmt"
	"math"

	"github.com/chewxy/hm"
	"github.com/mksmt/workbench/internal/ops/vec"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BNState is the running statistics of one batch-normalisation layer,
// shared by every graph that uses the layer (the two-step schedule builds
// one graph per loss). It is float64 whatever the graph's dtype.
//
// Training-mode forward passes update it PyTorch's way:
// Mean ← (1−Momentum)·Mean + Momentum·batch mean, and the same for Var with
// the unbiased batch variance.
type BNState struct {
	Mean, Var []float64
	Momentum  float64 // weight of the new batch, 0.1 by default
	Eps       float64 // added to the variance, 1e-5 by default
}

// NewBNState returns the state of a layer with c channels: mean 0, variance
// 1, momentum 0.1, eps 1e-5 (PyTorch's defaults).
func NewBNState(c int) *BNState {
	st := &BNState{Mean: make([]float64, c), Var: make([]float64, c), Momentum: 0.1, Eps: 1e-5}
	for i := range st.Var {
		st.Var[i] = 1
	}
	return st
}

// BatchNorm is batch normalisation in training mode over x (N,C,H,W):
// per-channel statistics of the batch over (N,H,W), then γ·x̂+β with γ, β of
// shape (C), then ReLU when relu is set. Each forward pass updates st.
// It is differentiable with respect to x, gamma and beta.
func BatchNorm(x, gamma, beta *gorgonia.Node, st *BNState, relu bool) (*gorgonia.Node, error) {
	return batchNorm(x, gamma, beta, st, relu, false)
}

// BatchNormInference is the per-channel affine map of st's running
// statistics, γ·(x−mean)/√(var+eps)+β, then ReLU when relu is set. It does
// not change st and, unlike gorgonia's eval-mode BatchNorm, gives the right
// dL/dx (Grad-CAM needs it), as well as dL/dγ and dL/dβ.
func BatchNormInference(x, gamma, beta *gorgonia.Node, st *BNState, relu bool) (*gorgonia.Node, error) {
	return batchNorm(x, gamma, beta, st, relu, true)
}

func batchNorm(x, gamma, beta *gorgonia.Node, st *BNState, relu, infer bool) (*gorgonia.Node, error) {
	name := "batchnorm"
	if infer {
		name = "batchnorm-inference"
	}
	if relu {
		name += "-relu"
	}
	xs := x.Shape()
	if xs.Dims() != 4 {
		return nil, fmt.Errorf("%s of %v: x has shape %v, want (N,C,H,W)", name, x.Name(), xs)
	}
	c := xs[1]
	if st == nil {
		return nil, fmt.Errorf("%s of %v: nil BNState", name, x.Name())
	}
	if len(st.Mean) != c || len(st.Var) != c {
		return nil, fmt.Errorf("%s of %v: BNState has %d/%d channels, x has %d", name, x.Name(), len(st.Mean), len(st.Var), c)
	}
	for i, p := range []*gorgonia.Node{gamma, beta} {
		if s := p.Shape(); s.Dims() != 1 || s[0] != c {
			return nil, fmt.Errorf("%s of %v: %s has shape %v, want (%d)", name, x.Name(), [2]string{"gamma", "beta"}[i], s, c)
		}
	}
	if !infer && xs[0]*xs[2]*xs[3] < 2 {
		return nil, fmt.Errorf("%s of %v: batch statistics need at least 2 values per channel, x has shape %v", name, x.Name(), xs)
	}
	op := &bnOp{base: newBase(name), st: st, relu: relu, infer: infer}
	n, err := gorgonia.ApplyOp(op, x, gamma, beta)
	if err != nil {
		return nil, fmt.Errorf("%s of %v: %w", name, x.Name(), err)
	}
	return n, nil
}

// bnOp is the forward pass. It saves the per-channel mean and 1/σ it used
// for the backward pass (bnDiffOp), which runs once after it in the same
// machine run.
type bnOp struct {
	base
	st          *BNState
	relu, infer bool

	mean, invStd []float64
	out          buffer
}

func (op *bnOp) Arity() int { return 3 }

func (op *bnOp) Type() hm.Type {
	return hm.NewFnType(tensorType(4), tensorType(1), tensorType(1), tensorType(4))
}

func (op *bnOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	return sameShape(op, in)
}

func (op *bnOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	in, err := denses(op, vs, 3)
	if err != nil {
		return nil, err
	}
	x, gamma, beta := in[0], in[1], in[2]
	s := x.Shape()
	n, c, hw := s[0], s[1], s[2]*s[3]
	if len(op.st.Mean) != c {
		return nil, fmt.Errorf("%v: x has %d channels, the layer has %d", op, c, len(op.st.Mean))
	}
	if gamma.Size() != c || beta.Size() != c {
		return nil, fmt.Errorf("%v: gamma/beta have %d/%d values, want %d", op, gamma.Size(), beta.Size(), c)
	}
	op.mean = grow(op.mean, c)
	op.invStd = grow(op.invStd, c)
	out := op.out.get(x.Dtype(), s...)
	if op.infer {
		for ch := range c {
			op.mean[ch] = op.st.Mean[ch]
			op.invStd[ch] = 1 / math.Sqrt(op.st.Var[ch]+op.st.Eps)
		}
	}
	switch x.Dtype() {
	case tensor.Float32:
		xd := x.Float32s()
		bnForward(xd, gamma.Float32s(), beta.Float32s(), out.Float32s(), op, n, c, hw)
	case tensor.Float64:
		xd := x.Float64s()
		bnForward(xd, gamma.Float64s(), beta.Float64s(), out.Float64s(), op, n, c, hw)
	}
	return out, nil
}

// bnForward normalises every channel; in training mode it first computes
// the batch statistics and updates the running ones.
func bnForward[T float](x, gamma, beta, y []T, op *bnOp, n, c, hw int) {
	m := float64(n * hw)
	parallelFor(c, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			if !op.infer {
				// Sums of x−k and (x−k)² with k the mean of the first image's
				// map, close to the batch mean: little cancellation in float32.
				var k float64
				for _, v := range x[ch*hw : (ch+1)*hw] {
					k += float64(v)
				}
				k /= float64(hw)
				kt := T(k)
				k = float64(kt)
				var s1, s2 float64
				for i := range n {
					off := (i*c + ch) * hw
					a, b := sumShifted(x[off:off+hw], kt)
					s1 += a
					s2 += b
				}
				d := s1 / m
				mean := k + d
				ss := max(s2-s1*d, 0) // Σ(x−mean)²
				variance := ss / m
				op.mean[ch] = mean
				op.invStd[ch] = 1 / math.Sqrt(variance+op.st.Eps)
				mom := op.st.Momentum
				op.st.Mean[ch] = (1-mom)*op.st.Mean[ch] + mom*mean
				op.st.Var[ch] = (1-mom)*op.st.Var[ch] + mom*ss/(m-1)
			}
			scale := float64(gamma[ch]) * op.invStd[ch]
			sc := T(scale)
			sh := T(float64(beta[ch]) - op.mean[ch]*scale)
			for i := range n {
				off := (i*c + ch) * hw
				affine(x[off:off+hw], y[off:off+hw], sc, sh, op.relu)
			}
		}
	})
}

// affineReLU32 is affine with the ReLU for float32. It clears negative
// results through their sign bit: Go's max(v, 0) compiles to a long
// NaN- and zero-aware sequence.
func affineReLU32(x, y []float32, sc, sh float32) {
	y = y[:len(x)]
	for j, v := range x {
		y[j] = relu32(v*sc + sh)
	}
}

// relu32 is max(v, 0) for a non-NaN v, without a branch: an all-ones mask
// from the sign bit clears negative values (−0 included).
func relu32(v float32) float32 {
	b := math.Float32bits(v)
	return math.Float32frombits(b &^ uint32(int32(b)>>31))
}

// sumShifted returns Σ(x−k) and Σ(x−k)², accumulated in T in four lanes.
func sumShifted[T float](x []T, k T) (float64, float64) {
	var s1, s2 float64
	if x32, ok := any(x).([]float32); ok {
		n, a, b := vec.SumShifted(x32, float32(k))
		s1, s2 = laneSum(a), laneSum(b)
		x = x[n:]
	}
	var a0, a1, a2, a3, b0, b1, b2, b3 T
	i := 0
	for ; i+4 <= len(x); i += 4 {
		v := x[i : i+4 : i+4]
		d0, d1, d2, d3 := v[0]-k, v[1]-k, v[2]-k, v[3]-k
		a0 += d0
		a1 += d1
		a2 += d2
		a3 += d3
		b0 += d0 * d0
		b1 += d1 * d1
		b2 += d2 * d2
		b3 += d3 * d3
	}
	for ; i < len(x); i++ {
		d := x[i] - k
		a0 += d
		b0 += d * d
	}
	return s1 + float64(a0+a1) + float64(a2+a3), s2 + float64(b0+b1) + float64(b2+b3)
}

// laneSum adds a vec kernel's eight lanes in float64.
func laneSum(l [8]float32) float64 {
	var s float64
	for _, v := range l {
		s += float64(v)
	}
	return s
}

// affine writes y = x·sc + sh, or its ReLU.
func affine[T float](x, y []T, sc, sh T, relu bool) {
	y = y[:len(x)]
	if x32, ok := any(x).([]float32); ok {
		var n int
		if relu {
			n = vec.AffineReLU(x32, any(y).([]float32), float32(sc), float32(sh))
		} else {
			n = vec.Affine(x32, any(y).([]float32), float32(sc), float32(sh))
		}
		x, y = x[n:], y[n:]
	}
	if relu {
		if x32, ok := any(x).([]float32); ok {
			affineReLU32(x32, any(y).([]float32), float32(sc), float32(sh))
			return
		}
		for j, v := range x {
			y[j] = max(v*sc+sh, 0)
		}
		return
	}
	for j, v := range x {
		y[j] = v*sc + sh
	}
}

func (op *bnOp) DiffWRT(int) []bool { return []bool{true, true, true} }

// SymDiff builds dx = bnDiff(x, y, γ, dy) and two getters that return the
// dγ and dβ the same pass computed.
func (op *bnOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if len(inputs) != 3 {
		return nil, fmt.Errorf("%v: SymDiff got %d inputs, want 3", op, len(inputs))
	}
	diff := &bnDiffOp{base: newBase(op.name + "-diff"), fwd: op}
	dx, err := gorgonia.ApplyOp(diff, inputs[0], output, inputs[1], grad)
	if err != nil {
		return nil, fmt.Errorf("%v: dx: %w", op, err)
	}
	cs := tensor.Shape{inputs[1].Shape()[0]}
	dgamma, err := gorgonia.ApplyOp(&paramGradOp{base: newBase(op.name + "-dgamma"), src: &diff.dgamma, inDims: 4, shape: cs}, dx)
	if err != nil {
		return nil, fmt.Errorf("%v: dgamma: %w", op, err)
	}
	dbeta, err := gorgonia.ApplyOp(&paramGradOp{base: newBase(op.name + "-dbeta"), src: &diff.dbeta, inDims: 4, shape: cs}, dx)
	if err != nil {
		return nil, fmt.Errorf("%v: dbeta: %w", op, err)
	}
	return gorgonia.Nodes{dx, dgamma, dbeta}, nil
}

// bnDiffOp computes dx from (x, y, γ, dy) and, in the same pass, dγ and dβ,
// which it keeps for the two paramGradOp getters.
type bnDiffOp struct {
	base
	fwd           *bnOp
	out           buffer
	dgamma, dbeta buffer
}

func (op *bnDiffOp) Arity() int { return 4 }

func (op *bnDiffOp) Type() hm.Type {
	return hm.NewFnType(tensorType(4), tensorType(4), tensorType(1), tensorType(4), tensorType(4))
}

func (op *bnDiffOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	return sameShape(op, in)
}

func (op *bnDiffOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	in, err := denses(op, vs, 4)
	if err != nil {
		return nil, err
	}
	x, y, gamma, dy := in[0], in[1], in[2], in[3]
	s := x.Shape()
	n, c, hw := s[0], s[1], s[2]*s[3]
	if len(op.fwd.mean) != c {
		return nil, fmt.Errorf("%v: the forward pass has not run", op)
	}
	dt := x.Dtype()
	dx := op.out.get(dt, s...)
	dg := op.dgamma.get(dt, c)
	db := op.dbeta.get(dt, c)
	switch x.Dtype() {
	case tensor.Float32:
		xd := x.Float32s()
		bnBackward(xd, y.Float32s(), gamma.Float32s(), dy.Float32s(),
			dx.Float32s(), dg.Float32s(), db.Float32s(), op.fwd, n, c, hw)
	case tensor.Float64:
		xd := x.Float64s()
		bnBackward(xd, y.Float64s(), gamma.Float64s(), dy.Float64s(),
			dx.Float64s(), dg.Float64s(), db.Float64s(), op.fwd, n, c, hw)
	}
	return dx, nil
}

// bnBackward: with g = dy masked by y > 0 when the ReLU is fused and
// x̂ = (x−μ)/σ: dβ = Σg, dγ = Σg·x̂, and dx = γ/σ·(g − dβ/M − x̂·dγ/M) in
// training mode (the batch statistics depend on x), dx = γ/σ·g in inference.
// With the ReLU, the first pass stores the masked g in dx and the second
// turns it into dx in place.
func bnBackward[T float](x, y, gamma, dy, dx, dgamma, dbeta []T, op *bnOp, n, c, hw int) {
	m := float64(n * hw)
	parallelFor(c, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			mean, inv := op.mean[ch], op.invStd[ch]
			mt := T(mean)
			var sg, sgx float64
			for i := range n {
				off := (i*c + ch) * hw
				a, b := gradSums(x[off:off+hw], y[off:off+hw], dy[off:off+hw], dx[off:off+hw], mt, op.relu)
				sg += a
				sgx += b
			}
			dgamma[ch] = T(sgx * inv)
			dbeta[ch] = T(sg)
			k := float64(gamma[ch]) * inv
			// dx = k·g + a·x + b, with a = −k·inv²·sgx/M and b = −k·sg/M − a·mean.
			var a, b float64
			if !op.infer {
				a = -k * inv * inv * sgx / m
				b = -k*sg/m - a*mean
			}
			kk, aa, bb := T(k), T(a), T(b)
			// g is in dx (ReLU) or is dy.
			gsrc := dy
			if op.relu {
				gsrc = dx
			}
			for i := range n {
				off := (i*c + ch) * hw
				xs, gs, ds := x[off:off+hw], gsrc[off:off+hw], dx[off:off+hw]
				gs, ds = gs[:len(xs)], ds[:len(xs)]
				if x32, ok := any(xs).([]float32); ok {
					k := vec.BNDx(x32, any(gs).([]float32), any(ds).([]float32), float32(kk), float32(aa), float32(bb))
					xs, gs, ds = xs[k:], gs[k:], ds[k:]
				}
				for j, v := range xs {
					ds[j] = kk*gs[j] + aa*v + bb
				}
			}
		}
	})
}

// gradSums returns Σg and Σg·(x−mean) for g = dy, or, when relu, for g =
// dy masked by y > 0, which it then also stores in g (dy itself otherwise
// serves as g).
func gradSums[T float](x, y, dy, g []T, mean T, relu bool) (float64, float64) {
	if relu {
		if x32, ok := any(x).([]float32); ok {
			return gradSumsReLU32(x32, any(y).([]float32), any(dy).([]float32), any(g).([]float32), float32(mean))
		}
		maskPositive(y, dy, g)
		dy = g
	}
	return dotSums(x, dy, mean)
}

// dotSums returns Σg and Σg·(x−mean), accumulated in T in four lanes.
func dotSums[T float](x, g []T, mean T) (float64, float64) {
	x = x[:len(g)]
	var sa, sb float64
	if g32, ok := any(g).([]float32); ok {
		n, a, b := vec.DotSums(any(x).([]float32), g32, float32(mean))
		sa, sb = laneSum(a), laneSum(b)
		x, g = x[n:], g[n:]
	}
	var a0, a1, a2, a3, b0, b1, b2, b3 T
	i := 0
	for ; i+4 <= len(g); i += 4 {
		gv, xv := g[i:i+4:i+4], x[i:i+4:i+4]
		a0 += gv[0]
		a1 += gv[1]
		a2 += gv[2]
		a3 += gv[3]
		b0 += gv[0] * (xv[0] - mean)
		b1 += gv[1] * (xv[1] - mean)
		b2 += gv[2] * (xv[2] - mean)
		b3 += gv[3] * (xv[3] - mean)
	}
	for ; i < len(g); i++ {
		a0 += g[i]
		b0 += g[i] * (x[i] - mean)
	}
	return sa + float64(a0+a1) + float64(a2+a3), sb + float64(b0+b1) + float64(b2+b3)
}

// gradSumsReLU32 is gradSums with the ReLU mask for float32 in one pass,
// with maskPositive's branch-free sign test.
func gradSumsReLU32(x, y, dy, g []float32, mean float32) (float64, float64) {
	k, va, vb := vec.GradSumsReLU(x, y, dy, g, mean)
	sa, sb := laneSum(va), laneSum(vb)
	x, y, dy, g = x[k:], y[k:], dy[k:], g[k:]
	n := len(dy)
	x, y, g = x[:n], y[:n], g[:n]
	var a0, a1, b0, b1 float32
	i := 0
	for ; i+2 <= n; i += 2 {
		y0, y1 := int32(math.Float32bits(y[i])), int32(math.Float32bits(y[i+1]))
		m0 := uint32((-y0)>>31) &^ uint32(y0>>31)
		m1 := uint32((-y1)>>31) &^ uint32(y1>>31)
		g0 := math.Float32frombits(math.Float32bits(dy[i]) & m0)
		g1 := math.Float32frombits(math.Float32bits(dy[i+1]) & m1)
		g[i], g[i+1] = g0, g1
		a0 += g0
		a1 += g1
		b0 += g0 * (x[i] - mean)
		b1 += g1 * (x[i+1] - mean)
	}
	for ; i < n; i++ {
		y0 := int32(math.Float32bits(y[i]))
		m0 := uint32((-y0)>>31) &^ uint32(y0>>31)
		g0 := math.Float32frombits(math.Float32bits(dy[i]) & m0)
		g[i] = g0
		a0 += g0
		b0 += g0 * (x[i] - mean)
	}
	return sa + float64(a0) + float64(a1), sb + float64(b0) + float64(b1)
}

func (op *bnDiffOp) DiffWRT(int) []bool { return []bool{false, false, false, false} }

func (op *bnDiffOp) SymDiff(gorgonia.Nodes, *gorgonia.Node, *gorgonia.Node) (gorgonia.Nodes, error) {
	return nil, fmt.Errorf("%v: second derivatives are not supported", op)
}

// paramGradOp returns a gradient that another op's backward pass computed
// as a by-product (gorgonia ops have one output). Its input is that op's
// main output, which orders it after the computation.
type paramGradOp struct {
	base
	src    *buffer
	inDims int          // dims of the input (the main output of the backward op)
	shape  tensor.Shape // shape of the gradient returned
}

func (op *paramGradOp) Arity() int { return 1 }

func (op *paramGradOp) Type() hm.Type {
	return hm.NewFnType(tensorType(op.inDims), tensorType(op.shape.Dims()))
}

func (op *paramGradOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return op.shape.Clone(), nil
}

func (op *paramGradOp) Do(...gorgonia.Value) (gorgonia.Value, error) {
	if op.src.t == nil {
		return nil, fmt.Errorf("%v: the backward pass has not run", op)
	}
	return op.src.t, nil
}

func (op *paramGradOp) DiffWRT(int) []bool { return []bool{false} }

func (op *paramGradOp) SymDiff(gorgonia.Nodes, *gorgonia.Node, *gorgonia.Node) (gorgonia.Nodes, error) {
	return nil, fmt.Errorf("%v: second derivatives are not supported", op)
}

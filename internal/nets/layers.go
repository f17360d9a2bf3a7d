package nets

import (
	"math"

	"github.com/mksmt/workbench/internal/ops"
	G "gorgonia.org/gorgonia"
)

// The layers below are composed from gorgonia built-ins, with the
// workarounds of DESIGN §6: reductions only over the last, contiguous axis,
// matrix products only on 2-D or batched 3-D operands.

// linear applies x·W (+ b) over the last axis of x, any rank ≥ 2:
// (..., in) → (..., out), with the parameters name.w (in, out) and name.b.
func (b *builder) linear(x *G.Node, name string, bias bool) *G.Node {
	w := b.param(name + ".w")
	shape := x.Shape().Clone()
	in, out := w.Shape()[0], w.Shape()[1]
	if shape[len(shape)-1] != in {
		b.fail("linear %s: input %v does not end in %d features", name, shape, in)
	}
	rows := shape.TotalSize() / in
	x2 := x
	if len(shape) != 2 {
		x2 = b.reshape(x, rows, in)
	}
	y := b.do(G.Mul(x2, w))
	b.count(rows * in * out)
	if bias {
		y = b.do(G.BroadcastAdd(y, b.param(name+".b"), nil, []byte{0}))
	}
	if len(shape) != 2 {
		shape[len(shape)-1] = out
		y = b.reshape(y, shape...)
	}
	return y
}

// layerNorm normalises x over its last axis (any rank ≥ 2) and applies the
// per-feature scale name.g and shift name.b; ε = 1e-5.
func (b *builder) layerNorm(x *G.Node, name string) *G.Node {
	shape := x.Shape().Clone()
	c := shape[len(shape)-1]
	rows := shape.TotalSize() / c
	x2 := x
	if len(shape) != 2 {
		x2 = b.reshape(x, rows, c)
	}
	mean := b.do(G.Mean(x2, 1))
	xc := b.do(G.BroadcastSub(x2, mean, nil, []byte{1}))
	variance := b.do(G.Mean(b.do(G.Square(xc)), 1))
	// 1/√(var+ε) as Inverse(Sqrt(·)): gorgonia's InverseSqrt has a wrong
	// gradient (found by the gradient checks).
	rstd := b.do(G.Inverse(b.do(G.Sqrt(b.do(G.Add(variance, b.scalar(1e-5)))))))
	y := b.do(G.BroadcastHadamardProd(xc, rstd, nil, []byte{1}))
	y = b.do(G.BroadcastHadamardProd(y, b.param(name+".g"), nil, []byte{0}))
	y = b.do(G.BroadcastAdd(y, b.param(name+".b"), nil, []byte{0}))
	if len(shape) != 2 {
		y = b.reshape(y, shape...)
	}
	return y
}

// gelu is GELU in its tanh form, 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))),
// which differs from the erf form by less than 1e-3 everywhere.
func (b *builder) gelu(x *G.Node) *G.Node {
	inner := b.do(G.Add(x, b.do(G.Mul(b.do(G.Cube(x)), b.scalar(0.044715)))))
	t := b.do(G.Tanh(b.do(G.Mul(inner, b.scalar(math.Sqrt(2/math.Pi))))))
	return b.do(G.Mul(b.do(G.HadamardProd(x, b.do(G.Add(t, b.scalar(1))))), b.scalar(0.5)))
}

// meanTokens averages tokens (N, L, C) into (N, C), reducing over the last
// axis of the transposed (N·C, L) view.
func (b *builder) meanTokens(x *G.Node) *G.Node {
	s := x.Shape()
	n, l, c := s[0], s[1], s[2]
	t := b.do(G.Transpose(x, 0, 2, 1))
	t = b.reshape(t, n*c, l)
	return b.reshape(b.do(G.Mean(t, 1)), n, c)
}

// globalAvgPool averages (N, C, H, W) over H and W into (N, C).
func (b *builder) globalAvgPool(x *G.Node) *G.Node { return b.do(ops.GlobalAvgPool(x)) }

// conv is a bias-free convolution with the parameter name (O, C, k, k).
func (b *builder) conv(x *G.Node, name string, stride, pad int, noInputGrad bool) *G.Node {
	w := b.param(name)
	y := b.do(ops.Conv2d(x, w, stride, pad, noInputGrad))
	ws, ys := w.Shape(), y.Shape()
	b.count(ys[0] * ys[1] * ys[2] * ys[3] * ws[1] * ws[2] * ws[3])
	return y
}

// batchNorm is the named batch norm, in training or inference form by the
// build's Mode, followed by ReLU when relu is set.
func (b *builder) batchNorm(x *G.Node, name string, relu bool) *G.Node {
	n, ok := b.m.norms[name]
	if !ok {
		b.fail("no batch norm %q", name)
	}
	g, beta := b.param(b.m.Params[n.Gamma].Name), b.param(b.m.Params[n.Beta].Name)
	if b.mode == Infer {
		return b.do(ops.BatchNormInference(x, g, beta, n.State, relu))
	}
	return b.do(ops.BatchNorm(x, g, beta, n.State, relu))
}

package nets

import (
	"github.com/mksmt/workbench/internal/ops"
	G "gorgonia.org/gorgonia"
)

// Every layer below is one op of internal/ops (custom ops on OpenBLAS that
// return the same buffers every run), so a built graph allocates nothing
// per step in steady state.

// linear applies x·W (+ b) over the last axis of x, any rank ≥ 2:
// (..., in) → (..., out), with the parameters name.w (in, out) and name.b.
// One op (sgemm on x where it lies, no reshape or transposed copy).
func (b *builder) linear(x *G.Node, name string, bias bool) *G.Node {
	return b.linearOpt(x, name, bias, false)
}

// linearOpt is linear; noInputGrad skips dx (x is data, not a function of
// any parameter).
func (b *builder) linearOpt(x *G.Node, name string, bias, noInputGrad bool) *G.Node {
	w := b.param(name + ".w")
	shape := x.Shape()
	in, out := w.Shape()[0], w.Shape()[1]
	if shape[len(shape)-1] != in {
		b.fail("linear %s: input %v does not end in %d features", name, shape, in)
	}
	var bn *G.Node
	if bias {
		bn = b.param(name + ".b")
	}
	y := b.do(ops.Linear(x, w, bn, noInputGrad, b.sh))
	b.count(shape.TotalSize() / in * in * out)
	return y
}

// layerNorm normalises x over its last axis (any rank) and applies the
// per-feature scale name.g and shift name.b; ε = 1e-5. One op.
func (b *builder) layerNorm(x *G.Node, name string) *G.Node {
	return b.do(ops.LayerNorm(x, b.param(name+".g"), b.param(name+".b"), b.sh))
}

// gelu is GELU(x) = x·Φ(x), the exact (erf) form, element-wise.
func (b *builder) gelu(x *G.Node) *G.Node { return b.do(ops.GELU(x, b.sh)) }

// meanTokens averages tokens (N, L, C) into (N, C).
func (b *builder) meanTokens(x *G.Node) *G.Node { return b.do(ops.MeanTokens(x, b.sh)) }

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

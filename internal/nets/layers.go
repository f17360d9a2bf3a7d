package nets

import (
	"github.com/mksmt/workbench/internal/ops"
	G "gorgonia.org/gorgonia"
)

// The layers below are gorgonia built-ins (matrix products, transposes,
// softmax) with the workarounds of DESIGN §6 — reductions only over the
// last, contiguous axis, matrix products only on 2-D or batched 3-D
// operands, reshapes that copy (reshape.go) — plus fused ops for the small
// element-wise layers (fused.go).

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
	y := b.do(ops.Linear(x, w, bn, noInputGrad))
	b.count(shape.TotalSize() / in * in * out)
	return y
}

// layerNorm normalises x over its last axis (any rank) and applies the
// per-feature scale name.g and shift name.b; ε = 1e-5. One fused op.
func (b *builder) layerNorm(x *G.Node, name string) *G.Node {
	op := &layerNormOp{fusedBase: fusedBase{"layernorm " + name}, dims: x.Dims()}
	return b.do(G.ApplyOp(op, x, b.param(name+".g"), b.param(name+".b")))
}

// addBias adds bias (K) to x viewed as (rows, K): K is the product of x's
// last axes. One fused op; its gradient sums the rows.
func (b *builder) addBias(x, bias *G.Node) *G.Node {
	if x.Shape().TotalSize()%bias.Shape().TotalSize() != 0 {
		b.fail("bias %v does not tile %v", bias.Shape(), x.Shape())
	}
	return b.do(G.ApplyOp(&biasAddOp{fusedBase: fusedBase{"bias " + bias.Name()}, dims: x.Dims()}, x, bias))
}

// gelu is GELU(x) = x·Φ(x), the exact (erf) form, element-wise.
func (b *builder) gelu(x *G.Node) *G.Node {
	return b.do(G.ApplyOp(&geluOp{fusedBase: fusedBase{"gelu"}, dims: x.Dims()}, x))
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

package ops

import (
	"fmt"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// GlobalAvgPool averages x (N,C,H,W) over H and W into (N,C).
func GlobalAvgPool(x *gorgonia.Node) (*gorgonia.Node, error) {
	s := x.Shape()
	if s.Dims() != 4 {
		return nil, fmt.Errorf("global average pool of %v: shape %v, want (N,C,H,W)", x.Name(), s)
	}
	n, err := gorgonia.ApplyOp(&gapOp{base: newBase("global-avg-pool"), in: s.Clone()}, x)
	if err != nil {
		return nil, fmt.Errorf("global average pool of %v: %w", x.Name(), err)
	}
	return n, nil
}

type gapOp struct {
	base
	in  tensor.Shape // (N,C,H,W), fixed when the node is built
	out buffer
}

func (op *gapOp) Arity() int { return 1 }

func (op *gapOp) Type() hm.Type { return hm.NewFnType(tensorType(4), tensorType(2)) }

func (op *gapOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.in[0], op.in[1]}, nil
}

func (op *gapOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	in, err := denses(op, vs, 1)
	if err != nil {
		return nil, err
	}
	x := in[0]
	if !x.Shape().Eq(op.in) {
		return nil, fmt.Errorf("%v: x has shape %v, the graph was built for %v", op, x.Shape(), op.in)
	}
	out := op.out.get(x.Dtype(), op.in[0], op.in[1])
	hw := op.in[2] * op.in[3]
	switch x.Dtype() {
	case tensor.Float32:
		xd := x.Float32s()
		gapForward(xd, out.Float32s(), hw)
	case tensor.Float64:
		xd := x.Float64s()
		gapForward(xd, out.Float64s(), hw)
	}
	return out, nil
}

func gapForward[T float](x, y []T, hw int) {
	inv := 1 / float64(hw)
	for i := range y {
		var s T
		for _, v := range x[i*hw : (i+1)*hw] {
			s += v
		}
		y[i] = T(float64(s) * inv)
	}
}

func (op *gapOp) DiffWRT(int) []bool { return []bool{true} }

func (op *gapOp) SymDiff(_ gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	dx, err := gorgonia.ApplyOp(&gapDiffOp{base: newBase("global-avg-pool-diff"), in: op.in}, grad)
	if err != nil {
		return nil, fmt.Errorf("%v: gradient: %w", op, err)
	}
	return gorgonia.Nodes{dx}, nil
}

// gapDiffOp spreads dy (N,C) evenly over (N,C,H,W).
type gapDiffOp struct {
	base
	in  tensor.Shape
	out buffer
}

func (op *gapDiffOp) Arity() int { return 1 }

func (op *gapDiffOp) Type() hm.Type { return hm.NewFnType(tensorType(2), tensorType(4)) }

func (op *gapDiffOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return op.in.Clone(), nil
}

func (op *gapDiffOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	in, err := denses(op, vs, 1)
	if err != nil {
		return nil, err
	}
	dy := in[0]
	if dy.Size() != op.in[0]*op.in[1] {
		return nil, fmt.Errorf("%v: dy has %d values, want %d", op, dy.Size(), op.in[0]*op.in[1])
	}
	out := op.out.get(dy.Dtype(), op.in...)
	hw := op.in[2] * op.in[3]
	switch dy.Dtype() {
	case tensor.Float32:
		g := dy.Float32s()
		gapBackward(g, out.Float32s(), hw)
	case tensor.Float64:
		g := dy.Float64s()
		gapBackward(g, out.Float64s(), hw)
	}
	return out, nil
}

func gapBackward[T float](dy, dx []T, hw int) {
	inv := 1 / float64(hw)
	for i, g := range dy {
		v := T(float64(g) * inv)
		ds := dx[i*hw : (i+1)*hw]
		for j := range ds {
			ds[j] = v
		}
	}
}

func (op *gapDiffOp) DiffWRT(int) []bool { return []bool{false} }

func (op *gapDiffOp) SymDiff(gorgonia.Nodes, *gorgonia.Node, *gorgonia.Node) (gorgonia.Nodes, error) {
	return nil, fmt.Errorf("%v: second derivatives are not supported", op)
}

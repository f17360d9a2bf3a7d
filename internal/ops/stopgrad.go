package ops

import (
	"fmt"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// StopGradient returns a node with x's value and no gradient: losses that
// use it (the teacher's side of a distillation term) do not backpropagate
// into x. The value is a copy, so later in-place ops cannot alter x.
func StopGradient(x *gorgonia.Node) (*gorgonia.Node, error) {
	if x.Shape().Dims() == 0 {
		return nil, fmt.Errorf("stop gradient of %v: a scalar node is not supported", x.Name())
	}
	n, err := gorgonia.ApplyOp(&stopGradOp{base: newBase("stopgrad")}, x)
	if err != nil {
		return nil, fmt.Errorf("stop gradient of %v: %w", x.Name(), err)
	}
	return n, nil
}

type stopGradOp struct {
	base
	out buffer
}

func (op *stopGradOp) Arity() int { return 1 }

func (op *stopGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a)
}

func (op *stopGradOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	return sameShape(op, in)
}

func (op *stopGradOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	in, err := denses(op, vs, 1)
	if err != nil {
		return nil, err
	}
	x := in[0]
	out := op.out.get(x.Dtype(), x.Shape()...)
	switch x.Dtype() {
	case tensor.Float32:
		src := x.Float32s()
		copy(out.Float32s(), src)
	case tensor.Float64:
		src := x.Float64s()
		copy(out.Float64s(), src)
	}
	return out, nil
}

// DiffWRT is all false: no gradient flows through.
func (op *stopGradOp) DiffWRT(int) []bool { return []bool{false} }

func (op *stopGradOp) SymDiff(gorgonia.Nodes, *gorgonia.Node, *gorgonia.Node) (gorgonia.Nodes, error) {
	return nil, fmt.Errorf("%v: stop-gradient has no derivative", op)
}

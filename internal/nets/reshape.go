package nets

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// reshape is x with a new shape of the same size, as a copy.
//
// gorgonia's Reshape returns a tensor that shares x's backing array, but its
// register allocator does not know that: an in-place op applied to the
// reshaped node (Sub, HadamardProd, ... on their last use of an operand)
// then overwrites x as well, while x is still needed — the residual branch
// of a block, or a parameter or input tensor. Found by this package's
// gradient checks (LayerNorm after a reshape changed its own input). This
// op copies into a buffer it owns, so nothing downstream can alias x.
func (b *builder) reshape(x *G.Node, to ...int) *G.Node {
	from := x.Shape()
	want := tensor.Shape(to)
	if from.TotalSize() != want.TotalSize() {
		b.fail("reshape %v to %v: sizes differ", from, want)
	}
	if from.Eq(want) {
		return x
	}
	return b.do(G.ApplyOp(&reshapeOp{from: from.Clone(), to: want.Clone()}, x))
}

type reshapeOp struct {
	from, to tensor.Shape
	out      *tensor.Dense // returned on every run
}

func (op *reshapeOp) Arity() int { return 1 }

func (op *reshapeOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(G.TensorType{Dims: op.from.Dims(), Of: a}, G.TensorType{Dims: op.to.Dims(), Of: a})
}

func (op *reshapeOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.to.Clone(), nil }

func (op *reshapeOp) Do(vs ...G.Value) (G.Value, error) {
	x, ok := vs[0].(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("%v: input is %T, want *tensor.Dense", op, vs[0])
	}
	if x.RequiresIterator() {
		x = x.Materialize().(*tensor.Dense)
	}
	if x.Shape().TotalSize() != op.to.TotalSize() {
		return nil, fmt.Errorf("%v: input has shape %v", op, x.Shape())
	}
	if op.out == nil || op.out.Dtype() != x.Dtype() {
		op.out = tensor.New(tensor.Of(x.Dtype()), tensor.WithShape(op.to...))
	}
	switch src := x.Data().(type) {
	case []float32:
		copy(op.out.Data().([]float32), src)
	case []float64:
		copy(op.out.Data().([]float64), src)
	default:
		return nil, fmt.Errorf("%v: dtype %v not supported", op, x.Dtype())
	}
	return op.out, nil
}

func (op *reshapeOp) ReturnsPtr() bool     { return false }
func (op *reshapeOp) CallsExtern() bool    { return false }
func (op *reshapeOp) OverwritesInput() int { return -1 }

// WriteHash identifies the op by its shapes and its identity: two nodes
// must not share one output buffer.
func (op *reshapeOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "copyreshape %v→%v %p", op.from, op.to, op)
}

func (op *reshapeOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

func (op *reshapeOp) String() string { return fmt.Sprintf("CopyReshape%v→%v", op.from, op.to) }

func (op *reshapeOp) DiffWRT(int) []bool { return []bool{true} }

func (op *reshapeOp) SymDiff(_ G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	back := &reshapeOp{from: op.to.Clone(), to: op.from.Clone()}
	n, err := G.ApplyOp(back, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{n}, nil
}

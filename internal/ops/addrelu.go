package ops

import (
	"fmt"
	"sync"

	"github.com/chewxy/hm"
	"github.com/mksmt/workbench/internal/ops/vec"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// AddReLU is relu(a+b) for two tensors of the same shape, in one pass: the
// join of a residual block. Its gradient, dy masked by the output > 0, goes
// to both a and b.
func AddReLU(a, b *gorgonia.Node) (*gorgonia.Node, error) {
	if !a.Shape().Eq(b.Shape()) {
		return nil, fmt.Errorf("add-relu of %v and %v: shapes %v and %v differ", a.Name(), b.Name(), a.Shape(), b.Shape())
	}
	if a.Shape().Dims() == 0 {
		return nil, fmt.Errorf("add-relu of %v and %v: scalars are not supported", a.Name(), b.Name())
	}
	n, err := gorgonia.ApplyOp(&addReLUOp{base: newBase("add-relu"), dims: a.Shape().Dims()}, a, b)
	if err != nil {
		return nil, fmt.Errorf("add-relu of %v and %v: %w", a.Name(), b.Name(), err)
	}
	return n, nil
}

type addReLUOp struct {
	base
	dims int
	out  buffer
}

func (op *addReLUOp) Arity() int { return 2 }

func (op *addReLUOp) Type() hm.Type {
	t := tensorType(op.dims)
	return hm.NewFnType(t, t, t)
}

func (op *addReLUOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	return sameShape(op, in)
}

func (op *addReLUOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	in, err := denses(op, vs, 2)
	if err != nil {
		return nil, err
	}
	a, b := in[0], in[1]
	if !a.Shape().Eq(b.Shape()) {
		return nil, fmt.Errorf("%v: shapes %v and %v differ", op, a.Shape(), b.Shape())
	}
	out := op.out.get(a.Dtype(), a.Shape()...)
	switch a.Dtype() {
	case tensor.Float32:
		ad := a.Float32s()
		addReLU(ad, b.Float32s(), out.Float32s())
	case tensor.Float64:
		ad := a.Float64s()
		addReLU(ad, b.Float64s(), out.Float64s())
	}
	return out, nil
}

func addReLU[T float](a, b, y []T) {
	parallelFor(len(y)/4096+1, func(lo, hi int) {
		lo, hi = lo*4096, min(hi*4096, len(y))
		as, bs, ys := a[lo:hi], b[lo:hi], y[lo:hi]
		if a32, ok := any(as).([]float32); ok {
			b32, y32 := any(bs).([]float32), any(ys).([]float32)
			k := vec.AddReLU(a32, b32, y32)
			a32, b32, y32 = a32[k:], b32[k:], y32[k:]
			b32, y32 = b32[:len(a32)], y32[:len(a32)]
			for i, v := range a32 {
				y32[i] = relu32(v + b32[i])
			}
			return
		}
		for i := range ys {
			ys[i] = max(as[i]+bs[i], 0)
		}
	})
}

func (op *addReLUOp) DiffWRT(int) []bool { return []bool{true, true} }

func (op *addReLUOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	g, err := gorgonia.ApplyOp(&reluMaskOp{base: newBase("relu-mask"), dims: op.dims}, output, grad)
	if err != nil {
		return nil, fmt.Errorf("%v: gradient: %w", op, err)
	}
	return gorgonia.Nodes{g, g}, nil
}

// reluMaskOp is dy where y > 0, else 0: the backward pass of a ReLU, given
// the ReLU's output y.
type reluMaskOp struct {
	base
	dims int
	out  buffer
}

func (op *reluMaskOp) Arity() int { return 2 }

func (op *reluMaskOp) Type() hm.Type {
	t := tensorType(op.dims)
	return hm.NewFnType(t, t, t)
}

func (op *reluMaskOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	return sameShape(op, in)
}

func (op *reluMaskOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	in, err := denses(op, vs, 2)
	if err != nil {
		return nil, err
	}
	y, dy := in[0], in[1]
	if y.Size() != dy.Size() {
		return nil, fmt.Errorf("%v: y has %d values, dy %d", op, y.Size(), dy.Size())
	}
	out := op.out.get(y.Dtype(), y.Shape()...)
	switch y.Dtype() {
	case tensor.Float32:
		yd := y.Float32s()
		reluMask(yd, dy.Float32s(), out.Float32s())
	case tensor.Float64:
		yd := y.Float64s()
		reluMask(yd, dy.Float64s(), out.Float64s())
	}
	return out, nil
}

func reluMask[T float](y, dy, dx []T) {
	parallelFor(len(y)/4096+1, func(lo, hi int) {
		lo, hi = lo*4096, min(hi*4096, len(y))
		maskPositive(y[lo:hi], dy[lo:hi], dx[lo:hi])
	})
}

func (op *reluMaskOp) DiffWRT(int) []bool { return []bool{false, false} }

func (op *reluMaskOp) SymDiff(gorgonia.Nodes, *gorgonia.Node, *gorgonia.Node) (gorgonia.Nodes, error) {
	return nil, fmt.Errorf("%v: second derivatives are not supported", op)
}

// Add32 sets y = a + b elementwise (float32, one length), in parallel. The
// trainer runs gorgonia's + of two tensors on it (train/exec.go).
func Add32(y, a, b []float32) {
	j := add32Jobs.Get().(*add32Job)
	j.y, j.a, j.b = y, a, b
	parallelFor((len(y)+add32Chunk-1)/add32Chunk, j.body)
	j.y, j.a, j.b = nil, nil, nil
	add32Jobs.Put(j)
}

const add32Chunk = 4096

// add32Job holds one Add32's operands; jobs are recycled with their body
// made once, so a call allocates nothing (a swin batch runs ~350 of them).
type add32Job struct {
	y, a, b []float32
	body    func(lo, hi int)
}

var add32Jobs = sync.Pool{New: func() any {
	j := new(add32Job)
	j.body = j.run
	return j
}}

func (j *add32Job) run(lo, hi int) {
	lo, hi = lo*add32Chunk, min(hi*add32Chunk, len(j.y))
	ys, as, bs := j.y[lo:hi], j.a[lo:hi], j.b[lo:hi]
	for i, v := range as {
		ys[i] = v + bs[i]
	}
}

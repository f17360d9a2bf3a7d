package ops

import (
	"fmt"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// fnOp is an op with a fixed output shape whose arithmetic and gradient are
// closures: the transformer layers (linear, LayerNorm, GELU, window
// attention, index maps) are each one forward fnOp and one backward fnOp,
// with getters (paramGradOp) for the backward's secondary outputs.
//
// Do allocates nothing in steady state: the output buffer and the slice of
// inputs are the op's own and reused on every run.
type fnOp struct {
	base
	inDims []int        // the rank of each input
	shape  tensor.Shape // the output's shape, fixed when the node is built
	diff   []bool       // DiffWRT
	// run computes the output from the inputs (all of out's dtype).
	run func(in []*tensor.Dense, out *tensor.Dense) error
	// grad builds the gradient nodes of the inputs (nil: not differentiable).
	grad func(in gorgonia.Nodes, out, dy *gorgonia.Node) (gorgonia.Nodes, error)

	out  buffer
	slot *slot // where out lives when it is shared (Arena), else nil
	in   []*tensor.Dense
}

func (op *fnOp) Arity() int { return len(op.inDims) }

func (op *fnOp) Type() hm.Type {
	ts := make([]hm.Type, 0, len(op.inDims)+1)
	for _, d := range op.inDims {
		ts = append(ts, tensorType(d))
	}
	return hm.NewFnType(append(ts, tensorType(op.shape.Dims()))...)
}

func (op *fnOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) { return op.shape.Clone(), nil }

func (op *fnOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	if len(vs) != len(op.inDims) {
		return nil, fmt.Errorf("%v: got %d inputs, want %d", op, len(vs), len(op.inDims))
	}
	if op.in == nil {
		op.in = make([]*tensor.Dense, len(vs))
	}
	for i, v := range vs {
		d, err := dense(op, i, v)
		if err != nil {
			return nil, err
		}
		if i > 0 && d.Dtype() != op.in[0].Dtype() {
			return nil, fmt.Errorf("%v: input %d has dtype %v, input 0 has %v", op, i, d.Dtype(), op.in[0].Dtype())
		}
		op.in[i] = d
	}
	out := op.out.in(op.slot, op.in[0].Dtype(), op.shape...)
	if err := op.run(op.in, out); err != nil {
		return nil, fmt.Errorf("%v: %w", op, err)
	}
	return out, nil
}

func (op *fnOp) DiffWRT(int) []bool { return op.diff }

func (op *fnOp) SymDiff(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if op.grad == nil {
		return nil, fmt.Errorf("%v: not differentiable", op)
	}
	g, err := op.grad(in, out, grad)
	if err != nil {
		return nil, fmt.Errorf("%v: gradient: %w", op, err)
	}
	return g, nil
}

// apply adds op to the graph with the given inputs.
func apply(op *fnOp, in ...*gorgonia.Node) (*gorgonia.Node, error) {
	if op.diff == nil {
		op.diff = make([]bool, len(in))
	}
	n, err := gorgonia.ApplyOp(op, in...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op.name, err)
	}
	return n, nil
}

// getter returns the node that reads a gradient the backward op behind
// first computed as a by-product (a gorgonia op has one output); its input
// first orders it after that computation.
func getter(name string, src *buffer, first *gorgonia.Node, shape tensor.Shape) (*gorgonia.Node, error) {
	op := &paramGradOp{base: newBase(name), src: src, inDims: first.Dims(), shape: shape.Clone()}
	n, err := gorgonia.ApplyOp(op, first)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return n, nil
}

// with replaces the last axis of s by last.
func with(s tensor.Shape, last int) tensor.Shape {
	t := s.Clone()
	t[len(t)-1] = last
	return t
}

// gradSlots is the number of fixed row ranges a parameter gradient is
// summed over: each range's partial sum is computed by one worker, then
// the partials are added in slot order, so the result is bit-for-bit the
// same whichever worker ran which range.
func gradSlots(rows, work int) int {
	return max(1, min(8, rows, work>>16))
}

// smallWork is the multiply-adds below which a kernel runs on the calling
// goroutine: splitting it would cost more than it saves.
const smallWork = 1 << 15

// parallelRows calls f on up to 16 row ranges covering [0, rows), in
// parallel, or once on all rows for small work. The ranges depend on rows
// only, never on the number of workers: OpenBLAS's results for a row
// depend on how many rows one call has, and training must be bit-for-bit
// reproducible on any number of cores.
func parallelRows(rows, work int, f func(lo, hi int)) {
	if work < smallWork {
		f(0, rows)
		return
	}
	const tasks = 16
	chunk := max(1, (rows+tasks-1)/tasks)
	l := newLoop((rows + chunk - 1) / chunk)
	l.span, l.rowChunk, l.rows = f, chunk, rows
	l.runAll()
}

// work is a process-wide workspace of both dtypes, handed out to one op's
// Do at a time (ops of one machine run one after the other; concurrent
// machines take different workspaces from the pool).
type work struct {
	f32 []float32
	f64 []float64
}

var workPool = make(chan *work, 64)

func getWork() *work {
	select {
	case w := <-workPool:
		return w
	default:
		return &work{}
	}
}

func putWork(w *work) {
	select {
	case workPool <- w:
	default:
	}
}

// slice returns n elements of w's T workspace (contents stale).
func workSlice[T float](w *work, n int) []T {
	var z T
	if _, ok := any(z).(float32); ok {
		if cap(w.f32) < n {
			w.f32 = make([]float32, n)
		}
		return same[T](w.f32[:n])
	}
	if cap(w.f64) < n {
		w.f64 = make([]float64, n)
	}
	return same[T](w.f64[:n])
}

package ops

import (
	"fmt"
	"hash"
	"hash/fnv"
	"sync/atomic"
	"unsafe"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// float is the element type of every kernel in this package.
type float interface{ ~float32 | ~float64 }

// nextID hands out the unique ids that keep gorgonia from merging two
// stateful op nodes with the same children (AddNode deduplicates nodes by op
// hash and children).
var nextID atomic.Uint64

// base is embedded in every op: a unique id, a name for String and the hash,
// and the Op methods that are the same for all of them.
type base struct {
	id   uint64
	name string
}

func newBase(name string) base { return base{id: nextID.Add(1), name: name} }

// ReturnsPtr is false: ops return a value they own, never one of their inputs.
func (b *base) ReturnsPtr() bool { return false }

// CallsExtern is false even for the BLAS-backed ops: true would make the
// compiler insert a fresh allocation of the output before every run.
func (b *base) CallsExtern() bool { return false }

// OverwritesInput is -1: no op writes into its inputs.
func (b *base) OverwritesInput() int { return -1 }

func (b *base) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%s#%d", b.name, b.id) }

func (b *base) Hashcode() uint32 {
	h := fnv.New32a()
	b.WriteHash(h)
	return h.Sum32()
}

func (b *base) String() string { return fmt.Sprintf("%s#%d", b.name, b.id) }

// tensorType is a tensor of dims dimensions of the type variable a.
func tensorType(dims int) gorgonia.TensorType {
	return gorgonia.TensorType{Dims: dims, Of: hm.TypeVariable('a')}
}

// sameShape is InferShape for an op whose output has its first input's shape.
func sameShape(op fmt.Stringer, in []gorgonia.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("%v: input shape is %T", op, in[0])
	}
	return s.Clone(), nil
}

// dense returns v as a *tensor.Dense of float32 or float64. op names the
// op in errors only (formatting it on every run would allocate).
func dense(op fmt.Stringer, i int, v gorgonia.Value) (*tensor.Dense, error) {
	d, ok := v.(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("%s: input %d is %T, want *tensor.Dense", op, i, v)
	}
	if dt := d.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, fmt.Errorf("%s: input %d has dtype %v, want float32 or float64", op, i, dt)
	}
	if d.RequiresIterator() {
		// A strided view: the kernels index the backing slice directly.
		m, ok := d.Materialize().(*tensor.Dense)
		if !ok {
			return nil, fmt.Errorf("%s: input %d: cannot materialise a %T view", op, i, d)
		}
		d = m
	}
	return d, nil
}

// denses converts all inputs with dense and checks they share one dtype.
func denses(op fmt.Stringer, vs []gorgonia.Value, arity int) ([]*tensor.Dense, error) {
	if len(vs) != arity {
		return nil, fmt.Errorf("%v: got %d inputs, want %d", op, len(vs), arity)
	}
	out := make([]*tensor.Dense, len(vs))
	for i, v := range vs {
		d, err := dense(op, i, v)
		if err != nil {
			return nil, err
		}
		if i > 0 && d.Dtype() != out[0].Dtype() {
			return nil, fmt.Errorf("%v: input %d has dtype %v, input 0 has %v", op, i, d.Dtype(), out[0].Dtype())
		}
		out[i] = d
	}
	return out, nil
}

// buffer is an output tensor an op owns and returns on every run.
type buffer struct {
	t    *tensor.Dense
	base unsafe.Pointer // t's memory when it lives in an Arena
}

// get returns the buffer, (re)allocated when its dtype or shape changed.
// Its contents are stale: callers overwrite every element.
func (b *buffer) get(dt tensor.Dtype, shape ...int) *tensor.Dense {
	if b.t == nil || b.t.Dtype() != dt || !b.t.Shape().Eq(tensor.Shape(shape)) {
		b.t = tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
	}
	return b.t
}

// scratch is a reusable slice of one element type.
func grow[T float](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

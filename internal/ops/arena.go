package ops

import (
	"sync"
	"unsafe"

	"gorgonia.org/tensor"
)

// Arena is memory that several graphs share: the ops' outputs (activations
// and the gradients with respect to them: a linear layer's y and dx, the
// window attention's output, saved probabilities, dq, dk, dv, ...) are
// needed only while their own graph runs, so graphs that never run at the
// same time can keep them in the same slots. The trainer's update graphs
// (one per loss of the two-step schedule) are such graphs: sharing keeps
// one set of activations instead of two.
//
// Rules for the graphs of one Arena: they must not run concurrently, and
// no op output may be read after its graph's run once another graph of the
// arena has run. Parameter gradients, which the optimizer reads after the
// run, are never in the arena.
type Arena struct {
	mu  sync.Mutex
	f32 [][]float32
	f64 [][]float64
}

// NewArena returns an empty arena; slots grow to the largest use.
func NewArena() *Arena { return &Arena{} }

// Shared numbers an arena's slots for one graph: pass the same *Shared to
// every op of that graph (nil: the ops own their buffers). Ops take their
// output's and their backward pass's slots when they are built, so graphs built in the same
// order (the same network up to different depths and heads) share slots of
// the same sizes. Two buffers of one graph never share a slot; the i-th of
// two graphs do.
type Shared struct {
	a *Arena
	n int
}

// ForGraph starts the numbering for one more graph.
func (a *Arena) ForGraph() *Shared { return &Shared{a: a} }

// slot is one buffer's place in an arena.
type slot struct {
	a *Arena
	i int
}

// take returns the next slot, or nil for a nil s.
func (s *Shared) take() *slot {
	if s == nil {
		return nil
	}
	s.n++
	return &slot{a: s.a, i: s.n - 1}
}

// arenaBacking returns slot i's memory of n elements of T.
func arenaBacking[T float](a *Arena, i, n int) []T {
	a.mu.Lock()
	defer a.mu.Unlock()
	var z T
	if _, ok := any(z).(float32); ok {
		for len(a.f32) <= i {
			a.f32 = append(a.f32, nil)
		}
		if len(a.f32[i]) < n {
			a.f32[i] = make([]float32, n)
		}
		return same[T](a.f32[i][:n])
	}
	for len(a.f64) <= i {
		a.f64 = append(a.f64, nil)
	}
	if len(a.f64[i]) < n {
		a.f64[i] = make([]float64, n)
	}
	return same[T](a.f64[i][:n])
}

// same is s as a []T, for T the element type of s (checked by the
// callers' type switches); unlike any(s).([]T) it never allocates.
func same[T, U float](s []U) []T { return *(*[]T)(unsafe.Pointer(&s)) }

// in is get with the memory from slot s when s is not nil. The tensor is
// made again only when the slot's memory moved (another graph needed it
// larger): in steady state nothing is allocated.
func (b *buffer) in(s *slot, dt tensor.Dtype, shape ...int) *tensor.Dense {
	if s == nil {
		return b.get(dt, shape...)
	}
	if dt == tensor.Float32 {
		return inArena[float32](b, s, dt, shape)
	}
	return inArena[float64](b, s, dt, shape)
}

func inArena[T float](b *buffer, s *slot, dt tensor.Dtype, shape []int) *tensor.Dense {
	m := arenaBacking[T](s.a, s.i, tensor.Shape(shape).TotalSize())
	p := unsafe.Pointer(&m[0])
	if b.t == nil || b.base != p || b.t.Dtype() != dt || !b.t.Shape().Eq(tensor.Shape(shape)) {
		b.t = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(m))
		b.base = p
	}
	return b.t
}

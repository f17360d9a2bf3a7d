package ops

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// opCase is one op under test: inputs of the given shapes, and a builder
// that applies the op. The scalar loss is Σ out·R for a fixed random R, so
// every output element matters with its own weight.
type opCase struct {
	name   string
	shapes []tensor.Shape
	// wrt lists the inputs whose gradient is checked (nil: all).
	wrt []int
	// init fills input i (nil: uniform in [-1, 1]).
	init  func(i int, v []float64)
	build func(in []*gorgonia.Node) (*gorgonia.Node, error)
}

func (c opCase) wrtInputs() []int {
	if c.wrt != nil {
		return c.wrt
	}
	all := make([]int, len(c.shapes))
	for i := range all {
		all[i] = i
	}
	return all
}

func caseRNG(name string, salt uint64) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	return rand.New(rand.NewPCG(h.Sum64(), salt))
}

// harness is a built graph: inputs, loss Σ out·R, gradients, one machine.
type harness struct {
	c      opCase
	dt     tensor.Dtype
	in     []*gorgonia.Node
	vals   [][]float64 // the float64 source values of the inputs
	loss   gorgonia.Value
	out    gorgonia.Value
	grads  []gorgonia.Value
	m      gorgonia.VM
	outLen int
}

func newHarness(t *testing.T, c opCase, dt tensor.Dtype) *harness {
	t.Helper()
	h := &harness{c: c, dt: dt}
	g := gorgonia.NewGraph()
	rng := caseRNG(c.name, 1)
	for i, s := range c.shapes {
		v := make([]float64, s.TotalSize())
		if c.init != nil {
			c.init(i, v)
		} else {
			for j := range v {
				v[j] = 2*rng.Float64() - 1
			}
		}
		h.vals = append(h.vals, v)
		var backing any = v
		if dt == tensor.Float32 {
			f := make([]float32, len(v))
			for j, x := range v {
				f[j] = float32(x)
			}
			backing = f
		} else {
			backing = append([]float64(nil), v...)
		}
		tv := tensor.New(tensor.WithShape(s...), tensor.WithBacking(backing))
		h.in = append(h.in, gorgonia.NewTensor(g, dt, s.Dims(), gorgonia.WithShape(s...), gorgonia.WithValue(tv), gorgonia.WithName(fmt.Sprintf("in%d", i))))
	}
	out, err := c.build(h.in)
	if err != nil {
		t.Fatalf("%s: build: %v", c.name, err)
	}
	h.outLen = out.Shape().TotalSize()
	r := make([]float64, h.outLen)
	rr := caseRNG(c.name, 2)
	for j := range r {
		r[j] = 2*rr.Float64() - 1
	}
	var rb any = r
	if dt == tensor.Float32 {
		f := make([]float32, len(r))
		for j, x := range r {
			f[j] = float32(x)
		}
		rb = f
	}
	rn := gorgonia.NewVector(g, dt, gorgonia.WithShape(h.outLen), gorgonia.WithValue(tensor.New(tensor.WithShape(h.outLen), tensor.WithBacking(rb))), gorgonia.WithName("R"))
	flat, err := gorgonia.Reshape(out, tensor.Shape{h.outLen})
	if err != nil {
		t.Fatal(err)
	}
	prod, err := gorgonia.HadamardProd(flat, rn)
	if err != nil {
		t.Fatal(err)
	}
	loss, err := gorgonia.Sum(prod)
	if err != nil {
		t.Fatal(err)
	}
	var wrtNodes gorgonia.Nodes
	for _, i := range c.wrtInputs() {
		wrtNodes = append(wrtNodes, h.in[i])
	}
	grads, err := gorgonia.Grad(loss, wrtNodes...)
	if err != nil {
		t.Fatalf("%s: Grad: %v", c.name, err)
	}
	gorgonia.Read(loss, &h.loss)
	gorgonia.Read(out, &h.out)
	h.grads = make([]gorgonia.Value, len(grads))
	for i, gn := range grads {
		gorgonia.Read(gn, &h.grads[i])
	}
	h.m = gorgonia.NewTapeMachine(g)
	t.Cleanup(func() { h.m.Close() })
	return h
}

func (h *harness) run(t *testing.T) {
	t.Helper()
	h.m.Reset()
	if err := h.m.RunAll(); err != nil {
		t.Fatalf("%s: run: %v", h.c.name, err)
	}
}

func (h *harness) lossValue() float64 {
	switch v := h.loss.Data().(type) {
	case float32:
		return float64(v)
	case float64:
		return v
	}
	panic(fmt.Sprintf("loss is %T", h.loss.Data()))
}

func toF64(v gorgonia.Value) []float64 {
	switch d := v.Data().(type) {
	case []float32:
		out := make([]float64, len(d))
		for i, x := range d {
			out[i] = float64(x)
		}
		return out
	case []float64:
		return append([]float64(nil), d...)
	}
	panic(fmt.Sprintf("value is %T", v.Data()))
}

// setInput sets element j of input i (float64 harnesses only).
func (h *harness) setInput(i, j int, x float64) {
	h.in[i].Value().Data().([]float64)[j] = x
}

// relErr is |a−b| / max(|a|, |b|, 1e-3): relative, with a floor so that
// gradients that are zero up to rounding do not count as failures.
func relErr(a, b float64) float64 {
	return math.Abs(a-b) / math.Max(math.Max(math.Abs(a), math.Abs(b)), 1e-3)
}

// checkGradients compares the analytic gradients with central differences
// (float64, step 1e-6) on up to maxProbe elements of every checked input.
func checkGradients(t *testing.T, c opCase) {
	t.Helper()
	const step, tol, maxProbe = 1e-6, 1e-4, 48
	h := newHarness(t, c, tensor.Float64)
	h.run(t)
	analytic := make([][]float64, len(h.grads))
	for k, gv := range h.grads {
		if gv == nil {
			t.Fatalf("%s: gradient %d was not read", c.name, k)
		}
		analytic[k] = toF64(gv)
	}
	rng := caseRNG(c.name, 3)
	for k, i := range c.wrtInputs() {
		n := len(h.vals[i])
		probe := rng.Perm(n)[:min(n, maxProbe)]
		worst := 0.0
		for _, j := range probe {
			x := h.vals[i][j]
			h.setInput(i, j, x+step)
			h.run(t)
			up := h.lossValue()
			h.setInput(i, j, x-step)
			h.run(t)
			down := h.lossValue()
			h.setInput(i, j, x)
			num := (up - down) / (2 * step)
			e := relErr(analytic[k][j], num)
			worst = max(worst, e)
			if e > tol {
				t.Errorf("%s: d/d in%d[%d]: analytic %.9g, numeric %.9g (rel err %.2g)", c.name, i, j, analytic[k][j], num, e)
			}
		}
		t.Logf("%s: in%d: max rel err %.2g over %d elements", c.name, i, worst, len(probe))
	}
}

// checkFloat32 runs the case in float32 and float64 and compares the
// outputs and gradients: the float32 kernels are the ones training uses.
func checkFloat32(t *testing.T, c opCase) {
	t.Helper()
	const tol = 2e-4
	h64 := newHarness(t, c, tensor.Float64)
	h64.run(t)
	h32 := newHarness(t, c, tensor.Float32)
	h32.run(t)
	if h32.out.Dtype() != tensor.Float32 {
		t.Fatalf("%s: float32 graph produced %v", c.name, h32.out.Dtype())
	}
	compare := func(what string, a, b []float64) {
		scale := 1e-3
		for _, x := range b {
			scale = max(scale, math.Abs(x))
		}
		for j := range a {
			if d := math.Abs(a[j]-b[j]) / scale; d > tol {
				t.Errorf("%s: %s[%d]: float32 %.7g, float64 %.7g", c.name, what, j, a[j], b[j])
				return
			}
		}
	}
	compare("output", toF64(h32.out), toF64(h64.out))
	for k := range h64.grads {
		compare(fmt.Sprintf("grad %d", k), toF64(h32.grads[k]), toF64(h64.grads[k]))
	}
}

// Package nettest checks gorgonia graphs' gradients against central finite
// differences, for the tests of the nets and train packages. It must not be
// imported by non-test code.
package nettest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Floor is the smallest magnitude a relative error is measured against:
// elements whose analytic and numeric gradients are both below it are
// compared absolutely (|a−n|/Floor), so that round-off on gradients that
// are zero in exact arithmetic does not count as a relative error.
const Floor = 1e-3

// Case is one function to check, in float64.
type Case struct {
	// Inputs are differentiated: the gradient of the output with respect
	// to each is checked. Const inputs are read but not differentiated.
	Inputs, Const []*tensor.Dense
	// Build returns the checked output (any shape) from the input nodes,
	// bound to Inputs and Const in order.
	Build func(g *G.ExprGraph, in, consts []*G.Node) (*G.Node, error)
	// H is the finite-difference step; 1e-6 when zero.
	H float64
}

// Result is the worst element of a check.
type Result struct {
	MaxRelErr float64
	Where     string // input index and element of the worst error
	Analytic  float64
	Numeric   float64
}

func (r Result) String() string {
	return fmt.Sprintf("max rel err %.3g at %s (analytic %.9g, numeric %.9g)", r.MaxRelErr, r.Where, r.Analytic, r.Numeric)
}

// Random returns a float64 tensor of shape with N(0, 1) values from seed.
func Random(seed uint64, shape ...int) *tensor.Dense {
	rng := rand.New(rand.NewPCG(seed, 7))
	n := tensor.Shape(shape).TotalSize()
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
}

// graph is one build of a case: the scalar cost Σ out⊙R and its inputs.
type graph struct {
	g    *G.ExprGraph
	in   []*G.Node
	cost *G.Node
	val  G.Value
}

func (c Case) build() (*graph, error) {
	gr := &graph{g: G.NewGraph()}
	node := func(name string, t *tensor.Dense) *G.Node {
		return G.NewTensor(gr.g, tensor.Float64, t.Dims(), G.WithShape(t.Shape()...), G.WithName(name), G.WithValue(t))
	}
	var consts []*G.Node
	for i, t := range c.Inputs {
		gr.in = append(gr.in, node(fmt.Sprintf("in%d", i), t))
	}
	for i, t := range c.Const {
		consts = append(consts, node(fmt.Sprintf("const%d", i), t))
	}
	out, err := c.Build(gr.g, gr.in, consts)
	if err != nil {
		return nil, err
	}
	gr.cost = out
	if !out.IsScalar() {
		// A fixed random projection makes every output element matter.
		r := Random(99, out.Shape()...)
		rn := G.NewTensor(gr.g, tensor.Float64, r.Dims(), G.WithShape(r.Shape()...), G.WithName("proj"), G.WithValue(r))
		p, err := G.HadamardProd(out, rn)
		if err != nil {
			return nil, err
		}
		if gr.cost, err = G.Sum(p); err != nil {
			return nil, err
		}
	}
	G.Read(gr.cost, &gr.val)
	return gr, nil
}

func scalar(v G.Value) float64 {
	switch x := v.Data().(type) {
	case float64:
		return x
	case []float64:
		return x[0]
	}
	panic(fmt.Sprintf("nettest: cost is %T", v.Data()))
}

// Check compares the analytic gradient (gorgonia.Grad, TapeMachine) of the
// case's output with central differences and returns the worst element.
func Check(c Case) (Result, error) {
	h := c.H
	if h == 0 {
		h = 1e-6
	}
	// Analytic.
	ga, err := c.build()
	if err != nil {
		return Result{}, fmt.Errorf("build: %w", err)
	}
	if _, err := G.Grad(ga.cost, ga.in...); err != nil {
		return Result{}, fmt.Errorf("grad: %w", err)
	}
	ma := G.NewTapeMachine(ga.g, G.BindDualValues(ga.in...))
	defer ma.Close()
	if err := ma.RunAll(); err != nil {
		return Result{}, fmt.Errorf("run analytic: %w", err)
	}
	analytic := make([][]float64, len(ga.in))
	for i, n := range ga.in {
		gv, err := n.Grad()
		if err != nil {
			return Result{}, fmt.Errorf("gradient of input %d: %w", i, err)
		}
		analytic[i] = append([]float64(nil), gv.Data().([]float64)...)
	}

	// Numeric, on a forward-only graph over the same input tensors.
	gn, err := c.build()
	if err != nil {
		return Result{}, fmt.Errorf("build: %w", err)
	}
	mn := G.NewTapeMachine(gn.g)
	defer mn.Close()
	eval := func() (float64, error) {
		mn.Reset()
		if err := mn.RunAll(); err != nil {
			return 0, err
		}
		return scalar(gn.val), nil
	}
	var res Result
	for i, t := range c.Inputs {
		x := t.Data().([]float64)
		for j := range x {
			orig := x[j]
			x[j] = orig + h
			fp, err := eval()
			if err != nil {
				return Result{}, fmt.Errorf("run numeric: %w", err)
			}
			x[j] = orig - h
			fm, err := eval()
			x[j] = orig
			if err != nil {
				return Result{}, fmt.Errorf("run numeric: %w", err)
			}
			num := (fp - fm) / (2 * h)
			a := analytic[i][j]
			rel := math.Abs(a-num) / math.Max(Floor, math.Max(math.Abs(a), math.Abs(num)))
			if rel > res.MaxRelErr || math.IsNaN(rel) {
				res = Result{MaxRelErr: rel, Where: fmt.Sprintf("input %d element %d", i, j), Analytic: a, Numeric: num}
			}
		}
	}
	return res, nil
}

// Expect checks c and fails t when the check cannot run or its worst
// relative error exceeds tol; it logs the result either way.
func Expect(t testing.TB, c Case, tol float64) {
	t.Helper()
	res, err := Check(c)
	if err != nil {
		t.Fatal(err)
	}
	if res.MaxRelErr > tol {
		t.Errorf("%s", res)
	}
	t.Logf("%s", res)
}

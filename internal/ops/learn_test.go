package ops

import (
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestTinyNetLearns trains a small residual net built from these ops with
// gorgonia's Adam on one fixed batch, the way the trainer drives them
// (float32, Grad, TapeMachine with dual values, Solver.Step), and expects
// the loss to fall well below its start.
func TestTinyNetLearns(t *testing.T) {
	const n, c, hw, classes = 8, 4, 6, 3
	g := gorgonia.NewGraph()
	rng := caseRNG("tiny-net", 1)
	param := func(name string, scale float64, shape ...int) *gorgonia.Node {
		v := make([]float32, tensor.Shape(shape).TotalSize())
		for i := range v {
			v[i] = float32(scale * (2*rng.Float64() - 1))
		}
		return gorgonia.NewTensor(g, tensor.Float32, len(shape), gorgonia.WithShape(shape...), gorgonia.WithName(name),
			gorgonia.WithValue(tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))))
	}
	ones := func(name string, k int, v float32) *gorgonia.Node {
		b := make([]float32, k)
		for i := range b {
			b[i] = v
		}
		return gorgonia.NewVector(g, tensor.Float32, gorgonia.WithShape(k), gorgonia.WithName(name),
			gorgonia.WithValue(tensor.New(tensor.WithShape(k), tensor.WithBacking(b))))
	}
	x := param("x", 1, n, 3, hw, hw)
	w0, w1 := param("w0", 0.3, c, 3, 3, 3), param("w1", 0.3, c, c, 3, 3)
	g0, b0, g1, b1 := ones("g0", c, 1), ones("b0", c, 0), ones("g1", c, 1), ones("b1", c, 0)
	fc := param("fc", 0.5, c, classes)
	labels := make([]float32, n*classes)
	for i := range n {
		labels[i*classes+i%classes] = 1
	}
	y := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(n, classes), gorgonia.WithName("y"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(n, classes), tensor.WithBacking(labels))))

	must := func(n *gorgonia.Node, err error) *gorgonia.Node {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	h0 := must(BatchNorm(must(Conv2d(x, w0, 1, 1, true)), g0, b0, NewBNState(c), true))
	h1 := must(BatchNorm(must(Conv2d(h0, w1, 1, 1, false)), g1, b1, NewBNState(c), false))
	h := must(AddReLU(h1, h0))
	logits := must(gorgonia.Mul(must(GlobalAvgPool(h)), fc))
	logp := must(gorgonia.LogSoftMax(logits))
	loss := must(gorgonia.Neg(must(gorgonia.Mean(must(gorgonia.HadamardProd(logp, y))))))
	params := gorgonia.Nodes{w0, w1, g0, b0, g1, b1, fc}
	if _, err := gorgonia.Grad(loss, params...); err != nil {
		t.Fatal(err)
	}
	var lv gorgonia.Value
	gorgonia.Read(loss, &lv)
	m := gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(params...))
	defer m.Close()
	solver := gorgonia.NewAdamSolver(gorgonia.WithLearnRate(0.05))
	var first, last float32
	for step := range 60 {
		m.Reset()
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		last = lv.Data().(float32)
		if step == 0 {
			first = last
		}
		if err := solver.Step(gorgonia.NodesToValueGrads(params)); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("loss %.4f -> %.4f", first, last)
	if !(last < 0.3*first) {
		t.Fatalf("loss went from %.4f to %.4f, want below 30%% of the start", first, last)
	}
}
